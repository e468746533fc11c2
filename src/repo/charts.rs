//! The charts of the input as render roots: which charts are released, and how.
//!
//! A folder with a `Chart.yaml` found in the walk is a chart; one that another chart vendors
//! (`CHART/charts/NAME`) or that a kustomization renders from its chart home
//! (`DIR/charts/NAME`) is rendered by them, not on its own. A file named on the command line
//! inside a chart (a template, `values.yaml`) leads to the chart, and only findings in the named
//! files are reported then. Each chart is released once, named after itself with its namespace
//! left to whoever installs it, unless the config's `charts` entries say how: once per entry.

use std::path::{Path, PathBuf};

use std::collections::HashSet;

use super::plan::{PlanProblem, in_parallel};
use super::{identity, kustomization};
use crate::config::Config;
use crate::diag::Diagnostic;
use crate::load::discover::Input;
use crate::load::render::{Capabilities, HelmFailure, HelmRelease, RenderError, Rendered};
use crate::load::spans::Span;
use crate::load::template_map::{map_to_templates, template_line_of};

/// A release to render and check.
#[derive(Debug)]
pub struct ChartRoot {
    pub release: HelmRelease,
    /// False when only files named on the command line led to the chart: then only findings
    /// in those files are reported.
    pub report_all: bool,
    /// Asked for with `--helm`: without helm the run cannot do what it was asked.
    pub explicit: bool,
}

/// The releases of the input: those of `--helm` (`explicit`), then, when `render`, those the
/// Applications of the input deploy (`deployed`), then those of the charts in the folders
/// given and of the charts that hold files given — unless an Application deploys them.
pub fn roots(
    inputs: &[Input],
    paths: &[String],
    config: &Config,
    explicit: &[HelmRelease],
    deployed: &super::applications::Deployed,
    buffer: Option<&Path>,
    render: bool,
) -> Vec<ChartRoot> {
    let mut roots: Vec<ChartRoot> = explicit
        .iter()
        .map(|release| ChartRoot {
            release: release.clone(),
            report_all: true,
            explicit: true,
        })
        .collect();
    if !render {
        return roots;
    }
    roots.extend(
        deployed
            .releases
            .iter()
            .zip(&deployed.partial)
            .map(|(release, partial)| ChartRoot {
                release: release.clone(),
                report_all: !partial,
                explicit: false,
            }),
    );
    let named: Vec<&Path> = paths
        .iter()
        .map(Path::new)
        .filter(|p| p.is_file())
        .collect();
    // (chart folder as shown, identity, whether every finding is reported)
    let mut charts: Vec<(PathBuf, PathBuf, bool)> = Vec::new();
    let mut add = |shown: PathBuf, report_all: bool| {
        let id = identity(&shown);
        match charts.iter_mut().find(|(_, known, _)| *known == id) {
            Some(chart) => chart.2 |= report_all,
            None => charts.push((shown, id, report_all)),
        }
    };
    for input in inputs {
        let Input::File(file) = input else { continue };
        let in_folder = !named.iter().any(|n| identity(n) == file.identity);
        if in_folder && file.path.file_name().is_some_and(|n| n == "Chart.yaml") {
            let chart = match file.path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
                _ => PathBuf::from("."),
            };
            if !is_vendored(&identity(&chart)) {
                add(chart, true);
            }
        } else if !in_folder && let Some(chart) = chart_of(&file.path) {
            add(chart, false);
        }
    }
    // An editor's buffer of a chart's file: the chart (rendered with the buffer in place).
    if let Some(chart) = buffer.and_then(chart_of) {
        add(chart, false);
    }
    // A values file of a configured release, named on its own.
    for file in &named {
        let id = identity(file);
        for entry in &config.charts {
            if entry
                .as_written
                .values
                .iter()
                .any(|v| identity(&config.root.join(v)) == id)
            {
                add(shown(&config.root.join(&entry.as_written.chart)), false);
            }
        }
    }
    for (chart, id, report_all) in charts {
        // Released by --helm or by an Application: not again as the chart alone.
        let released = |r: &ChartRoot| r.explicit || r.release.application.is_some();
        if roots
            .iter()
            .any(|r| released(r) && identity(&r.release.chart) == id)
        {
            continue;
        }
        let entries: Vec<_> = config
            .charts
            .iter()
            .filter(|entry| identity(&config.root.join(&entry.as_written.chart)) == id)
            .collect();
        let releases = if entries.is_empty() {
            vec![HelmRelease {
                chart: chart.clone(),
                ..HelmRelease::default()
            }]
        } else {
            entries
                .iter()
                .map(|entry| entry.release(&chart, &config.root))
                .collect()
        };
        roots.extend(releases.into_iter().map(|release| ChartRoot {
            release,
            report_all,
            explicit: false,
        }));
    }
    roots
}

