//! What a custom resource's fields are for: the descriptions of the CRD that defines its kind,
//! one of the `crds` setting's files or of the workspace. The CRD files are indexed (kind and
//! version → file and line, read from a skeleton without schemas) on the first hover of a
//! custom resource; the CRD itself is read when a field of it is hovered.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::load::{self, yaml::Node};
use crate::schema::descriptions::Step;

use super::hover::FieldHelp;

/// The CRD index of a server's settings and workspace, built when first needed.
pub struct CrdDocs {
    index: std::sync::OnceLock<CrdIndex>,
    paths: Vec<PathBuf>,
    root: Option<PathBuf>,
}

impl CrdDocs {
    /// The CRDs of the `crds` setting's paths and of the workspace's `root`.
    pub fn new(crds: &[String], root: Option<&Path>) -> CrdDocs {
        CrdDocs {
            index: std::sync::OnceLock::new(),
            paths: crds.iter().map(PathBuf::from).collect(),
            root: root.map(Path::to_path_buf),
        }
    }

    /// The index, built on the first call (the others wait for it).
    pub fn index(&self) -> &CrdIndex {
        self.index
            .get_or_init(|| CrdIndex::build(&self.paths, self.root.as_deref()))
    }
}

/// Where each custom resource kind's CRD is: `(apiVersion, kind)` → its file, the line it
/// starts on there, and its name (checked when it is read: the file may have changed).
#[derive(Debug, Default)]
pub struct CrdIndex {
    crds: HashMap<(String, String), (PathBuf, u32, String)>,
    /// The workspace's folder, which files are named relative to.
    root: Option<PathBuf>,
}

impl CrdIndex {
    /// The CRDs of the YAML and JSON files under `paths` (files or folders, walked as `kvet
    /// check` walks them) and the workspace's `root`; the first definition of a kind wins.
    pub fn build(paths: &[PathBuf], root: Option<&Path>) -> CrdIndex {
        let mut index = HashMap::new();
        for path in paths.iter().map(PathBuf::as_path).chain(root) {
            for entry in ignore::WalkBuilder::new(path).build().flatten() {
                let file = entry.path();
                let manifest = file
                    .extension()
                    .is_some_and(|e| e == "yaml" || e == "yml" || e == "json");
                if !manifest || !entry.file_type().is_some_and(|t| t.is_file()) {
                    continue;
                }
                let Ok(text) = load::read_file_text(file) else {
                    continue;
                };
                if !text.contains("CustomResourceDefinition") {
                    continue;
                }
                let skeleton = crate::schema::crd_files::skeleton(&text);
                let loaded = load::load_text(skeleton.as_deref().unwrap_or(&text));
                for object in &loaded.objects {
                    let line = object.root.span.start.line;
                    let name = object.id.name.clone().unwrap_or_default();
                    for version in crate::schema::crd::versions_of(object, |_, _| true) {
                        index
                            .entry((version.api_version, version.kind))
                            .or_insert_with(|| (file.to_path_buf(), line, name.clone()));
                    }
                }
            }
        }
        CrdIndex {
            crds: index,
            root: root.map(Path::to_path_buf),
        }
    }

    /// The field of `api_version`/`kind` that `path` ends on, as its CRD documents it.
    pub fn field(&self, api_version: &str, kind: &str, path: &[Step]) -> Option<FieldHelp> {
        let (file, line, name) = self.crds.get(&(api_version.to_owned(), kind.to_owned()))?;
        let text = load::read_file_text(file).ok()?;
        let named = |root: &Node| {
            let found = root.get("metadata").and_then(|m| m.get("name"));
            found.and_then(Node::as_str) == Some(name.as_str())
        };
        // Where it was when indexed; anywhere in the file if that changed since.
        let document = load::yaml::document_at(&text, *line).unwrap_or_default();
        let mut roots = load::yaml::parse(document)
            .documents
            .into_iter()
            .map(|d| d.root);
        let root = match roots.next().filter(|root| named(root)) {
            Some(root) => root,
            None => {
                let all = load::yaml::parse(&text).documents.into_iter();
                all.map(|d| d.root).find(|root| named(root))?
            }
        };
        let schema = version_schema(&root, api_version)?;
        let (node, field) = walk(schema, path)?;
        let description = node.get("description").and_then(Node::as_str)?;
        Some(FieldHelp {
            field,
            type_name: type_name(node),
            description: description.to_owned(),
            from: format!("{kind} ({api_version}), its CRD in {}", self.shown(file)),
        })
    }
}

