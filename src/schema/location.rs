//! Schemas from folders laid out the way kubeconform reads them (`--schema-location`), so an
//! existing schema folder, or a clone of the public CRDs catalog, keeps working:
//!
//! ```text
//! --schema-location '/srv/schemas/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json'
//! --schema-location 'catalog/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json'
//! --schema-location /srv/kubernetes-json-schema     # + kubeconform's default file layout
//! ```
//! Template variables, as kubeconform defines them for `apps/v1 Deployment` and Kubernetes
//! 1.29: `ResourceKind` = `deployment`, `ResourceAPIVersion` = `v1`, `Group` = `apps`,
//! `KindSuffix` = `-apps-v1`, `NormalizedKubernetesVersion` = `v1.29.0`, `StrictSuffix` =
//! `-strict` (kvet is always strict).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use super::store::{KindSchema, SchemaDocument};

/// What kubeconform appends to a location without template variables.
const DEFAULT_LAYOUT: &str = "/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json";

#[derive(Debug, thiserror::Error)]
pub enum LocationError {
    #[error(
        "--schema-location {0}: remote locations are not supported yet; clone the schemas and give the local folder"
    )]
    Remote(String),
}

type Slot = Arc<OnceLock<Option<Result<Arc<KindSchema>, String>>>>;

/// The `--schema-location` templates and the schemas found through them.
#[derive(Default)]
pub struct SchemaLocations {
    templates: Vec<String>,
    kubernetes_version: String,
    found: Mutex<HashMap<(String, String), Slot>>,
}

impl SchemaLocations {
    pub fn new(locations: &[String], kubernetes_version: &str) -> Result<Self, LocationError> {
        let mut templates = Vec::new();
        for location in locations {
            if location.starts_with("http://") || location.starts_with("https://") {
                return Err(LocationError::Remote(location.clone()));
            }
            templates.push(if location.contains("{{") {
                location.clone()
            } else {
                format!("{}{DEFAULT_LAYOUT}", location.trim_end_matches('/'))
            });
        }
        Ok(SchemaLocations {
            templates,
            kubernetes_version: kubernetes_version.to_owned(),
            found: Mutex::default(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.templates.is_empty()
    }

    /// The schema of an apiVersion/kind from the first location that has a file for it; an
    /// error when that file is not a usable schema.
    pub fn get(&self, api_version: &str, kind: &str) -> Option<Result<Arc<KindSchema>, String>> {
        if self.templates.is_empty() {
            return None;
        }
        let slot = {
            let mut found = self.found.lock().unwrap_or_else(|e| e.into_inner());
            found
                .entry((api_version.to_owned(), kind.to_owned()))
                .or_default()
                .clone()
        };
        slot.get_or_init(|| self.load(api_version, kind)).clone()
    }

    fn load(&self, api_version: &str, kind: &str) -> Option<Result<Arc<KindSchema>, String>> {
        let path = self
            .templates
            .iter()
            .map(|t| PathBuf::from(expand(t, api_version, kind, &self.kubernetes_version)))
            .find(|p| p.is_file())?;
        let shown = path.display().to_string();
        let compile = || -> Result<Arc<KindSchema>, String> {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{shown}: {e}"))?;
            let schema: Value = serde_json::from_str(&text).map_err(|e| format!("{shown}: {e}"))?;
            let validator = jsonschema::options()
                .build(&schema)
                .map_err(|e| format!("{shown}: {e}"))?;
            Ok(Arc::new(KindSchema {
                validator,
                document: SchemaDocument::Crd(Arc::new(schema)),
            }))
        };
        Some(compile())
    }
}

/// Fills in kubeconform's template variables.
pub fn expand(template: &str, api_version: &str, kind: &str, kubernetes_version: &str) -> String {
    let (group, version) = api_version
        .rsplit_once('/')
        .unwrap_or((api_version, api_version));
    let group_first = group.split('.').next().unwrap_or(group).to_lowercase();
    let kind_suffix = if api_version.contains('/') {
        format!("-{group_first}-{}", version.to_lowercase())
    } else {
        format!("-{group_first}")
    };
    let mut out = template.to_owned();
    for (name, value) in [
        ("ResourceKind", kind.to_lowercase()),
        ("ResourceAPIVersion", version.to_owned()),
        ("Group", group.to_owned()),
        ("KindSuffix", kind_suffix),
        (
            "NormalizedKubernetesVersion",
            format!("v{kubernetes_version}.0"),
        ),
        ("StrictSuffix", "-strict".to_owned()),
    ] {
        for spelling in [format!("{{{{ .{name} }}}}"), format!("{{{{.{name}}}}}")] {
            out = out.replace(&spelling, &value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_expand_like_kubeconform() {
        let t = "s/{{ .Group }}/{{ .ResourceKind }}_{{.ResourceAPIVersion}}.json";
        assert_eq!(
            expand(t, "argoproj.io/v1alpha1", "Rollout", "1.29"),
            "s/argoproj.io/rollout_v1alpha1.json"
        );
        let d = format!("s{DEFAULT_LAYOUT}");
        assert_eq!(
            expand(&d, "apps/v1", "Deployment", "1.29"),
            "s/v1.29.0-standalone-strict/deployment-apps-v1.json"
        );
        assert_eq!(
            expand(&d, "v1", "Service", "1.29"),
            "s/v1.29.0-standalone-strict/service-v1.json"
        );
    }

    #[test]
    fn remote_locations_are_refused_for_now() {
        assert!(
            SchemaLocations::new(
                &["https://example.com/{{ .ResourceKind }}.json".into()],
                "1.29"
            )
            .is_err()
        );
    }
}
