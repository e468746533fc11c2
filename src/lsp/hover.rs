//! Hover on a field's key: what Kubernetes says the field is for (the descriptions bundle of
//! [`crate::schema::descriptions`], loaded on the first hover).

use lsp_types::{Hover, HoverContents, MarkupContent, MarkupKind, Position};

use super::text;
use crate::load::spans::{Pos, Span};
use crate::load::yaml::{self, Node, Value};
use crate::schema::descriptions::{self, Step};

/// The documentation of the key at `position` of the document `text`, if Kubernetes
/// documents that field of the object's kind.
pub fn field_hover(text: &str, position: Position) -> Option<Hover> {
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
    let doc = descriptions::field(api_version, kind, &path)?;
    let value = format!(
        "**`{}`** `{}`\n\n{}\n\n*{kind} ({api_version}), Kubernetes {}*",
        doc.field, doc.type_name, doc.description, doc.version
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
        let hover = field_hover(text, Position { line, character })?;
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
    }
}
