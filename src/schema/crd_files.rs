//! The CRD files of `--crds`, read only as far as the kinds and versions they define: a CRD
//! is mostly its `openAPIV3Schema` (35 MB of them in a GitOps stack's CRDs, most never used by
//! the input), so the index is parsed from a skeleton of the file with the schemas blanked out,
//! and a version's schema is read from the file again when an object of it is met.

use std::path::Path;

use serde_json::Value;

use crate::load::{self, yaml};

const KEY: &str = "openAPIV3Schema:";

/// The text with the body of every block-style `openAPIV3Schema:` mapping blanked out and `{}`
/// in its place; every line keeps its number, so an object's line in the skeleton is its line
/// in the text. `None` when there is no such body.
///
/// A body is the lines after the key indented more than it (and blank or comment lines among
/// them), as YAML's block structure has it; it is blanked only when it starts as a plain
/// mapping key. Anything else (flow style, an anchor, a list, a key with a comment) is left as
/// written. Whatever the skeleton loses that the rest of the file refers to (an alias of an
/// anchor in a schema) makes it fail to parse, and the caller then parses the text.
pub fn skeleton(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let line_end =
        |from: usize| memchr::memchr(b'\n', &bytes[from..]).map_or(text.len(), |i| from + i + 1);
    let mut out = String::new();
    // Written to `out` up to here; the key is searched for from `search` on.
    let mut copied = 0;
    let mut search = 0;
    while let Some(found) = memchr::memmem::find(&bytes[search..], KEY.as_bytes()) {
        let at = search + found;
        let key_end = line_end(at);
        search = key_end;
        let line_start = memchr::memrchr(b'\n', &bytes[..at]).map_or(0, |i| i + 1);
        let Some(indent) = schema_key_indent(&text[line_start..key_end]) else {
            continue;
        };
        let Some(body_end) = block_body_end(text, key_end, indent) else {
            continue;
        };
        let key_line = &text[line_start..key_end];
        out.push_str(&text[copied..line_start]);
        out.push_str(&key_line[..indent]);
        out.push_str(KEY);
        out.push_str(" {}");
        out.push_str(line_ending(key_line));
        for newline in memchr::memchr_iter(b'\n', &bytes[key_end..body_end]) {
            let crlf = newline > 0 && bytes[key_end + newline - 1] == b'\r';
            out.push_str(if crlf { "\r\n" } else { "\n" });
        }
        copied = body_end;
        search = body_end;
    }
    (copied > 0).then(|| {
        out.push_str(&text[copied..]);
        out
    })
}

/// Where the body of a key at `indent` whose line ends at `key_end` ends: after the lines
/// indented more than the key (and blank or comment lines among them). `None` unless the body
/// starts as a plain mapping key: a block mapping.
fn block_body_end(text: &str, key_end: usize, indent: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut body_end = key_end;
    let mut first = None;
    while body_end < text.len() {
        let next =
            memchr::memchr(b'\n', &bytes[body_end..]).map_or(text.len(), |i| body_end + i + 1);
        let line = &text[body_end..next];
        // Only the first `indent + 1` bytes of most lines need a look.
        let deeper =
            line.as_bytes().iter().take(indent + 1).all(|&b| b == b' ') && line.len() > indent + 1;
        if deeper {
            if first.is_none() && !is_blank_or_comment(line) {
                first = Some(line);
            }
        } else if !is_blank_or_comment(line) {
            break;
        }
        body_end = next;
    }
    first
        .is_some_and(|line| is_plain_key(line.trim()))
        .then_some(body_end)
}

/// The body of the `openAPIV3Schema:` key on line `key_line` (1-based) of `text`, as the
/// skeleton blanked it: its lines, indented as written. `None` when that line is not such a
/// key with a block mapping body.
fn schema_block(text: &str, key_line: u32) -> Option<&str> {
    let bytes = text.as_bytes();
    let line_start = match key_line.checked_sub(2) {
        None if key_line == 1 => 0,
        None => return None,
        Some(newlines) => memchr::memchr_iter(b'\n', bytes).nth(newlines as usize)? + 1,
    };
    let key_end =
        memchr::memchr(b'\n', &bytes[line_start..]).map_or(text.len(), |i| line_start + i + 1);
    let indent = schema_key_indent(&text[line_start..key_end])?;
    let body_end = block_body_end(text, key_end, indent)?;
    Some(&text[key_end..body_end])
}

