//! `--format sarif`: SARIF 2.1.0, for GitHub code scanning and other CI dashboards. One run;
//! the tool's rules (every built-in rule, plus the user's policy rules that reported) with their
//! documentation; one result per diagnostic with its region and a fingerprint that survives
//! edits elsewhere in the file (rule, file, object and pointer, not line numbers).

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{Value, json};

use crate::diag::{Diagnostic, Level, Report};
use crate::rules;

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut descriptors: Vec<Value> = Vec::new();
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    for meta in rules::registry() {
        index.insert(meta.id.to_owned(), descriptors.len());
        descriptors.push(json!({
            "id": meta.id,
            "shortDescription": {"text": meta.summary},
            "fullDescription": {"text": meta.docs.trim()},
            "help": {"text": meta.docs.trim(), "markdown": meta.docs.trim()},
            "defaultConfiguration": {"level": level(meta.default_level)},
            "properties": {"category": meta.category},
        }));
    }
    // Rules of this run's Kyverno policies, with their policies' docs.
    for d in &report.diagnostics {
        if let Some(rule) = report.run_rules.get(&d.rule)
            && !index.contains_key(&d.rule)
        {
            index.insert(d.rule.clone(), descriptors.len());
            descriptors.push(json!({
                "id": d.rule,
                "shortDescription": {"text": rule.summary},
                "fullDescription": {"text": rule.docs.trim()},
                "help": {"text": rule.docs.trim(), "markdown": rule.docs.trim()},
                "defaultConfiguration": {"level": level(rule.default_level)},
                "properties": {"category": rule.category},
            }));
        }
    }
    // The user's policy rules are known by the results they gave.
    for d in &report.diagnostics {
        if !index.contains_key(&d.rule) {
            index.insert(d.rule.clone(), descriptors.len());
            descriptors.push(json!({
                "id": d.rule,
                "shortDescription": {"text": format!("policy rule {}", d.rule)},
            }));
        }
    }
    let results: Vec<Value> = report
        .diagnostics
        .iter()
        .map(|d| result(d, index[&d.rule]))
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "kvet",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": descriptors,
            }},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "the folder kvet was run in"}}},
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn level(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Info => "note",
    }
}

fn result(d: &Diagnostic, rule_index: usize) -> Value {
    let mut text = d.message.clone();
    if let Some(help) = &d.help {
        text.push('\n');
        text.push_str(help);
    }
    json!({
        "ruleId": d.rule,
        "ruleIndex": rule_index,
        "level": level(d.level),
        "message": {"text": text},
        "locations": [{"physicalLocation": {
            "artifactLocation": artifact(&d.file),
            "region": {
                "startLine": d.line,
                "startColumn": d.column,
                "endLine": d.end_line,
                "endColumn": d.end_column.max(d.column),
            },
        }}],
        "partialFingerprints": {"kvet/v1": fingerprint(d)},
    })
}

/// Where a file is: relative to the folder kvet runs in (`%SRCROOT%`) when it is under it, an
/// absolute `file://` URI otherwise.
fn artifact(file: &str) -> Value {
    let path = std::path::Path::new(file);
    if path.is_absolute() {
        let relative = std::env::current_dir()
            .ok()
            .and_then(|cwd| path.strip_prefix(cwd).ok().map(|p| p.display().to_string()));
        return match relative {
            Some(relative) => json!({"uri": uri(&relative), "uriBaseId": "%SRCROOT%"}),
            None => json!({"uri": format!("file://{}", uri(file))}),
        };
    }
    json!({"uri": uri(file), "uriBaseId": "%SRCROOT%"})
}

/// A path as a URI reference: forward slashes, no leading `./`, percent-encoded where URIs
/// need it.
fn uri(file: &str) -> String {
    let path = file.replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    let mut out = String::new();
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// FNV-1a of what identifies a finding whatever its line: rule, file, object, pointer and the
/// message without its digits (which hold line numbers: "first at line 12").
fn fingerprint(d: &Diagnostic) -> String {
    let object = d
        .object
        .as_ref()
        .map(|o| {
            format!(
                "{}/{}/{}/{}",
                o.api_version,
                o.kind,
                o.namespace.as_deref().unwrap_or(""),
                o.name.as_deref().unwrap_or("")
            )
        })
        .unwrap_or_default();
    let message: String = d.message.chars().filter(|c| !c.is_ascii_digit()).collect();
    let key = [
        d.rule.as_str(),
        d.file.as_str(),
        &object,
        d.pointer.as_deref().unwrap_or(""),
        &message,
    ]
    .join("\u{0}");
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_become_relative_uris() {
        assert_eq!(uri("./deploy/app 1.yaml"), "deploy/app%201.yaml");
        assert_eq!(uri("a\\b.yaml"), "a/b.yaml");
    }
}
