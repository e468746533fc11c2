//! kvet: a Kubernetes manifest linter.
//!
//! Data flows one way: discover → load → check → suppress → sort → render. Every stage is a
//! function from data to data; nothing here prints (rendering is [`diag::render`]) and nothing
//! exits. This file runs the stages; `source` reads the inputs, `check` checks one file (and
//! `check::stream` the whole input), `diag::suppress` and `diag::baseline` drop what the user
//! chose to keep.

mod check;
pub mod cli;
pub mod config;
pub mod diag;
pub mod kyverno;
pub mod load;
pub mod lsp;
pub mod policy;
pub mod repo;
pub mod rules;
pub mod schema;
mod source;
pub mod workload;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

pub use check::cache::CheckCache;
use check::{
    FileResult, StreamObject, check_file, check_pending, level_of, policy_level, run_stream_rules,
    stream_policy_diagnostics,
};
use config::Config;
use diag::suppress::{self, Suppression};
use diag::{Diagnostic, Report};
use load::discover::{Anchor, DEFAULT_INCLUDE, GlobError, Input, PathFilter, discover};
use rules::{Check, Context};
use schema::location::SchemaLocations;
use schema::store::CrdStore;
use source::{Source, first_char, guarded, read_sources, read_stdin};

/// What to check.
#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    /// Files, folders, or `-` for stdin.
    pub paths: Vec<String>,
    /// The path stdin stands for: its name in the output, and the path config overrides match.
    pub stdin_filename: Option<String>,
    /// What `-` reads when it is not stdin: an editor's unsaved buffer (`kvet lsp`).
    pub stdin_bytes: Option<Vec<u8>>,
    /// Files read from these bytes instead of the disk, by real path: an editor's unsaved
    /// buffers in a workspace check (`kvet lsp`).
    pub overlays: HashMap<PathBuf, Vec<u8>>,
    /// Each file's findings kept from the last run with this cache, reused for files whose
    /// text, role and settings are unchanged (`kvet lsp` checks its workspace after every edit).
    pub cache: Option<Arc<CheckCache>>,
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
    /// Releases of charts to render and check (`--helm`), besides the charts of the input.
    pub helm: Vec<load::render::HelmRelease>,
    /// Kustomizations to render and check whatever includes them (`--kustomize DIR`).
    pub kustomize: Vec<PathBuf>,
    /// Do not render kustomizations and charts (`--no-render`; `render: false` in the config
    /// does too).
    pub no_render: bool,
    /// Where to look for `helm`, `kustomize` and `kubectl`; the PATH when `None`.
    pub tool_path: Option<std::ffi::OsString>,
    /// Leave custom resources that no CRD of the run defines to `--schema-location` (or
    /// unvalidated) instead of the embedded CRD catalog.
    pub no_catalog: bool,
    /// Files and folders of Kyverno policies applied to the input, besides those in it
    /// (`--kyverno`).
    pub kyverno: Vec<PathBuf>,
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
    #[error("cannot read --kyverno {path}: {message}")]
    Kyverno { path: String, message: String },
    #[error("internal error while checking {file}: {message}")]
    #[diagnostic(help("this is a bug in kvet; please report it with the file that triggers it"))]
    Internal { file: String, message: String },
}

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
    let mut kyverno_documents: Vec<check::kyverno::Scoped<serde_json::Value>> =
        check::kyverno::read_policies(&opts.kyverno)?
            .into_iter()
            .map(|d| (None, d))
            .collect();
    let (mut crds, crd_problems) = collect_crds(&opts.crds, &include)?;
    let discovered = discover(&opts.paths, &include, &exclude);
    let stdin = match &opts.stdin_bytes {
        Some(bytes) if discovered.inputs.iter().any(|i| matches!(i, Input::Stdin)) => {
            Some(bytes.clone())
        }
        Some(_) => None,
        None => read_stdin(&discovered.inputs)?,
    };
    let render = config.render && !opts.no_render;
    // Editors' unsaved buffers (and a buffer on stdin named after its file): charts,
    // kustomizations and Applications that read them are rendered with them in their files' place.
    let stdin_buffer = opts.stdin_filename.as_deref().zip(stdin.as_deref());
    let buffers = load::buffers::Buffers::new(
        opts.overlays
            .iter()
            .map(|(path, bytes)| (path.clone(), bytes.clone()))
            .chain(stdin_buffer.map(|(name, bytes)| (PathBuf::from(name), bytes.to_vec()))),
    );
    // What the Argo CD Applications of the input deploy from this repository.
    let mut deployed = match render {
        true => repo::applications::deployed(
            &discovered.inputs,
            &opts.paths,
            config.repository.as_deref(),
            &buffers,
        ),
        false => repo::applications::Deployed::default(),
    };
    let mut charts = repo::charts::roots(
        &discovered.inputs,
        &opts.paths,
        config,
        &opts.helm,
        &deployed,
        stdin_buffer.map(|(name, _)| Path::new(name)),
        render,
    );
    for chart in &mut charts {
        chart.release.buffers = buffers.clone();
    }
    // The cluster charts render for serves every CRD the run knows: those under --crds, those
    // of the input and those charts bring in their crds/ folders.
    let capabilities = match charts.is_empty() {
        true => load::render::Capabilities::default(),
        false => capabilities(
            kubernetes_version,
            &crds,
            &repo::charts::crd_kinds(&discovered.inputs, &charts),
        ),
    };
    let named: std::collections::HashSet<PathBuf> = opts
        .paths
        .iter()
        .map(Path::new)
        .filter(|p| p.is_file())
        .map(repo::identity)
        .collect();
    let mut releases =
        repo::charts::render(&charts, &capabilities, opts.tool_path.as_deref(), &named)?;
    for problem in &mut releases.problems {
        deployed.place_inline(problem);
    }
    let rendered = &releases.rendered;
    // The repository: kustomizations, patches, roots, their renders.
    let plan = repo::plan::plan(
        &discovered.inputs,
        &repo::plan::PlanOptions {
            paths: &opts.paths,
            stdin_filename: opts.stdin_filename.as_deref(),
            forced: &opts.kustomize,
            render,
            tool_path: opts.tool_path.clone(),
            cache_dir: opts
                .cache_dir
                .clone()
                .or_else(schema::location::default_cache_dir)
                .map(|dir| dir.join("kustomize")),
            buffers,
        },
        std::mem::take(&mut deployed.layers),
    )?;
    let arguments: Vec<PathBuf> = opts
        .paths
        .iter()
        .map(PathBuf::from)
        .chain(opts.kustomize.iter().cloned())
        .collect();
    let names = repo::findings::Names::new(&discovered.inputs, &arguments);

    let mut report = Report {
        warnings: policies.warnings().to_vec(),
        ..Report::default()
    };
    report.diagnostics.extend(crd_problems);
    for p in &discovered.problems {
        let settings = config.settings_for(Path::new(&p.path));
        if let Some(level) = level_of(&rules::UNREADABLE_FILE, &settings) {
            let id = rules::UNREADABLE_FILE.meta.id;
            let level = if p.skipped { diag::Level::Info } else { level };
            let d = Diagnostic::new(id, level, &p.path, first_char(), p.message.clone());
            report.diagnostics.push(d);
        }
    }
    // Folders given in which nothing is checked (a .gitignore that ignores everything, an
    // --exclude too wide): a passing run that looked at nothing says so.
    if discovered.inputs.is_empty() && discovered.problems.is_empty() {
        for folder in opts.paths.iter().filter(|p| Path::new(p).is_dir()) {
            let id = rules::UNREADABLE_FILE.meta.id;
            let message = "no file to check in this folder: every file is ignored (.gitignore, --exclude) or not YAML".to_owned();
            let d = Diagnostic::new(id, diag::Level::Warning, folder, first_char(), message);
            report.diagnostics.push(d);
        }
    }

    let problems = plan
        .problems
        .iter()
        .chain(&releases.problems)
        .chain(&deployed.problems);
    for problem in problems {
        let file = names.name_of(&repo::identity(&problem.file));
        let settings = config.settings_for(Path::new(&file));
        if let Some(level) = level_of(problem.rule, &settings) {
            let id = problem.rule.meta.id;
            let d = Diagnostic::new(id, level, &file, problem.span, problem.message.to_string());
            report.diagnostics.push(d);
        }
    }

    let role = |identity: &Path| match plan.repo.role(identity) {
        repo::Role::Kustomization(_) => source::Role::Kustomization,
        repo::Role::Patch(patch) => source::Role::Patch(patch),
        repo::Role::Data => source::Role::Data,
        repo::Role::Manifest => source::Role::Manifest {
            rendered: plan.covered.contains(identity),
        },
    };
    let mut sources = read_sources(discovered.inputs, stdin, opts, &role)?;
    // Whole-stream rules group objects by folder: a rendered stream is a folder of its own,
    // not the folder of the files beside the chart or kustomization (checked too, perhaps).
    let stream_folder = |folder: &Path, name: &str| -> Arc<Path> {
        let folder = std::fs::canonicalize(folder).unwrap_or(folder.to_path_buf());
        Arc::from(folder.join(name))
    };
    sources.extend(rendered.iter().map(|r| Source {
        name: r.name.clone(),
        folder: stream_folder(&r.folder, &r.name),
        config_path: r.config_path.clone(),
        in_memory: Some(r.text.clone().into_bytes()),
        role: source::Role::Manifest { rendered: false },
    }));
    // The folders Argo CD Applications apply as they are, each as one stream.
    sources.extend(deployed.directories.iter().map(|d| Source {
        name: d.name.clone(),
        folder: stream_folder(&d.dir, &d.name),
        config_path: d.dir.clone(),
        in_memory: Some(d.text.clone().into_bytes()),
        role: source::Role::Manifest { rendered: false },
    }));
    sources.extend(plan.streams.iter().map(|s| {
        let root = &plan.repo.kustomizations[s.root];
        Source {
            name: s.name.clone(),
            folder: stream_folder(&root.dir, &s.name),
            config_path: PathBuf::from(names.name_of(&repo::identity(&root.file))),
            in_memory: Some(s.rendered.text.clone().into_bytes()),
            role: source::Role::Rendered,
        }
    }));

    let locations = SchemaLocations::new(
        &opts.schema_locations,
        kubernetes_version,
        opts.cache_dir.clone(),
    )?;
    let context = Context {
        kubernetes_version,
        crds: &crds,
        crds_complete: false,
        catalog: !opts.no_catalog,
        locations: &locations,
    };

    // Schemas from --schema-location (downloads that may fail, files that may change) are
    // not what a kept result can be trusted to have seen.
    let cache = opts
        .cache
        .as_deref()
        .filter(|_| opts.schema_locations.is_empty());
    if let Some(cache) = cache {
        cache.begin(check::cache::fingerprint(opts, config));
    }
    let results: Vec<FileResult> = sources
        .par_iter()
        .map(|source| {
            guarded(source, || {
                check_file(
                    source,
                    (config, &context, &policies),
                    opts.keep_sources,
                    cache,
                )
            })
        })
        .collect::<Result<_, Error>>()?;

    let mut summaries = Vec::new();
    // For each summary, the index of its file (for the file's rule settings).
    let mut file_of = Vec::new();
    let mut settings = Vec::new();
    let mut pending = Vec::new();
    let mut input_crds = Vec::new();
    // The files that define CRDs, with the hashes of their text (zero when no cache keeps
    // results).
    let mut crd_files: Vec<(&str, [u64; 2])> = Vec::new();
    let mut stream_objects = Vec::new();
    let mut suppressions = Vec::new();
    for (i, result) in results.into_iter().enumerate() {
        let text = result.text_hash;
        if !result.crds.is_empty() {
            crd_files.push((sources[i].name.as_str(), text));
        }
        input_crds.extend(result.crds);
        suppressions.extend(result.suppressions);
        // A render's policies may govern that render's objects only.
        let render =
            matches!(sources[i].role, source::Role::Rendered) || sources[i].in_memory.is_some();
        let scope = render.then_some(i);
        kyverno_documents.extend(result.kyverno.into_iter().map(|d| (scope, d)));
        stream_objects.extend(result.stream_inputs.into_iter().map(|o| StreamObject {
            file: i,
            text,
            ..o
        }));
        if !result.pending.is_empty() {
            pending.push((i, result.pending, text));
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
        crds.add_serialized(crd);
    }
    let context = Context {
        kubernetes_version,
        crds: &crds,
        crds_complete: true,
        catalog: !opts.no_catalog,
        locations: &locations,
    };
    // Kept results of the last run hold for a file's custom resources when neither the file
    // nor any file that defines a CRD changed.
    let known = |text: &[u64; 2]| *text != [0; 2];
    let crds_key = cache
        .filter(|_| crd_files.iter().all(|(_, text)| known(text)))
        .map(|_| check::cache::hash128(&crd_files));
    let late: Vec<Vec<Diagnostic>> = pending
        .par_iter()
        .map(|(i, objects, text)| {
            let source = &sources[*i];
            let key = crds_key
                .filter(|_| known(text))
                .map(|crds| check::cache::hash128((&source.name, text, objects, crds)));
            let kept = cache
                .zip(key)
                .and_then(|(cache, key)| cache.pending_get(key));
            if let Some(found) = kept {
                return Ok(found);
            }
            let found = guarded(source, || {
                check_pending(source, objects, &settings[*i], &context)
            })?;
            if let (Some(cache), Some(key)) = (cache, key) {
                cache.pending_put(key, &found);
            }
            Ok(found)
        })
        .collect::<Result<_, Error>>()?;
    report.diagnostics.extend(late.into_iter().flatten());

    run_stream_rules(&summaries, &file_of, &settings, &mut report);
    report.files = sources.iter().map(|s| s.name.clone()).collect();
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
            Some((summary.file.to_string(), summary.name_span))
        },
        cache,
    );
    report.diagnostics.extend(stream?);
    apply_kyverno(&kyverno_documents, &sources, &settings, &mut report)?;
    if let Some(cache) = cache {
        cache.end();
    }

    // Files whose only diagnostics came from whole-stream rules: read them again for snippets.
    let with_diagnostics: std::collections::HashSet<&str> =
        report.diagnostics.iter().map(|d| d.file.as_str()).collect();
    for source in sources.iter().filter(|_| opts.keep_sources) {
        if with_diagnostics.contains(source.name.as_str())
            && !report.sources.contains_key(&source.name)
            && source.in_memory.is_none()
            && let Some(text) = load::read_file(&source.config_path)
                .ok()
                .and_then(|b| load::decode(b).ok())
        {
            report.sources.insert(source.name.clone(), Arc::from(text));
        }
    }

    // Findings on rendered kustomizations go to the files and lines that wrote them.
    let unread = repo::findings::place_rendered(
        &mut report,
        &plan,
        &names,
        config,
        &mut suppressions,
        opts.keep_sources,
    );

    // Where a release without a namespace of its own put objects is left to whoever installs it.
    releases.drop_release_namespace_findings(&mut report.diagnostics);
    // Values a template computes at render time are nowhere in Git.
    releases.drop_generated_secret_findings(&mut report.diagnostics);

    // The path the config matches a diagnostic's file as: a rendered chart's template, a
    // rendered folder, stdin's --stdin-filename, a file itself.
    let config_paths: HashMap<&str, &Path> = sources
        .iter()
        .map(|s| (s.name.as_str(), s.config_path.as_path()))
        .collect();
    let file_path = |file: &str| -> PathBuf {
        config_paths
            .get(file)
            .map_or_else(|| PathBuf::from(file), |p| p.to_path_buf())
    };
    let config_path = |d: &Diagnostic| -> PathBuf {
        let stream = rendered.iter().find(|r| r.name == d.file);
        if let (Some(chart), Some(template)) =
            (stream.and_then(|r| r.chart.as_ref()), &d.source_template)
        {
            if let Some(file) = load::render::template_file(chart, template) {
                return file;
            }
            if let Some((archive, _)) = load::template_map::packaged_template(chart, template) {
                return archive;
            }
        }
        file_path(&d.file)
    };
    // Every file of the run as config globs see it: the sources, and rendered charts' templates.
    let checked: Vec<PathBuf> = sources
        .iter()
        .map(|s| s.config_path.clone())
        .chain(
            rendered
                .iter()
                .filter_map(|r| r.chart.as_ref())
                .flat_map(|chart| {
                    load::render::template_files(chart)
                        .into_iter()
                        .map(PathBuf::from)
                }),
        )
        .collect();
    report.summary.suppressed = apply_suppressions(
        &mut report.diagnostics,
        &suppressions,
        config,
        (&policies, &report.run_rules),
        &config_path,
        &file_path,
        (&checked, covers_folder(&opts.paths, &config.root)),
    );
    // Suppressions in files the run did not read may cover findings of other roots.
    report
        .diagnostics
        .retain(|d| d.rule != rules::UNUSED_SUPPRESSION.meta.id || !unread.contains(&d.file));
    repo::directories::place(&mut report.diagnostics, &deployed.directories, &plan.named);
    repo::findings::merge_across_roots(&mut report.diagnostics);
    let templates = releases.place_findings(
        &mut report.diagnostics,
        &plan.named,
        opts.stdin_filename.as_deref(),
    );
    if opts.keep_sources {
        for (name, text) in templates {
            report.sources.insert(name, Arc::from(text));
        }
    }
    // A rendered chart's templates are checked in full: a baseline forgets their old entries.
    for chart in rendered.iter().filter_map(|r| r.chart.as_ref()) {
        report.files.extend(load::render::template_files(chart));
        report
            .files
            .push(load::render::chart_file(chart).display().to_string());
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
    (policies, run_rules): (
        &policy::Policies,
        &std::collections::BTreeMap<String, diag::RunRule>,
    ),
    config_path: &dyn Fn(&Diagnostic) -> PathBuf,
    file_path: &dyn Fn(&str) -> PathBuf,
    // Every file of the run, and whether the run covers the config's whole folder.
    (checked, whole_repository): (&[PathBuf], bool),
) -> usize {
    let policy_rule = |id: &str| policies.rules().iter().find(|r| r.id == id);
    let known = |id: &str| {
        rules::find(id).is_some() || policy_rule(id).is_some() || run_rules.contains_key(id)
    };
    let level = |id: &str, file: &str| {
        let settings = config.settings_for(&file_path(file));
        match (rules::find(id), policy_rule(id), run_rules.get(id)) {
            (Some(rule), _, _) => level_of(rule, &settings),
            (None, Some(rule), _) => policy_level(rule, None, &settings),
            (None, None, Some(rule)) => match settings.get(id) {
                Some(setting) => *setting,
                None => Some(rule.default_level),
            },
            (None, None, None) => None,
        }
    };
    let looks_across_files = |id: &str| {
        rules::find(id).is_some_and(|r| matches!(r.check, Check::Stream(_)))
            || policies.stream_rules().any(|r| r.id == id)
    };
    let context = suppress::Context {
        config,
        config_path,
        known: &known,
        level: &level,
        looks_across_files: &looks_across_files,
        whole_repository,
        checked,
    };
    suppress::apply(diagnostics, suppressions, &context)
}