impl CrdIndex {
    /// A file as the workspace names it.
    fn shown(&self, file: &Path) -> String {
        let relative = self.root.as_deref().and_then(|r| file.strip_prefix(r).ok());
        relative.unwrap_or(file).display().to_string()
    }
}

/// The `openAPIV3Schema` of the CRD's version of `api_version` (`group/version`).
fn version_schema<'a>(crd: &'a Node, api_version: &str) -> Option<&'a Node> {
    let version = api_version.rsplit('/').next()?;
    let spec = crd.get("spec")?;
    let versions = spec.get("versions").and_then(Node::as_seq).unwrap_or(&[]);
    let own = versions
        .iter()
        .find(|v| v.get("name").and_then(Node::as_str) == Some(version))
        .and_then(|v| v.get("schema"));
    // `apiextensions.k8s.io/v1beta1` CRDs may give one schema for every version.
    own.or_else(|| spec.get("validation"))?
        .get("openAPIV3Schema")
}

/// The schema a path leads to, and the name of the field it documents: a key of a map field
/// (a label under `labels`) is documented by that field.
fn walk<'a>(schema: &'a Node, path: &[Step]) -> Option<(&'a Node, String)> {
    let mut node = schema;
    let mut field = None;
    let mut steps = path.iter().peekable();
    while let Some(step) = steps.next() {
        match step {
            Step::Index => node = node.get("items")?,
            Step::Key(key) => {
                if let Some(property) = node.get("properties").and_then(|p| p.get(key)) {
                    node = property;
                    field = Some(key.clone());
                } else {
                    let values = node.get("additionalProperties")?;
                    if steps.peek().is_none() {
                        return Some((node, field?));
                    }
                    node = values;
                }
            }
        }
    }
    Some((node, field?))
}

/// A schema's type as the Kubernetes docs write it: `string`, `[]object`, `map[string]string`.
fn type_name(node: &Node) -> String {
    let own = node.get("type").and_then(Node::as_str).unwrap_or_default();
    match own {
        "array" => format!("[]{}", node.get("items").map(type_name).unwrap_or_default()),
        "object" => match node
            .get("additionalProperties")
            .filter(|a| a.as_map().is_some())
        {
            Some(values) => format!("map[string]{}", type_name(values)),
            None => "object".to_owned(),
        },
        _ => own.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRD: &str = "\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              description: What the widget should be.
              properties:
                size:
                  type: integer
                  description: How many gears the widget has.
                parts:
                  type: array
                  items:
                    type: object
                    properties:
                      name: {type: string, description: The part's name.}
                tags:
                  type: object
                  description: Free-form tags.
                  additionalProperties: {type: string}
";

    fn key(k: &str) -> Step {
        Step::Key(k.to_owned())
    }

    #[test]
    fn a_custom_resources_fields_are_documented_by_its_crd() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("widget.yaml"), format!("---\n{CRD}")).unwrap();
        std::fs::write(dir.path().join("other.yaml"), "kind: ConfigMap\n").unwrap();
        let index = CrdIndex::build(&[], Some(dir.path()));
        let field = |path: &[Step]| index.field("example.com/v1", "Widget", path);
        let size = field(&[key("spec"), key("size")]).unwrap();
        assert_eq!(
            (size.field.as_str(), size.type_name.as_str()),
            ("size", "integer")
        );
        assert_eq!(size.description, "How many gears the widget has.");
        assert_eq!(size.from, "Widget (example.com/v1), its CRD in widget.yaml");
        let part = field(&[key("spec"), key("parts"), Step::Index, key("name")]).unwrap();
        assert_eq!(part.description, "The part's name.");
        let parts = field(&[key("spec"), key("parts")]);
        assert_eq!(parts, None, "no description");
        let tag = field(&[key("spec"), key("tags"), key("team")]).unwrap();
        assert_eq!(
            (tag.field.as_str(), tag.type_name.as_str()),
            ("tags", "map[string]string")
        );
        assert_eq!(field(&[key("spec"), key("colour")]), None);
        assert_eq!(
            index.field("example.com/v2", "Widget", &[key("spec")]),
            None
        );
        // The file changed since it was indexed: the CRD is found again by its name.
        let moved = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\n---\n{CRD}");
        std::fs::write(dir.path().join("widget.yaml"), moved).unwrap();
        let size = field(&[key("spec"), key("size")]).unwrap();
        assert_eq!(size.description, "How many gears the widget has.");
    }
}
