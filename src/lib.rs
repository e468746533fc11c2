//! kvet: a Kubernetes manifest linter.
//!
//! Data flows one way: discover → load → check → sort → render. Every stage is a function from
//! data to data; nothing here prints (rendering is [`diag::render`]) and nothing exits.

pub mod cli;
pub mod config;
pub mod diag;
pub mod load;
pub mod policy;
pub mod rules;
pub mod schema;
pub mod workload;

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use config::{Config, Setting};
use diag::suppress::{self, Suppression};
use diag::{Diagnostic, Finding, Level, Report};
use load::discover::{Anchor, DEFAULT_INCLUDE, GlobError, Input, PathFilter, discover};
use load::object::Object;
use load::yaml::IssueKind;
use rules::{Check, Context, ObjectSummary, RULES, Rule, StreamFinding};
use schema::location::SchemaLocations;
use schema::store::CrdStore;

/// What to check.
#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    /// Files, folders, or `-` for stdin.
    pub paths: Vec<String>,
    /// The path stdin stands for: its name in the output, and the path config overrides match.
    pub stdin_filename: Option<String>,
    /// Globs of files to read in folders; empty for `*.yaml` and `*.yml`.
    pub include: Vec<String>,
    /// Globs of files and folders to leave out.
    pub exclude: Vec<String>,
    /// Keep the text of files with diagnostics in the report, for renderers that show snippets.
    pub keep_sources: bool,
    /// Kubernetes version to check against (`1.29`); the newest embedded one when `None`.
    pub kubernetes_version: Option<String>,
    /// Files and folders of `CustomResourceDefinition`s whose schemas validate custom
    /// resources (CRDs in the checked input count too).
    pub crds: Vec<String>,
    /// kubeconform-style schema locations (local folders, path templates, https URLs).
    pub schema_locations: Vec<String>,
    /// Where downloaded schemas are kept; the user's cache folder when `None`.
    pub cache_dir: Option<PathBuf>,
    /// The user's Rego policies and data (the built-in policies always load).
    pub policy: policy::PolicyOptions,
    /// Charts and kustomizations to render and check.
    pub renders: Vec<load::render::Render>,
}