/// The Kyverno stage: when the input or `--kyverno` has Kyverno policies, applies them to the
/// input's objects, adds what failed to the diagnostics and every verdict to the report.
fn apply_kyverno(
    documents: &[check::kyverno::Scoped<serde_json::Value>],
    sources: &[Source],
    settings: &[HashMap<String, config::Setting>],
    report: &mut Report,
) -> Result<(), Error> {
    let policies = check::kyverno::policies(documents);
    if policies.is_empty() {
        return Ok(());
    }
    let applied = check::kyverno::apply(&policies, documents, sources, settings)?;
    report.diagnostics.extend(applied.diagnostics);
    let mut verdicts = applied.verdicts;
    verdicts.sort_by(|a, b| {
        (&a.file, &a.object, &a.policy, &a.rule).cmp(&(&b.file, &b.object, &b.policy, &b.rule))
    });
    report.kyverno = Some(verdicts);
    report.run_rules = applied.rules;
    report.notes.extend(applied.notes);
    report.warnings.extend(applied.warnings);
    Ok(())
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

/// What charts are rendered for: the Kubernetes version checked against, and every
/// apiVersion (and apiVersion/Kind) it serves, a CRD under `--crds` defines, or `more` adds.
fn capabilities(
    version: &'static str,
    crds: &CrdStore,
    more: &[(String, String)],
) -> load::render::Capabilities {
    let mut api_versions = std::collections::BTreeSet::new();
    if let Ok(schemas) = schema::builtin::schemas(version) {
        for (api_version, kinds) in &schemas.kinds {
            api_versions.insert(api_version.clone());
            api_versions.extend(kinds.keys().map(|kind| format!("{api_version}/{kind}")));
        }
    }
    let more = more.iter().map(|(a, k)| (a.as_str(), k.as_str()));
    for (api_version, kind) in crds.kinds().chain(more) {
        api_versions.insert(api_version.to_owned());
        api_versions.insert(format!("{api_version}/{kind}"));
    }
    load::render::Capabilities {
        kube_version: format!("v{version}.0"),
        api_versions: api_versions.into_iter().collect(),
    }
}

/// The CRDs under `--crds`, read before any object is checked.
fn collect_crds(
    paths: &[String],
    include: &PathFilter,
) -> Result<(CrdStore, Vec<Diagnostic>), Error> {
    let mut store = CrdStore::default();
    if paths.is_empty() {
        return Ok((store, Vec::new()));
    }
    let none = PathFilter::new::<&str>(&[], Anchor::Anywhere)?;
    let found = discover(paths, include, &none);
    if let Some(problem) = found.problems.first() {
        return Err(Error::Crds {
            path: problem.path.clone(),
            message: problem.message.to_string(),
        });
    }
    let files: Vec<PathBuf> = found
        .inputs
        .into_iter()
        .filter_map(|input| match input {
            Input::File(file) => Some(file.path),
            Input::Stdin => None,
        })
        .collect();
    /// A file's CRD versions, each with the line its CRD starts on, and what is wrong with it.
    type PerFile = (Vec<(schema::crd::CrdSchema, u32)>, Vec<Diagnostic>);
    let per_file: Vec<PerFile> = files
        .par_iter()
        .map(|path| {
            let name = path.display().to_string();
            let bytes = load::read_file(path).map_err(|e| Error::Crds {
                path: name.clone(),
                message: load::discover::io_message(&e),
            })?;
            // A file that gives no CRD is said, not dropped: its custom resources would be
            // left unvalidated without a word.
            let problem = |rule: &rules::Rule, span, message: String| {
                Diagnostic::new(rule.meta.id, rule.meta.default_level, &name, span, message)
            };
            let text = match load::decode(bytes) {
                Ok(text) => text,
                Err(e) => {
                    let rule = match e {
                        load::DecodeError::TooLarge { .. } => &rules::INPUT_LIMIT,
                        _ => &rules::UNREADABLE_FILE,
                    };
                    return Ok((Vec::new(), vec![problem(rule, first_char(), e.to_string())]));
                }
            };
            // Read as far as kinds and versions; the whole text when its skeleton does not
            // parse (an alias of an anchor in a schema).
            let is_error = |loaded: &load::Loaded| {
                loaded.yaml_issues.iter().any(|issue| {
                    matches!(
                        issue.kind,
                        load::yaml::IssueKind::Limit | load::yaml::IssueKind::Syntax
                    )
                })
            };
            let loaded = schema::crd_files::skeleton(&text)
                .map(|skeleton| load::load_text(&skeleton))
                .filter(|loaded| !is_error(loaded))
                .unwrap_or_else(|| load::load_text(&text));
            let mut problems: Vec<Diagnostic> = loaded
                .yaml_issues
                .iter()
                .filter_map(|issue| match issue.kind {
                    load::yaml::IssueKind::Limit => Some((&rules::INPUT_LIMIT, issue)),
                    load::yaml::IssueKind::Syntax => Some((&rules::YAML_SYNTAX, issue)),
                    _ => None,
                })
                .take(1)
                .map(|(rule, issue)| problem(rule, issue.span, issue.message.clone()))
                .collect();
            for object in &loaded.objects {
                if let Some((pointer, message)) = schema::crd::unusable(object) {
                    let span = object.root.locate(&pointer).span;
                    problems.push(problem(&rules::SCHEMA, span, message));
                }
            }
            let versions = loaded
                .objects
                .iter()
                .flat_map(|o| {
                    let line = o.root.span.start.line;
                    schema::crd::versions_of(o, |_, _| true)
                        .into_iter()
                        .map(move |crd| (crd, line))
                })
                .collect();
            Ok((versions, problems))
        })
        .collect::<Result<_, Error>>()?;
    let mut problems = Vec::new();
    for ((versions, found), path) in per_file.into_iter().zip(&files) {
        let path: Arc<Path> = Arc::from(path.as_path());
        for (crd, line) in versions {
            store.add_in_file(crd, Arc::clone(&path), line);
        }
        problems.extend(found);
    }
    Ok((store, problems))
}
