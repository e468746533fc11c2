//! `--format json`: `{"version":1,"diagnostics":[...],"summary":{...}}`.

use std::io::{self, Write};

use serde::Serialize;

use crate::diag::{Diagnostic, Report, Summary};

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    diagnostics: &'a [Diagnostic],
    summary: &'a Summary,
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let doc = JsonReport {
        version: 1,
        diagnostics: &report.diagnostics,
        summary: &report.summary,
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
