//! Kubernetes objects found in the loaded documents.

use serde::Serialize;
use std::borrow::Cow;

use super::yaml::{Document, Node, Value};

/// Identity of an object, as the JSON output names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    #[serde(rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

impl ObjectRef {
    /// The API group (`""` for the core group): `apps` of `apps/v1`.
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.kind)?;
        match (&self.namespace, &self.name) {
            (Some(ns), Some(name)) => write!(f, " {ns}/{name}"),
            (None, Some(name)) => write!(f, " {name}"),
            _ => Ok(()),
        }
    }
}

/// One Kubernetes object with the tree it was loaded from.
#[derive(Debug)]
pub struct Object {
    pub id: ObjectRef,
    /// The object's own node; pointers in findings are relative to it.
    pub root: Node,
    /// Index of the document in its file.
    pub document: usize,
    /// Position in a `v1 List`'s `items`, when the object came from one.
    pub list_item: Option<usize>,
    pub source_template: Option<String>,
}

/// A document that should have been an object but is not.
#[derive(Debug)]
pub struct NotAnObject {
    pub document: usize,
    pub pointer: String,
    pub span: crate::load::spans::Span,
    /// Most are one of a few fixed sentences, and a file can hold millions of documents.
    pub message: Cow<'static, str>,
    /// Whether the document is still a Kubernetes manifest (it has a `kind` or a
    /// `metadata.name`), only broken: kubectl refuses it, where it ignores other YAML.
    pub manifest: bool,
}

/// Adds a document's objects (one, or the items of a `v1 List`) to `objects`, or says why it
/// has none. Empty documents have none and no problem.
pub fn split(doc: Document, objects: &mut Vec<Object>, problems: &mut Vec<NotAnObject>) {
    {
        if doc.root.is_null() {
            return;
        }
        let is_list = doc.root.get("kind").and_then(Node::as_str) == Some("List")
            && doc.root.get("apiVersion").and_then(Node::as_str) == Some("v1");
        if is_list {
            let Node { value, .. } = doc.root;
            let items = match value {
                Value::Map(entries) => entries.into_iter().find(|e| e.key == "items"),
                _ => None,
            };
            match items.map(|e| e.value) {
                Some(Node {
                    value: Value::Seq(items),
                    ..
                }) => {
                    for (i, item) in items.into_iter().enumerate() {
                        let pointer = format!("/items/{i}");
                        match identify(&item) {
                            Ok(id) => objects.push(Object {
                                id,
                                root: item,
                                document: doc.index,
                                list_item: Some(i),
                                source_template: doc.source_template.clone(),
                            }),
                            Err(message) => problems.push(NotAnObject {
                                document: doc.index,
                                pointer,
                                span: item.span,
                                message,
                                manifest: true,
                            }),
                        }
                    }
                }
                Some(Node {
                    value: Value::Null, ..
                })
                | None => {}
                Some(other) => problems.push(NotAnObject {
                    document: doc.index,
                    pointer: "/items".into(),
                    span: other.span,
                    message: Cow::Borrowed("`items` of a List must be a list of objects"),
                    manifest: true,
                }),
            }
            return;
        }
        match identify(&doc.root) {
            Ok(id) => objects.push(Object {
                id,
                root: doc.root,
                document: doc.index,
                list_item: None,
                source_template: doc.source_template,
            }),
            Err(message) => problems.push(NotAnObject {
                document: doc.index,
                pointer: String::new(),
                span: doc.root.span,
                message,
                manifest: is_manifest(&doc.root),
            }),
        }
    }
}

/// A document that says it is a Kubernetes object even if it is not a valid one: a kind of
/// Kubernetes itself (`Deployment`), or a `metadata.name`. Other YAML with a `kind` (a
/// kube-state-metrics `CustomResourceStateMetrics` file) is not.
fn is_manifest(root: &Node) -> bool {
    let named = root
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Node::as_str)
        .is_some();
    named
        || root
            .get("kind")
            .and_then(Node::as_str)
            .is_some_and(crate::schema::builtin::is_kubernetes_kind)
}

/// Reads apiVersion, kind, namespace and name; explains what is missing otherwise.
fn identify(node: &Node) -> Result<ObjectRef, Cow<'static, str>> {
    if node.as_map().is_none() {
        return Err("document is not a mapping, so it is not a Kubernetes object".into());
    }
    let field = |key: &str| -> Result<Option<String>, Cow<'static, str>> {
        match node.get(key) {
            None => Ok(None),
            Some(n) if n.is_null() => Ok(None),
            Some(n) => match n.as_str() {
                Some(s) => Ok(Some(s.to_owned())),
                None => Err(format!("`{key}` must be a string").into()),
            },
        }
    };
    let api_version = field("apiVersion")?;
    let kind = field("kind")?;
    let (api_version, kind) = match (api_version, kind) {
        (Some(a), Some(k)) if !a.is_empty() && !k.is_empty() => (a, k),
        (None, None) => {
            return Err(
                "document has no `apiVersion` and no `kind`; every Kubernetes object needs both"
                    .into(),
            );
        }
        (_, Some(_)) => return Err("object has no `apiVersion`".into()),
        (Some(_), _) => return Err("object has no `kind`".into()),
    };
    let metadata = node.get("metadata");
    let meta = |key: &str| {
        metadata
            .and_then(|m| m.get(key))
            .and_then(Node::as_str)
            .map(str::to_owned)
    };
    Ok(ObjectRef {
        api_version,
        kind,
        namespace: meta("namespace"),
        name: meta("name"),
    })
}
