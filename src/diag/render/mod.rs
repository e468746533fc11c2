//! Renderers: each turns a [`Report`] into text. Nothing else in kvet prints.

mod compact;
mod github;
mod human;
mod json;
mod junit;
mod sarif;
mod tables;

use std::io::{self, Write};

pub use human::wrap_errors_as_diagnostics;

use super::Report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Source snippets with the offending field underlined (miette).
    Human,
    /// The stable JSON document (version 1); the editor interface.
    Json,
    /// One line per diagnostic: `file:line:col: level[rule] message`.
    Compact,
    /// GitHub Actions workflow commands: annotations on the pull request's lines.
    Github,
    /// SARIF 2.1.0, for GitHub code scanning and other dashboards.
    Sarif,
    /// JUnit XML: a test suite per file, a test case per object.
    Junit,
    /// `--statistics`: findings per rule, and the summary line.
    #[value(skip)]
    Statistics,
}

pub struct RenderOptions {
    pub color: bool,
    pub width: usize,
}

pub fn render(
    report: &Report,
    format: Format,
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Human => human::render(report, opts, out),
        Format::Json => json::render(report, out),
        Format::Compact => compact::render(report, out),
        Format::Github => github::render(report, out),
        Format::Sarif => sarif::render(report, out),
        Format::Junit => junit::render(report, out),
        Format::Statistics => tables::render_statistics(report, out),
    }
}

/// `3 errors, 1 warning, 0 infos in 12 files (40 objects)` and the skipped-files note.
pub(crate) fn summary_line(report: &Report) -> String {
    let s = &report.summary;
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    let mut line = format!(
        "{}, {}, {} in {} ({})",
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.infos, "info"),
        plural(s.files, "file"),
        plural(s.objects, "object"),
    );
    if s.suppressed > 0 {
        line.push_str(&format!("; {} suppressed", plural(s.suppressed, "finding")));
    }
    if s.hidden > 0 {
        line.push_str(&format!(
            "; {} below --show-level not shown",
            plural(s.hidden, "finding")
        ));
    }
    if s.baselined > 0 {
        line.push_str(&format!(
            "; {} in the baseline",
            plural(s.baselined, "finding")
        ));
    }
    if s.skipped > 0 {
        line.push_str(&format!(
            "; {} without Kubernetes objects skipped",
            plural(s.skipped, "file")
        ));
    }
    line
}