/// Why kvet could not do its job (exit code 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error(transparent)]
    Glob(#[from] GlobError),
    #[error("cannot read stdin: {0}")]
    Stdin(std::io::Error),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Version(#[from] schema::builtin::BuiltinError),
    #[error("cannot read --crds {path}: {message}")]
    Crds { path: String, message: String },
    #[error(transparent)]
    Location(#[from] schema::location::LocationError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Policy(#[from] policy::PolicyError),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Render(#[from] load::render::RenderError),
    #[error("internal error while checking {file}: {message}")]
    #[diagnostic(help("this is a bug in kvet; please report it with the file that triggers it"))]
    Internal { file: String, message: String },
}

type ObjectCheck = fn(&Object, &Context, &mut Vec<Finding>);

/// Runs the whole pipeline on the inputs and returns the sorted report.
///
/// ```
/// use kvet::{LintOptions, config::Config, lint};
///
/// let dir = std::env::temp_dir().join(format!("kvet-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let file = dir.join("pod.yaml");
/// std::fs::write(&file, "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n    - {name: a, image: \"x:1\"}\n    - {name: a, image: \"y:1\"}\n").unwrap();
///
/// let opts = LintOptions { paths: vec![file.display().to_string()], ..LintOptions::default() };
/// let report = lint(&opts, &Config::default()).unwrap();
///
/// let d = report.diagnostics.iter().find(|d| d.rule == "duplicate-container-name").unwrap();
/// assert_eq!((d.line, d.column), (7, 14));
/// assert_eq!(d.pointer.as_deref(), Some("/spec/containers/1/name"));
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn lint(opts: &LintOptions, config: &Config) -> Result<Report, Error> {
    let include = if opts.include.is_empty() {
        PathFilter::new(DEFAULT_INCLUDE, Anchor::Anywhere)?
    } else {
        PathFilter::new(&opts.include, Anchor::Anywhere)?
    };
    let exclude = PathFilter::new(&opts.exclude, Anchor::Anywhere)?;
    let kubernetes_version = match &opts.kubernetes_version {
        Some(v) => schema::builtin::resolve_version(v)?,
        None => schema::builtin::latest(),
    };
    // Its schemas decompress on another thread while the policies load and files are read.
    schema::store::prepare(kubernetes_version);
    // Policies first: a broken one stops the run before any file is read.
    let policies = policy::Policies::load(&policy::PolicyOptions {
        rule_options: config.options.clone().into_iter().collect(),
        ..opts.policy.clone()
    })?;
    let rendered = opts
        .renders
        .iter()
        .map(load::render::Render::run)
        .collect::<Result<Vec<_>, _>>()?;
    let discovered = discover(&opts.paths, &include, &exclude);

    let mut report = Report::default();
    for p in &discovered.problems {
        let settings = config.settings_for(Path::new(&p.path));
        if let Some(level) = level_of(&rules::UNREADABLE_FILE, &settings) {
            let id = rules::UNREADABLE_FILE.meta.id;
            let d = Diagnostic::new(id, level, &p.path, first_char(), p.message.clone());
            report.diagnostics.push(d);
        }
    }

    let mut sources = read_sources(discovered.inputs, opts)?;
    sources.extend(rendered.iter().map(|r| Source {
        name: r.name.clone(),
        folder: Arc::from(std::fs::canonicalize(&r.folder).unwrap_or(r.folder.clone())),
        config_path: r.folder.clone(),
        in_memory: Some(r.text.clone().into_bytes()),
    }));

    let mut crds = collect_crds(&opts.crds, &include, kubernetes_version)?;
    let locations = SchemaLocations::new(
        &opts.schema_locations,
        kubernetes_version,
        opts.cache_dir.clone(),
    )?;
    let context = Context {
        kubernetes_version,
        crds: &crds,
        crds_complete: false,
        locations: &locations,
    };

    let results: Vec<FileResult> = sources
        .par_iter()
        .map(|source| {
            guarded(source, || {
                check_file(source, config, &context, &policies, opts.keep_sources)
            })
        })
        .collect::<Result<_, Error>>()?;

    let mut summaries = Vec::new();
    // For each summary, the index of its file (for the file's rule settings).
    let mut file_of = Vec::new();
    let mut settings = Vec::new();
    let mut pending = Vec::new();
    let mut input_crds = Vec::new();
    let mut stream_objects = Vec::new();
    let mut suppressions = Vec::new();
    for (i, result) in results.into_iter().enumerate() {
        input_crds.extend(result.crds);
        suppressions.extend(result.suppressions);
        stream_objects.extend(
            result
                .stream_inputs
                .into_iter()
                .map(|o| StreamObject { file: i, ..o }),
        );
        if !result.pending.is_empty() {
            pending.push((i, result.pending));
        }
        report.summary.files += 1;
        report.summary.objects += result.objects;
        report.summary.skipped += usize::from(result.skipped);
        report.diagnostics.extend(result.diagnostics);
        if let Some(text) = result.text {
            report.sources.insert(sources[i].name.clone(), text);
        }
        file_of.extend(std::iter::repeat_n(i, result.summaries.len()));
        summaries.extend(result.summaries);
        settings.push(result.settings);
    }

    // Every CRD is known now: validate the custom resources that waited for theirs.
    for crd in input_crds {
        crds.add(crd);
    }
    let context = Context {
        kubernetes_version,
        crds: &crds,
        crds_complete: true,
        locations: &locations,
    };
    let late: Vec<Vec<Diagnostic>> = pending
        .par_iter()
        .map(|(i, objects)| {
            let source = &sources[*i];
            guarded(source, || {
                check_pending(source, objects, &settings[*i], &context)
            })
        })
        .collect::<Result<_, Error>>()?;
    report.diagnostics.extend(late.into_iter().flatten());

    run_stream_rules(&summaries, &file_of, &settings, &mut report);
    report.checked = summaries
        .iter()
        .map(|s| (s.file.to_string(), s.id.clone()))
        .collect();
    let stream = stream_policy_diagnostics(
        &policies,
        &stream_objects,
        &sources,
        &settings,
        |file, object| {
            // Summaries are in file order, a file's in object order.
            let first = file_of.partition_point(|&f| f < file);
            let summary = summaries.get(first + object)?;
            Some(format!("{}:{}", summary.file, summary.name_span.start.line))
        },
    );
    report.diagnostics.extend(stream?);

    // Files whose only diagnostics came from whole-stream rules: read them again for snippets.
    let with_diagnostics: std::collections::HashSet<&str> =
        report.diagnostics.iter().map(|d| d.file.as_str()).collect();
    for source in sources.iter().filter(|_| opts.keep_sources) {
        if with_diagnostics.contains(source.name.as_str())
            && !report.sources.contains_key(&source.name)
            && source.in_memory.is_none()
            && let Some(text) = std::fs::read(&source.config_path)
                .ok()
                .and_then(|b| load::decode(b).ok())
        {
            report.sources.insert(source.name.clone(), Arc::from(text));
        }
    }

    report.summary.suppressed = apply_suppressions(
        &mut report.diagnostics,
        &suppressions,
        config,
        &policies,
        covers_folder(&opts.paths, &config.root),
    );
    let templates = load::render::map_to_templates(&mut report.diagnostics, &rendered);
    if opts.keep_sources {
        for (name, text) in templates {
            report.sources.insert(name, Arc::from(text));
        }
    }

    // Compiled CRD validators are large trees: freeing them took a tenth of a run with many
    // CRDs, after the report was ready; compiled policies, a twentieth of a one-file run.
    drop_in_background((crds, locations, policies));
    report.finish();
    Ok(report)
}

/// The suppression stage: drops what annotations, comments and config entries cover, and
/// reports the suppressions that cover nothing or give no reason.
fn apply_suppressions(
    diagnostics: &mut Vec<Diagnostic>,
    suppressions: &[Suppression],
    config: &Config,
    policies: &policy::Policies,
    whole_repository: bool,
) -> usize {
    let policy_rule = |id: &str| policies.rules().iter().find(|r| r.id == id);
    let known = |id: &str| rules::find(id).is_some() || policy_rule(id).is_some();
    let level = |id: &str, file: &str| {
        let settings = config.settings_for(Path::new(file));
        match (rules::find(id), policy_rule(id)) {
            (Some(rule), _) => level_of(rule, &settings),
            (None, Some(rule)) => policy_level(rule, None, &settings),
            (None, None) => None,
        }
    };
    let looks_across_files = |id: &str| {
        rules::find(id).is_some_and(|r| matches!(r.check, Check::Stream(_)))
            || policies.stream_rules().any(|r| r.id == id)
    };
    let context = suppress::Context {
        config,
        known: &known,
        level: &level,
        looks_across_files: &looks_across_files,
        whole_repository,
    };
    suppress::apply(diagnostics, suppressions, &context)
}

/// Whether one of the paths is `folder` or a folder above it.
fn covers_folder(paths: &[String], folder: &Path) -> bool {
    paths.iter().any(|p| {
        let path = Path::new(p);
        path.is_dir()
            && std::fs::canonicalize(path).is_ok_and(|path| {
                let folder = std::fs::canonicalize(folder).unwrap_or_else(|_| folder.to_path_buf());
                folder.starts_with(path)
            })
    })
}

/// Frees `value` on another thread, so the caller need not wait for it; a process that exits
/// first leaves the freeing to the OS. Freed here when no thread can be started.
fn drop_in_background<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new().spawn(move || drop(value));
}

/// The CRDs under `--crds`, read before any object is checked.
fn collect_crds(
    paths: &[String],
    include: &PathFilter,
    version: &'static str,
) -> Result<CrdStore, Error> {
    let mut store = CrdStore::default();
    if paths.is_empty() {
        return Ok(store);
    }
    let none = PathFilter::new::<&str>(&[], Anchor::Anywhere)?;
    let found = discover(paths, include, &none);
    if let Some(problem) = found.problems.first() {
        return Err(Error::Crds {
            path: problem.path.clone(),
            message: problem.message.clone(),
        });
    }
    let meta_ref = schema::store::object_meta_ref(version);
    let files: Vec<PathBuf> = found
        .inputs
        .into_iter()
        .filter_map(|input| match input {
            Input::File(file) => Some(file.path),
            Input::Stdin => None,
        })
        .collect();
    let per_file: Vec<Vec<schema::crd::CrdSchema>> = files
        .par_iter()
        .map(|path| {
            let bytes = std::fs::read(path).map_err(|e| Error::Crds {
                path: path.display().to_string(),
                message: load::discover::io_message(&e),
            })?;
            let Ok(text) = load::decode(bytes) else {
                return Ok(Vec::new());
            };
            let objects = load::load_text(&text).objects;
            Ok(objects
                .iter()
                .flat_map(|o| schema::crd::schemas_of(o, &meta_ref, |_, _| true))
                .collect())
        })
        .collect::<Result<_, Error>>()?;
    for crd in per_file.into_iter().flatten() {
        store.add(crd);
    }
    Ok(store)
}

/// Custom resources whose CRD was not known while their file was checked: now that every CRD
/// of the input is known, their file is read again and they are validated (or reported as
/// having no schema).
fn check_pending(
    source: &Source,
    pending: &[usize],
    settings: &HashMap<String, Setting>,
    context: &Context,
) -> Vec<Diagnostic> {
    let Ok(text) = read_text(source) else {
        return Vec::new();
    };
    let loaded = load::load_text(&text);
    let objects: Vec<&Object> = pending
        .iter()
        .filter_map(|&i| loaded.objects.get(i))
        .collect();
    let mut out = Vec::new();
    let mut findings = Vec::new();
    for rule in [&rules::SCHEMA, &rules::UNKNOWN_SCHEMA] {
        let (Check::Object(check), Some(level)) = (&rule.check, level_of(rule, settings)) else {
            continue;
        };
        for object in &objects {
            check(object, context, &mut findings);
            for finding in findings.drain(..) {
                out.push(place(rule.meta.id, level, &source.name, object, finding));
            }
        }
    }
    out
}

/// A policy rule's level in a file: the config's, else the level its result asks for, else
/// its default; `None` when it is off.
fn policy_level(
    rule: &policy::PolicyRule,
    asked: Option<Level>,
    settings: &HashMap<String, Setting>,
) -> Option<Level> {
    match settings.get(&rule.id) {
        Some(setting) => *setting,
        None => Some(asked.unwrap_or(rule.default_level)),
    }
}

/// An object a whole-stream policy looks at: where it is, and its value as policy input.
struct StreamObject {
    /// Index of its source.
    file: usize,
    /// Position among the file's objects.
    object: usize,
    kind: String,
    value: regorus::Value,
}

/// Evaluates each whole-stream policy once over the objects of its kinds, then places the
/// findings: the files they fall in are read again, as only objects' values were kept.
fn stream_policy_diagnostics(
    policies: &policy::Policies,
    objects: &[StreamObject],
    sources: &[Source],
    settings: &[HashMap<String, Setting>],
    whereabouts: impl Fn(usize, usize) -> Option<String>,
) -> Result<Vec<Diagnostic>, Error> {
    /// A finding on an object of a file, before it is placed.
    struct Hit<'a> {
        object: usize,
        rule: &'a str,
        /// The level the result asks for.
        asked: Option<Level>,
        finding: Finding,
    }
    let mut by_file: std::collections::BTreeMap<usize, Vec<Hit>> = Default::default();
    for rule in policies.stream_rules() {
        let on = |o: &StreamObject| policy_level(rule, None, &settings[o.file]).is_some();
        let members: Vec<&StreamObject> = objects
            .iter()
            .filter(|o| rule.applies_to(&o.kind) && on(o))
            .collect();
        let Some(first) = members.first() else {
            continue;
        };
        let values = members.iter().map(|o| o.value.clone()).collect();
        match policies.evaluate_stream(rule, values) {
            Ok(results) => {
                for result in results {
                    let at = members[result.object.unwrap_or(0)];
                    let mut message = result.message;
                    if let Some(related) = result.related.map(|i| members[i])
                        && let Some(place) = whereabouts(related.file, related.object)
                    {
                        message.push_str(&format!(" (first at {place})"));
                    }
                    let mut finding = Finding::new(result.pointer, message);
                    finding.metadata = result.metadata;
                    by_file.entry(at.file).or_default().push(Hit {
                        object: at.object,
                        rule: &rule.id,
                        asked: result.level,
                        finding,
                    });
                }
            }
            Err(message) => {
                let finding =
                    Finding::new("", format!("{} failed on the input: {message}", rule.id));
                by_file.entry(first.file).or_default().push(Hit {
                    object: first.object,
                    rule: rules::POLICY_ERROR.meta.id,
                    asked: None,
                    finding,
                });
            }
        }
    }
    let placed: Vec<Vec<Diagnostic>> = by_file
        .into_par_iter()
        .map(|(file, found)| {
            let source = &sources[file];
            guarded(source, || {
                let Ok(text) = read_text(source) else {
                    return Vec::new();
                };
                let loaded = load::load_text(&text);
                let mut out = Vec::new();
                for hit in found {
                    let level = match policies.rules().iter().find(|r| r.id == hit.rule) {
                        Some(rule) => policy_level(rule, hit.asked, &settings[file]),
                        None => level_of(&rules::POLICY_ERROR, &settings[file]),
                    };
                    if let (Some(level), Some(object)) = (level, loaded.objects.get(hit.object)) {
                        out.push(place(hit.rule, level, &source.name, object, hit.finding));
                    }
                }
                out
            })
        })
        .collect::<Result<_, Error>>()?;
    Ok(placed.into_iter().flatten().collect())
}

