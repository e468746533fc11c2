//! Charts and kustomizations rendered by their own tools (`helm template`, `kustomize build` or
//! `kubectl kustomize`), and diagnostics on rendered objects mapped back to the Helm template
//! named by their `# Source:` comment.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::diag::Diagnostic;
use crate::load::spans::{Pos, Span};

/// What to render.
#[derive(Debug, Clone)]
pub enum Render {
    /// `helm template CHART --values F... --set K=V...`.
    Helm {
        chart: PathBuf,
        values: Vec<PathBuf>,
        set: Vec<String>,
        /// The release's name (`--release`; helm's default, `release-name`, when `None`).
        release: Option<String>,
        /// The release's namespace (`--release-namespace`, helm's `--namespace`).
        namespace: Option<String>,
        /// `--set-string K=V` and `--set-file K=PATH`, as helm takes them.
        set_string: Vec<String>,
        set_file: Vec<String>,
        /// Render the chart's `crds/` too.
        include_crds: bool,
    },
}

/// What the cluster a chart is rendered for serves, for `.Capabilities`: its Kubernetes
/// version, and every apiVersion and apiVersion/Kind it serves (so objects a chart renders
/// only when the cluster has, say, ServiceMonitors are rendered and checked).
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    pub kube_version: String,
    pub api_versions: Vec<String>,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RenderError {
    #[error("cannot render {what}: {missing} on the PATH")]
    #[diagnostic(help("{install}"))]
    Missing {
        what: String,
        missing: &'static str,
        install: &'static str,
    },
    #[error("cannot render {dir}: it has no kustomization.yaml")]
    NoKustomization { dir: String },
    #[error("cannot run {tool}: {message}")]
    Run { tool: String, message: String },
    #[error("`{command}` failed ({status}):\n{stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("`{command}` printed output that is not UTF-8 text")]
    NotText { command: String },
}

/// A rendered stream.
#[derive(Debug)]
pub struct Rendered {
    /// How diagnostics name it: `helm template CHART`.
    pub name: String,
    pub text: String,
    /// The chart's or kustomization's folder.
    pub folder: PathBuf,
    /// The path config overrides match the stream as: `CHART/Chart.yaml`,
    /// `DIR/kustomization.yaml`.
    pub config_path: PathBuf,
    /// The chart folder, for mapping `# Source:` templates back to files.
    pub chart: Option<PathBuf>,
}

impl Render {
    pub fn run(&self, capabilities: &Capabilities) -> Result<Rendered, RenderError> {
        match self {
            Render::Helm {
                chart,
                values,
                set,
                release,
                namespace,
                set_string,
                set_file,
                include_crds,
            } => {
                let mut args = vec!["template".to_owned()];
                args.extend(release.clone());
                args.push(chart.display().to_string());
                for file in values {
                    args.extend(["--values".to_owned(), file.display().to_string()]);
                }
                for (flag, pairs) in [
                    ("--set", set),
                    ("--set-string", set_string),
                    ("--set-file", set_file),
                ] {
                    for pair in pairs {
                        args.extend([flag.to_owned(), pair.clone()]);
                    }
                }
                if let Some(namespace) = namespace {
                    args.extend(["--namespace".to_owned(), namespace.clone()]);
                }
                if *include_crds {
                    args.push("--include-crds".to_owned());
                }
                if !capabilities.kube_version.is_empty() {
                    args.extend([
                        "--kube-version".to_owned(),
                        capabilities.kube_version.clone(),
                    ]);
                }
                if !capabilities.api_versions.is_empty() {
                    args.extend([
                        "--api-versions".to_owned(),
                        capabilities.api_versions.join(","),
                    ]);
                }
                let what = format!("the chart {}", chart.display());
                if !on_path("helm") {
                    return Err(RenderError::Missing {
                        what,
                        missing: "helm is not",
                        install: "install Helm 3 or later, or render the chart yourself: helm template CHART | kvet check -",
                    });
                }
                let text = output("helm", &args)?;
                Ok(Rendered {
                    name: format!("helm template {}", shown(chart)),
                    text,
                    folder: chart.clone(),
                    config_path: chart.join("Chart.yaml"),
                    chart: Some(chart.clone()),
                })
            }
        }
    }
}

/// A folder as a rendered stream is named: without `./` and trailing `/`, so that one folder
/// gets one name (a baseline's entries stay matched however the folder is spelt).
fn shown(folder: &Path) -> String {
    crate::load::discover::clean(folder).display().to_string()
}

fn on_path(program: &str) -> bool {
    find_program(program, None).is_some()
}

/// A program's file in the folders of `search` (the PATH when `None`).
pub(crate) fn find_program(program: &str, search: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    let path = match search {
        Some(p) => p.to_os_string(),
        None => std::env::var_os("PATH")?,
    };
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| std::fs::metadata(candidate).is_ok_and(|m| m.is_file()))
}

