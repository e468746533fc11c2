//! Positions, and the span index: any JSON pointer into a document maps to the line/column range
//! of its node, falling back to the nearest parent that exists.

use serde::Serialize;

use super::yaml::{Node, Value};

/// A 1-based line and 1-based column, counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

/// A range of source text; `end` is exclusive (the position just after the last character).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    /// The first character of a file: where what concerns a whole file is reported.
    pub const FIRST_CHAR: Span = Span {
        start: Pos { line: 1, col: 1 },
        end: Pos { line: 1, col: 1 },
    };

    /// The last line the span covers: a block node's span ends at the start of the line
    /// after it, which it does not cover.
    pub fn last_line(&self) -> u32 {
        match self.end.col {
            1 if self.end.line > self.start.line => self.end.line - 1,
            _ => self.end.line,
        }
    }
}

/// Where a pointer landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located {
    pub span: Span,
    /// False when the pointer went past what exists and the span is that of the nearest parent.
    pub exact: bool,
}

/// Escapes one reference token of a JSON pointer (RFC 6901).
pub fn escape_pointer_token(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1").into()
    } else {
        token.into()
    }
}

fn unescape_pointer_token(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains('~') {
        token.replace("~1", "/").replace("~0", "~").into()
    } else {
        token.into()
    }
}

impl Node {
    /// The node at `pointer` (`""` is the node itself), if it exists.
    pub fn pointer(&self, pointer: &str) -> Option<&Node> {
        let (node, exact) = self.walk(pointer);
        exact.then_some(node)
    }

    /// The span of the node at `pointer`, or of its nearest existing parent.
    pub fn locate(&self, pointer: &str) -> Located {
        let (node, exact) = self.walk(pointer);
        Located {
            span: node.span,
            exact,
        }
    }

    /// Where a finding at `pointer` goes: on the key that holds the value when `at_key`, else
    /// on the value.
    pub fn locate_at(&self, pointer: &str, at_key: bool) -> Located {
        if at_key {
            self.locate_key(pointer)
        } else {
            self.locate(pointer)
        }
    }

    /// The span of the key that holds the value at `pointer` (the value's span for list items).
    pub fn locate_key(&self, pointer: &str) -> Located {
        let Some((parent, last)) = pointer.rsplit_once('/') else {
            return self.locate(pointer);
        };
        let (node, exact) = self.walk(parent);
        let last = unescape_pointer_token(last);
        match (&node.value, exact) {
            (Value::Map(entries), true) => match entries.iter().find(|e| e.key == last) {
                Some(e) => Located {
                    span: e.key_span,
                    exact: true,
                },
                None => Located {
                    span: node.span,
                    exact: false,
                },
            },
            _ => self.locate(pointer),
        }
    }

    fn walk(&self, pointer: &str) -> (&Node, bool) {
        let mut node = self;
        if pointer.is_empty() {
            return (node, true);
        }
        let Some(rest) = pointer.strip_prefix('/') else {
            return (node, false);
        };
        for token in rest.split('/') {
            let token = unescape_pointer_token(token);
            let next = match &node.value {
                Value::Map(entries) => entries.iter().find(|e| e.key == token).map(|e| &e.value),
                Value::Seq(items) => token.parse::<usize>().ok().and_then(|i| items.get(i)),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => return (node, false),
            }
        }
        (node, true)
    }
}

/// Where a part of a string scalar is written: the `occurrence`-th (from 0) appearance of
/// `part`, a text without line breaks, on the lines of the scalar at `span` in `text`. The lines
/// of a literal or folded block scalar are its source lines less their indentation, and those
/// of a plain or quoted one are its source text: chomping, folding and indentation change only
/// what is between lines, so a part on one line is found as written. `None` when it is not
/// there as written (an escape in a quoted scalar).
pub fn part_of_scalar(text: &str, span: Span, part: &str, occurrence: usize) -> Option<Span> {
    if part.is_empty() || part.contains('\n') {
        return None;
    }
    let mut left = occurrence;
    let lines = text.split('\n').enumerate();
    let lines = lines
        .skip(span.start.line as usize - 1)
        .take((span.end.line - span.start.line) as usize + 1);
    for (i, line) in lines {
        let number = i as u32 + 1;
        // Within the scalar: from its start on its first line, to its end on its last.
        let from = if number == span.start.line {
            byte_of_col(line, span.start.col)
        } else {
            0
        };
        let to = if number == span.end.line {
            byte_of_col(line, span.end.col)
        } else {
            line.len()
        };
        for (at, _) in line.get(from..to.max(from))?.match_indices(part) {
            if left > 0 {
                left -= 1;
                continue;
            }
            let col = line[..from + at].chars().count() as u32 + 1;
            let start = Pos { line: number, col };
            let end = Pos {
                line: number,
                col: col + part.chars().count() as u32,
            };
            return Some(Span { start, end });
        }
    }
    None
}