/// The inputs as sources to check: files by path, stdin read whole now.
fn read_sources(inputs: Vec<Input>, opts: &LintOptions) -> Result<Vec<Source>, Error> {
    inputs
        .into_iter()
        .map(|input| match input {
            Input::Stdin => {
                let mut bytes = Vec::new();
                std::io::stdin()
                    .lock()
                    .read_to_end(&mut bytes)
                    .map_err(Error::Stdin)?;
                let name = opts
                    .stdin_filename
                    .clone()
                    .unwrap_or_else(|| "<stdin>".into());
                let config_path = PathBuf::from(&name);
                Ok(Source {
                    folder: stdin_folder(&config_path),
                    config_path,
                    name,
                    in_memory: Some(bytes),
                })
            }
            Input::File(file) => Ok(Source {
                name: file.path.display().to_string(),
                folder: folder_of(&file.identity),
                config_path: file.path,
                in_memory: None,
            }),
        })
        .collect()
}

/// Runs `check` on one source, turning a panic (a bug in kvet) into an error that names the
/// file, so one bad input never takes the whole run down silently.
fn guarded<T>(source: &Source, check: impl FnOnce() -> T) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).map_err(|panic| Error::Internal {
        file: source.name.clone(),
        message: panic_message(&panic),
    })
}