/// The releases rendered, and what kept the others from rendering.
#[derive(Default)]
pub struct Releases {
    pub rendered: Vec<Rendered>,
    /// The rendered streams (by name) of which only findings in files named on the command
    /// line are reported.
    pub partial: HashSet<String>,
    pub problems: Vec<PlanProblem>,
}

impl Releases {
    /// Drops `default-namespace` findings on the namespaces a release without one of its own
    /// wrote: helm fills in `default` there, but the namespace is whoever installs it's choice.
    pub fn drop_release_namespace_findings(&self, diagnostics: &mut Vec<Diagnostic>) {
        diagnostics.retain(|d| {
            d.rule != "default-namespace"
                || !self
                    .rendered
                    .iter()
                    .any(|r| r.name == d.file && r.release_namespace_lines.contains(&d.line))
        });
    }

    /// Drops `secret-literal-values` findings whose every value the template computes (a
    /// `{{ randAlphaNum 16 | b64enc }}`, a `genSignedCert`, a helper that makes a password up):
    /// values that are nowhere in Git. A value read from `.Values`, written as a quoted literal
    /// in the action, or found in the release's values is in Git and stays reported.
    pub fn drop_generated_secret_findings(&self, diagnostics: &mut Vec<Diagnostic>) {
        let mut loaded: Vec<Option<crate::load::Loaded>> =
            self.rendered.iter().map(|_| None).collect();
        diagnostics.retain(|d| {
            if d.rule != "secret-literal-values" {
                return true;
            }
            let Some(index) = self.rendered.iter().position(|r| r.name == d.file) else {
                return true;
            };
            let stream = &self.rendered[index];
            let objects = &loaded[index]
                .get_or_insert_with(|| crate::load::load_text(&stream.text))
                .objects;
            !generated_secret(d, stream, objects)
        });
    }

    /// Moves findings on rendered releases to the chart files that wrote them, and keeps of
    /// the releases reached only through named files (`named`, identities) the findings in
    /// those files; returns the texts of the files findings were moved to.
    pub fn place_findings(
        &self,
        diagnostics: &mut Vec<Diagnostic>,
        named: &HashSet<PathBuf>,
        stdin_filename: Option<&str>,
    ) -> Vec<(String, String)> {
        // An editor's buffer counts as named, by the name the editor gave it.
        let buffer = stdin_filename.map(|name| (identity(Path::new(name)), name));
        let mut named = named.clone();
        named.extend(buffer.as_ref().map(|(id, _)| id.clone()));
        let partial: Vec<bool> = diagnostics
            .iter()
            .map(|d| self.partial.contains(&d.file))
            .collect();
        let applications: Vec<Option<String>> = diagnostics
            .iter()
            .map(|d| {
                let stream = self.rendered.iter().find(|r| r.name == d.file)?;
                stream.release.application.clone()
            })
            .collect();
        let texts = map_to_templates(diagnostics, &self.rendered);
        let keep: Vec<bool> = diagnostics
            .iter()
            .zip(&partial)
            .map(|(d, partial)| !partial || named.contains(&identity(Path::new(&d.file))))
            .collect();
        if let Some((id, name)) = &buffer {
            for d in diagnostics.iter_mut() {
                if identity(Path::new(&d.file)) == *id {
                    d.file = (*name).to_owned();
                }
            }
        }
        let applications = applications
            .into_iter()
            .zip(&keep)
            .filter(|(_, keep)| **keep)
            .map(|(app, _)| app)
            .collect();
        let mut index = 0;
        diagnostics.retain(|_| {
            index += 1;
            keep[index - 1]
        });
        name_applications(diagnostics, applications);
        texts
    }
}

