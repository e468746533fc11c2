//! Which files to check: paths and folders from the command line, `-` for stdin.
//!
//! Folders are walked recursively with the `ignore` crate (ripgrep's walker), so hidden entries
//! and `.gitignore`d paths are skipped the way git skips them. Files named on the command line
//! are always read (whatever their extension), unless `--exclude` matches them.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    File(FileInput),
    Stdin,
}

/// A file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInput {
    /// The path as the user would write it (`deploy/app.yaml`, no `./`).
    pub path: PathBuf,
    /// The file itself: canonical, so a file named twice (`a.yaml`, `/abs/a.yaml`, through a
    /// symbolic link) is read once, and files of one folder are known to be together.
    pub identity: PathBuf,
}

/// A path that could not be walked or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoverProblem {
    pub path: String,
    pub message: String,
    /// Left out on purpose (a symbolic link out of the folder given), not unreadable: said
    /// as an info.
    pub skipped: bool,
}

#[derive(Debug, Default)]
pub struct Discovered {
    /// Sorted by path and deduplicated; stdin, if asked for, comes first.
    pub inputs: Vec<Input>,
    pub problems: Vec<DiscoverProblem>,
}

/// YAML files, and kustomize's `Kustomization` (a kustomization file without an extension).
pub const DEFAULT_INCLUDE: &[&str] = &["*.yaml", "*.yml", "Kustomization"];

#[derive(Debug, thiserror::Error)]
#[error("invalid glob \"{glob}\": {source}")]
pub struct GlobError {
    glob: String,
    source: globset::Error,
}

/// Where a glob with a `/` may match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// At the start of the path (config overrides, relative to the config file's folder).
    Start,
    /// At any folder of the path, or the absolute path (`--include`/`--exclude`: the same
    /// glob works whether kvet walks `.`, `repo/` or `/abs/repo`).
    Anywhere,
}

/// Globs that match a path whole (`charts/**/crds/*`) or by file name (`*.yaml`), the way
/// `.gitignore` patterns do: `*` stays within one folder, `**` crosses folders, a trailing `/`
/// or a leading `./` changes nothing.
#[derive(Debug, Clone)]
pub struct PathFilter {
    set: GlobSet,
    /// For [`Anchor::Anywhere`]: the folder relative paths are relative to.
    cwd: Option<PathBuf>,
}

impl PathFilter {
    pub fn new<S: AsRef<str>>(globs: &[S], anchor: Anchor) -> Result<Self, GlobError> {
        let mut builder = GlobSetBuilder::new();
        for raw in globs {
            for glob in compile(raw.as_ref(), anchor)? {
                builder.add(glob);
            }
        }
        let set = builder.build().map_err(|source| GlobError {
            glob: globs
                .iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(","),
            source,
        })?;
        let cwd = match anchor {
            Anchor::Anywhere => std::env::current_dir().ok(),
            Anchor::Start => None,
        };
        Ok(PathFilter { set, cwd })
    }

    pub fn matches(&self, path: &Path) -> bool {
        if self.set.is_empty() {
            return false;
        }
        let path = clean(path);
        if self.set.is_match(&path) || path.file_name().is_some_and(|n| self.set.is_match(n)) {
            return true;
        }
        self.cwd
            .as_ref()
            .is_some_and(|cwd| self.set.is_match(normalize(&cwd.join(&path))))
    }
}

/// The globs one written glob stands for: itself without a leading `./` or a trailing `/`,
/// and, anchored [`Anchor::Anywhere`], also under any folder.
pub fn compile(raw: &str, anchor: Anchor) -> Result<Vec<globset::Glob>, GlobError> {
    let g = raw.strip_prefix("./").unwrap_or(raw);
    let g = g.strip_suffix('/').unwrap_or(g);
    let mut patterns = vec![g.to_owned()];
    if anchor == Anchor::Anywhere && g.contains('/') && !g.starts_with(['/', '*']) {
        patterns.push(format!("**/{g}"));
    }
    patterns
        .iter()
        .map(|pattern| {
            GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map_err(|source| GlobError {
                    glob: raw.to_owned(),
                    source,
                })
        })
        .collect()
}