struct Source {
    /// As shown in diagnostics.
    name: String,
    /// The path config overrides are matched against (and read from, for files).
    config_path: PathBuf,
    /// The folder the file is in, however it was named: whole-stream rules group by it.
    folder: Arc<Path>,
    /// The text of stdin or of a rendered chart, which cannot be read again.
    in_memory: Option<Vec<u8>>,
}

fn folder_of(path: &Path) -> Arc<Path> {
    Arc::from(path.parent().unwrap_or(Path::new("")))
}

/// The folder stdin stands in (with `--stdin-filename k8s/app.yaml`, the real `k8s/`).
fn stdin_folder(name: &Path) -> Arc<Path> {
    let parent = name.parent().unwrap_or(Path::new(""));
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let folder = std::fs::canonicalize(parent).unwrap_or_else(|_| {
        load::discover::normalize(&std::path::absolute(parent).unwrap_or_default())
    });
    Arc::from(folder)
}

/// What checking one file produced.
struct FileResult {
    diagnostics: Vec<Diagnostic>,
    /// CRDs the file defines.
    crds: Vec<schema::crd::CrdSchema>,
    /// Objects (by position) that are custom resources whose CRD was not known yet.
    pending: Vec<usize>,
    /// Objects (by position) whole-stream policies look at, as policy input.
    stream_inputs: Vec<StreamObject>,
    /// The annotations and comments that suppress findings in the file.
    suppressions: Vec<Suppression>,
    summaries: Vec<ObjectSummary>,
    /// The text, kept when there are diagnostics to show snippets of.
    text: Option<Arc<str>>,
    objects: usize,
    skipped: bool,
    settings: HashMap<String, Setting>,
}

