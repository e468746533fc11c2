//! Helm releases rendered by `helm template` (kustomizations are rendered in `repo::render`),
//! for the cluster kvet checks against.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::load::spans::Span;

/// A Helm release to render: `helm template RELEASE CHART --namespace NS --values F...`.
#[derive(Debug, Clone, Default)]
pub struct HelmRelease {
    pub chart: PathBuf,
    /// The release's name; the chart's name when `None`.
    pub name: Option<String>,
    /// The release's namespace (helm's `--namespace`): what `.Release.Namespace` is. When
    /// `None` the namespace is left to whoever installs the release.
    pub namespace: Option<String>,
    pub values: Vec<PathBuf>,
    /// `--set`, `--set-string` and `--set-file` pairs, as helm takes them.
    pub set: Vec<String>,
    pub set_string: Vec<String>,
    pub set_file: Vec<String>,
    /// Render the chart's `crds/` too.
    pub include_crds: bool,
    /// The Argo CD Application (`namespace/name`) that deploys the release, if one does.
    pub application: Option<String>,
    /// Editors' unsaved buffers: when one is of a file of the chart or a values file, the
    /// release is rendered from a copy with it in place.
    pub buffers: super::buffers::Buffers,
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
    #[error("cannot render {dir}: it has no Chart.yaml")]
    NoChart { dir: String },
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

/// Why a release was not rendered.
#[derive(Debug)]
pub enum HelmFailure {
    /// helm could not be run at all.
    Tool(RenderError),
    /// The chart needs what is not in the repository (a dependency `helm dependency build`
    /// would fetch): on the file and line that asks for it.
    NotRendered(Located),
    /// The release's values do not match the chart's `values.schema.json` (helm would refuse
    /// to render): each error on the values file and line that set the value.
    InvalidValues(Vec<Located>),
    /// helm rendered nothing: a template error, output that is not YAML, an invalid
    /// `Chart.yaml`, on the file and line it concerns.
    Failed(Located),
}

/// A message on a line of a chart's file.
#[derive(Debug)]
pub struct Located {
    pub file: PathBuf,
    pub span: Span,
    pub message: String,
}

/// A rendered stream.
#[derive(Debug)]
pub struct Rendered {
    /// How diagnostics name it until they are placed: `helm template RELEASE CHART`.
    pub name: String,
    pub text: String,
    /// The chart's folder.
    pub folder: PathBuf,
    /// The path config overrides match the stream as: `CHART/Chart.yaml`.
    pub config_path: PathBuf,
    /// The chart folder, for mapping `# Source:` templates back to files.
    pub chart: Option<PathBuf>,
    /// Lines of `text` where the release's namespace was written while the release has none
    /// of its own: what is there is left to whoever installs it, whatever helm filled in.
    pub release_namespace_lines: Vec<u32>,
    /// What was rendered.
    pub release: HelmRelease,
    /// What helm warned of while it rendered (values it could not merge).
    pub warnings: Vec<String>,
}

impl HelmRelease {
    /// A copy of the chart and the release's values files with the editor's buffers in place,
    /// when one of them has a buffer.
    fn buffered_copy(&self) -> std::io::Result<Option<super::buffers::Mirror>> {
        let chart = crate::repo::identity(&self.chart);
        let values: Vec<PathBuf> = self
            .values
            .iter()
            .map(|v| crate::repo::identity(v))
            .collect();
        if !self.buffers.any_under(&chart, values.iter()) {
            return Ok(None);
        }
        // Linked templates are copied where the link is, as helm reads them.
        let mut files: std::collections::BTreeSet<PathBuf> = ignore::WalkBuilder::new(&chart)
            .standard_filters(false)
            .follow_links(true)
            .filter_entry(|e| e.file_name() != ".git")
            .build()
            .flatten()
            .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
            .map(|e| e.into_path())
            .collect();
        files.extend(values);
        let folders = files.iter().filter_map(|f| f.parent());
        let base = super::buffers::common_folder(folders).unwrap_or_else(|| PathBuf::from("/"));
        self.buffers.mirror(&base, &files, &[]).map(Some)
    }