/// Says which Applications' renders a finding comes from: one finding for all the
/// Applications that render the same finding on the same template line.
fn name_applications(diagnostics: &mut Vec<Diagnostic>, applications: Vec<Option<String>>) {
    if applications.iter().all(Option::is_none) {
        return;
    }
    type Key = (String, u32, u32, String, String);
    let key = |d: &Diagnostic| -> Key {
        (
            d.file.clone(),
            d.line,
            d.column,
            d.rule.clone(),
            d.message.clone(),
        )
    };
    let mut first: std::collections::HashMap<Key, usize> = std::collections::HashMap::new();
    let mut names: Vec<Vec<String>> = vec![Vec::new(); diagnostics.len()];
    let mut keep = vec![true; diagnostics.len()];
    for (i, (d, app)) in diagnostics.iter().zip(applications).enumerate() {
        let Some(app) = app else { continue };
        let at = *first.entry(key(d)).or_insert(i);
        names[at].push(app);
        keep[i] = at == i;
    }
    for apps in &mut names {
        apps.sort();
        apps.dedup();
    }
    for (d, apps) in diagnostics.iter_mut().zip(&names) {
        match apps.as_slice() {
            [] => {}
            [one] => d
                .message
                .push_str(&format!(" (rendered for Application {one})")),
            many => d
                .message
                .push_str(&format!(" (rendered for Applications {})", many.join(", "))),
        }
    }
    let mut index = 0;
    diagnostics.retain(|_| {
        index += 1;
        keep[index - 1]
    });
}

/// Whether every value a `secret-literal-values` finding names is computed by its template.
fn generated_secret(
    d: &Diagnostic,
    stream: &Rendered,
    objects: &[crate::load::object::Object],
) -> bool {
    let Some(keys) = d
        .message
        .split_once("literal values in Git (")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(keys, _)| keys)
    else {
        return false;
    };
    let Some(object) = objects.iter().find(|o| {
        Some(&o.id) == d.object.as_ref()
            && o.root.span.start.line <= d.line
            && d.line <= o.root.span.end.line
    }) else {
        return false;
    };
    keys.split(", ").all(|key| {
        let escaped = key.replace('~', "~0").replace('/', "~1");
        ["data", "stringData"].iter().any(|field| {
            let pointer = format!("/{field}/{escaped}");
            let Some(value) = object.root.get(field).and_then(|f| f.get(key)) else {
                return false;
            };
            let Some(line) = template_line_of(d, &pointer, stream, objects) else {
                return false;
            };
            let rendered = value.scalar_text().unwrap_or_default();
            let plain = match *field {
                "data" => decode_base64(&rendered).unwrap_or(rendered),
                _ => rendered,
            };
            computed(&line) && (plain.len() < 4 || !stream.release.values_hold(&plain))
        })
    })
}

/// Whether a template line's value is computed by an action that reads neither `.Values` nor a
/// quoted literal: `key: {{ randAlphaNum 16 | b64enc | quote }}`.
fn computed(line: &str) -> bool {
    let Some((_, value)) = line.split_once(':') else {
        return false;
    };
    let Some((_, action)) = value.split_once("{{") else {
        return false;
    };
    let action = action.trim_start_matches('-').trim_start();
    !action.contains(".Values") && !action.starts_with(['"', '`'])
}