fn check_file(
    source: &Source,
    config: &Config,
    context: &Context,
    policies: &policy::Policies,
    keep_source: bool,
) -> FileResult {
    let settings = config.settings_for(&source.config_path);
    let mut result = FileResult {
        diagnostics: Vec::new(),
        crds: Vec::new(),
        pending: Vec::new(),
        stream_inputs: Vec::new(),
        suppressions: Vec::new(),
        summaries: Vec::new(),
        text: None,
        objects: 0,
        skipped: false,
        settings,
    };
    // A chart's template is Go template text, not YAML: `--helm` checks what it renders.
    if source.in_memory.is_none() && load::helm::is_chart_template(&source.config_path) {
        result.skipped = true;
        return result;
    }
    let text = match read_text(source) {
        Ok(text) => text,
        Err((rule, at, message)) => {
            if let Some(level) = level_of(rule, &result.settings) {
                let d = Diagnostic::new(rule.meta.id, level, &source.name, at, message);
                result.diagnostics.push(d);
            }
            return result;
        }
    };

    let loaded = load::load_text(&text);
    let kubernetes = loaded.is_kubernetes();
    let file = &source.name;
    let mut diagnostics = loader_diagnostics(&loaded, file, &result.settings);
    let (found, stream_inputs) =
        object_diagnostics(&loaded.objects, file, context, policies, &result.settings);
    diagnostics.extend(found);
    result.stream_inputs = stream_inputs;
    result.suppressions = suppress::in_comments(file, &text);
    for object in &loaded.objects {
        result
            .suppressions
            .extend(suppress::in_annotations(file, object));
    }

    let shared_file: Arc<str> = Arc::from(file.as_str());
    result.summaries = loaded
        .objects
        .iter()
        .map(|o| ObjectSummary {
            id: o.id.clone(),
            file: shared_file.clone(),
            folder: source.folder.clone(),
            name_span: o.root.locate("/metadata/name").span,
            source_template: o.source_template.clone(),
        })
        .collect();
    let meta_ref = schema::store::object_meta_ref(context.kubernetes_version);
    for (i, o) in loaded.objects.iter().enumerate() {
        let unknown = |api_version: &str, kind: &str| !context.crds.contains(api_version, kind);
        result
            .crds
            .extend(schema::crd::schemas_of(o, &meta_ref, unknown));
        let (api_version, kind) = (&o.id.api_version, &o.id.kind);
        if context.lacks_schema(api_version, kind) {
            result.pending.push(i);
        }
    }
    result.objects = loaded.objects.len();
    result.skipped = !kubernetes && diagnostics.is_empty();
    // Stdin cannot be read again for the snippets of whole-stream rules: keep it.
    if keep_source && (!diagnostics.is_empty() || source.in_memory.is_some()) {
        result.text = Some(Arc::from(text));
    }
    result.diagnostics = diagnostics;
    result
}

