//! What `helm template` says when it fails, placed on the chart file and line it concerns:
//! a template's line and column (`c/templates/a.yaml:4:18`, `parse error at (…:4)`), the line
//! of a template whose output is not YAML (found in the output `--debug` prints), a dependency
//! of `Chart.yaml` that is not vendored; else `Chart.yaml` itself.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use super::render::{HelmFailure, HelmRelease, Located, template_file};
use super::spans::{Pos, Span};

/// `chart/templates/a.yaml:4:18` or `(chart/templates/a.yaml:4)`, as helm 3 and 4 write them.
static AT_TEMPLATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|[\s(])([^\s():]+/[^\s():]+):(\d+)(?::(\d+))?").expect("valid regex")
});
static NOT_YAML: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"YAML parse error on ([^\s:]+)").expect("valid regex"));
static MISSING_DEPENDENCY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"found in Chart\.yaml, but missing in charts/ directory: (.+)")
        .expect("valid regex")
});

/// Where helm's failure belongs; `debug_output` renders again with `--debug`, which prints
/// the invalid output (asked for only when a template's output is not YAML).
pub fn locate(
    release: &HelmRelease,
    stderr: &str,
    debug_output: impl FnOnce() -> Option<String>,
) -> HelmFailure {
    let chart = &release.chart;
    let message = tidy(stderr);
    let chart_yaml = chart.join("Chart.yaml");
    if let Some(names) = MISSING_DEPENDENCY
        .captures(&message)
        .map(|c| c[1].trim().to_owned())
    {
        let first = names.split(',').next().unwrap_or("").trim();
        let span =
            dependency_entry(&chart_yaml, first, &release.buffers).unwrap_or(Span::FIRST_CHAR);
        return HelmFailure::NotRendered(Located {
            file: chart_yaml,
            span,
            message: format!(
                "the chart {} was not rendered: its dependency `{names}` is not in its charts/ folder, and kvet fetches nothing; run `helm dependency build` (or vendor the chart) to have it checked",
                super::discover::clean(chart).display()
            ),
        });
    }
    if let Some(source) = NOT_YAML.captures(&message).map(|c| c[1].to_owned())
        && let Some(file) = template_file(chart, &source)
    {
        let rendered = debug_output().and_then(|out| rendered_document(&out, &source));
        let (span, shown) = match rendered.as_deref().and_then(first_yaml_problem) {
            Some((_, text)) => (
                template_line_for(&file, &text, &release.buffers).unwrap_or(Span::FIRST_CHAR),
                format!("{message} (it renders `{}`)", text.trim()),
            ),
            None => (Span::FIRST_CHAR, message),
        };
        return HelmFailure::Failed(Located {
            file,
            span,
            message: shown,
        });
    }
    for at in AT_TEMPLATE.captures_iter(&message) {
        let Some(file) = template_file(chart, &at[1]) else {
            continue;
        };
        let line: u32 = at[2].parse().unwrap_or(1).max(1);
        let col: u32 = at.get(3).and_then(|c| c.as_str().parse().ok()).unwrap_or(1);
        return HelmFailure::Failed(Located {
            span: line_span(&file, line, col, &release.buffers),
            file,
            message,
        });
    }
    HelmFailure::Failed(Located {
        file: chart_yaml,
        span: Span::FIRST_CHAR,
        message,
    })
}

/// helm's message on one line, without its log lines, its `Error: ` and its advice to use
/// `--debug` (kvet does that itself).
fn tidy(stderr: &str) -> String {
    let lines: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("level=") && !l.starts_with("Use --debug"))
        .map(|l| l.strip_prefix("Error: ").unwrap_or(l))
        .collect();
    lines.join(" ")
}

/// The document helm rendered from `source`, from the output of `--debug`.
fn rendered_document(output: &str, source: &str) -> Option<String> {
    let mut lines = output.lines();
    lines.find(|l| l.trim() == format!("# Source: {source}"))?;
    let document: Vec<&str> = lines.take_while(|l| l.trim_end() != "---").collect();
    Some(document.join("\n"))
}

/// The line of a rendered document where it stops being YAML: its number and text.
fn first_yaml_problem(document: &str) -> Option<(u32, String)> {
    let parsed = super::yaml::parse(document);
    let issue = parsed.issues.first()?;
    let line = issue.span.start.line;
    let text = document.lines().nth(line as usize - 1)?.to_owned();
    Some((line, text))
}

