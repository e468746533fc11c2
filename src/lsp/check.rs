//! One check of one document, on a worker thread: `kvet check -` on the editor's text, with
//! the file's `.kvet.yaml` and the client's settings. Never panics into the server: a crash
//! or a broken policy is one diagnostic on the document.

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lsp_types::Uri;

use super::diagnostics::{failure, to_lsp};
use super::settings::Settings;
use super::text::Lines;
use crate::config::Config;
use crate::{LintOptions, lint};

/// The last config of each folder that loaded: what a broken edit of it leaves in force.
pub type Configs = Arc<Mutex<HashMap<PathBuf, Arc<Config>>>>;

pub struct Job {
    pub uri: Uri,
    pub version: i32,
    /// The server's number for this check: a later one of the same document makes it stale.
    pub generation: u64,
    pub path: PathBuf,
    pub text: String,
    pub settings: Arc<Settings>,
    pub configs: Configs,
}

pub struct Outcome {
    pub uri: Uri,
    /// The version of the document checked.
    pub version: i32,
    pub generation: u64,
    pub diagnostics: Vec<lsp_types::Diagnostic>,
    /// What the user should be told apart from the document (a broken config or policy).
    pub problems: Vec<String>,
    pub config_file: Option<ConfigFile>,
    /// Set when the check could not run: where a broken policy is, if that is why.
    pub policy: Option<Option<(Uri, lsp_types::Diagnostic)>>,
}

pub fn run(job: Job) -> Outcome {
    let mut problems = Vec::new();
    let folder = job.path.parent().unwrap_or(Path::new("/")).to_path_buf();
    let (config, config_file) = config_for(&folder, &job.configs, &mut problems);
    let name = job.path.display().to_string();
    // `None` when the check ran: any policy problem shown before is gone.
    let mut policy = None;
    let opts = LintOptions {
        paths: vec!["-".to_owned()],
        stdin_filename: Some(name.clone()),
        stdin_bytes: Some(job.text.clone().into_bytes()),
        ..job.settings.lint_options()
    };
    let lines = Lines::new(&job.text);
    let mut others = Texts::default();
    let diagnostics = match catch_unwind(AssertUnwindSafe(|| lint(&opts, &config))) {
        Ok(Ok(mut report)) => {
            without_baselined(&mut report, &job.settings, &mut problems);
            report
                .diagnostics
                .iter()
                .filter(|d| d.file == name)
                .map(|d| {
                    let mut lsp = to_lsp(d, &lines);
                    lsp.related_information =
                        related(d, (&job.uri, &lines), folder.as_path(), &mut others);
                    lsp
                })
                .collect()
        }
        Ok(Err(e)) => {
            let message = format!("kvet could not check {name}: {e}");
            problems.push(message.clone());
            policy = Some(policy_problem(&e, &folder));
            vec![failure(message)]
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            vec![failure(format!(
                "kvet crashed checking this file ({what}): please report it with the file"
            ))]
        }
    };
    Outcome {
        uri: job.uri,
        version: job.version,
        generation: job.generation,
        diagnostics,
        problems,
        config_file,
        policy,
    }
}

/// The `.kvet.yaml` of `folder` (or the nearest above); when it does not load, the last one
/// that did, and a problem to show. With the config file and its problem, if any.
fn config_for(
    folder: &Path,
    configs: &Configs,
    problems: &mut Vec<String>,
) -> (Arc<Config>, Option<ConfigFile>) {
    let mut known = configs.lock().unwrap_or_else(|e| e.into_inner());
    match Config::discover(folder) {
        Ok(config) => {
            let file = config.path.as_deref().and_then(|path| {
                let path = std::path::absolute(path).ok()?;
                Some(ConfigFile {
                    uri: super::uri_of(&path)?,
                    problem: None,
                })
            });
            let config = Arc::new(config);
            known.insert(folder.to_path_buf(), Arc::clone(&config));
            (config, file)
        }
        Err(e) => {
            let last = known.get(folder).cloned();
            let kept = match last {
                Some(_) => "the last one that loaded stays in force",
                None => "kvet's defaults apply",
            };
            let message = format!("{e} ({kept})");
            problems.push(message.clone());
            let path = folder
                .ancestors()
                .map(|dir| dir.join(crate::config::FILE_NAME))
                .find(|p| p.is_file());
            let file = path.and_then(|path| {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let span = e.span().unwrap_or(crate::load::spans::Span::FIRST_CHAR);
                let mut problem = failure(message);
                problem.range = super::text::span_range(&text, span);
                Some(ConfigFile {
                    uri: super::uri_of(&path)?,
                    problem: Some(problem),
                })
            });
            (last.unwrap_or_default(), file)
        }
    }
}