/// What the loader found: YAML problems, and documents that are not objects.
fn loader_diagnostics(
    loaded: &load::Loaded,
    file: &str,
    settings: &HashMap<String, Setting>,
) -> Vec<Diagnostic> {
    let kubernetes = loaded.is_kubernetes();
    let mut diagnostics = Vec::new();
    let by_place: HashMap<(usize, Option<usize>), &Object> = if loaded.yaml_issues.is_empty() {
        HashMap::new()
    } else {
        let place = |o: &Object| (o.document, o.list_item);
        loaded.objects.iter().map(|o| (place(o), o)).collect()
    };
    for issue in &loaded.yaml_issues {
        let rule = match issue.kind {
            IssueKind::Syntax => &rules::YAML_SYNTAX,
            IssueKind::Limit => &rules::INPUT_LIMIT,
            // These matter in Kubernetes files; other YAML is not ours to judge.
            IssueKind::InvalidMerge if kubernetes => &rules::YAML_SYNTAX,
            IssueKind::DuplicateKey if kubernetes => &rules::DUPLICATE_KEY,
            IssueKind::DuplicateKey | IssueKind::InvalidMerge => continue,
        };
        let Some(level) = level_of(rule, settings) else {
            continue;
        };
        let mut d = Diagnostic::new(rule.meta.id, level, file, issue.span, issue.message.clone());
        d.help = issue.help.clone();
        if let Some(pointer) = &issue.pointer {
            match object_at(&by_place, issue.document, pointer) {
                Some((object, relative)) => {
                    d.object = Some(object.id.clone());
                    d.source_template = object.source_template.clone();
                    d.pointer = Some(relative);
                }
                None => d.pointer = Some(pointer.clone()),
            }
        }
        diagnostics.push(d);
    }
    if kubernetes && let Some(level) = level_of(&rules::MISSING_TYPE_META, settings) {
        for problem in &loaded.not_objects {
            let mut d = Diagnostic::new(
                rules::MISSING_TYPE_META.meta.id,
                level,
                file,
                problem.span,
                problem.message.clone(),
            );
            d.pointer = Some(problem.pointer.clone());
            diagnostics.push(d);
        }
    }
    diagnostics
}

