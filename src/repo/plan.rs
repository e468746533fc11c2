//! The repository stage of a run, computed once before any file is checked: the kustomization
//! graph of the input, the roots to render (all those in the folders given; for files given,
//! those whose render reads them), their renders, and the problems rendering met.

use std::collections::{BTreeSet, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::render::{self, RenderFailure, RenderedRoot, Tool};
use super::{Repository, identity, kustomization};
use crate::load::discover::Input;
use crate::load::spans::Span;

/// What the repository stage is given.
#[derive(Debug, Default)]
pub struct PlanOptions<'a> {
    /// The paths of the command line (files, folders, `-`).
    pub paths: &'a [String],
    /// What stdin stands for, if it is read.
    pub stdin_filename: Option<&'a str>,
    /// Kustomizations to render whatever includes them (`--kustomize DIR`).
    pub forced: &'a [PathBuf],
    /// Render roots (the default), or only read the files.
    pub render: bool,
    /// Where to look for `kustomize` and `kubectl`; the PATH when `None`.
    pub tool_path: Option<OsString>,
    /// Where renders are cached; no cache when `None`.
    pub cache_dir: Option<PathBuf>,
    /// Editors' unsaved buffers, read in their files' place.
    pub buffers: crate::load::buffers::Buffers,
}

/// A root's render, checked as a stream of its own.
#[derive(Debug)]
pub struct RenderedStream {
    pub root: usize,
    /// How its diagnostics are named until they are placed: `kustomize build overlays/prod`.
    pub name: String,
    pub rendered: RenderedRoot,
    /// False when only files named on the command line led to the root: then only findings
    /// placed in those files are reported.
    pub report_all: bool,
}

/// A problem of the repository stage, on a kustomization file.
pub struct PlanProblem {
    pub rule: &'static crate::rules::Rule,
    pub file: PathBuf,
    pub span: Span,
    pub message: String,
}

#[derive(Default)]
pub struct Plan {
    pub repo: Repository,
    pub streams: Vec<RenderedStream>,
    /// Files (identities) that a successful render reads: their objects are checked as
    /// rendered, on their own only for what is true of the file alone (syntax, schema).
    pub covered: HashSet<PathBuf>,
    /// Files named on the command line (identities).
    pub named: HashSet<PathBuf>,
    pub problems: Vec<PlanProblem>,
}

/// Errors that stop the run: a kustomization asked for by `--kustomize` cannot be rendered.
pub type PlanError = crate::load::render::RenderError;

