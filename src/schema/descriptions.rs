//! What each field of Kubernetes' kinds is for: the descriptions the embedded schemas leave
//! out, kept apart (`schemas/kubernetes/descriptions.json.zst`, the newest version's) and read
//! only when an editor asks (`kvet lsp` on hover), so `kvet check` never decompresses them.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

static BUNDLE: &[u8] = include_bytes!("../../schemas/kubernetes/descriptions.json.zst");

#[derive(Deserialize)]
struct Bundle {
    version: String,
    kinds: HashMap<String, HashMap<String, String>>,
    defs: HashMap<String, Definition>,
}

#[derive(Deserialize)]
struct Definition {
    #[serde(default)]
    properties: HashMap<String, Field>,
}

#[derive(Deserialize)]
struct Field {
    #[serde(default)]
    description: String,
    #[serde(default, rename = "type")]
    type_name: String,
    /// The definition of its value (or of its items, or its map's values).
    #[serde(default, rename = "ref")]
    definition: Option<String>,
    /// A list or a map stands between the field and that definition: the next step of a path
    /// is an index or a key of it.
    #[serde(default)]
    nested: bool,
}

fn bundle() -> Option<&'static Bundle> {
    static PARSED: OnceLock<Option<Bundle>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            let json = super::builtin::decompress(BUNDLE).ok()?;
            serde_json::from_slice(&json).ok()
        })
        .as_ref()
}

/// One step of a path from an object's root: a mapping's key or a list's index.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Key(String),
    Index,
}

/// The documentation of the field a path leads to.
#[derive(Debug, PartialEq)]
pub struct FieldDoc {
    pub field: String,
    pub type_name: String,
    pub description: String,
    /// The Kubernetes version the description is of.
    pub version: &'static str,
}

/// The field of `api_version`/`kind` that `path` ends on (its last step a key; a key of a
/// map field, such as a ConfigMap's `data`, is documented by that field), when Kubernetes
/// documents it.
pub fn field(api_version: &str, kind: &str, path: &[Step]) -> Option<FieldDoc> {
    let bundle = bundle()?;
    let mut definition = bundle.kinds.get(api_version)?.get(kind)?;
    let mut steps = path.iter().peekable();
    while let Some(step) = steps.next() {
        let Step::Key(key) = step else {
            return None;
        };
        let field = bundle.defs.get(definition)?.properties.get(key)?;
        if field.nested {
            // The index or key of the list or map: its items are of the field's definition.
            if steps.next().is_none() {
                return Some(doc(bundle, key, field));
            }
        }
        match (steps.peek(), &field.definition) {
            (None, _) => return Some(doc(bundle, key, field)),
            (Some(_), Some(next)) => definition = next,
            (Some(_), None) => return None,
        }
    }
    None
}

fn doc(bundle: &'static Bundle, key: &str, field: &Field) -> FieldDoc {
    FieldDoc {
        field: key.to_owned(),
        type_name: field.type_name.clone(),
        description: field.description.clone(),
        version: &bundle.version,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(steps: &[&str]) -> Vec<Step> {
        steps
            .iter()
            .map(|s| match *s {
                "[]" => Step::Index,
                key => Step::Key(key.to_owned()),
            })
            .collect()
    }

    #[test]
    fn a_field_is_found_through_references_lists_and_maps() {
        let replicas = field("apps/v1", "Deployment", &path(&["spec", "replicas"])).unwrap();
        assert_eq!(replicas.type_name, "integer");
        assert!(replicas.description.starts_with("Number of desired pods"));
        let image = ["spec", "template", "spec", "containers", "[]", "image"];
        let image = field("apps/v1", "Deployment", &path(&image)).unwrap();
        assert!(
            image.description.contains("Container image name"),
            "{image:?}"
        );
        let env = field("v1", "Pod", &path(&["spec", "containers", "[]", "env"])).unwrap();
        assert_eq!(env.type_name, "array");
        assert!(field("v1", "ConfigMap", &path(&["data"])).is_some());
        // A key of a map is documented by the map's field.
        let entry = field("v1", "ConfigMap", &path(&["data", "app.yaml"])).unwrap();
        assert_eq!(entry.field, "data");
        // A field that does not exist, a kind Kubernetes does not have.
        assert_eq!(field("v1", "Pod", &path(&["spec", "nope"])), None);
        assert_eq!(field("example.com/v1", "Widget", &path(&["spec"])), None);
    }
}