/// Every per-object rule and policy that is on, on every object, in parallel; and the objects
/// whole-stream policies look at, as policy input. An object becomes a policy value once,
/// whichever needs it.
fn object_diagnostics(
    objects: &[Object],
    file: &str,
    context: &Context,
    policies: &policy::Policies,
    settings: &HashMap<String, Setting>,
) -> (Vec<Diagnostic>, Vec<StreamObject>) {
    let object_rules: Vec<(&Rule, ObjectCheck, Level)> = RULES
        .iter()
        .filter_map(|rule| match rule.check {
            Check::Object(check) => Some((*rule, check, level_of(rule, settings)?)),
            _ => None,
        })
        .collect();
    let on = |r: &policy::PolicyRule| policy_level(r, None, settings).is_some();
    // The policies compile on other threads while the rules below run.
    policies.prepare(objects.iter().map(|o| o.id.kind.as_str()), on);
    let per_object: Vec<(Vec<Diagnostic>, Option<StreamObject>)> = objects
        .par_iter()
        .enumerate()
        .with_min_len(8)
        .map(|(i, object)| {
            let mut out = Vec::new();
            let mut findings = Vec::new();
            for (rule, check, level) in &object_rules {
                check(object, context, &mut findings);
                for finding in findings.drain(..) {
                    out.push(place(rule.meta.id, *level, file, object, finding));
                }
            }
            let input = std::cell::OnceCell::new();
            let value = || {
                input
                    .get_or_init(|| policy::input::from_node(&object.root))
                    .clone()
            };
            out.extend(policy_diagnostics(object, &value, file, policies, settings));
            let kind = &object.id.kind;
            let stream = policies
                .stream_rules()
                .any(|r| r.applies_to(kind) && on(r))
                .then(|| StreamObject {
                    file: 0, // set by the caller, which knows the file's index
                    object: i,
                    kind: kind.clone(),
                    value: value(),
                });
            (out, stream)
        })
        .collect();
    let mut diagnostics = Vec::new();
    let mut stream_inputs = Vec::new();
    for (found, stream) in per_object {
        diagnostics.extend(found);
        stream_inputs.extend(stream);
    }
    (diagnostics, stream_inputs)
}

/// The policies' findings on one object, and a `policy-error` for each rule that failed on it.
fn policy_diagnostics(
    object: &Object,
    input: &dyn Fn() -> regorus::Value,
    file: &str,
    policies: &policy::Policies,
    settings: &HashMap<String, Setting>,
) -> Vec<Diagnostic> {
    let level = |rule: &policy::PolicyRule, asked| policy_level(rule, asked, settings);
    let mut out = Vec::new();
    for evaluation in policies.evaluate(object, input, |rule| level(rule, None).is_some()) {
        let rule = evaluation.rule;
        match evaluation.results {
            Ok(results) => {
                for result in results {
                    let Some(level) = level(rule, result.level) else {
                        continue;
                    };
                    let mut finding = Finding::new(result.pointer, result.message);
                    finding.metadata = result.metadata;
                    out.push(place(&rule.id, level, file, object, finding));
                }
            }
            Err(message) => {
                if let Some(level) = level_of(&rules::POLICY_ERROR, settings) {
                    let what = format!(
                        "{} failed on {} {}: {message}",
                        rule.id,
                        object.id.kind,
                        object.id.name.as_deref().unwrap_or("(unnamed)")
                    );
                    let finding = Finding::new("", what);
                    out.push(place(
                        rules::POLICY_ERROR.meta.id,
                        level,
                        file,
                        object,
                        finding,
                    ));
                }
            }
        }
    }
    out
}

