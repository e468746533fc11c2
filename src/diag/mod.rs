//! Diagnostics: what rules find, placed in files; and the report every renderer reads.

pub mod baseline;
pub mod explain;
pub mod render;
pub mod suppress;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::load::object::ObjectRef;
use crate::load::spans::Span;

/// How serious a diagnostic is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "info" => Ok(Level::Info),
            "warning" => Ok(Level::Warning),
            "error" => Ok(Level::Error),
            other => Err(format!(
                "unknown level \"{other}\" (expected error, warning or info)"
            )),
        }
    }
}

/// What a rule produces: a problem at a place in one object. It knows nothing of files.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// JSON pointer into the object (`/spec/template/spec/volumes/2/name`).
    pub pointer: String,
    pub message: String,
    pub help: Option<String>,
    /// Place the finding on the key that holds the value (an unknown field, a mapping that
    /// lacks a field) rather than on the value.
    pub at_key: bool,
    /// A level this finding asks for instead of its rule's default (a policy's `"level"`);
    /// a level set in the config still wins.
    pub level: Option<Level>,
    /// Extra fields of a policy result, kept for the JSON output.
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// The part of the string at `pointer` the finding is about, to place it there rather
    /// than on the string's first line (`PASSWORD=admin` on the 13th line of a block scalar).
    pub part: Option<StringPart>,
    /// Which project's CRD in kvet's catalog the object was validated against.
    pub schema_source: Option<String>,
    /// The other place the finding is about (the first of two duplicates): its file (`None`:
    /// the finding's own) and span.
    pub related: Option<(Option<String>, Span)>,
}

/// A part of a string value: its text (one line of it), and how many times that text appears
/// in the string before it.
#[derive(Debug, Clone, PartialEq)]
pub struct StringPart {
    pub text: String,
    pub occurrence: usize,
}

impl StringPart {
    /// The part of `value` at byte range `range` (its first line, when it spans several).
    pub fn of(value: &str, range: std::ops::Range<usize>) -> StringPart {
        let text = value[range.clone()].split('\n').next().unwrap_or_default();
        StringPart {
            text: text.to_owned(),
            occurrence: value[..range.start].matches(text).count(),
        }
    }
}

impl Finding {
    pub fn new(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            pointer: pointer.into(),
            message: message.into(),
            help: None,
            at_key: false,
            level: None,
            metadata: None,
            part: None,
            schema_source: None,
            related: None,
        }
    }

    /// The finding is about `span` of the same file too (the first of two duplicates).
    pub fn related_to(mut self, span: Span) -> Self {
        self.related = Some((None, span));
        self
    }

    /// The finding is about `span` of `file` too.
    pub fn related_in(mut self, file: &str, span: Span) -> Self {
        self.related = Some((Some(file.to_owned()), span));
        self
    }

    pub fn at_key(mut self) -> Self {
        self.at_key = true;
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// A finding placed in a file. This is the public JSON shape (version 1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    pub rule: String,
    pub level: Level,
    pub message: String,
    pub help: Option<String>,
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub pointer: Option<String>,
    pub source_template: Option<String>,
    pub object: Option<ObjectRef>,
    /// Extra fields of a policy's result (conftest's `metadata`); left out when there are none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// For a schema finding from kvet's CRD catalog: the project and version whose CRD the
    /// object was validated against (`Argo CD argoproj/argo-cd@37ee0097cf85`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_source: Option<String>,
    /// For a finding on a rendered kustomization: the render roots that produced it
    /// (`overlays/prod`); named in the message once findings of several roots are merged.
    #[serde(skip)]
    pub roots: Vec<String>,
    /// For a finding on a rendered object: the file it comes from and the object as that file
    /// writes it (before `namePrefix`, `namespace`…), which the file's annotations suppress by.
    #[serde(skip)]
    pub origin_object: Option<(String, ObjectRef)>,
    /// The other place the finding is about, `(file, span)` (the first of two duplicates, the
    /// object referred to): an editor links it. Not in the JSON output, whose messages say it.
    #[serde(skip)]
    pub related: Option<(String, Span)>,
}

