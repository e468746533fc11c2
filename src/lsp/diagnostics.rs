//! kvet's diagnostics as the editor shows them.

use lsp_types::{DiagnosticSeverity, DiagnosticTag, NumberOrString};

use super::text;
use crate::diag::{Diagnostic, Level};
use crate::rules::{DEPRECATED_API, REMOVED_API, named_instead};

/// What every diagnostic of kvet's says it comes from.
pub const SOURCE: &str = "kvet";

/// `diagnostic`, placed in the document text `lines` indexes (its columns counted again in UTF-16).
pub fn to_lsp(diagnostic: &Diagnostic, lines: &text::Lines) -> lsp_types::Diagnostic {
    let d = diagnostic;
    let severity = match d.level {
        Level::Error => DiagnosticSeverity::ERROR,
        Level::Warning => DiagnosticSeverity::WARNING,
        Level::Info => DiagnosticSeverity::INFORMATION,
    };
    let deprecated = deprecated_rule(&d.rule);
    let message = match &d.help {
        Some(help) => format!("{}\nhelp: {help}", d.message),
        None => d.message.clone(),
    };
    lsp_types::Diagnostic {
        range: lines.range((d.line, d.column), (d.end_line, d.end_column)),
        severity: Some(severity),
        code: Some(NumberOrString::String(d.rule.clone())),
        code_description: None,
        source: Some(SOURCE.to_owned()),
        message,
        related_information: None,
        tags: deprecated.then(|| vec![DiagnosticTag::DEPRECATED]),
        data: Some(serde_json::to_value(FixData::of(d)).unwrap_or_default()),
    }
}

/// What a diagnostic carries for its quick fixes, and the client sends back with it.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FixData {
    /// Where in its object the finding is (a JSON pointer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The apiVersion to move to, for `deprecated-api` and `removed-api`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
}

impl FixData {
    fn of(d: &Diagnostic) -> FixData {
        let api_version = match deprecated_rule(&d.rule) {
            true => d.help.as_deref().and_then(named_instead).map(str::to_owned),
            false => None,
        };
        FixData {
            pointer: d.pointer.clone(),
            api_version,
        }
    }

    /// What the client sent back with one of kvet's diagnostics.
    pub fn from(diagnostic: &lsp_types::Diagnostic) -> FixData {
        let data = diagnostic.data.clone().unwrap_or_default();
        serde_json::from_value(data).unwrap_or_default()
    }
}

fn deprecated_rule(rule: &str) -> bool {
    [DEPRECATED_API.meta.id, REMOVED_API.meta.id].contains(&rule)
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
