//! Hover on a field's key: what the schema says the field is for — Kubernetes' descriptions
//! (the bundle of [`crate::schema::descriptions`], loaded on the first hover), and a custom
//! resource's CRD ([`super::crd_docs`]).

use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind, Position};

use super::text;
use crate::load::spans::{Pos, Span};
use crate::load::yaml::{self, Node, Value};
use crate::schema::descriptions::{self, Step};

/// The hover at `position`: the documentation of the rules of the diagnostics `under` it;
/// elsewhere, of the field whose key is there in the document `text`.
pub fn answer(
    under: &[lsp_types::Diagnostic],
    text: Option<&str>,
    position: Position,
    crds: &super::crd_docs::CrdDocs,
) -> Option<Hover> {
    let mut rules: Vec<&str> = under
        .iter()
        .filter_map(super::diagnostics::rule_of)
        .collect();
    rules.dedup();
    let docs: Vec<String> = rules
        .iter()
        .filter_map(|r| crate::diag::explain::explanation(r))
        .collect();
    if docs.is_empty() {
        return field_hover(text?, position, |api_version, kind, path| {
            kubernetes_field(api_version, kind, path)
                .or_else(|| crds.index().field(api_version, kind, path))
        });
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: docs.join("\n\n---\n\n"),
        }),
        range: under.first().map(|d| d.range),
    })
}

/// What a hover says of a field.
#[derive(Debug, PartialEq)]
pub struct FieldHelp {
    pub field: String,
    pub type_name: String,
    pub description: String,
    /// Whose description it is: `Deployment (apps/v1), Kubernetes 1.33`.
    pub from: String,
}

impl FieldHelp {
    fn of_kubernetes(doc: descriptions::FieldDoc, whose: &str) -> FieldHelp {
        FieldHelp {
            field: doc.field,
            type_name: doc.type_name,
            description: doc.description,
            from: format!("{whose}, Kubernetes {}", doc.version),
        }
    }
}

/// What Kubernetes says of the field `path` leads to in `api_version`/`kind`; of the
/// `metadata` of any kind, custom resources' too.
pub fn kubernetes_field(api_version: &str, kind: &str, path: &[Step]) -> Option<FieldHelp> {
    if let Some(doc) = descriptions::field(api_version, kind, path) {
        return Some(FieldHelp::of_kubernetes(
            doc,
            &format!("{kind} ({api_version})"),
        ));
    }
    // Every kind's metadata is an ObjectMeta, documented as any built-in kind's.
    if path.len() > 1 && path[0] == Step::Key("metadata".to_owned()) {
        let doc = descriptions::field("v1", "ConfigMap", path)?;
        return Some(FieldHelp::of_kubernetes(doc, "ObjectMeta"));
    }
    None
}

/// The documentation of the key at `position` of the document `text`, as `lookup` finds it
/// for the object's `apiVersion`, `kind` and the path to the key.
pub fn field_hover(
    text: &str,
    position: Position,
    lookup: impl Fn(&str, &str, &[Step]) -> Option<FieldHelp>,
) -> Option<Hover> {
    let line = text::line_text(text, position.line);
    // kvet counts characters from 1 where the editor counts UTF-16 units from 0.
    let mut units = 0;
    let chars = line
        .chars()
        .take_while(|c| {
            units += c.len_utf16() as u32;
            units <= position.character
        })
        .count();
    let at = Pos {
        line: position.line + 1,
        col: chars as u32 + 1,
    };
    let documents = yaml::parse(text).documents;
    let root = documents
        .iter()
        .map(|d| &d.root)
        .find(|root| contains(root.span, at))?;
    let (api_version, kind) = (
        root.get("apiVersion")?.as_str()?,
        root.get("kind")?.as_str()?,
    );
    let mut path = Vec::new();
    let key = key_at(root, at, &mut path)?;
    let help = lookup(api_version, kind, &path)?;
    let value = format!(
        "**`{}`** `{}`\n\n{}\n\n*{}*",
        help.field, help.type_name, help.description, help.from
    );
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range: Some(text::span_range(text, key)),
    })
}

/// The span of the key at `at` under `node`, with the path to it.
fn key_at(node: &Node, at: Pos, path: &mut Vec<Step>) -> Option<Span> {
    match &node.value {
        Value::Map(entries) => {
            for entry in entries {
                if contains(entry.key_span, at) {
                    path.push(Step::Key(entry.key.clone()));
                    return Some(entry.key_span);
                }
                if contains(entry.value.span, at) {
                    path.push(Step::Key(entry.key.clone()));
                    if let Some(span) = key_at(&entry.value, at, path) {
                        return Some(span);
                    }
                    path.pop();
                }
            }
            None
        }
        Value::Seq(items) => {
            for item in items.iter().filter(|i| contains(i.span, at)) {
                path.push(Step::Index);
                if let Some(span) = key_at(item, at, path) {
                    return Some(span);
                }
                path.pop();
            }
            None
        }
        _ => None,
    }
}

fn contains(span: Span, at: Pos) -> bool {
    span.start <= at && at < span.end
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hover(text: &str, line: u32, character: u32) -> Option<String> {
        let hover = field_hover(text, Position { line, character }, kubernetes_field)?;
        match hover.contents {
            HoverContents::Markup(m) => Some(m.value),
            _ => None,
        }
    }

    #[test]
    fn a_key_shows_what_kubernetes_says_of_its_field() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n        - name: a\n          image: x\n";
        let replicas = hover(text, 3, 4).unwrap();
        assert!(
            replicas.starts_with("**`replicas`** `integer`\n\nNumber of desired pods"),
            "{replicas}"
        );
        assert!(hover(text, 8, 12).unwrap().contains("Container image name"));
        // A value, a kind without descriptions, a line outside any object.
        assert_eq!(hover(text, 3, 13), None);
        assert_eq!(
            hover("apiVersion: example.com/v1\nkind: Widget\nspec: {}\n", 2, 1),
            None
        );
        assert_eq!(hover(text, 40, 0), None);
        // A custom resource's metadata is documented as every kind's.
        let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  labels: {a: b}\n";
        let labels = hover(widget, 3, 3).unwrap();
        assert!(labels.contains("*ObjectMeta, Kubernetes 1."), "{labels}");
    }
}
