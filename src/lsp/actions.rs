//! Code actions on kvet's diagnostics: the quick fixes of [`fixes`] (preferred), and suppress
//! a rule on a line (a `# kvet:ignore` comment) or for an object (an `ignore.kvet.dev/<rule>`
//! annotation). Each edit inserts whole lines
//! indented as their neighbours, so the file's other lines and comments stay as written.

use std::collections::{BTreeSet, HashMap};

use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Position, Range, TextEdit, Uri, WorkspaceEdit,
};

use super::diagnostics::rule_of;
use super::{fixes, text};
use crate::load::yaml::{self, Node};

/// The actions for the client's diagnostics of kvet in the document `text`; with `snippets`
/// (the client takes LSP 3.18 snippet edits), a suppression comment leaves the cursor where
/// its reason goes.
pub fn code_actions(
    uri: &Uri,
    text: &str,
    diagnostics: &[lsp_types::Diagnostic],
    snippets: bool,
) -> Vec<serde_json::Value> {
    let documents = yaml::parse(text).documents;
    let roots: Vec<&Node> = documents.iter().map(|d| &d.root).collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for diagnostic in diagnostics {
        let Some(rule) = rule_of(diagnostic) else {
            continue;
        };
        let line = diagnostic.range.start.line;
        if !seen.insert((rule.to_owned(), line)) {
            continue;
        }
        let action = |title: String, edit: TextEdit, preferred: bool| {
            json(CodeAction {
                title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic.clone()]),
                edit: Some(WorkspaceEdit {
                    changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                    ..Default::default()
                }),
                is_preferred: preferred.then_some(true),
                ..Default::default()
            })
        };
        for (title, edit) in fixes::quick_fixes(text, &roots, diagnostic, rule) {
            out.push(action(title, edit, true));
        }
        // Inside a multi-line string, a comment would be part of it: it goes above the line
        // where the string starts, and covers the node that starts there.
        let above = roots
            .iter()
            .find_map(|root| string_start(text, root, line + 1))
            .map_or(line, |start| start - 1);
        let title = format!("Suppress `{rule}` on this line");
        let comment = suppress_line(text, above, rule);
        out.push(match snippets {
            true => with_cursor_at_end(action(title, comment.clone(), false), uri, comment),
            false => action(title, comment, false),
        });
        // Not a `kind: List`: its items are the objects, and its annotations suppress none.
        let object = roots
            .iter()
            .find(|root| root.span.start.line <= line + 1 && line < root.span.end.line)
            .filter(|root| {
                let kind = root.get("kind").and_then(Node::as_str).unwrap_or_default();
                !kind.ends_with("List")
            });
        if let Some(edit) = object.and_then(|root| suppress_object(text, root, rule)) {
            out.push(action(
                format!("Suppress `{rule}` for this object"),
                edit,
                false,
            ));
        }
    }
    out
}

fn json(action: CodeAction) -> serde_json::Value {
    serde_json::to_value(CodeActionOrCommand::CodeAction(action)).unwrap_or_default()
}

/// The action with its one edit as a snippet edit (LSP 3.18 `SnippetTextEdit`) that leaves
/// the cursor at the end of the inserted line, before its line break.
fn with_cursor_at_end(
    mut action: serde_json::Value,
    uri: &Uri,
    edit: TextEdit,
) -> serde_json::Value {
    let line = edit.new_text.trim_end_matches(['\r', '\n']);
    let escaped = line
        .replace('\\', "\\\\")
        .replace('$', "\\$")
        .replace('}', "\\}");
    let snippet = format!("{escaped}$0{}", &edit.new_text[line.len()..]);
    action["edit"] = serde_json::json!({
        "documentChanges": [{
            "textDocument": {"uri": uri, "version": null},
            "edits": [{"range": edit.range, "snippet": {"kind": "snippet", "value": snippet}}],
        }],
    });
    action
}

