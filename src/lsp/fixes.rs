//! Quick fixes: the edits that fix a finding mechanically and safely, only where the rule
//! asks for exactly that edit and the document is written so that it can be made without
//! touching anything else (block style, one field per line). Anything else gets no fix:
//! a wrong edit is worse than none.

use lsp_types::{Position, Range, TextEdit};

use super::diagnostics::FixData;
use super::text;
use crate::load::yaml::{Node, Value};

/// The fixes of one of kvet's diagnostics of `rule` in the document `text`, whose documents'
/// roots are `roots`: `(title, edit)`.
pub fn quick_fixes(
    text: &str,
    roots: &[&Node],
    diagnostic: &lsp_types::Diagnostic,
    rule: &str,
) -> Vec<(String, TextEdit)> {
    let data = FixData::from(diagnostic);
    let line = diagnostic.range.start.line.saturating_add(1);
    let root = roots
        .iter()
        .find(|root| root.span.start.line <= line && line <= root.span.end.line);
    let fix = match rule {
        "deprecated-api" | "removed-api" => root
            .zip(data.api_version)
            .and_then(|(root, to)| new_api_version(text, root, diagnostic.range, &to)),
        "privilege-escalation" => root.and_then(|root| {
            security_context(
                text,
                root,
                &data,
                line,
                ("allowPrivilegeEscalation", "false"),
            )
        }),
        "run-as-root" => root
            .and_then(|root| security_context(text, root, &data, line, ("runAsNonRoot", "true"))),
        "writable-root-fs" => root.and_then(|root| {
            security_context(text, root, &data, line, ("readOnlyRootFilesystem", "true"))
        }),
        "duplicate-env" => root.and_then(|root| first_of_duplicate_env(text, root, &data)),
        _ => None,
    };
    fix.into_iter().collect()
}

/// `apiVersion`'s value replaced by `to`, quoted as it was; only when the finding's range is
/// still that value (the client sends back the diagnostic it was shown, maybe of older text).
fn new_api_version(text: &str, root: &Node, range: Range, to: &str) -> Option<(String, TextEdit)> {
    let written = root.get("apiVersion")?;
    if text::span_range(text, written.span) != range || written.as_str().is_none() {
        return None;
    }
    let source = &text[text::offset(text, range.start)..text::offset(text, range.end)];
    let quote = source.chars().next().filter(|c| ['"', '\''].contains(c));
    let quote = quote.map(String::from).unwrap_or_default();
    let edit = TextEdit {
        range,
        new_text: format!("{quote}{to}{quote}"),
    };
    Some((format!("Use apiVersion: {to}"), edit))
}

/// `field: value` in the container's `securityContext`: the field's value replaced when the
/// finding is on it, else the field added (with `securityContext:` when there is none).
fn security_context(
    text: &str,
    root: &Node,
    data: &FixData,
    line: u32,
    (field, value): (&str, &str),
) -> Option<(String, TextEdit)> {
    let pointer = data.pointer.as_deref()?;
    let title = format!("Set {field}: {value}");
    if let Some(container) = pointer.strip_suffix(&format!("/securityContext/{field}")) {
        let written = root.pointer(pointer)?;
        let is_scalar = !matches!(written.value, Value::Map(_) | Value::Seq(_));
        let container = root.pointer(container)?;
        if !is_scalar || written.span.start.line != line || privileged(container) {
            return None;
        }
        let range = text::span_range(text, written.span);
        let new_text = value.to_owned();
        return Some((title, TextEdit { range, new_text }));
    }
    let container = root.pointer(pointer)?;
    let fields = container.as_map()?;
    let is_container = fields.iter().any(|e| e.key == "image" || e.key == "name");
    if !is_container || container.span.start.line != line || privileged(container) {
        return None;
    }
    let first_char = text::line_text(text, line - 1)
        .chars()
        .nth(container.span.start.col as usize - 1);
    if first_char == Some('{') {
        return None; // - {name: a, image: x}
    }
    let newline = text::line_break(text);
    match container.get("securityContext") {
        Some(context) => {
            if context.get(field).is_some() {
                return None; // set: the finding is about something else
            }
            let first = context.as_map()?.first()?;
            let key = fields.iter().find(|e| e.key == "securityContext")?;
            if first.key_span.start.line <= key.key_span.start.line {
                return None; // securityContext: {…}
            }
            let indent = " ".repeat(first.key_span.start.col as usize - 1);
            let new_text = format!("{indent}{field}: {value}{newline}");
            Some((title, insert_at(text, first.key_span.start.line, new_text)))
        }
        None => {
            // Before the container's second field, or after its only one: both start a line.
            let (at, entry) = match fields {
                [first] if first.value.span.end.line == first.key_span.start.line => {
                    (first.key_span.start.line + 1, first)
                }
                [_, second, ..] if starts_its_line(text, second) => {
                    (second.key_span.start.line, second)
                }
                _ => return None,
            };
            let indent = " ".repeat(entry.key_span.start.col as usize - 1);
            let new_text =
                format!("{indent}securityContext:{newline}{indent}  {field}: {value}{newline}");
            Some((title, insert_at(text, at, new_text)))
        }
    }
}

