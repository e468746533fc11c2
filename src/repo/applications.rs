//! Argo CD Applications of the input, and the Helm releases they deploy from this repository.
//!
//! An `Application` source whose `repoURL` is this repository (one of the Git remotes of the
//! repository the Application's file is in, or the config's `repository`) and whose `path` is
//! a chart is released as Argo CD releases it: `helm.releaseName` (else the Application's
//! name), the destination's namespace, `valueFiles` (relative to the chart, or `$ref/…` to the
//! path of the source with that `ref`), `values`/`valuesObject`, `parameters`,
//! `fileParameters`, and the chart's CRDs unless `skipCrds`. A chart from a Helm or OCI
//! repository cannot be rendered offline: one info on its `repoURL` says so. Kustomize and
//! directory sources of this repository are its kustomizations and files, checked anyway.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::charts::shown;
use super::identity;
use super::kustomization::{self, Kustomization};
use super::plan::PlanProblem;
use crate::load::discover::Input;
use crate::load::object::Object;
use crate::load::render::HelmRelease;
use crate::load::yaml::{Entry, Node, Value};

/// What the Applications of the input deploy from this repository.
#[derive(Default)]
pub struct Deployed {
    pub releases: Vec<HelmRelease>,
    /// For each release: whether only what it does to files named alone is reported (its
    /// Application was found by searching the repository, not in the input).
    pub partial: Vec<bool>,
    /// For each kustomize source: the layer the Application adds over the kustomization.
    pub layers: Vec<Kustomization>,
    /// Directory sources: their files as one stream.
    pub directories: Vec<super::directories::DirectoryRelease>,
    pub problems: Vec<PlanProblem>,
    /// Inline values, written where helm can read them; deleted when this is dropped.
    pub scratch: Vec<tempfile::NamedTempFile>,
    /// Where each inline values file is written in its Application: (scratch file, (the
    /// Application's file, the span of `values` or `valuesObject`)).
    pub inline_values: Vec<(PathBuf, (PathBuf, crate::load::spans::Span))>,
}

/// The releases of the Applications in the input's files; `repository` is the config's URL of
/// this repository, if it names one. For files named alone (`paths`, as pre-commit names
/// them) in a chart or a kustomization, the Applications that deploy them may be anywhere in
/// the repository: it is searched for them, and only what they do to the named files counts.
/// Files are read from `buffers` where they have one.
pub fn deployed(
    inputs: &[Input],
    paths: &[String],
    repository: Option<&str>,
    buffers: &crate::load::buffers::Buffers,
) -> Deployed {
    let mut out = Deployed::default();
    let mut files: Vec<(PathBuf, bool)> = inputs
        .iter()
        .filter_map(|input| match input {
            Input::File(file) => Some((file.path.clone(), true)),
            Input::Stdin => None,
        })
        .collect();
    let named: Vec<PathBuf> = paths
        .iter()
        .map(Path::new)
        .filter(|p| p.is_file())
        .map(identity)
        .filter(|p| super::charts::chart_of(p).is_some() || super::plan::under_a_kustomization(p))
        .collect();
    let searched: std::collections::BTreeSet<PathBuf> =
        named.iter().map(|f| super::repository_root(f)).collect();
    let known: HashSet<PathBuf> = files.iter().map(|(f, _)| identity(f)).collect();
    for root in searched {
        for entry in ignore::WalkBuilder::new(&root).build().flatten() {
            let path = entry.path();
            let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
            if yaml
                && entry.file_type().is_some_and(|t| t.is_file())
                && !known.contains(&identity(path))
            {
                files.push((path.to_path_buf(), false));
            }
        }
    }
    // Read side by side (the input's large files are read whole a second time here), kept
    // in the files' order.
    let per_file: Vec<Deployed> = files
        .par_iter()
        .map(|(path, _)| {
            let mut one = Deployed::default();
            read_file(path, repository, buffers, &mut one);
            one
        })
        .collect();
    for ((_, whole), one) in files.iter().zip(per_file) {
        out.add(one, *whole, &named);
    }
    let mut names = HashSet::new();
    for directory in &mut out.directories {
        directory.name = super::unique_name(&mut names, std::mem::take(&mut directory.name));
    }
    out
}

