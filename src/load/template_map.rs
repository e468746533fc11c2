//! Diagnostics on a rendered chart, moved to the template that wrote what they point at.
//!
//! `helm template` writes a template's text with its actions replaced, so a rendered line is
//! a template line with values filled in. A rendered node is placed on a template line only
//! when the template provably writes it: the template document is the one whose unconditional
//! literal lines the object has; a list item or key is the one whose literal text is the
//! rendered one's, or the only one an action writes, or — with no `if`/`range`/`with` among
//! them — the one at the same position. Otherwise the finding goes to the first line of the
//! template (or of its document), saying where in the object it is; and when the object's
//! template is not a file of the chart, to the chart's `Chart.yaml`. Never to the rendered
//! stream, which is no file.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;

use crate::diag::Diagnostic;
use crate::load::render::Rendered;
use crate::load::spans::{Pos, Span};

/// A template action that decides what is rendered: `{{- if`, `else`, `range`, `with`, `end`.
static CONTROL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\{\{-?\s*(if|else|range|with|end)\b").expect("valid regex"));

/// An action that writes nothing: a comment, a variable assignment, a `define`.
static SILENT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\{\{-?\s*(/\*|\$\w*\s*:?=|define\b)").expect("valid regex"));

/// A template document with the lines inside an action that spans lines (a `{{/* licence */}}`
/// comment, a long `dict`) emptied, so that they are not read as lines it writes.
fn without_multiline_actions(document: &str) -> String {
    let mut open = false;
    let mut out = String::with_capacity(document.len());
    for line in document.lines() {
        let was_open = open;
        let mut rest = line;
        loop {
            if open {
                match rest.find("}}") {
                    Some(end) => {
                        open = false;
                        rest = &rest[end + 2..];
                    }
                    None => break,
                }
            } else {
                match rest.find("{{") {
                    Some(start) => {
                        open = true;
                        rest = &rest[start + 2..];
                    }
                    None => break,
                }
            }
        }
        if !was_open {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// The template file a `# Source:` path names in a chart folder: `shop/templates/a.yaml` (the
/// chart's name first) is `CHART/templates/a.yaml`; a subchart's `shop/charts/db/templates/b.yaml`
/// is `CHART/charts/db/templates/b.yaml`.
pub fn template_file(chart: &Path, source: &str) -> Option<PathBuf> {
    let (_, inside) = source.split_once('/')?;
    // The comment is text the chart renders: a path that leaves the chart is no template.
    let relative = Path::new(inside);
    let plain = relative
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)));
    if !plain {
        return None;
    }
    let file = chart.join(relative);
    let (real, folder) = (
        std::fs::canonicalize(&file).ok()?,
        std::fs::canonicalize(chart).ok()?,
    );
    (real.starts_with(folder) && real.is_file()).then_some(file)
}

/// The packaged subchart (`CHART/charts/NAME-VERSION.tgz`, as `helm dependency build` leaves
/// it) that holds the template a `# Source:` path names, when no file does: the archive, and
/// the template's path inside it (`NAME/templates/a.yaml`).
pub fn packaged_template(chart: &Path, source: &str) -> Option<(PathBuf, String)> {
    let (_, inside) = source.split_once('/')?;
    let (name, rest) = inside.strip_prefix("charts/")?.split_once('/')?;
    let archive = std::fs::read_dir(chart.join("charts"))
        .ok()?
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|file| {
            file.strip_suffix(".tgz")
                .and_then(|f| f.strip_prefix(name)?.strip_prefix('-'))
                .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
        })
        .min()?;
    Some((chart.join("charts").join(archive), format!("{name}/{rest}")))
}

/// The files of a chart's templates and its subcharts' templates and archives (as findings
/// name them: under the chart folder as given).
pub fn template_files(chart: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for entry in ignore::WalkBuilder::new(chart)
        .standard_filters(false)
        .build()
        .flatten()
    {
        let in_templates = entry
            .path()
            .strip_prefix(chart)
            .is_ok_and(|p| p.components().any(|c| c.as_os_str() == "templates"));
        let packaged = entry.path().extension().is_some_and(|e| e == "tgz")
            && entry
                .path()
                .parent()
                .is_some_and(|p| p.file_name().is_some_and(|n| n == "charts"));
        if (in_templates || packaged) && entry.file_type().is_some_and(|t| t.is_file()) {
            files.push(entry.path().display().to_string());
        }
    }
    files
}

/// Where a JSON pointer's node is written in a Helm template document, found by following the
/// pointer's keys down the template's indentation; `rendered(prefix)` is the rendered line
/// each prefix of the pointer starts on, compared with the template's candidates. `None` when
/// the template does not provably write it: it comes from an `include` or `toYaml`, or an
/// `if` or `range` makes more than one line a candidate.
pub fn locate_in_template(
    template: &str,
    pointer: &str,
    rendered: &dyn Fn(&str) -> Option<String>,
) -> Option<Span> {
    let lines: Vec<&str> = template.lines().collect();
    // The line and the indentation of what was matched last, and whether it is a list item.
    let mut at: Option<(usize, usize, bool)> = None;
    let mut prefix = String::new();
    for raw in pointer.split('/').skip(1) {
        prefix.push('/');
        prefix.push_str(raw);
        let segment = raw.replace("~1", "/").replace("~0", "~");
        let children = match at {
            None => 0..lines.len(),
            Some((line, indent, is_item)) => block(&lines, line + 1, indent, is_item),
        };
        let rendered_line = rendered(&prefix);
        at = Some(match segment.parse::<usize>() {
            Ok(index) => {
                let (line, indent) = nth_item(&lines, children, index, rendered_line.as_deref())?;
                (line, indent, true)
            }
            Err(_) => {
                let item = at.filter(|a| a.2).map(|(line, indent, _)| (line, indent));
                let (line, indent) =
                    key_line(&lines, children, &segment, item, rendered_line.as_deref())?;
                (line, indent, false)
            }
        });
    }
    let (line, indent, _) = at?;
    let text = lines[line];
    let content_end = text.trim_end().chars().count();
    let key_col = text[..indent].chars().count();
    Some(Span {
        start: Pos {
            line: line as u32 + 1,
            col: key_col as u32 + 1,
        },
        end: Pos {
            line: line as u32 + 1,
            col: content_end as u32 + 1,
        },
    })
}

/// The lines that belong to what is written at `parent` (a key, or a list item's dash):
/// from `start` up to the first content line indented no deeper than it — though a key's list
/// may be written at the key's own indentation. Template directives and comments end nothing.
fn block(lines: &[&str], start: usize, parent: usize, is_item: bool) -> std::ops::Range<usize> {
    let end = (start..lines.len())
        .find(|&i| {
            let trimmed = lines[i].trim_start();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("{{") {
                return false;
            }
            let indent = indent_of(lines[i]);
            let item = trimmed.starts_with("- ") || trimmed == "-";
            indent < parent || (indent == parent && (is_item || !item))
        })
        .unwrap_or(lines.len());
    start..end
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Whether an `if`, `range` or `with` at `indent` or shallower decides which of the block's
/// lines are rendered.
fn has_control(lines: &[&str], block: std::ops::Range<usize>, indent: usize) -> bool {
    block
        .into_iter()
        .any(|i| indent_of(lines[i]) <= indent && CONTROL.is_match(lines[i].trim_start()))
}

/// A line's content as written: without indentation and list dashes.
fn content(line: &str) -> &str {
    let mut rest = line.trim();
    while let Some(after) = rest.strip_prefix("- ") {
        rest = after.trim_start();
    }
    rest
}

/// Of the candidate lines, the one that writes the rendered line: the only one whose literal
/// text it is; else the only one with a template action; else, when nothing decides which
/// lines are rendered (`unconditional`), the one at `position`.
fn choose(
    lines: &[&str],
    candidates: &[usize],
    rendered: Option<&str>,
    position: Option<usize>,
    unconditional: bool,
) -> Option<usize> {
    if let Some(rendered) = rendered.map(content) {
        let literal: Vec<usize> = candidates
            .iter()
            .copied()
            .filter(|&i| !lines[i].contains("{{") && content(lines[i]) == rendered)
            .collect();
        match literal.as_slice() {
            [one] => return Some(*one),
            [] => {
                let templated: Vec<usize> = candidates
                    .iter()
                    .copied()
                    .filter(|&i| lines[i].contains("{{"))
                    .collect();
                if let [one] = templated.as_slice() {
                    return Some(*one);
                }
            }
            _ => {}
        }
    }
    let at = *candidates.get(position?)?;
    unconditional.then_some(at)
}

/// The list item (`- `) in the block that renders the `index`-th rendered item, at the
/// indentation of the block's first item: the line and the indentation of the item's dash.
fn nth_item(
    lines: &[&str],
    block: std::ops::Range<usize>,
    index: usize,
    rendered: Option<&str>,
) -> Option<(usize, usize)> {
    let is_item = |i: &usize| {
        let t = lines[*i].trim_start();
        t.starts_with("- ") || t == "-"
    };
    let first = block.clone().find(is_item)?;
    let indent = indent_of(lines[first]);
    let items: Vec<usize> = block
        .clone()
        .filter(|i| is_item(i) && indent_of(lines[*i]) == indent)
        .collect();
    let unconditional = !has_control(lines, block, indent);
    let line = choose(lines, &items, rendered, Some(index), unconditional)?;
    Some((line, indent))
}

/// The line of `key:` in the block, at the block's shallowest key indentation (a list item's
/// first key after its `- ` counts at the dash's indentation plus two); of several (an `if`
/// and its `else`), the one that writes the rendered line.
fn key_line(
    lines: &[&str],
    block: std::ops::Range<usize>,
    key: &str,
    item: Option<(usize, usize)>,
    rendered: Option<&str>,
) -> Option<(usize, usize)> {
    // A list item's first key sits on the item's own line, after the dash.
    let mut candidates: Vec<(usize, usize)> = Vec::new();
    if let Some((line, indent)) = item {
        let text = lines[line];
        let rest = &text[indent..];
        if let Some(after) = rest.strip_prefix("- ") {
            let key_indent = indent + 2 + (after.len() - after.trim_start().len());
            candidates.push((line, key_indent));
        }
    }
    for i in block {
        let text = lines[i];
        let mut indent = indent_of(text);
        let mut rest = &text[indent..];
        while let Some(after) = rest.strip_prefix("- ") {
            let skipped = 2 + (after.len() - after.trim_start().len());
            indent += skipped;
            rest = &text[indent..];
        }
        candidates.push((i, indent));
    }
    let is_key = |&(i, indent): &(usize, usize)| {
        let rest = &lines[i][indent..];
        let rest = rest
            .strip_prefix('"')
            .and_then(|r| r.strip_prefix(key))
            .and_then(|r| r.strip_prefix('"'))
            .or_else(|| rest.strip_prefix(key));
        rest.is_some_and(|r| r.starts_with(':'))
    };
    let shallowest = candidates
        .iter()
        .filter(|(i, _)| {
            let t = lines[*i].trim_start();
            !t.is_empty() && !t.starts_with('#') && !t.starts_with("{{")
        })
        .map(|&(_, indent)| indent)
        .min()?;
    let keys: Vec<(usize, usize)> = candidates
        .into_iter()
        .filter(|&(_, indent)| indent == shallowest)
        .filter(is_key)
        .collect();
    if let [one] = keys.as_slice() {
        return Some(*one);
    }
    let lines_of: Vec<usize> = keys.iter().map(|(i, _)| *i).collect();
    let line = choose(lines, &lines_of, rendered, None, false)?;
    keys.into_iter().find(|(i, _)| *i == line)
}

/// A template split into its documents: each one's text and the number of lines before it.
fn documents(template: &str) -> Vec<(u32, String)> {
    let mut documents: Vec<(u32, String)> = vec![(0, String::new())];
    for (i, line) in template.lines().enumerate() {
        if line.trim_end() == "---" || line.starts_with("--- ") {
            documents.push((i as u32 + 1, String::new()));
        } else if let Some((_, text)) = documents.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    documents
}

/// The template document that renders an object of `kind`, the `ordinal`-th of that kind the
/// template rendered of `count`, whose lines are `object`: the one document naming the kind
/// whose every unconditional literal line the object has (one document that a `range`
/// renders many times stands for them all); when several could be it, the one at the
/// object's position if the template renders one object per such document.
fn template_document(
    template: &str,
    kind: &str,
    ordinal: usize,
    count: usize,
    object: &[&str],
) -> Option<(u32, String)> {
    let names_kind = |text: &str| {
        text.lines().any(|l| {
            l.trim()
                .strip_prefix("kind:")
                .is_some_and(|k| k.trim().trim_matches(['"', '\'']) == kind)
        })
    };
    let all = documents(template);
    let mut candidates: Vec<(u32, String)> =
        all.iter().filter(|(_, t)| names_kind(t)).cloned().collect();
    if candidates.is_empty() {
        candidates = all
            .into_iter()
            .filter(|(_, t)| !t.trim().is_empty())
            .collect();
    }
    let rendered: std::collections::HashSet<&str> = object.iter().map(|l| l.trim()).collect();
    let consistent: Vec<(u32, String)> = candidates
        .into_iter()
        .filter(|(_, text)| {
            let text = without_multiline_actions(text);
            unconditional_literals(&text).all(|l| rendered.contains(l))
                && object.iter().all(|line| can_write(&text, line))
        })
        .collect();
    match consistent.len() {
        1 => consistent.into_iter().next(),
        n if n == count => consistent.into_iter().nth(ordinal),
        _ => None,
    }
}

/// The literal lines of a template document that no `if`, `range` or `with` holds: rendered
/// whenever the document is.
fn unconditional_literals(document: &str) -> impl Iterator<Item = &str> {
    let mut depth = 0usize;
    document.lines().filter_map(move |line| {
        let trimmed = line.trim();
        if let Some(action) = CONTROL.captures(trimmed) {
            match &action[1] {
                "if" | "range" | "with" => depth += 1,
                "end" => depth = depth.saturating_sub(1),
                _ => {}
            }
            return None;
        }
        let literal = depth == 0
            && !trimmed.is_empty()
            && !trimmed.starts_with('#')
            && !trimmed.contains("{{")
            && !trimmed.contains("}}");
        literal.then_some(trimmed)
    })
}

/// Whether some line of a template document can have rendered `line`: one with its text, one
/// whose text before its first action begins it, or an action alone on its line (an
/// `include`, a `toYaml`), which can write anything.
fn can_write(document: &str, line: &str) -> bool {
    let rendered = content(line);
    rendered.is_empty()
        || rendered.starts_with('#')
        || document.lines().any(|template| {
            let written = content(template);
            match written.find("{{") {
                None => written == rendered,
                Some(0) => !CONTROL.is_match(written) && !SILENT.is_match(written),
                Some(action) => rendered.starts_with(&written[..action]),
            }
        })
}

/// Whether the value of the key on `line` is written (in part) by an action that writes keys:
/// one after the key (`labels: {{- include "labels" . | nindent 4 }}`), or one alone on a line
/// at the level of its children (`{{- toYaml .Values.securityContext | nindent 12 }}`) —
/// not an `if` or a `with`, and not an action deeper down, which writes something else.
fn writes_keys(line: &str, block: &[&str]) -> bool {
    let after_key = line.split_once(':').is_some_and(|(_, v)| v.contains("{{"));
    let children = block
        .iter()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("{{"))
        .map(|l| indent_of(l))
        .min();
    after_key
        || block.iter().any(|l| {
            let t = l.trim_start();
            t.starts_with("{{")
                && !CONTROL.is_match(t)
                && !SILENT.is_match(t)
                && children.is_none_or(|c| indent_of(l) <= c)
        })
}

/// Whether a template line can be the one that rendered a line: the same text, or text with a
/// template action in it (what the action writes is not known here).
fn agrees(template_line: &str, rendered_line: &str) -> bool {
    template_line.contains("{{") || content(template_line) == content(rendered_line)
}

/// Where a finding on a rendered object goes in its template.
enum Placement {
    /// The line that writes the node.
    Exact(Span),
    /// The line of a parent whose value template actions write (an `include`, a `toYaml`):
    /// the node at the pointer is among what they write.
    Parent(Span, String),
    /// The first line of the object's template document (or of the template), when no line
    /// is provably the node's.
    Template(Span),
}

/// Moves diagnostics on rendered charts to the templates that wrote what they point at (see
/// the module's docs); returns the texts of the files they were moved to, by name (for
/// snippets).
pub fn map_to_templates(
    diagnostics: &mut [Diagnostic],
    rendered: &[Rendered],
) -> Vec<(String, String)> {
    let mut texts: Vec<(String, String)> = Vec::new();
    let mut loaded: Vec<Option<crate::load::Loaded>> = rendered.iter().map(|_| None).collect();
    for d in diagnostics.iter_mut() {
        let Some(index) = rendered.iter().position(|r| r.name == d.file) else {
            continue;
        };
        let stream = &rendered[index];
        let Some(chart) = &stream.chart else { continue };
        let template = d
            .source_template
            .as_deref()
            .and_then(|source| Some((source, template_file(chart, source)?)));
        let text = template.as_ref().and_then(|(_, file)| {
            let name = file.display().to_string();
            if let Some((_, text)) = texts.iter().find(|(n, _)| *n == name) {
                return Some(text.clone());
            }
            let text = stream.release.buffers.read_text(file).ok()?;
            texts.push((name, text.clone()));
            Some(text)
        });
        let (Some((source, file)), Some(text)) = (template, text) else {
            // From a packaged subchart: on the archive, naming the template inside it.
            if let Some((archive, inside)) = d
                .source_template
                .as_deref()
                .and_then(|source| packaged_template(chart, source))
            {
                d.message = format!("{} (in {inside} of the packaged subchart)", d.message);
                move_to(d, archive.display().to_string(), Span::FIRST_CHAR);
                continue;
            }
            // Not from a file of the chart: on the chart itself.
            let chart_yaml = crate::load::render::chart_file(chart);
            let name = chart_yaml.display().to_string();
            if !texts.iter().any(|(n, _)| *n == name)
                && let Ok(text) = stream.release.buffers.read_text(&chart_yaml)
            {
                texts.push((name.clone(), text));
            }
            d.message = format!("{} (in `{}`)", d.message, stream.name);
            move_to(d, name, Span::FIRST_CHAR);
            continue;
        };
        let objects = &loaded[index]
            .get_or_insert_with(|| crate::load::load_text(&stream.text))
            .objects;
        match place(d, stream, objects, source, &text) {
            Placement::Exact(span) => {
                let line = text.lines().nth(span.start.line as usize - 1).unwrap_or("");
                if let Some(sources) = value_sources(&stream.release, line) {
                    d.message = format!("{} ({sources})", d.message);
                }
                move_to(d, file.display().to_string(), span);
            }
            Placement::Parent(span, pointer) => {
                d.message = format!(
                    "{} (at {pointer}, which this line's actions write)",
                    d.message
                );
                move_to(d, file.display().to_string(), span);
            }
            Placement::Template(span) => {
                if let Some(pointer) = d.pointer.as_deref().filter(|p| !p.is_empty()) {
                    d.message =
                        format!("{} (at {pointer} of what this template renders)", d.message);
                }
                move_to(d, file.display().to_string(), span);
            }
        }
    }
    texts
}

/// The template line that provably writes `pointer` of the rendered object `d` is on.
pub fn template_line_of(
    d: &Diagnostic,
    pointer: &str,
    stream: &Rendered,
    objects: &[crate::load::object::Object],
) -> Option<String> {
    let source = d.source_template.as_deref()?;
    let file = template_file(stream.chart.as_ref()?, source)?;
    let text = stream.release.buffers.read_text(&file).ok()?;
    let mut probe = d.clone();
    probe.pointer = Some(pointer.to_owned());
    match place(&probe, stream, objects, source, &text) {
        Placement::Exact(span) => text
            .lines()
            .nth(span.start.line as usize - 1)
            .map(str::to_owned),
        Placement::Parent(..) | Placement::Template(_) => None,
    }
}

/// `.Values.a.b` references of a template line.
static VALUES: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\.Values((?:\.[A-Za-z0-9_-]+)+)").expect("valid regex"));

/// Where the release sets the values a template line reads, when not the chart itself:
/// ``image.tag` is set in values-staging.yaml:2`, ``image.tag=latest` is set for the release`.
fn value_sources(release: &crate::load::render::HelmRelease, line: &str) -> Option<String> {
    let mut said = Vec::new();
    for reference in VALUES.captures_iter(line) {
        let key = reference[1].trim_start_matches('.');
        let pointer: String = key.split('.').map(|k| format!("/{k}")).collect();
        let pairs = release.set.iter().chain(&release.set_string);
        if let Some(pair) = pairs
            .rev()
            .find(|p| p.split_once('=').is_some_and(|(k, _)| k == key))
        {
            said.push(format!("`{pair}` is set for the release"));
            continue;
        }
        let set_in = release.values.iter().rev().find_map(|file| {
            let text = release.buffers.read_text(file).ok()?;
            let doc = crate::load::yaml::parse(&text)
                .documents
                .into_iter()
                .next()?;
            let at = doc.root.locate(&pointer);
            at.exact.then_some((file, at.span.start.line))
        });
        if let Some((file, line)) = set_in {
            let inline = file
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("kvet-values-"));
            said.push(if inline {
                format!("`{key}` is set in the Application's inline values")
            } else {
                format!("`{key}` is set in {}:{line}", file.display())
            });
        }
    }
    (!said.is_empty()).then(|| said.join("; "))
}

fn move_to(d: &mut Diagnostic, file: String, span: Span) {
    d.file = file;
    d.line = span.start.line;
    d.column = span.start.col;
    d.end_line = span.end.line;
    d.end_column = span.end.col;
}

/// Where in its template (`text`, named `source` by helm) a finding on a rendered object goes.
fn place(
    d: &Diagnostic,
    stream: &Rendered,
    objects: &[crate::load::object::Object],
    source: &str,
    text: &str,
) -> Placement {
    let fallback = |document: Option<&(u32, String)>| {
        let (offset, body) = document.map_or((0, text), |(o, t)| (*o, t.as_str()));
        let (line, col) = without_multiline_actions(body)
            .lines()
            .enumerate()
            .find(|(_, l)| {
                let t = l.trim();
                !t.is_empty() && !t.starts_with('#') && !t.starts_with("{{")
            })
            .map_or((0, 0), |(i, l)| (i as u32, indent_of(l) as u32));
        let at = Pos {
            line: offset + line + 1,
            col: col + 1,
        };
        Placement::Template(Span { start: at, end: at })
    };
    let Some(object) = &d.object else {
        return fallback(None);
    };
    // Which of the template's objects of this kind it is, in rendering order.
    let of_kind: Vec<&crate::load::object::Object> = objects
        .iter()
        .filter(|o| o.source_template.as_deref() == Some(source) && o.id.kind == object.kind)
        .collect();
    let Some((ordinal, rendered)) = of_kind.iter().enumerate().find(|(_, o)| {
        o.id == *object && o.root.span.start.line <= d.line && d.line <= o.root.span.end.line
    }) else {
        return fallback(None);
    };
    let stream_lines: Vec<&str> = stream.text.lines().collect();
    // The last object's span may end one line past the text.
    let end = (rendered.root.span.end.line as usize).min(stream_lines.len());
    let object_lines = stream_lines
        .get(rendered.root.span.start.line as usize - 1..end)
        .unwrap_or(&[]);
    let Some(document) =
        template_document(text, &object.kind, ordinal, of_kind.len(), object_lines)
    else {
        return fallback(None);
    };
    let Some(pointer) = &d.pointer else {
        return fallback(Some(&document));
    };
    // A finding on a key the object lacks is placed on the nearest key it has.
    let mut present = pointer.as_str();
    while !present.is_empty() && !rendered.root.locate(present).exact {
        present = present.rsplit_once('/').map_or("", |(parent, _)| parent);
    }
    if present.is_empty() {
        return fallback(Some(&document));
    }
    let rendered_line = |pointer: &str| -> Option<String> {
        let line = rendered.root.locate_key(pointer).span.start.line;
        stream_lines.get(line as usize - 1).map(|l| (*l).to_owned())
    };
    // The node, else the nearest parent the template writes whose block an action fills
    // (`securityContext:` over `{{ toYaml .Values.securityContext }}`).
    let lines: Vec<&str> = document.1.lines().collect();
    let mut at = present;
    while !at.is_empty() {
        let located = locate_in_template(&document.1, at, &rendered_line).filter(|span| {
            let line = span.start.line as usize - 1;
            let written = lines.get(line).copied().unwrap_or("");
            let filled_by_action = || {
                // The key's indentation in bytes (the span counts characters).
                let text = lines.get(line).copied().unwrap_or("");
                let indent = text
                    .char_indices()
                    .nth(span.start.col as usize - 1)
                    .map_or(text.len(), |(at, _)| at);
                let inside = block(&lines, line + 1, indent, false);
                writes_keys(written, &lines[inside])
            };
            agrees(written, &rendered_line(at).unwrap_or_default())
                && (at == present || filled_by_action())
        });
        if let Some(span) = located {
            let (offset, _) = document;
            let span = Span {
                start: Pos {
                    line: span.start.line + offset,
                    col: span.start.col,
                },
                end: Pos {
                    line: span.end.line + offset,
                    col: span.end.col,
                },
            };
            return match at == present {
                true => Placement::Exact(span),
                false => Placement::Parent(span, present.to_owned()),
            };
        }
        at = at.rsplit_once('/').map_or("", |(parent, _)| parent);
    }
    fallback(Some(&document))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
  labels:
    {{- include "app.labels" . | nindent 4 }}
spec:
  {{- if .Values.replicas }}
  replicas: {{ .Values.replicas }}
  {{- end }}
  template:
    spec:
      containers:
        - name: web
          image: "{{ .Values.image }}"
          ports:
            - containerPort: 80
        - name: sidecar
          image: busybox:latest
      volumes:
        {{- toYaml .Values.volumes | nindent 8 }}
"#;

    fn line_col(pointer: &str) -> Option<(u32, u32)> {
        locate_in_template(TEMPLATE, pointer, &|_| None).map(|s| (s.start.line, s.start.col))
    }

    #[test]
    fn keys_written_in_the_template_are_found_through_directives() {
        assert_eq!(line_col("/metadata/name"), Some((4, 3)));
        assert_eq!(line_col("/spec/replicas"), Some((9, 3)));
        assert_eq!(
            line_col("/spec/template/spec/containers/0/image"),
            Some((15, 11))
        );
        assert_eq!(
            line_col("/spec/template/spec/containers/1/image"),
            Some((19, 11))
        );
        assert_eq!(
            line_col("/spec/template/spec/containers/1/name"),
            Some((18, 11))
        );
        assert_eq!(
            line_col("/spec/template/spec/containers/0/ports/0/containerPort"),
            Some((17, 15))
        );
    }

    #[test]
    fn keys_the_template_does_not_spell_out_are_not_guessed() {
        assert_eq!(line_col("/metadata/labels/app"), None);
        assert_eq!(line_col("/spec/template/spec/volumes/0/hostPath"), None);
        assert_eq!(line_col("/spec/template/spec/containers/2/image"), None);
        // `name` exists, but not under `spec`.
        assert_eq!(line_col("/spec/name"), None);
    }

    proptest::proptest! {
        /// Any template text and pointer: an answer or none, never a panic.
        #[test]
        fn any_template_and_pointer_is_answered(
            template in "(( |  |- |\u{3000}|\t)?([a-z]{1,3}|\\{\\{|#|-)(:)?( [a-z{}]*)?\n){0,12}",
            pointer in "(/([a-z]{1,3}|[0-9]))*",
        ) {
            if let Some(span) = locate_in_template(&template, &pointer, &|_| None) {
                proptest::prop_assert!(span.start.line as usize <= template.lines().count());
            }
        }
    }

    #[test]
    fn only_the_document_whose_literal_lines_the_object_has_is_searched() {
        let template = "kind: Service\nspec:\n  a: 1\n---\nkind: Pod\nspec:\n  a: 2\n";
        let offset = |kind, ordinal, count, object: &[&str]| {
            template_document(template, kind, ordinal, count, object).map(|(o, _)| o)
        };
        let pod = ["kind: Pod", "spec:", "  a: 2"];
        assert_eq!(
            offset("Service", 0, 1, &["kind: Service", "spec:", "  a: 1"]),
            Some(0)
        );
        assert_eq!(offset("Pod", 0, 1, &pod), Some(4));
        // One document that a `range` renders several times.
        assert_eq!(offset("Pod", 2, 3, &pod), Some(4));
        // A Pod the template does not write.
        assert_eq!(offset("Pod", 0, 1, &["kind: Pod", "spec:", "  a: 3"]), None);
        assert!(agrees(
            "  image: \"{{ .Values.image }}\"",
            "  image: nginx:latest"
        ));
        assert!(agrees("    - name: web", "  - name: web"));
        // An item an `if` left out of the output: not the rendered one.
        assert!(!agrees("    - name: sidecar", "    - name: web"));
    }

    #[test]
    fn of_two_documents_an_if_may_leave_out_the_one_that_can_write_the_object_is_chosen() {
        // bitnami postgresql's secrets.yaml: the first Secret is rendered only sometimes.
        let template = "{{- if .Values.a }}\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Values.a }}\n{{- end }}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ printf \"%s-svcbind\" .Release.Name }}\ntype: servicebinding.io/postgresql\n";
        let svcbind = [
            "apiVersion: v1",
            "kind: Secret",
            "metadata:",
            "  name: r-svcbind",
            "type: servicebinding.io/postgresql",
        ];
        // The first, all of it inside an `if`, writes no `type:`: the second is the one.
        assert_eq!(
            template_document(template, "Secret", 0, 1, &svcbind).map(|(o, _)| o),
            Some(7)
        );
        // An object either could have written is not guessed.
        let either = ["apiVersion: v1", "kind: Secret", "metadata:", "  name: r"];
        let both = "{{- if .Values.a }}\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Values.a }}\n{{- end }}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}\n";
        assert_eq!(template_document(both, "Secret", 0, 1, &either), None);
        // Both rendered: one object per document, in order.
        assert_eq!(
            template_document(template, "Secret", 1, 2, &svcbind).map(|(o, _)| o),
            Some(7)
        );
    }

    #[test]
    fn a_licence_comment_and_variables_write_nothing() {
        let template = "{{- /*\nCopyright Someone.\n*/}}\n{{- $pw := randAlphaNum 10 }}\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  pw: {{ $pw | b64enc }}\n";
        let object = [
            "apiVersion: v1",
            "kind: Secret",
            "metadata:",
            "  name: r",
            "data:",
            "  pw: aGk=",
        ];
        assert_eq!(
            template_document(template, "Secret", 0, 1, &object).map(|(o, _)| o),
            Some(0)
        );
        // Without the licence inside an action, its line would be one the object lacks; and
        // the assignment alone on its line is no action that could write `other: x`.
        let mut other = object.to_vec();
        other.push("  other: x");
        assert_eq!(template_document(template, "Secret", 0, 1, &other), None);
    }

    #[test]
    fn a_key_an_action_writes_is_told_from_one_nothing_writes() {
        let block = ["      {{- toYaml .Values.securityContext | nindent 12 }}"];
        assert!(writes_keys("      securityContext:", &block));
        assert!(writes_keys(
            "  labels: {{- include \"labels\" . | nindent 4 }}",
            &[]
        ));
        // An action deeper down writes something else; an `if` writes nothing.
        let spec = [
            "      containers:",
            "        - name: web",
            "      volumes:",
            "        {{- toYaml .Values.volumes | nindent 8 }}",
            "      {{- if .Values.x }}",
        ];
        assert!(!writes_keys("    spec:", &spec));
    }

    #[test]
    fn an_item_an_if_leaves_out_is_not_counted() {
        let template = "spec:\n  initContainers:\n    {{- if .Values.sysctl }}\n    - name: init-sysctl\n      image: busybox\n    {{- end }}\n    - name: config-init\n      image: redis\n";
        let rendered = |pointer: &str| match pointer {
            "/spec/initContainers/0" => Some("    - name: config-init".to_owned()),
            "/spec/initContainers/0/image" => Some("      image: redis".to_owned()),
            _ => None,
        };
        let at = locate_in_template(template, "/spec/initContainers/0/image", &rendered);
        assert_eq!(at.map(|s| (s.start.line, s.start.col)), Some((8, 7)));
        // Without the rendered text, position is no proof behind an `if`.
        assert_eq!(
            locate_in_template(template, "/spec/initContainers/0/image", &|_| None),
            None
        );
    }

    #[test]
    fn of_an_if_and_its_else_the_branch_that_wrote_the_line_is_chosen() {
        let template = "spec:\n  {{- if .Values.a }}\n  mode: fast\n  {{- else }}\n  mode: safe\n  {{- end }}\n";
        let rendered = |_: &str| Some("  mode: safe".to_owned());
        let at = locate_in_template(template, "/spec/mode", &rendered);
        assert_eq!(at.map(|s| s.start.line), Some(5));
        let unknown = |_: &str| Some("  mode: other".to_owned());
        assert_eq!(locate_in_template(template, "/spec/mode", &unknown), None);
    }

    #[test]
    fn a_source_path_names_a_file_of_the_chart_or_a_subchart() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("charts/db/templates")).unwrap();
        std::fs::write(dir.path().join("charts/db/templates/s.yaml"), "").unwrap();
        assert_eq!(
            template_file(dir.path(), "shop/charts/db/templates/s.yaml"),
            Some(dir.path().join("charts/db/templates/s.yaml"))
        );
        assert_eq!(template_file(dir.path(), "shop/templates/gone.yaml"), None);
    }
}