/// The indentation of a line that is `openAPIV3Schema:` alone (spaces before, nothing after).
fn schema_key_indent(line: &str) -> Option<usize> {
    let content = line.trim_end_matches(['\n', '\r']);
    let key = content.trim_start_matches(' ');
    (key.trim_end_matches([' ', '\t']) == KEY).then(|| content.len() - key.len())
}

fn is_blank_or_comment(line: &str) -> bool {
    let content = line.trim_start_matches([' ', '\t']);
    content.trim_end_matches(['\n', '\r']).is_empty() || content.starts_with('#')
}

/// `key: value` or `key:` with a plain key: what a block mapping starts with.
fn is_plain_key(content: &str) -> bool {
    let content = content.trim_end();
    let plain_start = content
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    plain_start && (content.ends_with(':') || content.contains(": "))
}

fn line_ending(line: &str) -> &'static str {
    if line.ends_with("\r\n") {
        "\r\n"
    } else if line.ends_with('\n') {
        "\n"
    } else {
        ""
    }
}

/// Where the index found a CRD version: the CRD starts on `line` of the file at `path`, the
/// version's `openAPIV3Schema` key on `schema_line`.
pub struct SchemaAt<'a> {
    pub path: &'a Path,
    pub line: u32,
    pub schema_line: Option<u32>,
}

