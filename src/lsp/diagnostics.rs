//! kvet's diagnostics as the editor shows them.

use lsp_types::{DiagnosticSeverity, DiagnosticTag, NumberOrString};

use super::text;
use crate::diag::{Diagnostic, Level};
use crate::rules::{DEPRECATED_API, REMOVED_API};

/// What every diagnostic of kvet's says it comes from.
pub const SOURCE: &str = "kvet";

/// `diagnostic`, placed in the document's `text` (its columns counted again in UTF-16).
pub fn to_lsp(diagnostic: &Diagnostic, text: &str) -> lsp_types::Diagnostic {
    let d = diagnostic;
    let severity = match d.level {
        Level::Error => DiagnosticSeverity::ERROR,
        Level::Warning => DiagnosticSeverity::WARNING,
        Level::Info => DiagnosticSeverity::INFORMATION,
    };
    let deprecated = [DEPRECATED_API.meta.id, REMOVED_API.meta.id].contains(&d.rule.as_str());
    let message = match &d.help {
        Some(help) => format!("{}\nhelp: {help}", d.message),
        None => d.message.clone(),
    };
    lsp_types::Diagnostic {
        range: text::range(text, (d.line, d.column), (d.end_line, d.end_column)),
        severity: Some(severity),
        code: Some(NumberOrString::String(d.rule.clone())),
        code_description: None,
        source: Some(SOURCE.to_owned()),
        message,
        related_information: None,
        tags: deprecated.then(|| vec![DiagnosticTag::DEPRECATED]),
        data: None,
    }
}

/// The rule of one of kvet's diagnostics, as the client sends it back.
pub fn rule_of(diagnostic: &lsp_types::Diagnostic) -> Option<&str> {
    match (&diagnostic.source, &diagnostic.code) {
        (Some(source), Some(NumberOrString::String(rule))) if source == SOURCE => Some(rule),
        _ => None,
    }
}

/// One diagnostic on the document for what stopped kvet from checking it (a panic, a broken
/// policy): at its first character, so the editor shows it.
pub fn failure(message: String) -> lsp_types::Diagnostic {
    lsp_types::Diagnostic {
        range: lsp_types::Range::default(),
        severity: Some(DiagnosticSeverity::ERROR),
        source: Some(SOURCE.to_owned()),
        message,
        ..Default::default()
    }
}