/// The Applications of one file.
fn read_file(
    path: &Path,
    repository: Option<&str>,
    buffers: &crate::load::buffers::Buffers,
    out: &mut Deployed,
) {
    {
        let Ok(text) = buffers.read_text(path) else {
            return;
        };
        // Most files are no Application: not parsed twice.
        if !text.contains("Application") || !text.contains("argoproj.io") {
            return;
        }
        let root = super::repository_root(path);
        let mut urls = remotes(&root);
        urls.extend(repository.map(normalize_url));
        for object in crate::load::load_text(&text).objects {
            if !object.id.api_version.starts_with("argoproj.io/") {
                continue;
            }
            let applications = match object.id.kind.as_str() {
                "Application" => vec![App::of(&object)],
                "ApplicationSet" => {
                    let set = super::application_sets::expand(&object, &root, &urls);
                    out.problems
                        .extend(set.problems.into_iter().map(|(span, message)| PlanProblem {
                            rule: &crate::rules::HELM_NOT_RENDERED,
                            file: path.to_path_buf(),
                            span,
                            message,
                        }));
                    set.applications
                }
                _ => Vec::new(),
            };
            for app in &applications {
                application(app, (path, &root), &urls, buffers, out);
            }
        }
    }
}

/// An Application: its own, or one an ApplicationSet generates (whose spans are in the set's
/// template).
pub struct App {
    pub name: String,
    pub namespace: Option<String>,
    pub root: Node,
}

impl Deployed {
    /// Adds what one file's Applications deploy; of a file not in the input (`whole` false),
    /// only what deploys a file of `named`: its chart's release, its kustomization's layer.
    fn add(&mut self, one: Deployed, whole: bool, named: &[PathBuf]) {
        let deploys_named = |dir: &Path| {
            let dir = identity(dir);
            named.iter().any(|f| f.starts_with(&dir))
        };
        let releases: Vec<HelmRelease> = match whole {
            true => one.releases,
            false => one
                .releases
                .into_iter()
                .filter(|r| {
                    deploys_named(&r.chart) || r.values.iter().any(|v| named.contains(&identity(v)))
                })
                .collect(),
        };
        self.partial
            .extend(std::iter::repeat_n(!whole, releases.len()));
        self.releases.extend(releases);
        self.scratch.extend(one.scratch);
        self.inline_values.extend(one.inline_values);
        if whole {
            self.problems.extend(one.problems);
            self.layers.extend(one.layers);
            self.directories.extend(one.directories);
            return;
        }
        self.layers
            .extend(one.layers.into_iter().filter(|k| deploys_named(&k.dir)));
        self.directories.extend(
            one.directories
                .into_iter()
                .filter(|d| deploys_named(&d.dir))
                .map(|d| super::directories::DirectoryRelease { partial: true, ..d }),
        );
    }

    /// A problem found in an inline values file, moved to where the Application writes the
    /// values.
    pub fn place_inline(&self, problem: &mut PlanProblem) {
        let found = self
            .inline_values
            .iter()
            .find(|(scratch, _)| *scratch == problem.file);
        if let Some((_, (file, span))) = found {
            problem.message = format!("{} (in the Application's inline values)", problem.message);
            problem.file = file.clone();
            problem.span = *span;
        }
    }
}

impl App {
    fn of(object: &Object) -> App {
        App {
            name: object.id.name.clone().unwrap_or_default(),
            namespace: object.id.namespace.clone(),
            root: object.root.clone(),
        }
    }
}

