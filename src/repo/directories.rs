//! Argo CD directory sources: the manifests of a folder (`directory.recurse` for its subfolders
//! too, `include`/`exclude` globs), applied together as one Application. kvet checks them as one
//! stream — the files one after another — so whole-input rules see what the Application
//! applies, and maps each finding back to its file and line; findings say which Application.

use std::path::{Path, PathBuf};

use crate::diag::Diagnostic;
use crate::load::yaml::Node;

/// An Application's directory source, read.
#[derive(Debug)]
pub struct DirectoryRelease {
    /// `namespace/name` of the Application.
    pub application: String,
    /// The stream's name until its findings are placed.
    pub name: String,
    /// The folder.
    pub dir: PathBuf,
    /// The files, one after another, separated by `---` lines.
    pub text: String,
    /// For each file: its path as shown and the stream line its first line is on.
    pub files: Vec<(PathBuf, u32)>,
    /// Whether only findings in files named on the command line are reported (the
    /// Application was found by searching the repository for what deploys them).
    pub partial: bool,
}

/// The directory source of `application` in `dir` (`source` its node, for `directory`), its
/// files read from `buffers` where they have one.
pub fn read(
    application: &str,
    source: &Node,
    dir: &Path,
    shown: PathBuf,
    buffers: &crate::load::buffers::Buffers,
) -> DirectoryRelease {
    let directory = source.get("directory");
    let option = |key: &str| directory.and_then(|d| d.get(key));
    let recurse = option("recurse").and_then(Node::scalar_text).as_deref() == Some("true");
    let glob = |key: &str| {
        let pattern = option(key)
            .and_then(Node::as_str)
            .filter(|p| !p.is_empty())?;
        globset::Glob::new(pattern)
            .ok()
            .map(|g| g.compile_matcher())
    };
    let (include, exclude) = (glob("include"), glob("exclude"));
    let mut walk = ignore::WalkBuilder::new(dir);
    walk.standard_filters(false).hidden(true);
    if !recurse {
        walk.max_depth(Some(1));
    }
    let mut files: Vec<PathBuf> = walk
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(|e| e.into_path())
        .filter(|path| {
            let manifest = path
                .extension()
                .is_some_and(|e| e == "yaml" || e == "yml" || e == "json");
            let relative = path.strip_prefix(dir).unwrap_or(path);
            let matches = |g: &Option<globset::GlobMatcher>| {
                g.as_ref().map(|g| {
                    g.is_match(relative) || path.file_name().is_some_and(|n| g.is_match(n))
                })
            };
            manifest && matches(&include) != Some(false) && matches(&exclude) != Some(true)
        })
        .collect();
    files.sort();
    let mut text = String::new();
    let mut placed = Vec::new();
    for file in files {
        let Ok(content) = buffers.read_text(&file) else {
            continue;
        };
        if !text.is_empty() {
            text.push_str("---\n");
        }
        let line = text.lines().count() as u32 + 1;
        text.push_str(&content);
        if !content.ends_with('\n') {
            text.push('\n');
        }
        let relative = file.strip_prefix(dir).unwrap_or(&file);
        placed.push((shown.join(relative), line));
    }
    DirectoryRelease {
        application: application.to_owned(),
        name: format!("{} (Application {application})", shown.display()),
        dir: dir.to_path_buf(),
        text,
        files: placed,
        partial: false,
    }
}

/// Moves the findings on directory streams to the files and lines they come from, saying
/// which Application they are rendered for (the file's own check may say the same: the two
/// are then one finding); of a partial release, only findings in `named` files (identities)
/// are kept.
pub fn place(
    diagnostics: &mut Vec<Diagnostic>,
    releases: &[DirectoryRelease],
    named: &std::collections::HashSet<PathBuf>,
) {
    let mut keep = vec![true; diagnostics.len()];
    for (i, d) in diagnostics.iter_mut().enumerate() {
        let Some(release) = releases.iter().find(|r| r.name == d.file) else {
            continue;
        };
        let Some((file, line)) = release.locate(d.line) else {
            continue;
        };
        let shift = d.line - line;
        d.file = crate::load::shown(file);
        d.line = line;
        d.end_line = d.end_line.saturating_sub(shift).max(d.line);
        d.roots = vec![format!("Application {}", release.application)];
        // "first at line 12" of the stream: the file and line it is.
        d.message = FIRST_AT
            .replace_all(&d.message, |c: &regex::Captures| {
                match c[1].parse().ok().and_then(|l| release.locate(l)) {
                    Some((file, line)) => format!("first at {}:{line}", file.display()),
                    None => c[0].to_owned(),
                }
            })
            .into_owned();
        keep[i] = !release.partial || named.contains(&super::identity(file));
    }
    let mut index = 0;
    diagnostics.retain(|_| {
        index += 1;
        keep[index - 1]
    });
}

static FIRST_AT: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"first at line (\d+)").expect("valid regex"));

impl DirectoryRelease {
    /// The file and line of a stream line.
    fn locate(&self, line: u32) -> Option<(&Path, u32)> {
        let (file, first) = self.files.iter().rev().find(|(_, first)| *first <= line)?;
        Some((file.as_path(), line - first + 1))
    }
}
