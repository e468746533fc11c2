//! The client's settings (`initializationOptions`, `workspace/didChangeConfiguration`):
//! what `kvet check` takes as flags.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::LintOptions;
use crate::policy::PolicyOptions;

#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    /// `--crds`: files and folders of CustomResourceDefinitions.
    pub crds: Vec<String>,
    /// `--policy`: folders of the user's Rego policies.
    pub policy: Vec<String>,
    /// `--kubernetes-version`.
    pub kubernetes_version: Option<String>,
    /// `--schema-location`.
    pub schema_locations: Vec<String>,
    /// `--baseline`: findings recorded there are not shown.
    pub baseline: Option<String>,
}

impl Settings {
    /// The settings in `value`: `{"kvet": {...}}` as editors nest them, or `{...}`; `None`
    /// when they are not settings of kvet's.
    pub fn from_value(value: &serde_json::Value, root: Option<&Path>) -> Option<Settings> {
        const FIELDS: [&str; 5] = [
            "crds",
            "policy",
            "kubernetesVersion",
            "schemaLocations",
            "baseline",
        ];
        // Another server's settings (`{"yaml": ...}`) or none: not a change of kvet's.
        let value = match value.get("kvet") {
            Some(ours) => ours,
            None if FIELDS.iter().any(|f| value.get(f).is_some()) => value,
            None => return None,
        };
        let mut settings: Settings = serde_json::from_value(value.clone()).ok()?;
        if let Some(root) = root {
            // Relative paths are the workspace's, whatever folder the server started in.
            let paths = settings.crds.iter_mut().chain(&mut settings.policy);
            for path in paths.chain(&mut settings.baseline) {
                if Path::new(path).is_relative() && !path.contains("://") {
                    *path = root.join(&*path).display().to_string();
                }
            }
        }
        Some(settings)
    }

    pub fn lint_options(&self) -> LintOptions {
        LintOptions {
            kubernetes_version: self.kubernetes_version.clone(),
            crds: self.crds.clone(),
            schema_locations: self.schema_locations.clone(),
            policy: PolicyOptions {
                policy_paths: self.policy.iter().map(PathBuf::from).collect(),
                ..PolicyOptions::default()
            },
            ..LintOptions::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_nested_or_not_and_relative_to_the_workspace() {
        let value = serde_json::json!({"kvet": {"crds": ["crds", "/abs"], "kubernetesVersion": "1.30", "baseline": "b.json"}});
        let settings = Settings::from_value(&value, Some(Path::new("/ws"))).unwrap();
        assert_eq!(settings.crds, ["/ws/crds", "/abs"]);
        assert_eq!(settings.baseline.as_deref(), Some("/ws/b.json"));
        assert_eq!(settings.kubernetes_version.as_deref(), Some("1.30"));
        let flat = serde_json::json!({"policy": ["p"]});
        assert_eq!(Settings::from_value(&flat, None).unwrap().policy, ["p"]);
        assert_eq!(
            Settings::from_value(&serde_json::json!({"crds": 3}), None),
            None
        );
    }
}