/// A privileged container always escalates: `allowPrivilegeEscalation: false` is refused
/// beside `privileged: true`, so no fix is offered for it.
fn privileged(container: &Node) -> bool {
    let flag = container
        .get("securityContext")
        .and_then(|c| c.get("privileged"));
    flag.is_some_and(|f| f.value == Value::Bool(true))
}

fn starts_its_line(text: &str, entry: &crate::load::yaml::Entry) -> bool {
    let line = text::line_text(text, entry.key_span.start.line - 1);
    let before: String = line
        .chars()
        .take(entry.key_span.start.col as usize - 1)
        .collect();
    before.trim().is_empty()
}

/// The first of two `env` entries of one name removed: only the last is used, so the
/// container runs as before.
fn first_of_duplicate_env(text: &str, root: &Node, data: &FixData) -> Option<(String, TextEdit)> {
    let item = data.pointer.as_deref()?.strip_suffix("/name")?;
    let (list_pointer, index) = item.rsplit_once('/')?;
    let index: usize = index.parse().ok()?;
    let items = root.pointer(list_pointer)?.as_seq()?;
    let name = items.get(index)?.get("name")?.as_str()?;
    let first = items[..index]
        .iter()
        .position(|i| i.get("name").and_then(Node::as_str) == Some(name))?;
    // `$(NAME)` in an entry between the two expands to the first value: removing it would
    // change that entry.
    let reference = format!("$({name})");
    let refers = |item: &Node| {
        let value = item.get("value").and_then(Node::as_str);
        value.is_some_and(|v| v.contains(&reference))
    };
    if items[first + 1..index].iter().any(refers) {
        return None;
    }
    let (node, next) = (&items[first], items.get(first + 1)?);
    // Whole lines: `- ` alone before the item, the next item on a later line.
    let start = node.span.start;
    let last_line = node.span.last_line();
    let prefix: String = text::line_text(text, start.line - 1)
        .chars()
        .take(start.col as usize - 1)
        .collect();
    let after: String = text::line_text(text, last_line - 1)
        .chars()
        .skip(node.span.end.col as usize - 1)
        .collect();
    let tail = after.trim();
    let whole_lines = prefix.trim() == "-"
        && (node.span.end.col == 1 || tail.is_empty() || tail.starts_with('#'))
        && next.span.start.line > last_line;
    if !whole_lines {
        return None;
    }
    let range = Range::new(
        Position {
            line: start.line - 1,
            character: 0,
        },
        Position {
            line: last_line,
            character: 0,
        },
    );
    let title = format!(
        "Remove the first \"{name}\" (line {}): only the last is used",
        start.line
    );
    Some((
        title,
        TextEdit {
            range,
            new_text: String::new(),
        },
    ))
}

