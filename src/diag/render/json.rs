//! `--format json`: `{"version":1,"diagnostics":[...],"summary":{...}}`, and `"kyverno":
//! [...]` (each Kyverno rule's verdict on each object) when Kyverno policies were applied.

use std::io::{self, Write};

use serde::Serialize;

use crate::diag::{Diagnostic, KyvernoVerdict, Report, Summary};

#[derive(Serialize)]
struct JsonReport<'a> {
    version: u32,
    diagnostics: &'a [Diagnostic],
    summary: &'a Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    kyverno: Option<&'a [KyvernoVerdict]>,
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let doc = JsonReport {
        version: 1,
        diagnostics: &report.diagnostics,
        summary: &report.summary,
        kyverno: report.kyverno.as_deref(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}