fn output(program: &str, args: &[String]) -> Result<String, RenderError> {
    // The served APIs are hundreds: the command is shown with their count.
    let shown: Vec<String> = args
        .iter()
        .enumerate()
        .map(
            |(i, arg)| match i.checked_sub(1).map(|p| args[p].as_str()) {
                Some("--api-versions") => format!("<{} APIs>", arg.split(',').count()),
                _ => arg.clone(),
            },
        )
        .collect();
    let command = format!("{program} {}", shown.join(" "));
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| RenderError::Run {
            tool: program.to_owned(),
            message: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(RenderError::Failed {
            command,
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim_end().to_owned(),
        });
    }
    String::from_utf8(out.stdout).map_err(|_| RenderError::NotText { command })
}

/// The template file a `# Source:` path names in a chart folder: `shop/templates/a.yaml` (the
/// chart's name first) is `CHART/templates/a.yaml`; a subchart's `shop/charts/db/templates/b.yaml`
/// is `CHART/charts/db/templates/b.yaml`.
pub fn template_file(chart: &Path, source: &str) -> Option<PathBuf> {
    let (_, inside) = source.split_once('/')?;
    let file = chart.join(inside);
    file.is_file().then_some(file)
}

/// The files of a chart's templates and its subcharts' (as findings name them: under the
/// chart folder as given).
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
        if in_templates && entry.file_type().is_some_and(|t| t.is_file()) {
            files.push(entry.path().display().to_string());
        }
    }
    files
}

/// Where a JSON pointer's key is written in a Helm template, found by following the pointer's
/// keys down the template's indentation (list indexes count the items written at one
/// indentation). `None` when the template does not spell the path out, as when it comes from
/// an `include` or `toYaml`, or a `range` writes the items.
pub fn locate_in_template(template: &str, pointer: &str) -> Option<Span> {
    let lines: Vec<&str> = template.lines().collect();
    // The line and the indentation of what was matched last, and whether it is a list item.
    let mut at: Option<(usize, usize, bool)> = None;
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        let children = match at {
            None => 0..lines.len(),
            Some((line, indent, is_item)) => block(&lines, line + 1, indent, is_item),
        };
        at = Some(match segment.parse::<usize>() {
            Ok(index) => {
                let (line, indent) = nth_item(&lines, children, index)?;
                (line, indent, true)
            }
            Err(_) => {
                let item = at.filter(|a| a.2).map(|(line, indent, _)| (line, indent));
                let (line, indent) = key_line(&lines, children, &segment, item)?;
                (line, indent, false)
            }
        });
    }
    let (line, indent, _) = at?;
    let text = lines[line];
    let content_end = text.trim_end().chars().count();
    let key_col = text[..indent].chars().count();
    let start = Pos {
        line: line as u32 + 1,
        col: key_col as u32 + 1,
    };
    let end = Pos {
        line: line as u32 + 1,
        col: content_end as u32 + 1,
    };
    Some(Span { start, end })
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

/// The `index`-th list item (`- `) in the block, at the indentation of its first item: the line
/// and the indentation of the item's first key.
fn nth_item(lines: &[&str], block: std::ops::Range<usize>, index: usize) -> Option<(usize, usize)> {
    let mut items =
        block.filter(|&i| lines[i].trim_start().starts_with("- ") || lines[i].trim() == "-");
    let first = items.next()?;
    let indent = indent_of(lines[first]);
    let line = std::iter::once(first)
        .chain(items.filter(|&i| indent_of(lines[i]) == indent))
        .nth(index)?;
    // The item's own content starts after the dash; nested keys are deeper than the dash.
    Some((line, indent))
}

/// The line of `key:` in the block, at the block's shallowest key indentation (a list item's
/// first key after its `- ` counts at the dash's indentation plus two).
fn key_line(
    lines: &[&str],
    block: std::ops::Range<usize>,
    key: &str,
    item: Option<(usize, usize)>,
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
    candidates
        .into_iter()
        .filter(|&(_, indent)| indent == shallowest)
        .find(is_key)
}