/// One Application's sources.
/// One Application's sources; `at` is its file and the repository's root.
fn application(
    app: &App,
    at: (&Path, &Path),
    urls: &[String],
    buffers: &crate::load::buffers::Buffers,
    out: &mut Deployed,
) {
    let (file, root) = at;
    let spec = app.root.get("spec");
    let name = app.name.clone();
    let app_name = match &app.namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.clone(),
    };
    let namespace = spec
        .and_then(|s| s.get("destination"))
        .and_then(|d| d.get("namespace"))
        .and_then(Node::as_str)
        .filter(|ns| !ns.is_empty())
        .map(str::to_owned);
    let sources: Vec<(String, &Node)> =
        match spec.and_then(|s| s.get("sources")).and_then(Node::as_seq) {
            Some(list) => list
                .iter()
                .enumerate()
                .map(|(i, s)| (format!("/spec/sources/{i}"), s))
                .collect(),
            None => spec
                .and_then(|s| s.get("source"))
                .map(|s| vec![("/spec/source".to_owned(), s)])
                .unwrap_or_default(),
        };
    let text = |node: &Node, key: &str| node.get(key).and_then(Node::as_str).map(str::to_owned);
    // Why the Application is not rendered, on the entry that says so.
    let not_rendered = |pointer: &str, why: String, out: &mut Deployed| {
        out.problems.push(PlanProblem {
            rule: &crate::rules::HELM_NOT_RENDERED,
            file: file.to_path_buf(),
            span: app.root.locate(pointer).span,
            message: format!("Application {app_name} was not rendered: {why}"),
        });
    };
    let local = |source: &Node| text(source, "repoURL").is_some_and(|url| is_local(&url, urls));
    // `ref` sources of this repository: `$ref/…` value files are read from them.
    let refs: Vec<(String, bool)> = sources
        .iter()
        .filter_map(|(_, s)| Some((text(s, "ref")?, local(s))))
        .collect();
    for (pointer, source) in &sources {
        let Some(url) = text(source, "repoURL") else {
            continue;
        };
        if let Some(chart) = text(source, "chart") {
            let version = text(source, "targetRevision").unwrap_or_default();
            not_rendered(
                &format!("{pointer}/repoURL"),
                format!(
                    "its chart `{chart}` {version} comes from {url}, and kvet fetches nothing; vendor the chart in the repository to have it checked"
                ),
                out,
            );
            continue;
        }
        let Some(path) = text(source, "path").filter(|_| local(source)) else {
            continue;
        };
        let chart = root.join(&path);
        if !inside(root, &chart) {
            let why = format!("its path `{path}` is outside the repository");
            not_rendered(&format!("{pointer}/path"), why, out);
            continue;
        }
        if !chart.join("Chart.yaml").is_file() {
            if kustomization::file_in(&chart).is_some() {
                out.layers.push(layer(file, &app_name, source, &chart));
            } else if chart.is_dir() {
                let release =
                    super::directories::read(&app_name, source, &chart, shown(&chart), buffers);
                out.directories.push(release);
            }
            continue;
        }
        let helm = source.get("helm");
        let field = |key: &str| helm.and_then(|h| h.get(key));
        let mut release = HelmRelease {
            chart: shown(&chart),
            name: field("releaseName")
                .and_then(Node::as_str)
                .map(str::to_owned)
                .or_else(|| Some(name.clone())),
            namespace: namespace.clone(),
            include_crds: field("skipCrds")
                .is_none_or(|s| s.scalar_text().as_deref() != Some("true")),
            application: Some(app_name.clone()),
            ..HelmRelease::default()
        };
        // Why a file the release reads cannot be read: (where, why).
        let mut unreadable: Option<(String, String)> = None;
        let value_files = field("valueFiles")
            .and_then(Node::as_seq)
            .unwrap_or_default();
        for (i, value_file) in value_files.iter().enumerate() {
            let Some(value_file) = value_file.as_str() else {
                continue;
            };
            let at = format!("{pointer}/helm/valueFiles/{i}");
            let ignore_missing = field("ignoreMissingValueFiles")
                .and_then(Node::scalar_text)
                .as_deref()
                == Some("true");
            let path = match value_file.strip_prefix('$').and_then(|r| r.split_once('/')) {
                Some((reference, rest)) => match refs.iter().find(|(r, _)| r == reference) {
                    Some((_, true)) => root.join(rest),
                    _ => {
                        let why = format!(
                            "its value file `{value_file}` is in a source that is not this repository, and kvet fetches nothing"
                        );
                        unreadable = Some((at, why));
                        continue;
                    }
                },
                None => chart.join(value_file),
            };
            if !inside(root, &path) {
                let why = format!("its value file `{value_file}` is outside the repository");
                unreadable = Some((at, why));
                continue;
            }
            if ignore_missing && !path.is_file() {
                continue;
            }
            release.values.push(shown(&path));
        }
        let file_parameters = field("fileParameters")
            .and_then(Node::as_seq)
            .unwrap_or_default();
        for (i, parameter) in file_parameters.iter().enumerate() {
            if let (Some(key), Some(path)) = (text(parameter, "name"), text(parameter, "path")) {
                let file = chart.join(&path);
                if !inside(root, &file) {
                    let why = format!("its file parameter `{path}` is outside the repository");
                    unreadable = Some((format!("{pointer}/helm/fileParameters/{i}/path"), why));
                    continue;
                }
                release.set_file.push(format!("{key}={}", file.display()));
            }
        }
        if let Some((at, why)) = unreadable {
            not_rendered(&at, why, out);
            continue;
        }
        // Inline values come after the files: `values` (YAML text), then `valuesObject`.
        let inline = [
            field("values").map(|v| (v, v.as_str().map(str::to_owned))),
            field("valuesObject").map(|v| (v, Some(v.to_json().to_string()))),
        ];
        for (node, values) in inline.into_iter().flatten() {
            if let Some(scratch) = values.and_then(|v| scratch_file(&v)) {
                release.values.push(scratch.path().to_path_buf());
                let at = (file.to_path_buf(), node.span);
                out.inline_values.push((scratch.path().to_path_buf(), at));
                out.scratch.push(scratch);
            }
        }
        for parameter in field("parameters")
            .and_then(Node::as_seq)
            .unwrap_or_default()
        {
            let (Some(key), Some(value)) = (text(parameter, "name"), parameter.get("value")) else {
                continue;
            };
            let value = value.scalar_text().unwrap_or_default().replace(',', "\\,");
            let force_string = parameter
                .get("forceString")
                .and_then(Node::scalar_text)
                .as_deref()
                == Some("true");
            let pairs = if force_string {
                &mut release.set_string
            } else {
                &mut release.set
            };
            pairs.push(format!("{key}={value}"));
        }
        out.releases.push(release);
    }
}