/// Many lists of globs anchored at the start (the `files` of every override and ignore entry
/// of a config) compiled into one set: a config of thousands of entries holds one automaton
/// instead of thousands, and a path is matched against every list in one pass.
#[derive(Debug, Default)]
pub struct PathFilters {
    set: GlobSet,
    /// The list each glob of the set comes from.
    list_of: Vec<usize>,
    lists: usize,
}

impl PathFilters {
    /// Compiles `lists`; list `i` of the result is `lists[i]`.
    pub fn new<S: AsRef<str>>(lists: &[&[S]]) -> Result<PathFilters, GlobError> {
        let mut builder = GlobSetBuilder::new();
        let mut list_of = Vec::new();
        for (i, globs) in lists.iter().enumerate() {
            for raw in globs.iter() {
                for glob in compile(raw.as_ref(), Anchor::Start)? {
                    builder.add(glob);
                    list_of.push(i);
                }
            }
        }
        let set = builder.build().map_err(|source| GlobError {
            glob: format!("{} lists of globs", lists.len()),
            source,
        })?;
        Ok(PathFilters {
            set,
            list_of,
            lists: lists.len(),
        })
    }

    /// Which lists match `path` (by the whole path or its file name, as [`PathFilter`] does):
    /// `matching(path)[i]` for list `i`.
    pub fn matching(&self, path: &Path) -> Vec<bool> {
        let mut hits = vec![false; self.lists];
        if self.set.is_empty() {
            return hits;
        }
        let path = clean(path);
        let mut found = self.set.matches(&path);
        if let Some(name) = path.file_name() {
            found.extend(self.set.matches(name));
        }
        for glob in found {
            hits[self.list_of[glob]] = true;
        }
        hits
    }
}

/// The path without `.` components: `./a.yaml` and `a.yaml` are one file.
pub(crate) fn clean(path: &Path) -> PathBuf {
    let cleaned: PathBuf = path
        .components()
        .filter(|c| !matches!(c, std::path::Component::CurDir))
        .collect();
    if cleaned.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        cleaned
    }
}

/// Removes `.` and `..` from a path without touching the file system (`a/../b` is `b`).
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn file_input(path: &Path) -> FileInput {
    let path = clean(path);
    let identity = std::fs::canonicalize(&path).unwrap_or_else(|_| normalize(&path));
    FileInput { path, identity }
}

/// [`file_input`] for the files of a walk, which come folder by folder: a file that is not a
/// link is its real folder joined with its name, so each folder is resolved once (resolving
/// every path walks every component again, a `readlink` each: 15% of a load-only run).
#[derive(Default)]
struct WalkedFiles {
    folder: Option<(PathBuf, Option<PathBuf>)>,
}

impl WalkedFiles {
    fn input(&mut self, path: &Path, is_link: bool) -> FileInput {
        let (Some(parent), Some(name), false) = (path.parent(), path.file_name(), is_link) else {
            return file_input(path);
        };
        if self
            .folder
            .as_ref()
            .is_none_or(|(folder, _)| folder != parent)
        {
            self.folder = Some((parent.to_path_buf(), std::fs::canonicalize(parent).ok()));
        }
        match &self.folder {
            Some((_, Some(real))) => FileInput {
                path: clean(path),
                identity: real.join(name),
            },
            _ => file_input(path),
        }
    }
}