/// The line of the template that writes the start of a rendered line: the first whose literal
/// text (no template action on it) begins the rendered line, as `apiVersion: v1` begins
/// `apiVersion: v1kind: ConfigMap` when a trim glued the next line onto it.
fn template_line_for(
    template: &Path,
    rendered: &str,
    buffers: &crate::load::buffers::Buffers,
) -> Option<Span> {
    let text = buffers.read_text(template).ok()?;
    let rendered = rendered.trim();
    let (index, line) = text.lines().enumerate().find(|(_, line)| {
        let literal = line.trim();
        !literal.is_empty()
            && !literal.contains("{{")
            && !literal.starts_with('#')
            && rendered.starts_with(literal)
    })?;
    let start = line.len() - line.trim_start().len();
    Some(Span {
        start: Pos {
            line: index as u32 + 1,
            col: line[..start].chars().count() as u32 + 1,
        },
        end: Pos {
            line: index as u32 + 1,
            col: line.trim_end().chars().count() as u32 + 1,
        },
    })
}

/// A line and column of a file, up to the end of the line.
fn line_span(file: &Path, line: u32, col: u32, buffers: &crate::load::buffers::Buffers) -> Span {
    let end = buffers
        .read_text(file)
        .ok()
        .and_then(|t| {
            t.lines()
                .nth(line as usize - 1)
                .map(|l| l.trim_end().chars().count())
        })
        .map_or(col, |len| (len as u32 + 1).max(col));
    Span {
        start: Pos { line, col },
        end: Pos { line, col: end },
    }
}

/// Where `Chart.yaml` names a dependency.
fn dependency_entry(
    chart_yaml: &Path,
    name: &str,
    buffers: &crate::load::buffers::Buffers,
) -> Option<Span> {
    let text = buffers.read_text(chart_yaml).ok()?;
    let parsed = super::yaml::parse(&text);
    let doc = parsed.documents.into_iter().next()?;
    let dependencies = doc.root.get("dependencies")?.as_seq()?;
    let entry = dependencies
        .iter()
        .find(|d| d.get("name").and_then(|n| n.as_str()) == Some(name))?;
    Some(entry.get("name")?.span)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_messages_are_one_line_without_logs_or_advice() {
        let stderr = "level=DEBUG msg=\"Chart path\"\nError: c/templates/nil.yaml:4:18\n  executing \"c/templates/nil.yaml\" at <.Values.a.b>:\n    nil pointer evaluating interface {}.b\n\nUse --debug flag to render out invalid YAML";
        assert_eq!(
            tidy(stderr),
            "c/templates/nil.yaml:4:18 executing \"c/templates/nil.yaml\" at <.Values.a.b>: nil pointer evaluating interface {}.b"
        );
    }

    #[test]
    fn template_positions_are_read_as_helm_3_and_4_write_them() {
        for (message, want) in [
            (
                "c/templates/nil.yaml:4:18 executing",
                ("c/templates/nil.yaml", "4", Some("18")),
            ),
            (
                "parse error at (c/templates/p.yaml:4): unexpected",
                ("c/templates/p.yaml", "4", None),
            ),
            (
                "template: c/templates/x.yaml:7:3: executing \"c/templates/x.yaml\"",
                ("c/templates/x.yaml", "7", Some("3")),
            ),
            (
                "execution error at (c/templates/r.yaml:4:11): need a",
                ("c/templates/r.yaml", "4", Some("11")),
            ),
        ] {
            let at = AT_TEMPLATE.captures(message).expect(message);
            assert_eq!(
                (&at[1], &at[2], at.get(3).map(|c| c.as_str())),
                want,
                "{message}"
            );
        }
    }

    #[test]
    fn the_invalid_line_is_found_in_the_debug_output() {
        let output = "---\n# Source: c/templates/ok.yaml\nkind: A\n---\n# Source: c/templates/cm.yaml\napiVersion: v1kind: ConfigMap\nmetadata:\n  name: x\n---\n# Source: c/templates/z.yaml\n";
        let document = rendered_document(output, "c/templates/cm.yaml").unwrap();
        assert_eq!(
            document,
            "apiVersion: v1kind: ConfigMap\nmetadata:\n  name: x"
        );
        assert_eq!(
            first_yaml_problem(&document),
            Some((1, "apiVersion: v1kind: ConfigMap".to_owned()))
        );
    }
}