/// Whether `path` is in the repository `root`, symbolic links followed: Argo CD reads nothing
/// outside the repository, and neither does kvet for an Application (in a stranger's pull
/// request, a value file `../../.ssh/id_rsa` would print a key into the CI log).
fn inside(root: &Path, path: &Path) -> bool {
    identity(path).starts_with(identity(root))
}

/// What an Application adds over the kustomization in `dir` it deploys, as a kustomization
/// of its own (whose spans are in the Application's file): its `kustomize` options, Argo CD's
/// `images` strings (`name=new:tag`, `name:tag`, `name@digest`) written as kustomize's.
fn layer(file: &Path, app: &str, source: &Node, dir: &Path) -> Kustomization {
    let path = source.get("path").map_or(source.span, |p| p.span);
    let scalar = |value: &str, span| Node {
        value: Value::Str(value.to_owned()),
        span,
    };
    let entry = |key: &str, value: Node| Entry {
        key: key.to_owned(),
        key_span: value.span,
        value,
    };
    let mut fields = vec![entry(
        "resources",
        Node {
            value: Value::Seq(vec![scalar(".", path)]),
            span: path,
        },
    )];
    let options = source
        .get("kustomize")
        .and_then(Node::as_map)
        .unwrap_or_default();
    for option in options {
        match option.key.as_str() {
            "namePrefix" | "nameSuffix" | "namespace" | "commonLabels" | "commonAnnotations"
            | "patches" | "replicas" | "components" => fields.push(option.clone()),
            "images" => {
                let images = option.value.as_seq().unwrap_or_default().iter();
                let images = images
                    .filter_map(|image| {
                        let written = image.as_str()?;
                        let parts = argo_image(written)
                            .into_iter()
                            .map(|(key, value)| entry(key, scalar(&value, image.span)))
                            .collect();
                        Some(Node {
                            value: Value::Map(parts),
                            span: image.span,
                        })
                    })
                    .collect();
                fields.push(Entry {
                    value: Node {
                        value: Value::Seq(images),
                        span: option.value.span,
                    },
                    ..option.clone()
                });
            }
            _ => {}
        }
    }
    let root = Node {
        value: Value::Map(fields),
        span: source.span,
    };
    let mut k = Kustomization::read(file.to_path_buf(), identity(dir), root);
    k.application = Some(app.to_owned());
    k
}

/// An Argo CD `kustomize.images` string as kustomize's `images` entry fields.
fn argo_image(written: &str) -> Vec<(&'static str, String)> {
    let (name, image) = match written.split_once('=') {
        Some((name, image)) => (Some(name), image),
        None => (None, written),
    };
    let (new_name, tag, digest) = match image.split_once('@') {
        Some((new_name, digest)) => (new_name, None, Some(digest)),
        None => match image.rsplit_once(':').filter(|(_, tag)| !tag.contains('/')) {
            Some((new_name, tag)) => (new_name, Some(tag), None),
            None => (image, None, None),
        },
    };
    let name = name.unwrap_or(new_name);
    let mut fields = vec![("name", name.to_owned())];
    if new_name != name {
        fields.push(("newName", new_name.to_owned()));
    }
    fields.extend(tag.map(|t| ("newTag", t.to_owned())));
    fields.extend(digest.map(|d| ("digest", d.to_owned())));
    fields
}

fn scratch_file(values: &str) -> Option<tempfile::NamedTempFile> {
    use std::io::Write;
    let mut file = tempfile::Builder::new()
        .prefix("kvet-values-")
        .suffix(".yaml")
        .tempfile()
        .ok()?;
    file.write_all(values.as_bytes()).ok()?;
    Some(file)
}