/// Standard base64, padded or not; `None` for anything else or text that is not UTF-8.
fn decode_base64(text: &str) -> Option<String> {
    let mut bits: u32 = 0;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.trim().bytes().filter(|&c| c != b'=') {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Renders every release with the `helm` found in `tool_path` (the PATH when `None`), as many
/// at once as there are threads. A release of `--helm` that cannot be rendered for want of
/// helm stops the run; anything else is a problem on the file it concerns.
pub fn render(
    roots: &[ChartRoot],
    capabilities: &Capabilities,
    tool_path: Option<&std::ffi::OsStr>,
    named: &HashSet<PathBuf>,
) -> Result<Releases, RenderError> {
    let results = in_parallel(
        roots,
        |root| match escaping_link(&root.release.chart) {
            Some(link) => Err(HelmFailure::NotRendered(crate::load::render::Located {
                file: crate::load::render::chart_file(&root.release.chart),
                span: Span::FIRST_CHAR,
                message: format!(
                    "the chart {} was not rendered: {} leads through a symbolic link out of the repository, and helm would read what it leads to into the chart",
                    root.release.chart.display(),
                    link.display()
                ),
            })),
            None => root.release.run(capabilities, tool_path),
        },
        |root| crate::load::render::template_files(&root.release.chart).len() as u64,
    );
    let mut releases = Releases::default();
    let mut names = HashSet::new();
    let mut without_helm: Vec<&ChartRoot> = Vec::new();
    for (root, result) in roots.iter().zip(results) {
        // A release of an Application the repository was searched for (pre-commit): what
        // keeps it from rendering is that Application's business, not the named files'.
        let result = match result {
            // An Application the repository was searched for (pre-commit) that does not render
            // for a reason outside the named files: said on the named files of its chart,
            // which were not checked for it.
            Err(failure) if !root.report_all && root.release.application.is_some() => {
                let why = match &failure {
                    HelmFailure::Tool(_) => continue,
                    HelmFailure::NotRendered(at) | HelmFailure::Failed(at) => vec![at],
                    HelmFailure::InvalidValues(errors) => errors.iter().collect(),
                };
                if why.iter().any(|at| named.contains(&identity(&at.file))) {
                    Err(failure)
                } else {
                    let chart = identity(&root.release.chart);
                    let message = why.first().map_or(String::new(), |at| at.message.clone());
                    for file in named.iter().filter(|f| f.starts_with(&chart)) {
                        releases.problems.push(PlanProblem {
                            rule: &crate::rules::HELM_NOT_RENDERED,
                            file: file.clone(),
                            span: Span::FIRST_CHAR,
                            message: format!(
                                "not checked as {} renders it: {message}",
                                root.release.stream_name()
                            ),
                        });
                    }
                    continue;
                }
            }
            result => result,
        };
        match result {
            Ok(mut rendered) => {
                let chart = crate::load::render::chart_file(&rendered.release.chart);
                let warned = rendered.warnings.iter().map(|warning| PlanProblem {
                    rule: &crate::rules::RENDER_WARNING,
                    file: chart.clone(),
                    span: Span::FIRST_CHAR,
                    message: format!("helm ({}): {warning}", rendered.name),
                });
                releases.problems.extend(warned);
                rendered.name = super::unique_name(&mut names, rendered.name);
                if !root.report_all {
                    releases.partial.insert(rendered.name.clone());
                }
                releases.rendered.push(rendered);
            }
            Err(HelmFailure::Tool(error)) if root.explicit => return Err(error),
            Err(HelmFailure::Tool(_)) => without_helm.push(root),
            Err(HelmFailure::InvalidValues(errors)) => {
                releases
                    .problems
                    .extend(errors.into_iter().map(|at| PlanProblem {
                        rule: &crate::rules::HELM_VALUES_SCHEMA,
                        file: at.file,
                        span: at.span,
                        message: at.message,
                    }));
            }
            Err(HelmFailure::NotRendered(at)) => releases.problems.push(PlanProblem {
                rule: &crate::rules::HELM_NOT_RENDERED,
                file: at.file,
                span: at.span,
                message: at.message,
            }),
            Err(HelmFailure::Failed(at)) => releases.problems.push(PlanProblem {
                rule: &crate::rules::HELM_RENDER_FAILED,
                file: at.file,
                span: at.span,
                message: format!(
                    "{} does not render: {}",
                    root.release.stream_name(),
                    at.message
                ),
            }),
        }
    }
    if let Some(first) = without_helm.first() {
        let count = without_helm.len();
        let what = if count == 1 {
            "chart was"
        } else {
            "charts were"
        };
        releases.problems.push(PlanProblem {
            rule: &crate::rules::HELM_NOT_RENDERED,
            file: first.release.chart.join("Chart.yaml"),
            span: Span::FIRST_CHAR,
            message: format!(
                "{count} {what} not rendered: helm is not on the PATH, so what they render was not checked"
            ),
        });
    }
    Ok(releases)
}

/// A symbolic link in a chart that leads out of the repository the chart is in: helm follows
/// links when it loads a chart, so a stranger's chart could read a file of the machine into
/// what kvet prints.
fn escaping_link(chart: &Path) -> Option<PathBuf> {
    if chart.is_file() {
        return None;
    }
    let repository = super::repository_root(&chart.join("Chart.yaml"));
    // Links followed, as helm follows them: a link to a folder of the repository that holds
    // a link out of it leads out too.
    ignore::WalkBuilder::new(chart)
        .standard_filters(false)
        .follow_links(true)
        .build()
        .flatten()
        .map(|entry| entry.into_path())
        .find(|path| std::fs::canonicalize(path).is_ok_and(|real| !real.starts_with(&repository)))
}

/// The apiVersions and kinds the CRDs of the input's files and of the charts' `crds/` folders
/// define (served versions): a cluster Argo CD syncs to has them.
pub fn crd_kinds(inputs: &[Input], charts: &[ChartRoot]) -> Vec<(String, String)> {
    let files = inputs.iter().filter_map(|input| match input {
        Input::File(file) => Some(file.path.clone()),
        Input::Stdin => None,
    });
    let in_charts = charts.iter().flat_map(|root| {
        ignore::WalkBuilder::new(root.release.chart.join("crds"))
            .standard_filters(false)
            .build()
            .flatten()
            .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
            .map(|e| e.into_path())
    });
    let mut kinds = Vec::new();
    for file in files.chain(in_charts) {
        let Ok(text) = crate::load::read_file_text(&file) else {
            continue;
        };
        if !text.contains("CustomResourceDefinition") {
            continue;
        }
        for crd in crate::load::load_text(&text).objects {
            if crd.id.kind != "CustomResourceDefinition" {
                continue;
            }
            let spec = crd.root.get("spec");
            let field = |path: &[&str]| {
                let mut at = spec?;
                for key in path {
                    at = at.get(key)?;
                }
                at.as_str().map(str::to_owned)
            };
            let (Some(group), Some(kind)) = (field(&["group"]), field(&["names", "kind"])) else {
                continue;
            };
            let versions = spec
                .and_then(|s| s.get("versions"))
                .and_then(|v| v.as_seq());
            for version in versions.unwrap_or_default() {
                let served = version.get("served").and_then(|s| s.scalar_text());
                if let (Some(name), false) = (
                    version.get("name").and_then(|n| n.as_str()),
                    served.as_deref() == Some("false"),
                ) {
                    kinds.push((format!("{group}/{name}"), kind.clone()));
                }
            }
        }
    }
    kinds
}

/// Whether a chart folder is rendered by what holds it: a chart's subchart
/// (`CHART/charts/NAME`) or a chart a kustomization renders from its chart home.
fn is_vendored(chart: &Path) -> bool {
    let Some(holder) = chart
        .parent()
        .filter(|p| p.file_name().is_some_and(|n| n == "charts"))
        .and_then(Path::parent)
    else {
        return false;
    };
    holder.join("Chart.yaml").is_file() || kustomization::file_in(holder).is_some()
}

/// The chart a file of the command line belongs to: the nearest folder above it with a
/// `Chart.yaml`, or the chart that vendors that one. `None` outside charts, and for charts a
/// kustomization renders.
pub(crate) fn chart_of(file: &Path) -> Option<PathBuf> {
    let id = identity(file);
    let mut chart = id
        .ancestors()
        .skip(1)
        .find(|dir| dir.join("Chart.yaml").is_file())?
        .to_path_buf();
    while is_vendored(&chart) {
        let holder = chart.parent()?.parent()?.to_path_buf();
        if !holder.join("Chart.yaml").is_file() {
            return None;
        }
        chart = holder;
    }
    Some(shown(&chart))
}

/// A path as the user would write it: relative to the current folder when it is under it.
pub(super) fn shown(dir: &Path) -> PathBuf {
    let id = identity(dir);
    let cwd = std::env::current_dir()
        .ok()
        .map(|d| std::fs::canonicalize(&d).unwrap_or(d));
    match cwd.as_deref().and_then(|cwd| id.strip_prefix(cwd).ok()) {
        Some(relative) if relative.as_os_str().is_empty() => PathBuf::from("."),
        Some(relative) => relative.to_path_buf(),
        None => id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn testdata(path: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata")
            .join(path)
    }

    #[test]
    fn computed_values_are_told_from_values_and_literals() {
        assert!(computed(
            "  password: {{ randAlphaNum 16 | b64enc | quote }}"
        ));
        assert!(computed("  tls.key: {{- $cert.Key | b64enc }}"));
        assert!(!computed("  password: {{ .Values.password | b64enc }}"));
        assert!(!computed("  password: {{ \"hunter22\" | b64enc }}"));
        assert!(!computed("  password: hunter22"));
        assert_eq!(decode_base64("aHVudGVyMjI=").as_deref(), Some("hunter22"));
        assert_eq!(decode_base64("not base64!"), None);
    }

    #[test]
    fn a_subchart_is_rendered_by_the_chart_that_vendors_it() {
        assert!(is_vendored(&testdata("render/shop/charts/cache")));
        assert!(!is_vendored(&testdata("render/shop")));
        let template = testdata("render/shop/charts/cache/templates/deployment.yaml");
        assert_eq!(
            chart_of(&template).map(|c| identity(&c)),
            Some(identity(&testdata("render/shop")))
        );
        assert_eq!(chart_of(&testdata("render/prod-values.yaml")), None);
    }
}