/// Byte offset in `line` of 1-based character column `col` (the line's end past it).
fn byte_of_col(line: &str, col: u32) -> usize {
    line.char_indices()
        .nth(col as usize - 1)
        .map_or(line.len(), |(i, _)| i)
}

/// Line starts of a text, to turn line/column positions into byte offsets for rendering.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// Byte offset of a position; clamped to the text.
    pub fn offset(&self, text: &str, pos: Pos) -> usize {
        let line = (pos.line.max(1) as usize - 1).min(self.starts.len() - 1);
        let start = self.starts[line];
        let end = self.starts.get(line + 1).copied().unwrap_or(text.len());
        let line_text = &text[start..end];
        let col = pos.col.max(1) as usize - 1;
        start
            + line_text
                .char_indices()
                .nth(col)
                .map_or(line_text.len(), |(i, _)| i)
    }

    /// 0-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset) - 1
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.starts[line.min(self.starts.len() - 1)]
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::yaml::parse;

    /// `(line, col, end_line, end_col)` of the node at `pointer` in document `doc`.
    fn at(text: &str, doc: usize, pointer: &str) -> (u32, u32, u32, u32) {
        let parsed = parse(text);
        assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
        let located = parsed.documents[doc].root.locate(pointer);
        assert!(located.exact, "{pointer} not found");
        let s = located.span;
        (s.start.line, s.start.col, s.end.line, s.end.col)
    }

    #[test]
    fn plain_and_quoted_scalars() {
        let text = "a:\n  b: hello\n  c: \"quoted\"\n  d: 'single'\n";
        assert_eq!(at(text, 0, "/a/b"), (2, 6, 2, 11));
        assert_eq!(at(text, 0, "/a/c"), (3, 6, 3, 14));
        assert_eq!(at(text, 0, "/a/d"), (4, 6, 4, 14));
    }

    #[test]
    fn sequences_and_their_items() {
        let text = "spec:\n  volumes:\n    - name: a\n    - name: b\n      emptyDir: {}\n";
        assert_eq!(at(text, 0, "/spec/volumes/1/name"), (4, 13, 4, 14));
        // A mapping item spans from its first key to the end of its last value.
        assert_eq!(at(text, 0, "/spec/volumes/1"), (4, 7, 5, 19));
    }

    #[test]
    fn block_scalars_start_at_their_content() {
        let text = "data:\n  script: |\n    #!/bin/sh\n    echo hi\n  other: x\n";
        let (line, col, ..) = at(text, 0, "/data/script");
        assert_eq!((line, col), (3, 5));
        assert_eq!(at(text, 0, "/data/other"), (5, 10, 5, 11));
    }

    /// `(line, col, end_line, end_col)` of a part of the string at `pointer`.
    fn part_at(
        text: &str,
        pointer: &str,
        part: &str,
        occurrence: usize,
    ) -> Option<(u32, u32, u32, u32)> {
        let root = &parse(text).documents[0].root;
        let span = root.locate(pointer).span;
        let s = part_of_scalar(text, span, part, occurrence)?;
        Some((s.start.line, s.start.col, s.end.line, s.end.col))
    }

    #[test]
    fn parts_of_block_scalars_are_found_on_their_lines() {
        let literal = "data:\n  app.env: |\n    # settings\n    USER=admin\n\n    PASSWORD=admin\n  next: x\n";
        assert_eq!(
            part_at(literal, "/data/app.env", "PASSWORD=admin", 0),
            Some((6, 5, 6, 19))
        );
        // The second "admin" of the value is on line 6.
        assert_eq!(
            part_at(literal, "/data/app.env", "admin", 1),
            Some((6, 14, 6, 19))
        );
        assert_eq!(part_at(literal, "/data/app.env", "admin", 2), None);
        // Folded, kept (`+`) and indented by an indicator: the same lines.
        let folded = "a: >+2\n    x\n   pass: secret\n\nb: 1\n";
        assert_eq!(
            part_at(folded, "/a", "pass: secret", 0),
            Some((3, 4, 3, 16))
        );
        // Plain and quoted scalars on one line; an escape is not found as written.
        assert_eq!(
            part_at("k: token=abc\n", "/k", "abc", 0),
            Some((1, 10, 1, 13))
        );
        assert_eq!(part_at("k: \"a\\tb\"\n", "/k", "a\tb", 0), None);
        // Nothing outside the scalar: not the key, not the next value.
        assert_eq!(part_at(literal, "/data/app.env", "next", 0), None);
        assert_eq!(part_at(literal, "/data/app.env", "app.env", 0), None);
    }

    #[test]
    fn flow_mappings_and_sequences() {
        let text = "m: {name: web, ports: [80, 443]}\n";
        assert_eq!(at(text, 0, "/m/name"), (1, 11, 1, 14));
        assert_eq!(at(text, 0, "/m/ports/1"), (1, 28, 1, 31));
        assert_eq!(at(text, 0, "/m"), (1, 4, 1, 33));
    }

    #[test]
    fn aliases_point_at_the_alias_and_merges_at_the_anchor() {
        let text = "base: &b\n  x: 1\ncopy: *b\nmerged:\n  <<: *b\n  y: 2\n";
        assert_eq!(at(text, 0, "/copy"), (3, 7, 3, 9));
        // Inside an alias, positions are those of the anchored original.
        assert_eq!(at(text, 0, "/copy/x"), (2, 6, 2, 7));
        assert_eq!(at(text, 0, "/merged/x"), (2, 6, 2, 7));
        assert_eq!(at(text, 0, "/merged/y"), (6, 6, 6, 7));
    }

    #[test]
    fn multi_document_offsets() {
        let text = "a: 1\n---\nb: 2\n---\n# comment\n\nc:\n  d: 3\n";
        assert_eq!(at(text, 0, "/a"), (1, 4, 1, 5));
        assert_eq!(at(text, 1, "/b"), (3, 4, 3, 5));
        assert_eq!(at(text, 2, "/c/d"), (8, 6, 8, 7));
    }

    #[test]
    fn crlf_line_endings() {
        let text = "a: 1\r\nb:\r\n  c: two\r\n---\r\nd: 4\r\n";
        assert_eq!(at(text, 0, "/b/c"), (3, 6, 3, 9));
        assert_eq!(at(text, 1, "/d"), (5, 4, 5, 5));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "é: ü\nx: y\n";
        assert_eq!(at(text, 0, "/é"), (1, 4, 1, 5));
    }

    #[test]
    fn missing_pointers_fall_back_to_the_nearest_parent() {
        let parsed = parse("spec:\n  template:\n    x: 1\n");
        let located = parsed.documents[0]
            .root
            .locate("/spec/template/spec/containers/0");
        assert!(!located.exact);
        assert_eq!(located.span.start.line, 3);
    }

    #[test]
    fn key_spans_and_escaped_tokens() {
        let parsed = parse("metadata:\n  labels:\n    app.kubernetes.io/name: web\n    a~b: c\n");
        let root = &parsed.documents[0].root;
        let key = root.locate_key("/metadata/labels/app.kubernetes.io~1name");
        assert!(key.exact);
        assert_eq!((key.span.start.line, key.span.start.col), (3, 5));
        assert!(root.locate("/metadata/labels/a~0b").exact);
    }

    #[test]
    fn line_index_maps_positions_to_bytes() {
        let text = "ab\néx: y\n";
        let index = LineIndex::new(text);
        assert_eq!(index.offset(text, Pos { line: 2, col: 2 }), 5);
        assert_eq!(index.line_of(5), 1);
    }
}