/// The config file a check read, and what is wrong with it.
pub struct ConfigFile {
    pub uri: Uri,
    pub problem: Option<lsp_types::Diagnostic>,
}

/// A check of the whole workspace, as `kvet check ROOT` with the open documents' unsaved
/// text in place of the files': what whole-input rules find (an object in one file that
/// another refers to, a duplicate across files) and the findings of files not open.
pub struct WorkspaceJob {
    pub generation: u64,
    pub root: PathBuf,
    pub buffers: Vec<Buffer>,
    pub settings: Arc<Settings>,
    pub configs: Configs,
    /// What the last workspace check found in each file.
    pub cache: Arc<crate::CheckCache>,
}

/// An open document as a workspace check reads it.
pub struct Buffer {
    pub uri: Uri,
    pub version: i32,
    pub text: String,
}

pub struct WorkspaceOutcome {
    pub generation: u64,
    /// The findings of each file, placed in the text the check read.
    pub by_file: HashMap<Uri, Vec<lsp_types::Diagnostic>>,
    /// The version of each open document the check read (only those it read).
    pub versions: HashMap<Uri, i32>,
    pub files: usize,
    pub problems: Vec<String>,
    pub config_file: Option<ConfigFile>,
    /// As [`Outcome::policy`].
    pub policy: Option<Option<(Uri, lsp_types::Diagnostic)>>,
}

pub fn run_workspace(job: WorkspaceJob) -> WorkspaceOutcome {
    let mut problems = Vec::new();
    let (config, config_file) = config_for(&job.root, &job.configs, &mut problems);
    // Open documents by real path: how the check names the files it reads.
    let open: HashMap<PathBuf, &Buffer> = job
        .buffers
        .iter()
        .filter_map(|b| Some((std::fs::canonicalize(super::path_of(&b.uri)?).ok()?, b)))
        .collect();
    let opts = LintOptions {
        paths: vec![job.root.display().to_string()],
        overlays: open
            .iter()
            .map(|(path, b)| (path.clone(), b.text.clone().into_bytes()))
            .collect(),
        keep_sources: true,
        cache: Some(job.cache),
        ..job.settings.lint_options()
    };
    let mut by_file: HashMap<Uri, Vec<lsp_types::Diagnostic>> = HashMap::new();
    let mut files = 0;
    let mut policy = None;
    // The open documents the check read (not those outside the root, or left out by
    // .gitignore or --exclude, nor any when it could not run).
    let mut versions = HashMap::new();
    match catch_unwind(AssertUnwindSafe(|| lint(&opts, &config))) {
        Ok(Ok(mut report)) => {
            without_baselined(&mut report, &job.settings, &mut problems);
            files = report.files.len();
            // Which open documents it read: only names of open files are looked up.
            let open_names: HashSet<&std::ffi::OsStr> =
                open.keys().filter_map(|p| p.file_name()).collect();
            for name in &report.files {
                if !Path::new(name)
                    .file_name()
                    .is_some_and(|n| open_names.contains(n))
                {
                    continue;
                }
                let read = std::fs::canonicalize(job.root.join(name)).ok();
                if let Some(buffer) = read.and_then(|path| open.get(&path)) {
                    versions.insert(buffer.uri.clone(), buffer.version);
                }
            }
            // Each file's findings, placed in the text the check read, indexed once.
            let mut of_file: HashMap<&str, Vec<&crate::diag::Diagnostic>> = HashMap::new();
            for d in &report.diagnostics {
                of_file.entry(&d.file).or_default().push(d);
            }
            let mut others = Texts::default();
            for (file, found) in of_file {
                let path = job.root.join(file);
                let real = std::fs::canonicalize(&path).ok();
                let (uri, text) = match real.as_ref().and_then(|r| open.get(r)) {
                    Some(buffer) => (buffer.uri.clone(), buffer.text.as_str().into()),
                    None => {
                        let Some(uri) = super::uri_of(&path) else {
                            continue;
                        };
                        let text: std::borrow::Cow<str> = match report.sources.get(file) {
                            Some(text) => text.to_string().into(),
                            None => std::fs::read_to_string(&path).unwrap_or_default().into(),
                        };
                        (uri, text)
                    }
                };
                let lines = Lines::new(&text);
                let converted = found.into_iter().map(|d| {
                    let mut lsp = to_lsp(d, &lines);
                    lsp.related_information = related(d, (&uri, &lines), &job.root, &mut others);
                    lsp
                });
                by_file.entry(uri.clone()).or_default().extend(converted);
            }
        }
        Ok(Err(e)) => {
            problems.push(format!("kvet could not check the workspace: {e}"));
            policy = Some(policy_problem(&e, &job.root));
        }
        Err(_) => problems.push("kvet crashed checking the workspace: please report it".into()),
    }
    WorkspaceOutcome {
        generation: job.generation,
        by_file,
        versions,
        files,
        problems,
        config_file,
        policy,
    }
}