/// `new_text` (whole lines) inserted before line `line` (1-based); after the last line, with
/// a line break first when the text does not end with one.
fn insert_at(text: &str, line: u32, mut new_text: String) -> TextEdit {
    let mut at = Position {
        line: line - 1,
        character: 0,
    };
    if text::line_start(text, line - 1) == text.len() && !text.is_empty() && !text.ends_with('\n') {
        let last = text::line_text(text, line - 2);
        at = Position {
            line: line - 2,
            character: last.chars().map(|c| c.len_utf16() as u32).sum(),
        };
        new_text.insert_str(0, text::line_break(text));
    }
    TextEdit {
        range: Range::new(at, at),
        new_text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::yaml;

    /// The document after the fixes of a finding of `rule` at `pointer` on `line` (1-based).
    fn fixed(text: &str, rule: &str, pointer: &str, line: u32) -> Option<String> {
        let documents = yaml::parse(text).documents;
        let roots: Vec<&Node> = documents.iter().map(|d| &d.root).collect();
        let at = Position {
            line: line - 1,
            character: 0,
        };
        let diagnostic = lsp_types::Diagnostic {
            range: Range::new(at, at),
            data: Some(serde_json::json!({"pointer": pointer})),
            ..Default::default()
        };
        let fixes = quick_fixes(text, &roots, &diagnostic, rule);
        let (_, edit) = fixes.into_iter().next()?;
        let mut out = text.to_owned();
        let (start, end) = (
            text::offset(text, edit.range.start),
            text::offset(text, edit.range.end),
        );
        out.replace_range(start..end, &edit.new_text);
        Some(out)
    }

    const POD: &str = "kind: Pod\nspec:\n  containers:\n    - name: a\n      image: x\n";

    #[test]
    fn a_security_context_field_is_added_or_set() {
        let set = "/spec/containers/0/securityContext/allowPrivilegeEscalation";
        // (text, rule, pointer, line, fixed)
        let cases = [
            (
                POD,
                "run-as-root",
                "/spec/containers/0",
                4,
                "kind: Pod\nspec:\n  containers:\n    - name: a\n      securityContext:\n        runAsNonRoot: true\n      image: x\n",
            ),
            (
                "spec:\n  containers:\n  - name: a\n    securityContext:\n      # why\n      runAsUser: 1\n",
                "writable-root-fs",
                "/spec/containers/0",
                3,
                "spec:\n  containers:\n  - name: a\n    securityContext:\n      # why\n      readOnlyRootFilesystem: true\n      runAsUser: 1\n",
            ),
            (
                "spec:\n  containers:\n  - name: a\n    securityContext: {allowPrivilegeEscalation: true}\n",
                "privilege-escalation",
                set,
                4,
                "spec:\n  containers:\n  - name: a\n    securityContext: {allowPrivilegeEscalation: false}\n",
            ),
            (
                "spec:\n  containers:\n  - name: a\n",
                "run-as-root",
                "/spec/containers/0",
                3,
                "spec:\n  containers:\n  - name: a\n    securityContext:\n      runAsNonRoot: true\n",
            ),
            (
                "spec:\n  containers:\n  - name: a",
                "run-as-root",
                "/spec/containers/0",
                3,
                "spec:\n  containers:\n  - name: a\n    securityContext:\n      runAsNonRoot: true\n",
            ),
        ];
        for (text, rule, pointer, line, expected) in cases {
            assert_eq!(
                fixed(text, rule, pointer, line).unwrap(),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn no_fix_where_the_edit_is_not_exactly_the_one_asked_for() {
        let privileged =
            "spec:\n  containers:\n  - name: a\n    securityContext:\n      privileged: true\n";
        let flow = "spec:\n  containers:\n  - {name: a}\n";
        let set = "spec:\n  containers:\n  - name: a\n    securityContext:\n      runAsNonRoot: true\n      runAsUser: 0\n";
        for (text, rule, line) in [
            (privileged, "privilege-escalation", 3),
            (flow, "run-as-root", 3),
            (set, "run-as-root", 3),
            (POD, "run-as-root", 5), // the finding is not where the pointer says
        ] {
            assert_eq!(
                fixed(text, rule, "/spec/containers/0", line),
                None,
                "{text}"
            );
        }
    }

    #[test]
    fn the_first_of_two_env_entries_is_removed() {
        let text = "spec:\n  containers:\n  - name: a\n    env:\n    - name: A\n      value: \"1\"\n    - name: B\n    - name: A # this one wins\n      value: \"2\"\n";
        assert_eq!(
            fixed(text, "duplicate-env", "/spec/containers/0/env/2/name", 8).unwrap(),
            "spec:\n  containers:\n  - name: a\n    env:\n    - name: B\n    - name: A # this one wins\n      value: \"2\"\n"
        );
        let referred = "spec:\n  containers:\n  - name: a\n    env:\n    - name: H\n      value: db\n    - name: URL\n      value: x://$(H)\n    - name: H\n      value: cache\n";
        assert_eq!(
            fixed(
                referred,
                "duplicate-env",
                "/spec/containers/0/env/2/name",
                9
            ),
            None
        );
        let flow = "spec:\n  containers:\n  - name: a\n    env: [{name: A}, {name: A}]\n";
        assert_eq!(
            fixed(flow, "duplicate-env", "/spec/containers/0/env/1/name", 4),
            None
        );
    }

    #[test]
    fn an_api_version_is_replaced_quoted_as_it_was_only_where_it_is() {
        let text = "apiVersion: \"policy/v1beta1\"\nkind: PodDisruptionBudget\n";
        let root = yaml::first_root(text).unwrap();
        let range = Range::new(Position::new(0, 12), Position::new(0, 28));
        let (title, edit) = new_api_version(text, &root, range, "policy/v1").unwrap();
        assert_eq!(title, "Use apiVersion: policy/v1");
        assert_eq!(edit.new_text, "\"policy/v1\"");
        // A range of older text, an inverted one.
        for stale in [
            Range::new(Position::new(1, 0), Position::new(1, 4)),
            Range::new(Position::new(0, 28), Position::new(0, 12)),
        ] {
            assert_eq!(new_api_version(text, &root, stale, "policy/v1"), None);
        }
    }
}
