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
//!
//! kvet touches the network only for `https://` (or `http://`) locations the user gives:
//! each file is downloaded once into the cache folder (`--cache-dir`, default
//! `$XDG_CACHE_HOME/kvet` or `~/.cache/kvet`) and read from there afterwards. A location that
//! answers 404 has no schema for that kind (the next location is tried); any other failure is
//! reported on the object.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use super::store::KindSchema;

/// What kubeconform appends to a location without template variables.
const DEFAULT_LAYOUT: &str = "/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json";

#[derive(Debug, thiserror::Error)]
pub enum LocationError {
    #[error(
        "--cache-dir is needed for the remote --schema-location {0}: no user cache folder was found"
    )]
    NoCacheDir(String),
}

/// How long one download may take.
const DOWNLOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

fn is_remote(location: &str) -> bool {
    location.starts_with("https://") || location.starts_with("http://")
}

/// `$XDG_CACHE_HOME/kvet`, or `~/.cache/kvet`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("kvet"))
}

type Slot = Arc<OnceLock<Option<Result<Arc<KindSchema>, String>>>>;

/// The `--schema-location` templates and the schemas found through them.
#[derive(Default)]
pub struct SchemaLocations {
    templates: Vec<String>,
    kubernetes_version: String,
    cache_dir: Option<PathBuf>,
    found: Mutex<HashMap<(String, String), Slot>>,
    /// Hosts that did not answer (timed out, refused): not asked again in this run, so one
    /// dead host costs one timeout, not one per kind.
    dead_hosts: Mutex<HashMap<String, String>>,
}

impl SchemaLocations {
    pub fn new(
        locations: &[String],
        kubernetes_version: &str,
        cache_dir: Option<PathBuf>,
    ) -> Result<Self, LocationError> {
        let mut templates = Vec::new();
        let mut cache = None;
        for location in locations {
            if is_remote(location) && cache.is_none() {
                cache = cache_dir.clone().or_else(default_cache_dir);
                if cache.is_none() {
                    return Err(LocationError::NoCacheDir(location.clone()));
                }
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
            cache_dir: cache,
            found: Mutex::default(),
            dead_hosts: Mutex::default(),
        })
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
        // The values come from the manifest: only what an apiVersion and a kind can be goes
        // into a path or URL (`kind: ../../secret` would read any file, or ask any URL).
        if !valid_type_meta(api_version, kind) {
            return None;
        }
        let (text, shown) = self.templates.iter().find_map(|template| {
            let place = expand(template, api_version, kind, &self.kubernetes_version);
            let text = if is_remote(&place) {
                self.fetch(&place)?
            } else {
                let path = PathBuf::from(&place);
                if !path.is_file() {
                    return None;
                }
                crate::load::read_file_text(&path).map_err(|e| format!("{place}: {e}"))
            };
            Some((text, place))
        })?;
        let compile = || -> Result<Arc<KindSchema>, String> {
            let schema: Value =
                serde_json::from_str(&text?).map_err(|e| format!("{shown}: {e}"))?;
            let validator = jsonschema::options()
                .build(&schema)
                .map_err(|e| format!("{shown}: {e}"))?;
            Ok(Arc::new(KindSchema::custom(validator, Arc::new(schema))))
        };
        Some(compile())
    }

    /// A remote schema: from the cache, or downloaded into it. `None` when the server has no
    /// such file (404).
    fn fetch(&self, url: &str) -> Option<Result<String, String>> {
        let cache_dir = self.cache_dir.as_ref()?;
        let cached = cache_dir.join(cache_name(url));
        let linked = std::fs::symlink_metadata(&cached).is_ok_and(|m| m.file_type().is_symlink());
        if !linked && let Ok(text) = crate::load::read_file_text(&cached) {
            return Some(Ok(text));
        }
        let host = url
            .split_once("://")
            .map_or(url, |(_, rest)| rest.split('/').next().unwrap_or(rest))
            .to_owned();
        let dead = |hosts: &Mutex<HashMap<String, String>>| {
            hosts
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&host)
                .cloned()
        };
        if let Some(why) = dead(&self.dead_hosts) {
            return Some(Err(format!(
                "cannot download {url}: {host} did not answer earlier in this run ({why})"
            )));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(DOWNLOAD_TIMEOUT))
            .build()
            .into();
        let text = match agent.get(url).call() {
            Ok(mut response) => response.body_mut().read_to_string(),
            Err(ureq::Error::StatusCode(404)) => return None,
            Err(e) => {
                // An answer (a status) says the host is alive; no answer says it is not.
                if !matches!(e, ureq::Error::StatusCode(_)) {
                    self.dead_hosts
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(host.clone(), e.to_string());
                }
                Err(e)
            }
        };
        Some(match text {
            Ok(text) => {
                // A cache that cannot be written only costs a download next time. Written whole
                // under another name and renamed: a concurrent run never reads half a file,
                // and a link in the cache is replaced, not followed.
                let _ = std::fs::create_dir_all(cache_dir).and_then(|()| {
                    use std::io::Write;
                    let mut part = tempfile::NamedTempFile::new_in(cache_dir)?;
                    part.write_all(text.as_bytes())?;
                    part.persist(&cached).map(drop).map_err(|e| e.error)
                });
                Ok(text)
            }
            Err(e) => Err(format!("cannot download {url}: {e}")),
        })
    }
}

/// Whether an apiVersion and kind are ones Kubernetes can have: a group of DNS labels, a
/// version and a kind of letters and digits.
fn valid_type_meta(api_version: &str, kind: &str) -> bool {
    let word = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let group_ok = group.is_empty()
        || group.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    group_ok && word(version) && word(kind)
}

/// The cache file of a URL: a hash of the whole URL, and its last segment to be readable.
fn cache_name(url: &str) -> String {
    // FNV-1a: stable across runs and Rust versions, unlike std's hasher.
    let hash = url.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let tail: String = url
        .rsplit('/')
        .next()
        .unwrap_or("schema")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .take(60)
        .collect();
    format!("{hash:016x}-{tail}")
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
mod type_meta_tests {
    #[test]
    fn only_real_api_versions_and_kinds_go_into_a_location() {
        assert!(super::valid_type_meta("apps/v1", "Deployment"));
        assert!(super::valid_type_meta("v1", "ConfigMap"));
        assert!(super::valid_type_meta("cert-manager.io/v1", "Certificate"));
        for (api_version, kind) in [
            ("../secretdir/v1", "X"),
            ("v1", "../../secretdir/leak"),
            ("a/b/v1", "X"),
            ("v1?b=c", "X"),
            ("v1", "X#y"),
            ("v1", "X%2F"),
            ("g..io/v1", "X"),
            ("v1", ""),
        ] {
            assert!(
                !super::valid_type_meta(api_version, kind),
                "{api_version} {kind}"
            );
        }
    }
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
    fn cache_names_are_stable_and_safe() {
        let url = "https://example.com/catalog/argoproj.io/rollout_v1alpha1.json";
        assert_eq!(cache_name(url), cache_name(url));
        assert!(cache_name(url).ends_with("-rollout_v1alpha1.json"));
        assert_ne!(cache_name(url), cache_name(&url.replace(".com", ".org")));
    }
}
