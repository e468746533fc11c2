//! The baseline: findings a repository already has, recorded in a file, so that adopting kvet
//! blocks only new ones. An entry names a finding by rule, file, object and pointer — not by
//! line — so it survives edits elsewhere in the file.
//!
//! ```json
//! {"version": 1, "findings": [
//!   {"rule": "image-tag-latest", "file": "apps/web.yaml",
//!    "object": "apps/v1 Deployment shop/web", "pointer": "/spec/template/spec/containers/0/image",
//!    "message": "..."}]}
//! ```
//! Files are relative to the baseline's folder. The message is kept for the reader; it decides
//! a match only for findings without a pointer (a file that does not parse).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Diagnostic, Report};
use crate::load::discover::normalize;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BaselineError {
    #[error("there is no baseline {path}")]
    #[diagnostic(help("record one with --write-baseline {path}"))]
    Missing { path: String },
    #[error("cannot read the baseline {path}: {message}")]
    Read { path: String, message: String },
    #[error("the baseline {path} is not a kvet baseline: {message}")]
    Invalid { path: String, message: String },
    #[error("cannot write the baseline {path}: {message}")]
    Write { path: String, message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Entry {
    pub rule: String,
    pub file: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct File {
    version: u32,
    findings: Vec<Entry>,
}

/// A baseline and the folder its file paths are relative to.
#[derive(Debug)]
pub struct Baseline {
    folder: PathBuf,
    entries: Vec<Entry>,
}

/// What identifies a finding across edits: the entry, without the message when a pointer
/// places it (messages may change wording; a finding without a pointer has only its message).
fn key(mut entry: Entry) -> Entry {
    if entry.pointer.is_some() {
        entry.message.clear();
    }
    entry
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let shown = path.display().to_string();
        let bytes = crate::load::read_file(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => BaselineError::Missing {
                path: shown.clone(),
            },
            _ => BaselineError::Read {
                path: shown.clone(),
                message: crate::load::discover::io_message(&e),
            },
        })?;
        let file: File = serde_json::from_slice(&bytes).map_err(|e| BaselineError::Invalid {
            path: shown.clone(),
            message: e.to_string(),
        })?;
        if file.version != 1 {
            return Err(BaselineError::Invalid {
                path: shown,
                message: format!("version {} (this kvet reads version 1)", file.version),
            });
        }
        Ok(Baseline {
            folder: folder_of(path),
            entries: file.findings,
        })
    }

    /// The report's findings as a baseline to be written at `path`, keeping the entries of an
    /// earlier baseline there for files this run did not check.
    pub fn record(report: &Report, path: &Path) -> Result<Baseline, BaselineError> {
        let folder = folder_of(path);
        let mut entries: Vec<Entry> = report
            .diagnostics
            .iter()
            .map(|d| entry(d, &folder))
            .collect();
        if path.exists() {
            let checked: BTreeSet<String> = report
                .files
                .iter()
                .map(|file| relative(file, &folder))
                .collect();
            // Entries of files not checked now stay, unless the file is gone.
            let earlier = Baseline::load(path)?;
            entries.extend(earlier.entries.into_iter().filter(|e| {
                !checked.contains(&e.file)
                    && (is_stream_name(&e.file) || folder.join(&e.file).exists())
            }));
        }
        entries.sort();
        Ok(Baseline { folder, entries })
    }

    /// Writes the baseline, replacing the file only once it is complete.
    pub fn write(&self, path: &Path) -> Result<(), BaselineError> {
        let file = File {
            version: 1,
            findings: self.entries.clone(),
        };
        let mut text = serde_json::to_string_pretty(&file).expect("a baseline serializes");
        text.push('\n');
        super::replace_file(path, text.as_bytes()).map_err(|e| BaselineError::Write {
            path: path.display().to_string(),
            message: e.to_string(),
        })
    }

    /// Drops the diagnostics the baseline records (each entry stands for one finding) and
    /// returns how many it dropped.
    pub fn apply(&self, diagnostics: &mut Vec<Diagnostic>) -> usize {
        let mut budget: HashMap<Entry, usize> = HashMap::new();
        for e in &self.entries {
            *budget.entry(key(e.clone())).or_default() += 1;
        }
        let before = diagnostics.len();
        diagnostics.retain(|d| match budget.get_mut(&key(entry(d, &self.folder))) {
            Some(left) if *left > 0 => {
                *left -= 1;
                false
            }
            _ => true,
        });
        before - diagnostics.len()
    }
}

fn entry(d: &Diagnostic, folder: &Path) -> Entry {
    Entry {
        rule: d.rule.clone(),
        file: relative(&d.file, folder),
        object: d.object.as_ref().map(|o| format!("{} {o}", o.api_version)),
        pointer: d.pointer.clone(),
        message: d.message.clone(),
    }
}

/// How rendered streams are named (`load::render`): the command, then the folder.
const STREAM_COMMANDS: [&str; 2] = ["helm template ", "kustomize build "];

/// Whether a baseline file name is stdin or a rendered stream rather than a file.
fn is_stream_name(file: &str) -> bool {
    file == "<stdin>" || STREAM_COMMANDS.iter().any(|c| file.starts_with(c))
}

fn folder_of(path: &Path) -> PathBuf {
    let absolute = normalize(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
    absolute.parent().map(Path::to_path_buf).unwrap_or_default()
}

/// A diagnostic's file relative to the baseline's folder (with `..` when outside it), with `/`
/// between components, so a baseline reads the same from any working folder and on any system.
fn relative(file: &str, folder: &Path) -> String {
    if file == "<stdin>" {
        return file.to_owned();
    }
    // A rendered stream: `helm template DIR`, with DIR relative to the baseline's folder.
    for command in STREAM_COMMANDS {
        if let Some(dir) = file.strip_prefix(command) {
            return format!("{command}{}", relative(dir, folder));
        }
    }
    let path = Path::new(file);
    let absolute = normalize(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
    let (mut to, mut from) = (
        absolute.components().peekable(),
        folder.components().peekable(),
    );
    while let (Some(a), Some(b)) = (to.peek(), from.peek()) {
        if a != b {
            break;
        }
        to.next();
        from.next();
    }
    let up = from.map(|_| "..".to_owned());
    let down = to.map(|c| c.as_os_str().to_string_lossy().into_owned());
    let parts: Vec<String> = up.chain(down).collect();
    if parts.is_empty() {
        return ".".to_owned();
    }
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Level;
    use crate::load::spans::{Pos, Span};

    fn diagnostic(line: u32, pointer: Option<&str>, message: &str) -> Diagnostic {
        let at = Pos { line, col: 1 };
        let mut d = Diagnostic::new(
            "r",
            Level::Error,
            "a.yaml",
            Span { start: at, end: at },
            message.into(),
        );
        d.pointer = pointer.map(str::to_owned);
        d
    }

    #[test]
    fn entries_match_by_pointer_not_line_and_each_stands_for_one_finding() {
        let folder = std::env::current_dir().unwrap();
        let recorded = [
            diagnostic(3, Some("/a"), "m"),
            diagnostic(9, None, "broken"),
        ];
        let baseline = Baseline {
            entries: recorded.iter().map(|d| entry(d, &folder)).collect(),
            folder,
        };
        let mut now = vec![
            diagnostic(30, Some("/a"), "m, now worded otherwise"),
            diagnostic(31, Some("/a"), "a second one at the same place"),
            diagnostic(1, None, "broken"),
            diagnostic(2, None, "broken elsewhere"),
        ];
        assert_eq!(baseline.apply(&mut now), 2);
        let left: Vec<u32> = now.iter().map(|d| d.line).collect();
        assert_eq!(left, [31, 2]);
    }

    #[test]
    fn files_are_relative_to_the_baseline_folder() {
        let folder = std::path::absolute("ci").unwrap();
        assert_eq!(relative("ci/apps/web.yaml", &folder), "apps/web.yaml");
        assert_eq!(relative("other/x.yaml", &folder), "../other/x.yaml");
    }
}