impl Diagnostic {
    pub fn new(rule: &str, level: Level, file: &str, span: Span, message: String) -> Self {
        Diagnostic {
            rule: rule.to_owned(),
            level,
            message,
            help: None,
            file: file.to_owned(),
            line: span.start.line,
            column: span.start.col,
            end_line: span.end.line,
            end_column: span.end.col,
            pointer: None,
            source_template: None,
            object: None,
            metadata: None,
            schema_source: None,
            roots: Vec::new(),
            origin_object: None,
            related: None,
        }
    }

    /// The order of the output: file, line, column, rule — then the rest, so that equal keys
    /// still sort the same whatever order threads produced them in.
    fn sort_key(&self) -> impl Ord + '_ {
        (
            &self.file,
            self.line,
            self.column,
            &self.rule,
            &self.message,
            self.end_line,
            self.end_column,
            &self.pointer,
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Files read.
    pub files: usize,
    /// Kubernetes objects checked.
    pub objects: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    /// Files skipped because they hold no Kubernetes object.
    pub skipped: usize,
    /// Findings dropped by suppressions (annotations, comments, the config's `ignore`).
    pub suppressed: usize,
    /// Findings the `--baseline` records, not reported.
    pub baselined: usize,
    /// Findings below `--show-level`, not shown (they still count for the exit status).
    #[serde(skip_serializing_if = "is_zero")]
    pub hidden: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The result of a run: sorted diagnostics, a summary, and the text of every file that has
/// diagnostics (for snippets).
#[derive(Debug, Default)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
    pub summary: Summary,
    /// Every object checked, with its file, in input order (JUnit lists the clean ones too).
    pub checked: Vec<(String, ObjectRef)>,
    /// Every file read (and stdin, and rendered streams), by name.
    pub files: Vec<String>,
    pub sources: BTreeMap<String, Arc<str>>,
    /// What the user should know about the run itself, not about a file (a chosen policy
    /// namespace without rules): printed on stderr, apart from every report.
    pub warnings: Vec<String>,
    /// The verdict of every Kyverno rule on every object it applies to, when Kyverno policies
    /// were applied (`kyverno` in the JSON output).
    pub kyverno: Option<Vec<KyvernoVerdict>>,
    /// Rules known only to this run (Kyverno policies' rules): their docs, for SARIF.
    pub run_rules: BTreeMap<String, RunRule>,
    /// What `--verbose` says about the run: Kyverno policies and rules kvet does not evaluate.
    pub notes: Vec<String>,
}

/// One Kyverno rule's verdict on one object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KyvernoVerdict {
    pub policy: String,
    pub rule: String,
    pub object: ObjectRef,
    pub file: String,
    /// `pass`, `fail`, `skip` or `error`.
    pub result: &'static str,
    /// Why it failed, was skipped or could not be evaluated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A rule that exists only in a run (a Kyverno policy's rule): what the registry says of
/// built-in rules.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRule {
    pub summary: String,
    pub docs: String,
    pub category: String,
    pub default_level: Level,
}

impl Report {
    /// Sorts the diagnostics and counts them into the summary.
    pub fn finish(&mut self) {
        self.diagnostics
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.diagnostics.dedup();
        let (mut e, mut w, mut i) = (0, 0, 0);
        for d in &self.diagnostics {
            match d.level {
                Level::Error => e += 1,
                Level::Warning => w += 1,
                Level::Info => i += 1,
            }
        }
        self.summary.errors = e;
        self.summary.warnings = w;
        self.summary.infos = i;
    }

    /// The most serious level present.
    pub fn max_level(&self) -> Option<Level> {
        self.diagnostics.iter().map(|d| d.level).max()
    }
}

/// Writes `bytes` to a temporary file beside `path`, then renames it over `path`: a report or
/// baseline file is never left half written.
/// `26000000.4` as `26,000,000`.
pub fn thousands(n: f64) -> String {
    if n >= 1e15 {
        return format!("{n:.1e}");
    }
    let digits = format!("{:.0}", n.ceil());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn replace_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("it names no file"))?;
    let mut temporary = name.to_os_string();
    temporary.push(format!(".kvet-{}.tmp", std::process::id()));
    let temporary = path.with_file_name(temporary);
    std::fs::write(&temporary, bytes)
        .and_then(|()| std::fs::rename(&temporary, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&temporary);
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_are_written_with_thousands_separated() {
        assert_eq!(thousands(999.2), "1,000");
        assert_eq!(thousands(1_000_000.0), "1,000,000");
        assert_eq!(thousands(12.0), "12");
    }
}
