//! Positions in a document's text: the editor counts UTF-16 code units from 0 (LSP's
//! default encoding), kvet counts characters from 1.

use lsp_types::{Position, Range, TextDocumentContentChangeEvent};

/// Byte offset where line `line` (0-based) starts; the end of the text past the last line.
pub fn line_start(text: &str, line: u32) -> usize {
    if line == 0 {
        return 0;
    }
    memchr::memchr_iter(b'\n', text.as_bytes())
        .nth(line as usize - 1)
        .map_or(text.len(), |i| i + 1)
}

/// The text of line `line` (0-based), without its line break.
pub fn line_text(text: &str, line: u32) -> &str {
    let start = line_start(text, line);
    let rest = &text[start..];
    let end = memchr::memchr(b'\n', rest.as_bytes()).unwrap_or(rest.len());
    rest[..end].trim_end_matches('\r')
}

/// The byte offset of an editor position; a position past the end of its line or of the
/// text is the end of it.
pub fn offset(text: &str, position: Position) -> usize {
    let start = line_start(text, position.line);
    let line = &text[start..];
    let line_end = memchr::memchr(b'\n', line.as_bytes()).unwrap_or(line.len());
    let mut units = 0;
    for (i, c) in line[..line_end].char_indices() {
        if units >= position.character {
            return start + i;
        }
        units += c.len_utf16() as u32;
    }
    start + line_end
}

/// The editor position of kvet's 1-based line and character column.
pub fn position(text: &str, line: u32, column: u32) -> Position {
    let line = line.saturating_sub(1);
    position_in(line_text(text, line), line, column)
}

/// The position of 1-based `column` of the 0-based `line`, whose text is `written`.
fn position_in(written: &str, line: u32, column: u32) -> Position {
    let character = written
        .chars()
        .take(column.saturating_sub(1) as usize)
        .map(|c| c.len_utf16() as u32)
        .sum();
    Position { line, character }
}

/// The editor range of kvet's span (an empty or inverted end is the start).
pub fn range(text: &str, (line, column): (u32, u32), (end_line, end_column): (u32, u32)) -> Range {
    ordered(
        position(text, line, column),
        position(text, end_line, end_column),
    )
}

fn ordered(start: Position, end: Position) -> Range {
    Range {
        start,
        end: if end < start { start } else { end },
    }
}

/// The editor range of a span of kvet's YAML tree.
pub fn span_range(text: &str, span: crate::load::spans::Span) -> Range {
    Lines::new(text).span_range(span)
}

/// A text with where its lines start: the ranges of many findings in one text, without
/// reading it from its start for each.
pub struct Lines<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    pub fn new(text: &'a str) -> Lines<'a> {
        let breaks = memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1);
        Lines {
            text,
            starts: std::iter::once(0).chain(breaks).collect(),
        }
    }

    /// The text of line `line` (0-based), without its line break; empty past the end.
    fn line(&self, line: u32) -> &'a str {
        let Some(&start) = self.starts.get(line as usize) else {
            return "";
        };
        let end = self
            .starts
            .get(line as usize + 1)
            .map_or(self.text.len(), |next| next - 1);
        self.text[start..end].trim_end_matches('\r')
    }

    /// [`position`], for this text.
    pub fn position(&self, line: u32, column: u32) -> Position {
        let line = line.saturating_sub(1);
        position_in(self.line(line), line, column)
    }

    /// [`range`], for this text.
    pub fn range(&self, (line, column): (u32, u32), (end_line, end_column): (u32, u32)) -> Range {
        ordered(
            self.position(line, column),
            self.position(end_line, end_column),
        )
    }

    /// [`span_range`], for this text.
    pub fn span_range(&self, span: crate::load::spans::Span) -> Range {
        self.range(
            (span.start.line, span.start.col),
            (span.end.line, span.end.col),
        )
    }
}

/// The text after the client's changes, applied in order (a change without a range replaces
/// the whole text).
pub fn apply(text: &mut String, changes: Vec<TextDocumentContentChangeEvent>) {
    for change in changes {
        match change.range {
            None => *text = change.text,
            Some(range) => {
                let start = offset(text, range.start);
                let end = offset(text, range.end).max(start);
                text.replace_range(start..end, &change.text);
            }
        }
    }
}

/// The line break the text uses: `\r\n` when its first line ends so.
pub fn line_break(text: &str) -> &'static str {
    match memchr::memchr(b'\n', text.as_bytes()) {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn positions_count_utf16_units_and_clamp() {
        let text = "a: é😀x\nb: 1\n";
        assert_eq!(offset(text, at(0, 0)), 0);
        assert_eq!(offset(text, at(0, 4)), 5); // after é (2 bytes, 1 unit)
        assert_eq!(offset(text, at(0, 6)), 9); // after 😀 (4 bytes, 2 units)
        assert_eq!(offset(text, at(0, 99)), 10);
        assert_eq!(offset(text, at(1, 1)), 12);
        assert_eq!(offset(text, at(9, 0)), text.len());
        assert_eq!(position(text, 1, 6), at(0, 6)); // kvet's column 6 is after 😀
        assert_eq!(position(text, 2, 1), at(1, 0));
        assert_eq!(position(text, 9, 3), at(8, 0));
        let lines = Lines::new("a: é😀x\r\nb: 1\n");
        assert_eq!(lines.position(1, 6), at(0, 6));
        assert_eq!(lines.position(1, 99), at(0, 7));
        assert_eq!(lines.position(2, 3), at(1, 2));
        assert_eq!(lines.position(3, 3), at(2, 0));
        assert_eq!(lines.position(9, 3), at(8, 0));
    }

    #[test]
    fn changes_apply_in_order() {
        let mut text = "kind: Pod\nname: a\n".to_owned();
        let change = |range: Option<Range>, text: &str| TextDocumentContentChangeEvent {
            range,
            range_length: None,
            text: text.to_owned(),
        };
        apply(
            &mut text,
            vec![
                change(Some(Range::new(at(1, 6), at(1, 7))), "bé"),
                change(Some(Range::new(at(1, 8), at(1, 8))), "!"),
                change(Some(Range::new(at(0, 0), at(0, 0))), "# x\n"),
            ],
        );
        assert_eq!(text, "# x\nkind: Pod\nname: bé!\n");
        apply(&mut text, vec![change(None, "all new")]);
        assert_eq!(text, "all new");
    }
}
