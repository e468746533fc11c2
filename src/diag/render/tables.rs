//! The summary tables of human output: findings per rule (with their level) and per file; the
//! per-rule one alone is `--statistics`.

use std::collections::HashMap;
use std::io::{self, Write};

use super::summary_line;
use crate::diag::{Level, Report};

/// Files listed in the per-file table; the rest are counted on one line.
const MOST_FILES: usize = 20;

/// `--statistics`: the per-rule table and the summary line.
pub fn render_statistics(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    by_rule(report, out)?;
    writeln!(out, "{}", summary_line(report))
}

/// Findings per rule and level, most first.
pub fn by_rule(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut counts: HashMap<(&str, Level), usize> = HashMap::new();
    for d in &report.diagnostics {
        *counts.entry((d.rule.as_str(), d.level)).or_default() += 1;
    }
    let mut rows: Vec<_> = counts.into_iter().collect();
    // Most first; then errors before warnings before infos, then by rule id.
    rows.sort_by(|((r1, l1), n1), ((r2, l2), n2)| n2.cmp(n1).then(l2.cmp(l1)).then(r1.cmp(r2)));
    writeln!(out, "Findings by rule:")?;
    for ((rule, level), count) in rows {
        writeln!(out, "{count:>7}  {:<7}  {rule}", level.as_str())?;
    }
    Ok(())
}

/// Findings per file, most first; the files past the first [`MOST_FILES`] on one line.
pub fn by_file(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for d in &report.diagnostics {
        *counts.entry(d.file.as_str()).or_default() += 1;
    }
    let mut rows: Vec<_> = counts.into_iter().collect();
    rows.sort_by(|(f1, n1), (f2, n2)| n2.cmp(n1).then(f1.cmp(f2)));
    writeln!(out, "Findings by file:")?;
    for (file, count) in rows.iter().take(MOST_FILES) {
        writeln!(out, "{count:>7}  {file}")?;
    }
    if rows.len() > MOST_FILES {
        let rest = &rows[MOST_FILES..];
        let findings: usize = rest.iter().map(|(_, n)| n).sum();
        writeln!(out, "{findings:>7}  in {} more files", rest.len())?;
    }
    Ok(())
}
