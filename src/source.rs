//! Sources: what is read (files, stdin, rendered charts) and reading their text.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::load::discover::Input;
use crate::rules::{self, Rule};
use crate::{Error, LintOptions, load};

/// What a source is to the run, which decides what is checked in it.
#[derive(Debug, Clone)]
pub(crate) enum Role {
    /// Objects, checked with every rule; when a render reads the file (`rendered`), its
    /// objects get the rules as rendered, and on their own only what is true of the file alone
    /// (syntax, schema).
    Manifest { rendered: bool },
    /// A kustomization file.
    Kustomization,
    /// A kustomization's patch.
    Patch(Arc<crate::repo::PatchUse>),
    /// Data a kustomization reads (a generator's source, a transformer's configuration):
    /// only its YAML is checked.
    Data,
    /// A root's render.
    Rendered,
}

/// The inputs as sources to check: files by path, stdin from what was read of it; `role` says
/// what a file (by identity) is.
pub(crate) fn read_sources(
    inputs: Vec<Input>,
    stdin: Option<Vec<u8>>,
    opts: &LintOptions,
    role: &dyn Fn(&Path) -> Role,
) -> Result<Vec<Source>, Error> {
    let mut stdin = stdin;
    inputs
        .into_iter()
        .map(|input| match input {
            Input::Stdin => {
                let bytes = stdin.take().unwrap_or_default();
                let name = opts
                    .stdin_filename
                    .clone()
                    .unwrap_or_else(|| "<stdin>".into());
                let config_path = PathBuf::from(&name);
                let role = match &opts.stdin_filename {
                    Some(name) => role(&crate::repo::identity(Path::new(name))),
                    None => Role::Manifest { rendered: false },
                };
                Ok(Source {
                    folder: stdin_folder(&config_path),
                    config_path,
                    name,
                    in_memory: Some(bytes),
                    role,
                })
            }
            Input::File(file) => Ok(Source {
                name: crate::load::shown(&file.path),
                folder: folder_of(&file.identity),
                role: role(&file.identity),
                in_memory: opts.overlays.get(&file.identity).cloned(),
                config_path: file.path,
            }),
        })
        .collect()
}

pub(crate) struct Source {
    /// As shown in diagnostics.
    pub(crate) name: String,
    /// The path config overrides are matched against (and read from, for files).
    pub(crate) config_path: PathBuf,
    /// The folder the file is in, however it was named: whole-stream rules group by it.
    pub(crate) folder: Arc<Path>,
    /// The text of stdin or of a rendered chart, which cannot be read again.
    pub(crate) in_memory: Option<Vec<u8>>,
    pub(crate) role: Role,
}

/// Runs `check` on one source, turning a panic (a bug in kvet) into an error that names the
/// file, so one bad input never takes the whole run down silently.
pub(crate) fn guarded<T>(source: &Source, check: impl FnOnce() -> T) -> Result<T, Error> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)).map_err(|panic| Error::Internal {
        file: source.name.clone(),
        message: panic_message(&panic),
    })
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

/// The text of a source, or the rule, place and message that say why it cannot be read.
pub(crate) fn read_text(
    source: &Source,
) -> Result<String, (&'static Rule, load::spans::Span, String)> {
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
            load::read_file(&source.config_path)
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

pub(crate) fn first_char() -> load::spans::Span {
    load::spans::Span::FIRST_CHAR
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

/// Stdin, read whole, when it is an input.
pub(crate) fn read_stdin(inputs: &[Input]) -> Result<Option<Vec<u8>>, Error> {
    if !inputs.iter().any(|i| matches!(i, Input::Stdin)) {
        return Ok(None);
    }
    // No further than the size limit: `kvet check - </dev/zero` ends.
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(load::MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(Error::Stdin)?;
    Ok(Some(bytes))
}