/// The plan of the input; `layers` are what Argo CD Applications add over the kustomizations
/// they deploy (see [`kustomization::Kustomization::application`]).
pub fn plan(
    inputs: &[Input],
    o: &PlanOptions,
    layers: Vec<kustomization::Kustomization>,
) -> Result<Plan, PlanError> {
    let mut named: HashSet<PathBuf> = o
        .paths
        .iter()
        .filter(|p| *p != "-" && Path::new(p).is_file())
        .map(|p| identity(Path::new(p)))
        .collect();
    let folders: Vec<PathBuf> = o
        .paths
        .iter()
        .filter(|p| Path::new(p).is_dir())
        .map(|p| identity(Path::new(p)))
        .collect();
    let mut seeds: Vec<PathBuf> = inputs
        .iter()
        .filter_map(|i| match i {
            Input::File(f) if kustomization::is_kustomization_name(&f.path) => Some(f.path.clone()),
            _ => None,
        })
        .collect();
    // Files alone (pre-commit): the roots that read them may be anywhere in the repository.
    // But kustomize reads a file only from the folder of a kustomization or below (its load
    // restrictor), so a file with no kustomization above it is read by none: no walk then.
    let walked: BTreeSet<PathBuf> = named
        .iter()
        .filter(|f| under_a_kustomization(f))
        .map(|f| super::repository_root(f))
        .collect();
    for root in &walked {
        seeds.extend(super::find_kustomizations(root));
    }
    // An editor's buffer: the kustomizations of its folder and those above say what it is.
    if let Some(name) = o.stdin_filename {
        let path = identity(Path::new(name));
        let mut at = path.parent();
        while let Some(dir) = at {
            seeds.extend(kustomization::file_in(dir));
            at = dir.parent();
        }
    }
    let forced: Vec<PathBuf> = o
        .forced
        .iter()
        .map(|dir| {
            kustomization::file_in(dir).ok_or_else(|| PlanError::NoKustomization {
                dir: dir.display().to_string(),
            })
        })
        .collect::<Result<_, _>>()?;
    seeds.extend(forced.iter().cloned());
    if seeds.is_empty() && layers.is_empty() {
        return Ok(Plan {
            named,
            ..Plan::default()
        });
    }
    let repo = Repository::plan_with(&seeds, layers, o.buffers.clone());
    let forced_roots: Vec<usize> = forced.iter().filter_map(|f| repo.index_of(f)).collect();
    let under_folder = |root: usize| {
        let file = identity(&repo.kustomizations[root].file);
        folders.iter().any(|f| file.starts_with(f))
    };
    let reading_named = if named.is_empty() {
        Vec::new()
    } else {
        repo.roots_reading(&named)
    };
    let mut selected: Vec<(usize, bool)> = Vec::new();
    for &root in &repo.roots {
        let all = under_folder(root) || forced_roots.contains(&root);
        if all || reading_named.contains(&root) {
            selected.push((root, all));
        }
    }
    for &root in &forced_roots {
        if !selected.iter().any(|(r, _)| *r == root) {
            selected.push((root, true));
        }
    }
    let mut plan = Plan {
        named: std::mem::take(&mut named),
        ..Plan::default()
    };
    if !o.render || selected.is_empty() {
        plan.repo = repo;
        return Ok(plan);
    }
    let Some(tool) = Tool::find(o.tool_path.as_deref()) else {
        if let Some(dir) = o.forced.first() {
            return Err(PlanError::Missing {
                what: format!("the kustomization {}", dir.display()),
                missing: "neither kustomize nor kubectl is",
                install: "install kustomize or kubectl, or render it yourself: kustomize build DIR | kvet check -",
            });
        }
        let first = &repo.kustomizations[selected[0].0];
        let count = selected.len();
        let what = if count == 1 {
            "kustomization was"
        } else {
            "kustomizations were"
        };
        plan.problems.push(PlanProblem {
            rule: &crate::rules::KUSTOMIZE_NOT_RENDERED,
            file: first.file.clone(),
            span: Span::FIRST_CHAR,
            message: format!(
                "{count} {what} not rendered: neither kustomize nor kubectl is on the PATH, so only their files were checked"
            ),
        });
        plan.repo = repo;
        return Ok(plan);
    };
    // kustomize downloads a Helm chart that is not in the repository into the repository:
    // such roots are not rendered (kvet writes nothing of the user's, and fetches nothing).
    selected.retain(|&(root, _)| {
        let missing = repo.closure(root).into_iter().find_map(|k| {
            let (name, pointer) = repo.kustomizations[k].missing_charts.first()?;
            Some((k, name.clone(), pointer.clone()))
        });
        let Some((k, name, pointer)) = missing else {
            return true;
        };
        let kustomization = &repo.kustomizations[k];
        plan.problems.push(PlanProblem {
            rule: &crate::rules::KUSTOMIZE_NOT_RENDERED,
            file: kustomization.file.clone(),
            span: kustomization.root.locate(&pointer).span,
            message: format!(
                "{} was not rendered: the Helm chart `{name}` is not in the repository, and kustomize would download it into it (kvet writes and fetches nothing); vendor the chart under the chart home (`charts/`) to have it checked",
                names_root(&repo, root)
            ),
        });
        false
    });
    let hashes = render::FileHashes::default();
    let results = in_parallel(
        &selected,
        |&(root, all)| {
            (
                root,
                all,
                render::render(&repo, root, &tool, o.cache_dir.as_deref(), &hashes),
            )
        },
        |&(root, _)| {
            repo.files_of(root)
                .iter()
                .filter_map(|f| std::fs::metadata(f).ok())
                .map(|m| m.len())
                .sum()
        },
    );
    let mut names = HashSet::new();
    for (root, report_all, result) in results {
        let k = &repo.kustomizations[root];
        match result {
            Ok(rendered) => {
                plan.covered.extend(repo.files_of(root));
                let folder = match &k.application {
                    Some(_) => k.dir.clone(),
                    None => k.file.parent().unwrap_or(Path::new(".")).to_path_buf(),
                };
                let mut name = format!(
                    "kustomize build {}",
                    crate::load::discover::clean(&folder).display()
                );
                if let Some(app) = &k.application {
                    name.push_str(&format!(" (Application {app})"));
                }
                let warned = rendered.warnings.iter();
                let tool = tool.describe();
                let tool = tool.trim();
                plan.problems
                    .extend(warned.map(|w| warning_problem(&repo, root, tool, w)));
                plan.streams.push(RenderedStream {
                    root,
                    name: super::unique_name(&mut names, name),
                    rendered,
                    report_all,
                });
            }
            Err(failure) => plan.problems.push(failure_problem(&repo, root, failure)),
        }
    }
    plan.repo = repo;
    Ok(plan)
}

