//! One check of one document, on a worker thread: `kvet check -` on the editor's text, with
//! the file's `.kvet.yaml` and the client's settings. Never panics into the server: a crash
//! or a broken policy is one diagnostic on the document.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lsp_types::Uri;

use super::diagnostics::{failure, to_lsp};
use super::settings::Settings;
use crate::config::Config;
use crate::{LintOptions, lint};

/// The last config of each folder that loaded: what a broken edit of it leaves in force.
pub type Configs = Arc<Mutex<HashMap<PathBuf, Arc<Config>>>>;

pub struct Job {
    pub uri: Uri,
    /// The server's number for this check: a later one of the same document makes it stale.
    pub generation: u64,
    pub path: PathBuf,
    pub text: String,
    pub settings: Arc<Settings>,
    pub configs: Configs,
}

pub struct Outcome {
    pub uri: Uri,
    pub generation: u64,
    pub diagnostics: Vec<lsp_types::Diagnostic>,
    /// What the user should be told apart from the document (a broken config or policy).
    pub problems: Vec<String>,
}

pub fn run(job: Job) -> Outcome {
    let mut problems = Vec::new();
    let folder = job.path.parent().unwrap_or(Path::new("/")).to_path_buf();
    let config = config_for(&folder, &job.configs, &mut problems);
    let name = job.path.display().to_string();
    let opts = LintOptions {
        paths: vec!["-".to_owned()],
        stdin_filename: Some(name.clone()),
        stdin_bytes: Some(job.text.clone().into_bytes()),
        ..job.settings.lint_options()
    };
    let diagnostics = match catch_unwind(AssertUnwindSafe(|| lint(&opts, &config))) {
        Ok(Ok(report)) => report
            .diagnostics
            .iter()
            .filter(|d| d.file == name)
            .map(|d| to_lsp(d, &job.text))
            .collect(),
        Ok(Err(e)) => {
            let message = format!("kvet could not check {name}: {e}");
            problems.push(message.clone());
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
        generation: job.generation,
        diagnostics,
        problems,
    }
}

/// The `.kvet.yaml` of `folder` (or the nearest above); when it does not load, the last one
/// that did, and a problem to show.
fn config_for(folder: &Path, configs: &Configs, problems: &mut Vec<String>) -> Arc<Config> {
    let mut known = configs.lock().unwrap_or_else(|e| e.into_inner());
    match Config::discover(folder) {
        Ok(config) => {
            let config = Arc::new(config);
            known.insert(folder.to_path_buf(), Arc::clone(&config));
            config
        }
        Err(e) => {
            let last = known.get(folder).cloned();
            let kept = match last {
                Some(_) => "the last one that loaded stays in force",
                None => "kvet's defaults apply",
            };
            problems.push(format!("{e} ({kept})"));
            last.unwrap_or_default()
        }
    }
}