/// The text of a source, or the rule, place and message that say why it cannot be read.
fn read_text(source: &Source) -> Result<String, (&'static Rule, load::spans::Span, String)> {
    use load::DecodeError;
    let unreadable = |message: String| (&rules::UNREADABLE_FILE, first_char(), message);
    let bytes = match &source.in_memory {
        Some(bytes) => bytes.clone(),
        None => {
            // Refuse huge files before reading them into memory.
            let size = std::fs::metadata(&source.config_path).map_or(0, |m| m.len());
            if size > load::MAX_FILE_BYTES as u64 {
                let too_large = DecodeError::TooLarge {
                    size: size as usize,
                };
                return Err((&rules::INPUT_LIMIT, first_char(), too_large.to_string()));
            }
            std::fs::read(&source.config_path)
                .map_err(|e| unreadable(load::discover::io_message(&e)))?
        }
    };
    load::decode(bytes).map_err(|e| match e {
        DecodeError::TooLarge { .. } => (&rules::INPUT_LIMIT, first_char(), e.to_string()),
        DecodeError::NotUtf8 { line, column } => {
            let at = load::spans::Pos {
                line: line as u32,
                col: column as u32,
            };
            (
                &rules::UNREADABLE_FILE,
                load::spans::Span { start: at, end: at },
                e.to_string(),
            )
        }
        DecodeError::Binary | DecodeError::Utf16 => unreadable(e.to_string()),
    })
}

fn run_stream_rules(
    objects: &[ObjectSummary],
    file_of: &[usize],
    settings: &[HashMap<String, Setting>],
    report: &mut Report,
) {
    for rule in RULES {
        let Check::Stream(check) = rule.check else {
            continue;
        };
        let mut found: Vec<StreamFinding> = Vec::new();
        check(objects, &mut found);
        for f in found {
            let summary = &objects[f.object];
            let Some(level) = level_of(rule, &settings[file_of[f.object]]) else {
                continue;
            };
            let mut d = Diagnostic::new(
                rule.meta.id,
                level,
                &summary.file,
                f.span,
                f.finding.message,
            );
            d.help = f.finding.help;
            d.pointer = Some(f.finding.pointer);
            d.object = Some(summary.id.clone());
            d.source_template = summary.source_template.clone();
            report.diagnostics.push(d);
        }
    }
}

/// A rule's level for a file, `None` when it is off.
fn level_of(rule: &Rule, settings: &HashMap<String, Setting>) -> Option<Level> {
    match settings.get(rule.meta.id) {
        Some(setting) => *setting,
        None => Some(rule.meta.default_level),
    }
}

/// Places a finding at the line and column of its pointer; a finding on the object itself (the
/// empty pointer) at the object's first line.
fn place(rule: &str, level: Level, file: &str, object: &Object, finding: Finding) -> Diagnostic {
    let span = if finding.pointer.is_empty() {
        let start = object.root.span.start;
        load::spans::Span { start, end: start }
    } else if finding.at_key {
        object.root.locate_key(&finding.pointer).span
    } else {
        object.root.locate(&finding.pointer).span
    };
    let mut d = Diagnostic::new(rule, level, file, span, finding.message);
    d.metadata = finding.metadata;
    d.help = finding.help;
    d.pointer = Some(finding.pointer);
    d.object = Some(object.id.clone());
    d.source_template = object.source_template.clone();
    d
}

/// The object a document-relative pointer falls in, and the pointer relative to that object.
fn object_at<'a>(
    by_place: &HashMap<(usize, Option<usize>), &'a Object>,
    document: usize,
    pointer: &str,
) -> Option<(&'a Object, String)> {
    if let Some(object) = by_place.get(&(document, None)) {
        return Some((object, pointer.to_owned()));
    }
    // An item of a `v1 List`: `/items/3/metadata/name` is `/metadata/name` of item 3.
    let rest = pointer.strip_prefix("/items/")?;
    let (index, inner) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let object = by_place.get(&(document, Some(index.parse().ok()?)))?;
    Some((object, inner.to_owned()))
}

fn first_char() -> load::spans::Span {
    let at = load::spans::Pos { line: 1, col: 1 };
    load::spans::Span { start: at, end: at }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_owned()
    }
}
