//! `--format compact`: `path:line:col: level[rule-id] message`, one line each, for editors and grep.

use std::io::{self, Write};

use crate::diag::Report;

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for d in &report.diagnostics {
        // One line per diagnostic, whatever the message holds.
        let message = d.message.replace(['\n', '\r'], " ");
        writeln!(
            out,
            "{}:{}:{}: {}[{}] {}",
            d.file, d.line, d.column, d.level, d.rule, message
        )?;
    }
    Ok(())
}