    /// Whether `value` is written in the release's values: the chart's `values.yaml`, the
    /// release's values files, its `--set` pairs.
    pub fn values_hold(&self, value: &str) -> bool {
        let files = std::iter::once(self.chart.join("values.yaml")).chain(self.values.clone());
        files
            .filter_map(|f| self.buffers.read_text(&f).ok())
            .chain(self.set.iter().chain(&self.set_string).cloned())
            .any(|text| text.contains(value))
    }
}

/// What helm is given as the namespace of a release that has none, and replaced by helm's own
/// `default` in its output: as long as `default`, so columns stay, and a valid namespace that
/// no chart writes. Where it was written is where the release's namespace goes.
const RELEASE_NAMESPACE_STAND_IN: &str = "kvet0ns";

impl HelmRelease {
    /// The name of the release: its own, else its chart's (`name:` of `Chart.yaml`, else the
    /// folder's name).
    pub fn release_name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        crate::load::read_file_text(self.chart.join("Chart.yaml"))
            .ok()
            .and_then(|text| {
                let parsed = crate::load::yaml::parse(&text);
                let doc = parsed.documents.into_iter().next()?;
                doc.root.get("name")?.as_str().map(str::to_owned)
            })
            .or_else(|| {
                let dir = std::fs::canonicalize(&self.chart).ok()?;
                Some(dir.file_name()?.to_string_lossy().into_owned())
            })
            .map(|name| release_name_of(&name))
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "release".to_owned())
    }

    /// How the release's stream is named: `helm template RELEASE CHART`.
    pub fn stream_name(&self) -> String {
        let name = format!(
            "helm template {} {}",
            self.release_name(),
            shown(&self.chart)
        );
        // Two Applications may release a chart under one name: their streams are two.
        match &self.application {
            Some(app) => format!("{name} (Application {app})"),
            None => name,
        }
    }

    /// `helm template` with the release's settings, for the cluster `capabilities` describes;
    /// a release without a namespace is given the stand-in when `stand_in`.
    fn args(&self, capabilities: &Capabilities, debug: bool, stand_in: bool) -> Vec<String> {
        // Every option as `--flag=value` and the release and chart after `--`: nothing a
        // repository writes (a release name `--output-dir=/`, a value file `-x`) is an option.
        let mut args = vec!["template".to_owned()];
        for file in &self.values {
            args.push(format!("--values={}", file.display()));
        }
        for (flag, pairs) in [
            ("--set", &self.set),
            ("--set-string", &self.set_string),
            ("--set-file", &self.set_file),
        ] {
            for pair in pairs {
                args.push(format!("{flag}={pair}"));
            }
        }
        let namespace = match &self.namespace {
            Some(namespace) => Some(namespace.as_str()),
            None => stand_in.then_some(RELEASE_NAMESPACE_STAND_IN),
        };
        if let Some(namespace) = namespace {
            args.push(format!("--namespace={namespace}"));
        }
        if self.include_crds {
            args.push("--include-crds".to_owned());
        }
        if !capabilities.kube_version.is_empty() {
            args.push(format!("--kube-version={}", capabilities.kube_version));
        }
        if !capabilities.api_versions.is_empty() {
            args.push(format!(
                "--api-versions={}",
                capabilities.api_versions.join(",")
            ));
        }
        if debug {
            args.push("--debug".to_owned());
        }
        args.extend([
            "--".to_owned(),
            self.release_name(),
            self.chart.display().to_string(),
        ]);
        args
    }

    /// Why helm could not be given this release as it is: a release name helm refuses, or a
    /// value file or set pair helm would split at a comma into something else.
    fn unsafe_argument(&self) -> Option<String> {
        let name = self.release_name();
        if !valid_release_name(&name) {
            return Some(format!(
                "`{name}` is not a valid release name (lower case letters, digits, `-` and `.`, at most 53)"
            ));
        }
        let files = self.values.iter().map(|f| f.display().to_string());
        if let Some(file) = files.into_iter().find(|f| f.contains(',')) {
            return Some(format!(
                "the value file `{file}` has a comma, which helm splits at"
            ));
        }
        let pairs = self
            .set
            .iter()
            .chain(&self.set_string)
            .chain(&self.set_file);
        for pair in pairs {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let file_with_comma = self.set_file.contains(pair) && value.contains(',');
            if key.is_empty() || key.contains([',', '=']) || file_with_comma {
                return Some(format!(
                    "`{pair}` is not a key=value pair helm reads as one"
                ));
            }
        }
        None
    }

    /// Renders the release with the `helm` found in `search` (the PATH when `None`).
    pub fn run(
        &self,
        capabilities: &Capabilities,
        search: Option<&std::ffi::OsStr>,
    ) -> Result<Rendered, HelmFailure> {
        // A chart folder, or a packaged chart.
        if !self.chart.join("Chart.yaml").is_file() && !self.chart.is_file() {
            return Err(HelmFailure::Tool(RenderError::NoChart {
                dir: self.chart.display().to_string(),
            }));
        }
        if let Some(why) = self.unsafe_argument() {
            return Err(HelmFailure::Failed(Located {
                file: chart_file(&self.chart),
                span: Span::FIRST_CHAR,
                message: why,
            }));
        }
        let invalid = super::chart_values::check(self);
        if !invalid.is_empty() {
            return Err(HelmFailure::InvalidValues(invalid));
        }
        let Some(helm) = find_program("helm", search) else {
            return Err(HelmFailure::Tool(RenderError::Missing {
                what: format!("the chart {}", self.chart.display()),
                missing: "helm is not",
                install: "install Helm 3 or later, or render the chart yourself: helm template CHART | kvet check -",
            }));
        };
        // An editor's buffer goes into a copy of the chart, never into the user's files.
        let copy = self.buffered_copy().map_err(|e| {
            HelmFailure::Tool(RenderError::Run {
                tool: "helm".to_owned(),
                message: format!("cannot copy the chart to render the editor's buffers: {e}"),
            })
        })?;
        let target = match &copy {
            Some(mirror) => HelmRelease {
                chart: mirror.place(&crate::repo::identity(&self.chart)),
                values: self
                    .values
                    .iter()
                    .map(|v| mirror.place(&crate::repo::identity(v)))
                    .collect(),
                ..self.clone()
            },
            None => self.clone(),
        };
        let restore = |text: String| match &copy {
            Some(mirror) => mirror.restore(&text),
            None => text,
        };
        let render =
            |stand_in: bool| match output(&helm, &target.args(capabilities, false, stand_in)) {
                Ok(text) => Ok(text),
                Err(RenderError::Failed { stderr, .. }) => {
                    Err(super::helm_error::locate(self, &restore(stderr), || {
                        run_for_output(&helm, &target.args(capabilities, true, stand_in))
                            .map(restore)
                    }))
                }
                Err(e) => Err(HelmFailure::Tool(e)),
            };
        let (text, warnings) = render(true)?;
        let (text, release_namespace_lines) = match &self.namespace {
            Some(_) => (text, Vec::new()),
            None => {
                let (restored, lines) = restore_default_namespace(&text);
                if duplicates(&restored) > duplicates(&text) {
                    // The chart tells its namespace from `default` (it lists both, then drops
                    // repeats): rendered as helm renders it without one, the same lines marked.
                    let (plain, _) = render(false)?;
                    let marked = same_lines(&restored, &lines, &plain);
                    (plain, marked)
                } else {
                    (restored, lines)
                }
            }
        };
        Ok(Rendered {
            name: self.stream_name(),
            text,
            folder: self.chart.clone(),
            config_path: chart_file(&self.chart),
            chart: Some(self.chart.clone()),
            release_namespace_lines,
            release: self.clone(),
            warnings,
        })
    }
}

