//! Which files to check: paths and folders from the command line, `-` for stdin.
//!
//! Folders are walked recursively with the `ignore` crate (ripgrep's walker), so hidden entries
//! and `.gitignore`d paths are skipped the way git skips them. Files named on the command line
//! are always read (whatever their extension), unless `--exclude` matches them.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Input {
    File(PathBuf),
    Stdin,
}

/// A path that could not be walked or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoverProblem {
    pub path: String,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct Discovered {
    /// Sorted and deduplicated; stdin, if asked for, comes first.
    pub inputs: Vec<Input>,
    pub problems: Vec<DiscoverProblem>,
}

pub const DEFAULT_INCLUDE: &[&str] = &["*.yaml", "*.yml"];

#[derive(Debug, thiserror::Error)]
#[error("invalid glob \"{glob}\": {source}")]
pub struct GlobError {
    glob: String,
    source: globset::Error,
}

/// Globs that match a path either whole (`charts/**/crds/*`) or by file name (`*.yaml`), the
/// way `.gitignore` patterns do: `*` stays within one folder, `**` crosses folders.
#[derive(Debug, Clone)]
pub struct PathFilter {
    set: GlobSet,
}

impl PathFilter {
    pub fn new<S: AsRef<str>>(globs: &[S]) -> Result<Self, GlobError> {
        let mut builder = GlobSetBuilder::new();
        for g in globs {
            let g = g.as_ref();
            let glob = GlobBuilder::new(g)
                .literal_separator(true)
                .build()
                .map_err(|source| GlobError {
                    glob: g.to_owned(),
                    source,
                })?;
            builder.add(glob);
        }
        let set = builder.build().map_err(|source| GlobError {
            glob: globs
                .iter()
                .map(AsRef::as_ref)
                .collect::<Vec<_>>()
                .join(","),
            source,
        })?;
        Ok(PathFilter { set })
    }

    pub fn matches(&self, path: &Path) -> bool {
        let path = path.strip_prefix("./").unwrap_or(path);
        self.set.is_match(path) || path.file_name().is_some_and(|n| self.set.is_match(n))
    }

    /// Like [`matches`](Self::matches), also trying the path relative to the folder being
    /// walked, so `--exclude 'apps/*.gen.yaml'` works whether the folder is `.` or `/abs/repo`.
    pub fn matches_under(&self, path: &Path, root: &Path) -> bool {
        self.matches(path)
            || path
                .strip_prefix(root)
                .is_ok_and(|rel| self.set.is_match(rel))
    }
}

/// The path without `.` components: `./a.yaml` and `a.yaml` are one file.
fn clean(path: &Path) -> PathBuf {
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
            }),
            Ok(meta) if meta.is_dir() => {
                walk(&path, include, exclude, &mut files, &mut found.problems)
            }
            Ok(_) => {
                if !exclude.matches(&path) {
                    files.push(clean(&path));
                }
            }
        }
    }
    found.inputs.dedup();
    files.sort();
    files.dedup();
    found.inputs.extend(files.into_iter().map(Input::File));
    found
}

fn walk(
    root: &Path,
    include: &PathFilter,
    exclude: &PathFilter,
    files: &mut Vec<PathBuf>,
    problems: &mut Vec<DiscoverProblem>,
) {
    let exclude_dirs = exclude.clone();
    let walk_root = root.to_path_buf();
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
        .filter_entry(move |e| e.depth() == 0 || !exclude_dirs.matches_under(e.path(), &walk_root))
        .build();
    for entry in walker {
        match entry {
            Ok(e) => {
                let is_file = e.file_type().is_some_and(|t| t.is_file());
                if is_file && include.matches(e.path()) {
                    files.push(clean(e.path()));
                }
            }
            Err(e) => problems.push(walk_problem(root, &e)),
        }
    }
}

fn walk_problem(root: &Path, e: &ignore::Error) -> DiscoverProblem {
    let mut path = root.display().to_string();
    let mut err = e;
    loop {
        match err {
            ignore::Error::WithPath {
                path: p,
                err: inner,
            } => {
                path = p.display().to_string();
                err = inner;
            }
            ignore::Error::WithDepth { err: inner, .. }
            | ignore::Error::WithLineNumber { err: inner, .. } => {
                err = inner;
            }
            ignore::Error::Loop { ancestor, child } => {
                return DiscoverProblem {
                    path: child.display().to_string(),
                    message: format!(
                        "symbolic link loop: {} points back to {}",
                        child.display(),
                        ancestor.display()
                    ),
                };
            }
            ignore::Error::Io(io) => {
                return DiscoverProblem {
                    path,
                    message: io_message(io),
                };
            }
            other => {
                return DiscoverProblem {
                    path,
                    message: other.to_string(),
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
