//! `--format human`: miette's graphical report, one per diagnostic, with a source snippet.
//!
//! Each file gets one [`IndexedSource`] with a line index, so a snippet costs a binary search
//! rather than a scan from the start of the file (a plain miette `NamedSource` rescans per
//! diagnostic, which is quadratic on big rendered charts).

use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, Severity,
    SourceCode, SourceSpan, SpanContents,
};

use super::{RenderOptions, summary_line};
use crate::diag::{Diagnostic, Level, Report};
use crate::load::spans::{LineIndex, Pos};

pub fn render(report: &Report, opts: &RenderOptions, out: &mut dyn Write) -> io::Result<()> {
    let theme = if opts.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(opts.width)
        .with_context_lines(1)
        .with_links(false)
        .with_break_words(false)
        .with_word_separator(WORD_SEPARATOR)
        .with_word_splitter(word_splitter());
    let mut current: Option<(&str, Option<IndexedSource>)> = None;
    let mut template: Option<(&str, &str)> = None;
    for d in &report.diagnostics {
        // Where a file's findings were rendered from, once for the file (not for the
        // template itself: its findings are where they are written).
        if let Some(name) = d.source_template.as_deref()
            && template != Some((d.file.as_str(), name))
            && !d.file.ends_with(name)
        {
            writeln!(
                out,
                "── {}: rendered from the Helm template {name}\n",
                d.file
            )?;
            template = Some((d.file.as_str(), name));
        }
        if current.as_ref().is_none_or(|(file, _)| *file != d.file) {
            let source = report
                .sources
                .get(&d.file)
                .map(|text| IndexedSource::new(d.file.clone(), text.clone()));
            current = Some((&d.file, source));
        }
        let source = current
            .as_ref()
            .and_then(|(_, s)| s.as_ref())
            .filter(|s| (d.line.saturating_sub(1)..=d.end_line + 1).all(|l| s.line_fits(l)));
        let shown = Shown::new(d, source);
        let mut text = String::new();
        handler
            .render_report(&mut text, &shown)
            .map_err(|_| io::Error::other("could not render a diagnostic"))?;
        out.write_all(text.as_bytes())?;
        writeln!(out)?;
    }
    if !report.diagnostics.is_empty() {
        super::tables::by_rule(report, out)?;
        writeln!(out)?;
        super::tables::by_file(report, out)?;
        writeln!(out)?;
    }
    writeln!(out, "{}", summary_line(report))
}

/// Messages and help are wrapped at spaces only, never inside a word (`break_words(false)`):
/// a file path or URL (`charts/redis-ha-statefulset.yaml`, which textwrap would split at its
/// hyphens or slashes) stays whole, to be copied and pasted, even past the width.
const WORD_SEPARATOR: textwrap::WordSeparator = textwrap::WordSeparator::AsciiSpace;

/// See [`WORD_SEPARATOR`].
fn word_splitter() -> textwrap::WordSplitter {
    textwrap::WordSplitter::NoHyphenation
}

/// Makes miette print errors (a config that does not parse, a policy that does not compile)
/// wrapped as diagnostics are: never inside a path or URL.
pub fn wrap_errors_as_diagnostics() {
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .break_words(false)
                .word_separator(WORD_SEPARATOR)
                .word_splitter(word_splitter())
                .build(),
        )
    }));
}

/// Longest line, in bytes, shown in a snippet.
const MAX_SNIPPET_LINE: usize = 4096;

/// A file's text with its line index.
struct IndexedSource {
    name: String,
    text: Arc<str>,
    index: LineIndex,
}

impl IndexedSource {
    fn new(name: String, text: Arc<str>) -> Self {
        let index = LineIndex::new(&text);
        IndexedSource { name, text, index }
    }

    /// Whether a line is short enough to show: minified one-line manifests are not snippets
    /// (and miette cannot draw columns past 65,535).
    fn line_fits(&self, line: u32) -> bool {
        let line = (line.max(1) - 1) as usize;
        if line >= self.index.line_count() {
            return true;
        }
        let start = self.index.line_start(line);
        let end = if line + 1 < self.index.line_count() {
            self.index.line_start(line + 1)
        } else {
            self.text.len()
        };
        end - start <= MAX_SNIPPET_LINE
    }

    fn offset(&self, pos: Pos) -> usize {
        self.index.offset(&self.text, pos)
    }
}

impl SourceCode for IndexedSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text = self.text.as_bytes();
        let start = span.offset();
        let end = start + span.len();
        if end > text.len() {
            return Err(MietteError::OutOfBounds);
        }
        let first_line = self.index.line_of(start);
        let last_line = self.index.line_of(end.saturating_sub(1).max(start));
        let (data_start, data_end, line, column) =
            if context_lines_before == 0 && context_lines_after == 0 {
                let line_start = self.index.line_start(first_line);
                let column = self.text[line_start..start].chars().count();
                (start, end, first_line, column)
            } else {
                let from = first_line.saturating_sub(context_lines_before);
                let to = (last_line + context_lines_after).min(self.index.line_count() - 1);
                let data_end = if to + 1 < self.index.line_count() {
                    self.index.line_start(to + 1)
                } else {
                    text.len()
                };
                (self.index.line_start(from), data_end, from, 0)
            };
        let line_count = self
            .index
            .line_of(data_end.saturating_sub(1).max(data_start))
            - line
            + 1;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            &text[data_start..data_end],
            (data_start, data_end - data_start).into(),
            line,
            column,
            line_count,
        )))
    }
}

/// One diagnostic as miette sees it.
struct Shown<'a> {
    d: &'a Diagnostic,
    source: Option<&'a IndexedSource>,
    span: Option<SourceSpan>,
    help: Option<String>,
}

impl<'a> Shown<'a> {
    fn new(d: &'a Diagnostic, source: Option<&'a IndexedSource>) -> Self {
        let span = source.map(|s| {
            let start = s.offset(Pos {
                line: d.line,
                col: d.column,
            });
            let end = s.offset(Pos {
                line: d.end_line,
                col: d.end_column,
            });
            // Multi-line values would underline whole blocks: mark the first line only.
            let first_line_end = s.text[start..]
                .find(['\n', '\r'])
                .map_or(s.text.len(), |i| start + i);
            let end = end.clamp(start, first_line_end);
            SourceSpan::from((
                start,
                end.max(start + usize::from(start < first_line_end)) - start,
            ))
        });
        let help = d.help.clone();
        Shown {
            d,
            source,
            span,
            help,
        }
    }
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.d, f)
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.d.rule, self.d.message)?;
        if self.source.is_none() {
            write!(f, " ({}:{}:{})", self.d.file, self.d.line, self.d.column)?;
        }
        Ok(())
    }
}

impl std::error::Error for Shown<'_> {}

impl miette::Diagnostic for Shown<'_> {
    fn severity(&self) -> Option<Severity> {
        Some(match self.d.level {
            Level::Error => Severity::Error,
            Level::Warning => Severity::Warning,
            Level::Info => Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        let label = self.d.object.as_ref().map(|o| o.to_string());
        Some(Box::new(std::iter::once(
            LabeledSpan::new_primary_with_span(label, span),
        )))
    }
}
