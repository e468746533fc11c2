//! `--format junit`: JUnit XML, which CI systems show as test results. One test suite per file,
//! one test case per object (`Kind namespace/name`); an error-level diagnostic is a failure of
//! its object's case, warnings and infos are in the case's output. Diagnostics of a file that
//! belong to no object (YAML syntax, unreadable files) go to a case named after the file.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::diag::{Diagnostic, Level, Report};
use crate::load::object::ObjectRef;

/// A test case: an object (`None` for the file itself) and its diagnostics.
type Case<'a> = (Option<&'a ObjectRef>, Vec<&'a Diagnostic>);

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    // file → its cases, objects in input order.
    let mut files: BTreeMap<&str, Vec<Case>> = BTreeMap::new();
    for (file, object) in &report.checked {
        let cases = files.entry(file).or_default();
        if !cases.iter().any(|(o, _)| *o == Some(object)) {
            cases.push((Some(object), Vec::new()));
        }
    }
    for d in &report.diagnostics {
        let cases = files.entry(&d.file).or_default();
        let object = d.object.as_ref();
        match cases.iter_mut().find(|(o, _)| *o == object) {
            Some((_, list)) => list.push(d),
            None => cases.push((object, vec![d])),
        }
    }
    let failures = |cases: &[Case]| {
        cases
            .iter()
            .filter(|(_, ds)| ds.iter().any(|d| d.level == Level::Error))
            .count()
    };
    let total: usize = files.values().map(Vec::len).sum();
    let failed: usize = files.values().map(|c| failures(c)).sum();
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        out,
        r#"<testsuites name="kvet" tests="{total}" failures="{failed}" errors="0">"#
    )?;
    for (file, cases) in &files {
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{}" errors="0">"#,
            escape(file),
            cases.len(),
            failures(cases)
        )?;
        for (object, diagnostics) in cases {
            let name = match object {
                Some(o) => match (&o.namespace, &o.name) {
                    (Some(ns), Some(name)) => format!("{} {ns}/{name}", o.kind),
                    (None, Some(name)) => format!("{} {name}", o.kind),
                    _ => o.kind.clone(),
                },
                None => (*file).to_owned(),
            };
            let case = format!(
                r#"    <testcase classname="{}" name="{}""#,
                escape(file),
                escape(&name)
            );
            if diagnostics.is_empty() {
                writeln!(out, "{case}/>")?;
                continue;
            }
            writeln!(out, "{case}>")?;
            let mut output = String::new();
            for d in diagnostics {
                let line = format!(
                    "{}:{}:{}: {}[{}] {}",
                    d.file, d.line, d.column, d.level, d.rule, d.message
                );
                if d.level == Level::Error {
                    writeln!(
                        out,
                        r#"      <failure type="{}" message="{}">{}</failure>"#,
                        escape(&d.rule),
                        escape(&d.message),
                        escape(&line)
                    )?;
                } else {
                    output.push_str(&line);
                    output.push('\n');
                }
            }
            if !output.is_empty() {
                writeln!(out, "      <system-out>{}</system-out>", escape(&output))?;
            }
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

/// Text for an XML attribute or element; characters XML 1.0 cannot hold become U+FFFD.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn xml_special_and_control_characters_are_escaped() {
        assert_eq!(
            escape(r#"<a & "b">'"#),
            "&lt;a &amp; &quot;b&quot;&gt;&apos;"
        );
        assert_eq!(escape("bell\u{7}"), "bell\u{FFFD}");
    }
}