/// helm's output with the stand-in namespace back to what helm writes without one (`default`),
/// and the lines it was on.
fn restore_default_namespace(text: &str) -> (String, Vec<u32>) {
    let lines = text
        .lines()
        .enumerate()
        .filter(|(_, line)| line.contains(RELEASE_NAMESPACE_STAND_IN))
        .map(|(i, _)| i as u32 + 1)
        .collect();
    (text.replace(RELEASE_NAMESPACE_STAND_IN, "default"), lines)
}

/// A chart's name as a release name: lower case, other characters `-`, no `-` at the ends.
fn release_name_of(chart: &str) -> String {
    let name: String = chart
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-' | '.') => c,
            _ => '-',
        })
        .take(53)
        .collect();
    name.trim_matches(['-', '.']).to_owned()
}

/// Whether helm takes `name` as a release name: a DNS subdomain of at most 53 characters.
fn valid_release_name(name: &str) -> bool {
    name.len() <= 53
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// How many objects of a rendered stream repeat one before them (kind, namespace, name).
fn duplicates(text: &str) -> usize {
    let objects = crate::load::load_text(text).objects;
    let mut seen = std::collections::HashSet::new();
    objects.iter().filter(|o| !seen.insert(&o.id)).count()
}

/// The lines of `other` that are, as text, among the `lines` of `text`.
fn same_lines(text: &str, lines: &[u32], other: &str) -> Vec<u32> {
    let all: Vec<&str> = text.lines().collect();
    let marked: std::collections::HashSet<&str> = lines
        .iter()
        .filter_map(|&l| all.get(l as usize - 1).copied())
        .collect();
    other
        .lines()
        .enumerate()
        .filter(|(_, line)| marked.contains(line))
        .map(|(i, _)| i as u32 + 1)
        .collect()
}

/// What a failing command printed on stdout (helm's `--debug` prints the invalid output there).
fn run_for_output(program: &Path, args: &[String]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    String::from_utf8(out.stdout).ok()
}

/// A folder as a rendered stream is named: without `./` and trailing `/`, so that one folder
/// gets one name (a baseline's entries stay matched however the folder is spelt).
fn shown(folder: &Path) -> String {
    crate::load::discover::clean(folder).display().to_string()
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

/// The warnings of a render tool that succeeded, one per line of what it printed on stderr,
/// without repeats and without what only says where the tool's code logged it: kustomize's
/// `# Warning: ...`, helm 3's `coalesce.go:286: warning: ...`, helm 4's structured
/// `level=WARN msg="..." key=value` (of which `level=INFO` and `DEBUG` lines are left out).
/// What concerns the machine rather than the input (helm's `Kubernetes configuration file is
/// group-readable`) is left out too.
pub fn warnings(stderr: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in stderr.lines() {
        let Some(line) = warning_of(line.trim()) else {
            continue;
        };
        let about_the_machine = line.contains("Kubernetes configuration file is");
        if !line.is_empty() && !about_the_machine && !out.contains(&line) {
            out.push(line);
        }
    }
    out
}

/// What one line of a tool's stderr warns of; `None` for a structured log line below WARN.
fn warning_of(line: &str) -> Option<String> {
    if let Some(rest) = line.strip_prefix("level=") {
        let (level, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        if !matches!(level, "WARN" | "WARNING" | "ERROR") {
            return None;
        }
        let rest = rest.trim_start();
        let (message, attributes) = match rest.strip_prefix("msg=\"") {
            Some(quoted) => match quoted.find('"') {
                Some(end) => (&quoted[..end], quoted[end + 1..].trim()),
                None => (quoted, ""),
            },
            None => (rest.strip_prefix("msg=").unwrap_or(rest), ""),
        };
        return Some(match attributes {
            "" => message.to_owned(),
            attributes => format!("{message} ({attributes})"),
        });
    }
    let mut line = line.trim_start_matches('#').trim_start();
    // kubectl's klog header, `I1202 07:26:21.284917   19969 log.go:245] `: a time and a
    // process id would make the output differ from run to run.
    if let Some((header, rest)) = line.split_once("] ")
        && header.starts_with(['I', 'W', 'E'])
        && header
            .split_whitespace()
            .last()
            .is_some_and(|p| p.contains(".go:"))
        && header[1..].starts_with(|c: char| c.is_ascii_digit())
    {
        line = rest;
    }
    // `walk.go:74: ` — where in the tool's code the message was written.
    if let Some((place, rest)) = line.split_once(": ")
        && let Some((file, number)) = place.rsplit_once(':')
        && file.ends_with(".go")
        && number.chars().all(|c| c.is_ascii_digit())
    {
        line = rest;
    }
    let line = ["Warning:", "WARNING:", "warning:"]
        .iter()
        .find_map(|prefix| line.strip_prefix(prefix))
        .unwrap_or(line);
    Some(line.trim().to_owned())
}

fn output(program: &Path, args: &[String]) -> Result<(String, Vec<String>), RenderError> {
    // The served APIs are hundreds: the command is shown with their count.
    let shown: Vec<String> = args
        .iter()
        .enumerate()
        .map(|(i, arg)| {
            match (
                i.checked_sub(1).map(|p| args[p].as_str()),
                arg.strip_prefix("--api-versions="),
            ) {
                (_, Some(apis)) => format!("--api-versions=<{} APIs>", apis.split(',').count()),
                (Some("--api-versions"), _) => format!("<{} APIs>", arg.split(',').count()),
                _ => arg.clone(),
            }
        })
        .collect();
    let tool = program.file_name().map_or_else(
        || program.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let command = format!("{tool} {}", shown.join(" "));
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| RenderError::Run {
            tool: tool.clone(),
            message: e.to_string(),
        })?;
    if !out.status.success() {
        return Err(RenderError::Failed {
            command,
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim_end().to_owned(),
        });
    }
    let text = String::from_utf8(out.stdout).map_err(|_| RenderError::NotText { command })?;
    Ok((text, warnings(&String::from_utf8_lossy(&out.stderr))))
}

pub use super::template_map::{template_file, template_files};

/// The file that stands for a chart: its `Chart.yaml`, or the packaged chart itself.
pub fn chart_file(chart: &Path) -> PathBuf {
    if chart.is_file() {
        chart.to_path_buf()
    } else {
        chart.join("Chart.yaml")
    }
}

#[cfg(test)]
mod tests {
    use super::warnings;

    #[test]
    fn render_tools_warnings_are_read_without_where_they_were_logged() {
        let kustomize = "# Warning: 'commonLabels' is deprecated. Please use 'labels' instead.\n";
        assert_eq!(
            warnings(kustomize),
            ["'commonLabels' is deprecated. Please use 'labels' instead."]
        );
        let helm3 = "coalesce.go:286: warning: cannot overwrite table with non table for sub.config (map[level:1])\nWARNING: Kubernetes configuration file is group-readable. This is insecure. Location: /home/u/.kube/config\n";
        assert_eq!(
            warnings(helm3),
            ["cannot overwrite table with non table for sub.config (map[level:1])"]
        );
        let helm4 = "level=INFO msg=\"found symbolic link in path\" path=/c/link.yaml\nlevel=WARN msg=\"skipped value for sub.config: Not a table.\" chart=app\nlevel=WARN msg=\"skipped value for sub.config: Not a table.\" chart=app\n";
        assert_eq!(
            warnings(helm4),
            ["skipped value for sub.config: Not a table. (chart=app)"]
        );
        let kubectl = "I1202 07:26:21.284917   19969 log.go:245] well-defined vars that were never replaced: BEE_ACTION\n";
        assert_eq!(
            warnings(kubectl),
            ["well-defined vars that were never replaced: BEE_ACTION"]
        );
        assert!(warnings("\n  \n").is_empty());
    }
}