/// The line (1-based) that starts a string spanning several lines, `line` among them and not
/// that first line: the key of a block scalar (`key: |`), the item of one (`- |`), the key of
/// a multi-line quoted string.
fn string_start(text: &str, node: &Node, line: u32) -> Option<u32> {
    let spans = |n: &Node| n.span.start.line <= line && line <= n.span.last_line();
    let multi_line = |n: &Node| {
        !matches!(n.value, yaml::Value::Map(_) | yaml::Value::Seq(_))
            && n.span.last_line() > n.span.start.line
    };
    match &node.value {
        // A key on the line: the line is not inside a string (a block scalar's span runs on
        // to the next key).
        yaml::Value::Map(entries) if entries.iter().any(|e| e.key_span.start.line == line) => None,
        yaml::Value::Map(entries) => entries.iter().find_map(|e| {
            if !spans(&e.value) {
                return None;
            }
            if multi_line(&e.value) || e.value.span.start.line > e.key_span.start.line {
                let key = e.key_span.start.line;
                if !matches!(e.value.value, yaml::Value::Map(_) | yaml::Value::Seq(_)) {
                    return (key < line).then_some(key);
                }
            }
            string_start(text, &e.value, line)
        }),
        yaml::Value::Seq(items) => items.iter().find_map(|item| {
            if !spans(item) {
                return None;
            }
            if matches!(item.value, yaml::Value::Map(_) | yaml::Value::Seq(_)) {
                return string_start(text, item, line);
            }
            // A block scalar item's text starts the line after its `- |`.
            let start = item.span.start.line;
            let before = text::line_text(text, start.saturating_sub(2)).trim_start();
            let dash = match start > 1 && before.starts_with('-') {
                true => start - 1,
                false => start,
            };
            (multi_line(item) || dash < start)
                .then_some(dash)
                .filter(|d| *d < line)
        }),
        _ => None,
    }
}

/// A `# kvet:ignore <rule> -- ` comment on its own line above `line` (0-based), indented as
/// it: it covers that line and the node that starts there; the reason is left to write.
fn suppress_line(text: &str, line: u32, rule: &str) -> TextEdit {
    let written = text::line_text(text, line);
    let indent = &written[..written.len() - written.trim_start_matches(' ').len()];
    let at = Position { line, character: 0 };
    TextEdit {
        range: Range::new(at, at),
        new_text: format!("{indent}# kvet:ignore {rule} -- {}", text::line_break(text)),
    }
}