/// Whether a `repoURL` names this repository (`urls`: its normalized URLs).
pub fn is_local(url: &str, urls: &[String]) -> bool {
    urls.contains(&normalize_url(url))
}

/// The URLs of a repository's Git remotes (`.git/config`), normalized.
fn remotes(root: &Path) -> Vec<String> {
    let Some(config) = git_config(root) else {
        return Vec::new();
    };
    // `url` lines of `[remote "…"]` sections only: a submodule's URL is another repository.
    let mut in_remote = false;
    let mut urls = Vec::new();
    for line in config.lines().map(str::trim) {
        if line.starts_with('[') {
            in_remote = line.starts_with("[remote");
        } else if in_remote
            && let Some((key, value)) = line.split_once('=')
            && key.trim() == "url"
        {
            urls.push(normalize_url(value.trim()));
        }
    }
    urls
}

/// The text of a repository's Git config: `.git/config`, or for a worktree or submodule (whose
/// `.git` is a file naming its Git folder) that folder's, or its common folder's.
fn git_config(root: &Path) -> Option<String> {
    let dot_git = root.join(".git");
    if dot_git.is_dir() {
        return crate::load::read_file_text(dot_git.join("config")).ok();
    }
    let pointer = crate::load::read_file_text(&dot_git).ok()?;
    let git_dir = root.join(pointer.trim().strip_prefix("gitdir:")?.trim());
    let common = crate::load::read_file_text(git_dir.join("commondir"))
        .ok()
        .map(|c| git_dir.join(c.trim()));
    crate::load::read_file_text(common.unwrap_or(git_dir).join("config")).ok()
}

/// A Git URL as a comparable `host/owner/repo`: without scheme, user, `.git` and trailing
/// slash, the host in lower case (`git@github.com:Org/App.git` = `https://github.com/Org/App`).
pub fn normalize_url(url: &str) -> String {
    let mut rest = url.trim();
    for scheme in ["https://", "http://", "ssh://", "git://", "git+ssh://"] {
        if let Some(after) = rest.strip_prefix(scheme) {
            rest = after;
            break;
        }
    }
    if let Some((_, after)) = rest.split_once('@') {
        rest = after;
    }
    let rest = rest.trim_end_matches('/');
    let rest = rest.strip_suffix(".git").unwrap_or(rest);
    let (host, path) = match rest.find(['/', ':']) {
        Some(at) => {
            let tail = &rest[at + 1..];
            // scp syntax (`host:owner/repo`), or a port before the path (`host:22/owner/repo`).
            let tail = match tail.split_once('/') {
                Some((port, path))
                    if rest[at..].starts_with(':')
                        && !port.is_empty()
                        && port.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    path
                }
                _ => tail,
            };
            (&rest[..at], tail)
        }
        None => (rest, ""),
    };
    format!("{}/{}", host.to_ascii_lowercase(), path)
}

#[cfg(test)]
mod tests {
    use super::normalize_url;

    #[test]
    fn argo_cd_image_overrides_are_kustomize_image_entries() {
        let fields = |s| super::argo_image(s);
        assert_eq!(
            fields("nginx=registry.example.com/nginx:1.27"),
            [
                ("name", "nginx".to_owned()),
                ("newName", "registry.example.com/nginx".to_owned()),
                ("newTag", "1.27".to_owned())
            ]
        );
        assert_eq!(
            fields("registry:5000/web:2"),
            [
                ("name", "registry:5000/web".to_owned()),
                ("newTag", "2".to_owned())
            ]
        );
        assert_eq!(
            fields("web@sha256:abc"),
            [
                ("name", "web".to_owned()),
                ("digest", "sha256:abc".to_owned())
            ]
        );
        assert_eq!(
            fields("registry:5000/web"),
            [("name", "registry:5000/web".to_owned())]
        );
    }

    #[test]
    fn git_urls_compare_whatever_way_they_are_written() {
        for url in [
            "https://github.com/Org/App.git",
            "https://github.com/Org/App",
            "https://GitHub.com/Org/App/",
            "git@github.com:Org/App.git",
            "ssh://git@github.com/Org/App.git",
            "ssh://git@github.com:22/Org/App.git",
        ] {
            assert_eq!(normalize_url(url), "github.com/Org/App", "{url}");
        }
        assert_ne!(
            normalize_url("https://github.com/Org/Other"),
            normalize_url("https://github.com/Org/App")
        );
    }
}