/// Moves diagnostics on a rendered chart to the template each object came from, where the
/// offending key can be found there and the template's line agrees with the rendered one;
/// returns the templates' texts by file name (for snippets).
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
        let (Some(chart), Some(source), Some(pointer), Some(object)) =
            (&stream.chart, &d.source_template, &d.pointer, &d.object)
        else {
            continue;
        };
        let Some(file) = template_file(chart, source) else {
            continue;
        };
        let name = file.display().to_string();
        let text = match texts.iter().find(|(n, _)| *n == name) {
            Some((_, text)) => text.clone(),
            None => match std::fs::read_to_string(&file) {
                Ok(text) => {
                    texts.push((name.clone(), text.clone()));
                    text
                }
                Err(_) => continue,
            },
        };
        let objects = &loaded[index]
            .get_or_insert_with(|| crate::load::load_text(&stream.text))
            .objects;
        // Which of the template's objects of this kind it is, in rendering order.
        let from_template = |o: &&crate::load::object::Object| {
            o.source_template.as_deref() == Some(source) && o.id.kind == object.kind
        };
        let Some((ordinal, rendered)) =
            objects
                .iter()
                .filter(from_template)
                .enumerate()
                .find(|(_, o)| {
                    o.id == *object
                        && o.root.span.start.line <= d.line
                        && d.line <= o.root.span.end.line
                })
        else {
            continue;
        };
        // A finding on a key the object lacks is placed on the nearest key it has.
        let mut present = pointer.as_str();
        while !present.is_empty() && !rendered.root.locate(present).exact {
            present = present.rsplit_once('/').map_or("", |(parent, _)| parent);
        }
        if present.is_empty() {
            continue;
        }
        // The template is searched for keys: compare with the key's rendered line.
        let rendered_line = rendered.root.locate_key(present).span.start.line;
        let Some((offset, document)) = template_document(&text, &object.kind, ordinal) else {
            continue;
        };
        let Some(span) = locate_in_template(&document, present) else {
            continue;
        };
        let rendered_line = stream
            .text
            .lines()
            .nth(rendered_line as usize - 1)
            .unwrap_or("");
        let template_line = document
            .lines()
            .nth(span.start.line as usize - 1)
            .unwrap_or("");
        if !agrees(template_line, rendered_line) {
            continue;
        }
        d.file = name;
        d.line = span.start.line + offset;
        d.column = span.start.col;
        d.end_line = span.end.line + offset;
        d.end_column = span.end.col;
    }
    texts
}

/// The document of a template that renders the `ordinal`-th object of `kind` it renders, and
/// the number of lines before it: the documents that name the kind literally, in order (one
/// document that a `range` renders many times stands for them all); all documents when none
/// names it.
fn template_document(template: &str, kind: &str, ordinal: usize) -> Option<(u32, String)> {
    let mut documents: Vec<(u32, String)> = vec![(0, String::new())];
    for (i, line) in template.lines().enumerate() {
        if line.trim_end() == "---" || line.starts_with("--- ") {
            documents.push((i as u32 + 1, String::new()));
        } else if let Some((_, text)) = documents.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    let names_kind = |text: &str| {
        text.lines().any(|l| {
            l.trim()
                .strip_prefix("kind:")
                .is_some_and(|k| k.trim().trim_matches(['"', '\'']) == kind)
        })
    };
    let mut candidates: Vec<(u32, String)> = documents
        .iter()
        .filter(|(_, t)| names_kind(t))
        .cloned()
        .collect();
    if candidates.is_empty() {
        candidates = documents
            .into_iter()
            .filter(|(_, t)| !t.trim().is_empty())
            .collect();
    }
    match candidates.len() {
        1 => candidates.pop(),
        _ => candidates.into_iter().nth(ordinal),
    }
}

/// Whether a template line can be the one that rendered a line: the same text, or text with a
/// template action in it (what the action writes is not known here).
fn agrees(template_line: &str, rendered_line: &str) -> bool {
    let content = |line: &str| {
        let mut rest = line.trim();
        while let Some(after) = rest.strip_prefix("- ") {
            rest = after.trim_start();
        }
        rest.to_owned()
    };
    let template = content(template_line);
    template.contains("{{") || template == content(rendered_line)
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
        locate_in_template(TEMPLATE, pointer).map(|s| (s.start.line, s.start.col))
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
            if let Some(span) = locate_in_template(&template, &pointer) {
                proptest::prop_assert!(span.start.line as usize <= template.lines().count());
            }
        }
    }

    #[test]
    fn only_the_document_that_renders_the_object_is_searched_and_its_line_must_agree() {
        let template = "kind: Service\nspec:\n  a: 1\n---\nkind: Pod\nspec:\n  a: 2\n";
        let offset = |kind, ordinal| template_document(template, kind, ordinal).map(|(o, _)| o);
        assert_eq!(offset("Service", 0), Some(0));
        assert_eq!(offset("Pod", 0), Some(4));
        // One document that a `range` renders several times.
        assert_eq!(offset("Pod", 2), Some(4));
        assert!(agrees(
            "  image: \"{{ .Values.image }}\"",
            "  image: nginx:latest"
        ));
        assert!(agrees("    - name: web", "  - name: web"));
        // An item an `if` left out of the output: not the rendered one.
        assert!(!agrees("    - name: sidecar", "    - name: web"));
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