/// The schema of `api_version`/`kind` from the CRD where the skeleton indexed it: the file is
/// read again and the version's `openAPIV3Schema` block alone parsed (a CRD of many versions
/// holds a schema for each), or the CRD's document when the block does not parse alone (an
/// alias of an anchor outside it).
pub fn read_schema(
    at: SchemaAt,
    api_version: &str,
    kind: &str,
    meta_ref: &str,
) -> Result<Value, String> {
    let SchemaAt {
        path,
        line,
        schema_line,
    } = at;
    let at = || format!("{}:{line}", path.display());
    let text = load::read_file_text(path).map_err(|e| format!("{}: {e}", at()))?;
    if let Some(block) = schema_line.and_then(|l| schema_block(&text, l)) {
        let parsed = yaml::parse(block);
        let clean = !parsed
            .issues
            .iter()
            .any(|issue| matches!(issue.kind, yaml::IssueKind::Syntax | yaml::IssueKind::Limit));
        if let (true, Some(document)) = (clean, parsed.documents.first())
            && document.root.as_map().is_some()
        {
            return Ok(super::crd::root_schema(&document.root, meta_ref));
        }
    }
    let document = yaml::document_at(&text, line).unwrap_or_default();
    let loaded = load::load_text(document);
    let wanted = |a: &str, k: &str| a == api_version && k == kind;
    let found = loaded
        .objects
        .iter()
        .flat_map(|o| super::crd::schemas_of(o, meta_ref, wanted))
        .find(|crd| crd.not_served.is_none());
    match (found, loaded.yaml_issues.first()) {
        (Some(crd), _) => Ok(crd.schema),
        (None, Some(issue)) => Err(format!("{}: {}", at(), issue.message)),
        (None, None) => Err(format!(
            "{}: the file changed; it no longer defines {api_version} {kind}",
            at()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRD: &str = "\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
spec:
  group: example.com
  names: {kind: Widget}
  versions:
    - name: v1
      schema:
        openAPIV3Schema:
          type: object
          # a comment
          description: |
            openAPIV3Schema:
              not: a key

          properties:
            spec: {type: object}
      served: true
";

    #[test]
    fn schemas_are_blanked_and_lines_keep_their_numbers() {
        let skeleton = skeleton(CRD).unwrap();
        assert_eq!(skeleton.lines().count(), CRD.lines().count());
        assert_eq!(skeleton.lines().nth(8), Some("        openAPIV3Schema: {}"));
        assert!(skeleton.lines().skip(9).take(8).all(str::is_empty));
        assert_eq!(skeleton.lines().nth(17), Some("      served: true"));
        let parsed = yaml::parse(&skeleton);
        assert!(parsed.issues.is_empty());
    }

    #[test]
    fn anything_but_a_block_mapping_is_left_as_written() {
        for text in [
            "schema:\n  openAPIV3Schema: {type: object}\n",
            "schema:\n  openAPIV3Schema: &s\n    type: object\n",
            "schema:\n  openAPIV3Schema:\n  - a\n",
            "schema:\n  openAPIV3Schema:\n    - a\n",
            "schema:\n  openAPIV3Schema: # why\n    type: object\n",
            "schema:\n  openAPIV3Schema:\n    \"type\": object\n",
            "schema:\n  openAPIV3Schema:\n  type: object\n",
            "schema:\n  openAPIV3Schema:\n",
        ] {
            assert_eq!(skeleton(text), None, "{text}");
        }
    }

    #[test]
    fn a_body_ends_at_the_first_line_indented_no_more_than_its_key() {
        let text = "a:\n  openAPIV3Schema:\n    type: object\n\n  # note\n  b: 1\n---\nc: 2\n";
        assert_eq!(
            skeleton(text).unwrap(),
            "a:\n  openAPIV3Schema: {}\n\n\n\n  b: 1\n---\nc: 2\n"
        );
        let crlf = "a:\r\n  openAPIV3Schema:\r\n    type: object\r\nb: 1\r\n";
        assert_eq!(
            skeleton(crlf).unwrap(),
            "a:\r\n  openAPIV3Schema: {}\r\n\r\nb: 1\r\n"
        );
    }

    proptest::proptest! {
        /// Any text: lines keep their number, and each is as written, blank, or the key
        /// with `{}`; never a panic.
        #[test]
        fn any_text_keeps_its_lines(
            text in "(( {0,6}|\t|- )(openAPIV3Schema:|[a-zé]{1,3}: [a-z#]*|# x|---|\\.\\.\\.|\"k\": 1|)(\r)?\n){0,24}",
        ) {
            if let Some(skeleton) = skeleton(&text) {
                let (before, after): (Vec<&str>, Vec<&str>) =
                    (text.split('\n').collect(), skeleton.split('\n').collect());
                proptest::prop_assert_eq!(before.len(), after.len());
                for (was, is) in before.iter().zip(&after) {
                    let (was, is) = (was.trim_end_matches('\r'), is.trim_end_matches('\r'));
                    proptest::prop_assert!(
                        was == is || is.is_empty() || is.ends_with("openAPIV3Schema: {}"),
                        "{was:?} became {is:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_schema_is_read_again_from_its_document() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crds.yaml");
        let other = CRD
            .replace("Widget", "Gadget")
            .replace("spec: {", "size: {");
        std::fs::write(&path, format!("{other}---\n{CRD}")).unwrap();
        let line = other.lines().count() as u32 + 2;
        let at = |schema_line| SchemaAt {
            path: &path,
            line,
            schema_line,
        };
        // The block on line 9 of the CRD alone; the document when no line is known.
        for schema_line in [Some(line + 8), None] {
            let schema = read_schema(at(schema_line), "example.com/v1", "Widget", "#meta").unwrap();
            assert_eq!(
                schema["properties"]["spec"]["type"],
                serde_json::json!(["object", "null"])
            );
            assert!(schema["properties"].get("size").is_none());
            assert_eq!(schema["properties"]["metadata"]["$ref"], "#meta");
        }
        let error = read_schema(at(None), "example.com/v1", "Gadget", "#meta").unwrap_err();
        assert!(
            error.ends_with("no longer defines example.com/v1 Gadget"),
            "{error}"
        );
    }

    #[test]
    fn a_block_is_found_only_on_its_key_line() {
        let text = "spec:\n  versions:\n  - schema:\n      openAPIV3Schema:\n        type: object\n\n        # x\n        properties: {}\n    served: true\n";
        assert_eq!(
            schema_block(text, 4),
            Some("        type: object\n\n        # x\n        properties: {}\n")
        );
        for line in [0, 1, 3, 5, 99] {
            assert_eq!(schema_block(text, line), None, "line {line}");
        }
        assert_eq!(schema_block("openAPIV3Schema:\n  a: 1", 1), Some("  a: 1"));
        assert_eq!(schema_block("openAPIV3Schema: {a: 1}\n", 1), None);
    }

    /// A block that does not parse alone (an alias of an anchor outside it) is read with its
    /// document, as written.
    #[test]
    fn a_block_that_needs_its_document_is_read_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("crd.yaml");
        let crd = CRD
            .replace(
                "    - name: v1\n",
                "    - name: v1\n      x: &spec {type: object}\n",
            )
            .replace("spec: {type: object}", "spec: *spec");
        std::fs::write(&path, &crd).unwrap();
        let at = SchemaAt {
            path: &path,
            line: 1,
            schema_line: Some(10),
        };
        assert_eq!(crd.lines().nth(9), Some("        openAPIV3Schema:"));
        let schema = read_schema(at, "example.com/v1", "Widget", "#meta").unwrap();
        assert_eq!(
            schema["properties"]["spec"]["type"],
            serde_json::json!(["object", "null"])
        );
    }
}