/// An `ignore.kvet.dev/<rule>: ""` annotation on the object whose root is `root`: first of
/// its block-style `metadata.annotations`, or with `annotations:` first of its `metadata`.
/// `None` when the object has no block-style metadata to hold it.
fn suppress_object(text: &str, root: &Node, rule: &str) -> Option<TextEdit> {
    let metadata = root.as_map()?.iter().find(|e| e.key == "metadata")?;
    let fields = metadata.value.as_map()?;
    let first = fields.first()?;
    let key_line = metadata.key_span.start.line;
    if first.key_span.start.line <= key_line {
        return None; // metadata: {name: a}
    }
    let annotation = format!("ignore.kvet.dev/{rule}: \"\"");
    let newline = text::line_break(text);
    let indent = |entry: &yaml::Entry| " ".repeat(entry.key_span.start.col as usize - 1);
    let (line, new_text) = match fields.iter().find(|e| e.key == "annotations") {
        Some(annotations) => {
            let existing = annotations.value.as_map()?.first()?;
            if existing.key_span.start.line <= annotations.key_span.start.line {
                return None; // annotations: {a: b}
            }
            (
                existing.key_span.start.line,
                format!("{}{annotation}{newline}", indent(existing)),
            )
        }
        None => {
            let step = (first.key_span.start.col - metadata.key_span.start.col).max(1) as usize;
            let indent = indent(first);
            let nested = " ".repeat(indent.len() + step);
            (
                first.key_span.start.line,
                format!("{indent}annotations:{newline}{nested}{annotation}{newline}"),
            )
        }
    };
    let at = Position {
        line: line - 1,
        character: 0,
    };
    Some(TextEdit {
        range: Range::new(at, at),
        new_text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(text: &str, edit: &TextEdit) -> String {
        let mut out = text.to_owned();
        let at = text::offset(text, edit.range.start);
        out.insert_str(at, &edit.new_text);
        out
    }

    fn object_edit(text: &str) -> Option<String> {
        let root = yaml::first_root(text)?;
        suppress_object(text, &root, "run-as-root").map(|e| apply(text, &e))
    }

    #[test]
    fn a_line_is_suppressed_by_a_comment_above_it_indented_as_it() {
        let text = "spec:\n  containers:\n    - name: a\n";
        let edit = suppress_line(text, 2, "run-as-root");
        assert_eq!(
            apply(text, &edit),
            "spec:\n  containers:\n    # kvet:ignore run-as-root -- \n    - name: a\n"
        );
        let crlf = "a: 1\r\nb: 2\r\n";
        assert_eq!(
            apply(crlf, &suppress_line(crlf, 1, "x")),
            "a: 1\r\n# kvet:ignore x -- \r\nb: 2\r\n"
        );
    }

    #[test]
    fn a_client_that_takes_snippets_gets_the_cursor_where_the_reason_goes() {
        let text = "spec:\n  replicas: 1\n";
        let uri: Uri = "file:///w/a.yaml".parse().unwrap();
        let at = Position {
            line: 1,
            character: 2,
        };
        let diagnostic = lsp_types::Diagnostic {
            range: Range::new(at, at),
            code: Some(lsp_types::NumberOrString::String("x-rule".into())),
            source: Some("kvet".into()),
            ..Default::default()
        };
        let suppress = |snippets: bool| {
            let actions = code_actions(&uri, text, std::slice::from_ref(&diagnostic), snippets);
            actions
                .into_iter()
                .find(|a| a["title"] == "Suppress `x-rule` on this line")
                .unwrap()
        };
        let edit = &suppress(true)["edit"]["documentChanges"][0];
        assert_eq!(edit["textDocument"]["uri"], "file:///w/a.yaml");
        assert_eq!(
            edit["edits"][0]["snippet"],
            serde_json::json!({"kind": "snippet", "value": "  # kvet:ignore x-rule -- $0\n"})
        );
        assert_eq!(
            edit["edits"][0]["range"]["start"],
            serde_json::json!({"line": 1, "character": 0})
        );
        // Other clients get the plain edit.
        let plain = &suppress(false)["edit"]["changes"]["file:///w/a.yaml"][0];
        assert_eq!(plain["newText"], "  # kvet:ignore x-rule -- \n");
    }

    #[test]
    fn a_line_of_a_multi_line_string_is_suppressed_above_the_string() {
        let text =
            "kind: ConfigMap\ndata:\n  app.properties: |\n    user=a\n    password=b\n  one: x\n";
        let root = yaml::first_root(text).unwrap();
        assert_eq!(string_start(text, &root, 5), Some(3));
        assert_eq!(string_start(text, &root, 4), Some(3));
        assert_eq!(string_start(text, &root, 3), None);
        assert_eq!(string_start(text, &root, 6), None);
        let script = "spec:\n  command:\n  - sh\n  - |\n    echo a\n    echo b\n";
        let root = yaml::first_root(script).unwrap();
        assert_eq!(string_start(script, &root, 6), Some(4));
        assert_eq!(string_start(script, &root, 3), None);
    }

    #[test]
    fn an_object_is_suppressed_by_an_annotation_among_its_own() {
        assert_eq!(
            object_edit("metadata:\n    name: a\n    annotations:\n        # why\n        b: c\n")
                .unwrap(),
            "metadata:\n    name: a\n    annotations:\n        # why\n        ignore.kvet.dev/run-as-root: \"\"\n        b: c\n"
        );
        assert_eq!(
            object_edit("kind: Pod\nmetadata:\n  name: a # the name\nspec: {}\n").unwrap(),
            "kind: Pod\nmetadata:\n  annotations:\n    ignore.kvet.dev/run-as-root: \"\"\n  name: a # the name\nspec: {}\n"
        );
        for flow in [
            "metadata: {name: a}\n",
            "metadata:\n  annotations: {a: b}\n",
            "kind: Pod\n",
        ] {
            assert_eq!(object_edit(flow), None, "{flow}");
        }
    }
}