/// Finds the inputs. Problems with one path never stop the others.
pub fn discover(paths: &[String], include: &PathFilter, exclude: &PathFilter) -> Discovered {
    let mut found = Discovered::default();
    let mut files = Vec::new();
    for raw in paths {
        if raw == "-" {
            found.inputs.push(Input::Stdin);
            continue;
        }
        let path = PathBuf::from(raw);
        match std::fs::metadata(&path) {
            Err(e) => found.problems.push(DiscoverProblem {
                path: raw.clone(),
                message: io_message(&e),
                skipped: false,
            }),
            Ok(meta) if meta.is_dir() => {
                walk(&path, include, exclude, &mut files, &mut found.problems)
            }
            Ok(_) => {
                if !exclude.matches(&path) {
                    files.push(file_input(&path));
                }
            }
        }
    }
    found.inputs.dedup();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.identity.clone()));
    found.inputs.extend(files.into_iter().map(Input::File));
    found
}

fn walk(
    root: &Path,
    include: &PathFilter,
    exclude: &PathFilter,
    files: &mut Vec<FileInput>,
    problems: &mut Vec<DiscoverProblem>,
) {
    let exclude_dirs = exclude.clone();
    // Links are followed while they stay in the folder given: `evil -> /` in a repository
    // would walk the whole machine.
    let inside = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let outside: std::sync::Arc<std::sync::Mutex<Vec<PathBuf>>> = Default::default();
    let skipped = outside.clone();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(true)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(true)
        // A .gitignore counts even outside a git checkout (an unpacked release, a CI artifact).
        .require_git(false)
        .ignore(false)
        .parents(true)
        .follow_links(true)
        .filter_entry(move |e| {
            if e.depth() == 0 || exclude_dirs.matches(e.path()) {
                return e.depth() == 0;
            }
            let leaves = e.path_is_symlink()
                && std::fs::canonicalize(e.path()).is_ok_and(|real| !real.starts_with(&inside));
            if leaves {
                skipped
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(e.path().to_path_buf());
            }
            !leaves
        })
        .build();
    let mut walked = WalkedFiles::default();
    for entry in walker {
        match entry {
            Ok(e) => {
                let Some(kind) = e.file_type() else { continue };
                if !include.matches(e.path()) {
                    continue;
                }
                if kind.is_file() {
                    files.push(walked.input(e.path(), e.path_is_symlink()));
                } else if !kind.is_dir() && !kind.is_symlink() {
                    // Reading a FIFO blocks, a device never ends: said, not read.
                    problems.push(DiscoverProblem {
                        path: super::shown(&clean(e.path())),
                        message: "not a regular file (a FIFO, device or socket is not read)"
                            .to_owned(),
                        skipped: true,
                    });
                }
            }
            Err(e) => problems.push(walk_problem(root, &e)),
        }
    }
    let outside = std::mem::take(&mut *outside.lock().unwrap_or_else(|p| p.into_inner()));
    problems.extend(outside.into_iter().map(|link| DiscoverProblem {
        path: super::shown(&clean(&link)),
        message: "a symbolic link out of the folder given: not followed".to_owned(),
        skipped: true,
    }));
}

fn walk_problem(root: &Path, e: &ignore::Error) -> DiscoverProblem {
    let mut path = super::shown(root);
    let mut err = e;
    loop {
        match err {
            ignore::Error::WithPath {
                path: p,
                err: inner,
            } => {
                path = super::shown(p);
                err = inner;
            }
            ignore::Error::WithDepth { err: inner, .. }
            | ignore::Error::WithLineNumber { err: inner, .. } => {
                err = inner;
            }
            ignore::Error::Loop { ancestor, child } => {
                return DiscoverProblem {
                    path: super::shown(child),
                    message: format!(
                        "symbolic link loop: {} points back to {}",
                        child.display(),
                        ancestor.display()
                    ),
                    skipped: false,
                };
            }
            ignore::Error::Io(io) => {
                return DiscoverProblem {
                    path,
                    message: io_message(io),
                    skipped: false,
                };
            }
            other => {
                return DiscoverProblem {
                    path,
                    message: other.to_string(),
                    skipped: false,
                };
            }
        }
    }
}

/// `permission denied` rather than `Permission denied (os error 13)`.
pub fn io_message(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => "no such file or directory".into(),
        ErrorKind::PermissionDenied => "permission denied".into(),
        _ => e.to_string(),
    }
}