/// The report without the findings the `baseline` setting records, as `kvet check --baseline`
/// reports; a baseline that cannot be read is a problem to show, and hides nothing.
fn without_baselined(
    report: &mut crate::diag::Report,
    settings: &Settings,
    problems: &mut Vec<String>,
) {
    let Some(path) = &settings.baseline else {
        return;
    };
    match crate::diag::baseline::Baseline::load(Path::new(path)) {
        Ok(baseline) => {
            baseline.apply(&mut report.diagnostics);
        }
        Err(e) => problems.push(format!("{e} (no finding is hidden)")),
    }
}

/// The texts of other files that findings link to, each read once.
#[derive(Default)]
struct Texts(HashMap<PathBuf, String>);

/// The other place a finding is about (the first of two duplicates), as the editor links it:
/// in the finding's own file (`own`: its URI and text), or in another, read from `base`.
fn related(
    d: &crate::diag::Diagnostic,
    own: (&Uri, &Lines),
    base: &Path,
    others: &mut Texts,
) -> Option<Vec<lsp_types::DiagnosticRelatedInformation>> {
    let (file, span) = d.related.as_ref()?;
    let (uri, range) = if *file == d.file {
        (own.0.clone(), own.1.span_range(*span))
    } else {
        let path = base.join(file);
        let text = others
            .0
            .entry(path.clone())
            .or_insert_with(|| std::fs::read_to_string(&path).unwrap_or_default());
        (super::uri_of(&path)?, super::text::span_range(text, *span))
    };
    let message = match file == &d.file {
        true => format!("first at line {}", span.start.line),
        false => format!("first at {file}:{}", span.start.line),
    };
    Some(vec![lsp_types::DiagnosticRelatedInformation {
        location: lsp_types::Location { uri, range },
        message,
    }])
}

/// The diagnostic on a broken policy's file, where it breaks, when that is why a check could
/// not run.
fn policy_problem(error: &crate::Error, base: &Path) -> Option<(Uri, lsp_types::Diagnostic)> {
    let crate::Error::Policy(policy) = error else {
        return None;
    };
    let (file, at) = policy.location()?;
    let path = base.join(file);
    let mut problem = failure(policy.to_string());
    if let Some((line, col)) = at {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        problem.range = super::text::range(&text, (line, col), (line, col));
    }
    Some((super::uri_of(&path)?, problem))
}