/// Runs `work` on every item on as many threads as rayon has, the largest items (by `size`)
/// first: renders differ in length a hundredfold, and a long one started last would run alone.
/// The results are in the items' order.
pub(crate) fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    work: impl Fn(&T) -> R + Sync,
    size: impl Fn(&T) -> u64,
) -> Vec<R> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    let sizes: Vec<u64> = items.iter().map(&size).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(sizes[i]));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<R>>> =
        std::sync::Mutex::new(items.iter().map(|_| None).collect());
    let threads = rayon::current_num_threads().clamp(1, items.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let at = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&i) = order.get(at) else { break };
                    let result = work(&items[i]);
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every item is worked on"))
        .collect()
}

/// How a message names a root: its folder, or "this kustomization" for the current one.
fn names_root(repo: &Repository, root: usize) -> String {
    let folder = repo.kustomizations[root]
        .file
        .parent()
        .unwrap_or(Path::new("."));
    match crate::load::discover::clean(folder) {
        f if f == Path::new(".") => "this kustomization".to_owned(),
        f => format!("the kustomization {}", f.display()),
    }
}

/// Whether a kustomization file is in the folder of `file` or a folder above it, up to the
/// repository's root.
pub(crate) fn under_a_kustomization(file: &Path) -> bool {
    let root = super::repository_root(file);
    file.ancestors()
        .skip(1)
        .take_while(|dir| dir.starts_with(&root))
        .any(|dir| kustomization::file_in(dir).is_some())
}

/// A render tool's warning, on the field of the root's kustomizations it names (quoted, as
/// kustomize quotes them: `'commonLabels' is deprecated`), else on the root's first line.
fn warning_problem(repo: &Repository, root: usize, tool: &str, warning: &str) -> PlanProblem {
    let named_field = repo.closure(root).into_iter().find_map(|k| {
        let kustomization = &repo.kustomizations[k];
        let fields = kustomization.root.as_map()?;
        let field = fields
            .iter()
            .find(|f| warning.contains(&format!("'{}'", f.key)))?;
        Some((k, field.key_span))
    });
    let (k, span) = named_field.unwrap_or((root, Span::FIRST_CHAR));
    PlanProblem {
        rule: &crate::rules::RENDER_WARNING,
        file: repo.kustomizations[k].file.clone(),
        span,
        message: format!("{tool}: {warning}"),
    }
}

/// A failed render, on the entry of the root's kustomizations its message names (quoted, as
/// kustomize quotes paths), else on the root's first line.
fn failure_problem(repo: &Repository, root: usize, failure: RenderFailure) -> PlanProblem {
    let named_entry = repo.closure(root).into_iter().find_map(|k| {
        let kustomization = &repo.kustomizations[k];
        let entries = kustomization
            .resources
            .iter()
            .chain(&kustomization.components)
            .chain(&kustomization.files);
        entries
            .filter(|e| {
                failure.message.contains(&format!("'{}'", e.value))
                    || failure.message.contains(&format!("\"{}\"", e.value))
            })
            .map(|e| (k, e.pointer.clone()))
            .next()
    });
    let (k, span) = match named_entry {
        Some((k, pointer)) => (k, repo.kustomizations[k].root.locate(&pointer).span),
        None => (root, Span::FIRST_CHAR),
    };
    PlanProblem {
        rule: &crate::rules::KUSTOMIZE_RENDER_FAILED,
        file: repo.kustomizations[k].file.clone(),
        span,
        message: failure.message,
    }
}
