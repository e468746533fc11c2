//! The repository stage's work on the report: findings on rendered kustomizations placed in
//! the files that wrote them (see `place`), at the levels and under the suppressions of those
//! files; and one finding for what several roots render alike.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::place::{self, Files};
use super::plan::Plan;
use crate::config::Config;
use crate::diag::suppress::{self, Suppression};
use crate::diag::{Diagnostic, Report};
use crate::load::discover::Input;

/// How files are named in the output: as the command line named them when they were read;
/// else under the folder argument that holds them, spelt as it was given
/// (`../repo/base/app.yaml`, `/abs/repo/base/app.yaml`); else relative to the current folder
/// when they are in it, else absolute.
pub struct Names {
    by_identity: HashMap<PathBuf, String>,
    /// Folders of the command line: (identity, as given).
    folders: Vec<(PathBuf, PathBuf)>,
    cwd: Option<PathBuf>,
}

impl Names {
    pub fn new(inputs: &[Input], arguments: &[PathBuf]) -> Names {
        let by_identity = inputs
            .iter()
            .filter_map(|i| match i {
                Input::File(f) => Some((f.identity.clone(), crate::load::shown(&f.path))),
                Input::Stdin => None,
            })
            .collect();
        let mut folders: Vec<(PathBuf, PathBuf)> = arguments
            .iter()
            .filter(|a| a.is_dir())
            .map(|a| (super::identity(a), crate::load::discover::clean(a)))
            .collect();
        // The deepest folder first: it names a file most closely.
        folders.sort_by_key(|(id, _)| std::cmp::Reverse(id.components().count()));
        let cwd = std::env::current_dir()
            .ok()
            .map(|d| std::fs::canonicalize(&d).unwrap_or(d));
        Names {
            by_identity,
            folders,
            cwd,
        }
    }

    pub fn name_of(&self, identity: &Path) -> String {
        if let Some(name) = self.by_identity.get(identity) {
            return name.clone();
        }
        let shown = self
            .folders
            .iter()
            .find_map(|(id, given)| Some(given.join(identity.strip_prefix(id).ok()?)))
            .or_else(|| {
                Some(
                    identity
                        .strip_prefix(self.cwd.as_ref()?)
                        .ok()?
                        .to_path_buf(),
                )
            })
            .unwrap_or_else(|| identity.to_path_buf());
        let shown = crate::load::discover::clean(&shown);
        if shown.as_os_str().is_empty() {
            ".".to_owned()
        } else {
            crate::load::shown(&shown)
        }
    }

    fn was_read(&self, identity: &Path) -> bool {
        self.by_identity.contains_key(identity)
    }
}

/// Places the findings of the plan's rendered streams; drops those a root reached only through
/// named files puts outside them, and those the placed file's settings turn off; reads the
/// suppressions of placed files, and of the files of the objects, that the run did not read.
/// Returns the names of those files: their suppressions are not judged unused (the run did
/// not see all that they cover).
pub fn place_rendered(
    report: &mut Report,
    plan: &Plan,
    names: &Names,
    config: &Config,
    suppressions: &mut Vec<Suppression>,
    keep_sources: bool,
) -> Vec<String> {
    if plan.streams.is_empty() {
        return Vec::new();
    }
    let streams: Vec<place::Stream> = plan
        .streams
        .iter()
        .map(|s| place::Stream {
            name: &s.name,
            root: s.root,
            root_name: match &plan.repo.kustomizations[s.root].application {
                Some(app) => format!("Application {app}"),
                None => names.name_of(&super::identity(&plan.repo.kustomizations[s.root].dir)),
            },
            rendered: &s.rendered,
        })
        .collect();
    let mut files = Files::new(plan.repo.buffers.clone());
    let name_of = |p: &Path| names.name_of(p);
    let moved = place::place_all(
        &mut report.diagnostics,
        &streams,
        &plan.repo,
        &mut files,
        &name_of,
    );

    let mut keep = vec![true; report.diagnostics.len()];
    for m in &moved {
        let d = &mut report.diagnostics[m.index];
        if !plan.streams[m.stream].report_all && !plan.named.contains(&m.file) {
            keep[m.index] = false;
            continue;
        }
        // The level the placed file's settings give the rule.
        match config.settings_for(Path::new(&d.file)).get(&d.rule) {
            Some(None) => keep[m.index] = false,
            Some(Some(level)) => d.level = *level,
            None => {}
        }
    }
    let mut index = 0;
    report.diagnostics.retain(|_| {
        index += 1;
        keep[index - 1]
    });

    // Placed files and the files of the objects (whose annotations suppress) the run did not
    // read itself.
    let mut placed_files: BTreeSet<&PathBuf> = moved
        .iter()
        .flat_map(|m| std::iter::once(&m.file).chain(&m.origin))
        .collect();
    placed_files.retain(|f| !names.was_read(f));
    let mut unread = Vec::new();
    let known: HashSet<String> = report.files.iter().cloned().collect();
    for file in placed_files {
        let name = names.name_of(file);
        let Some(text) = files.text(file) else {
            continue;
        };
        // A file whose findings this run knows in full (not only those of the files named).
        let placed_here = moved
            .iter()
            .any(|m| m.file == **file && plan.streams[m.stream].report_all);
        // The suppressions of a file the run did not read (a base outside the folder given).
        let parsed = crate::load::yaml::parse(text);
        let roots = parsed.documents.iter().map(|d| &d.root);
        suppressions.extend(suppress::in_comments_of_nodes(&name, text, roots));
        let loaded = crate::load::load_text(text);
        for object in &loaded.objects {
            suppressions.extend(suppress::in_annotations(&name, object));
        }
        if keep_sources {
            report
                .sources
                .entry(name.clone())
                .or_insert_with(|| Arc::from(text));
        }
        if placed_here && !known.contains(&name) {
            report.files.push(name.clone());
        }
        unread.push(name);
    }
    if keep_sources {
        for m in &moved {
            let name = names.name_of(&m.file);
            if let Some(text) = files.text(&m.file) {
                report
                    .sources
                    .entry(name)
                    .or_insert_with(|| Arc::from(text));
            }
        }
    }
    unread
}

/// One finding for what several roots (or a root and the file on its own) report alike on
/// the same line, naming the roots it comes from: `... (in overlays/dev, overlays/prod)`.
pub fn merge_across_roots(diagnostics: &mut Vec<Diagnostic>) {
    if diagnostics.iter().all(|d| d.roots.is_empty()) {
        return;
    }
    diagnostics.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            (
                d.file.clone(),
                d.line,
                d.column,
                d.rule.clone(),
                d.level,
                d.message.clone(),
                d.end_line,
                d.end_column,
                d.roots.is_empty(),
                d.object.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    let mut merged: Vec<Diagnostic> = Vec::with_capacity(diagnostics.len());
    for d in diagnostics.drain(..) {
        let same = |m: &Diagnostic| {
            (m.file.as_str(), m.line, m.column, m.end_line, m.end_column)
                == (d.file.as_str(), d.line, d.column, d.end_line, d.end_column)
                && m.rule == d.rule
                // At different levels (a policy each root patches its own way), the roots'
                // findings stay apart: each says at which level it holds where.
                && m.level == d.level
                && (m.message == d.message
                    // The file's own schema finding and the render's, whose field path may
                    // count list items differently (`containers[0]`, `containers[1]`).
                    || m.rule == crate::rules::SCHEMA.meta.id
                        && m.roots.is_empty() != d.roots.is_empty())
        };
        match merged.last_mut() {
            Some(last) if same(last) => last.roots.extend(d.roots),
            _ => merged.push(d),
        }
    }
    for d in &mut merged {
        if !d.roots.is_empty() {
            d.roots.sort();
            d.roots.dedup();
            let applications: Option<Vec<&str>> = d
                .roots
                .iter()
                .map(|r| r.strip_prefix("Application "))
                .collect();
            let said = match applications.as_deref() {
                Some([one]) => format!("rendered for Application {one}"),
                Some(many) => format!("rendered for Applications {}", many.join(", ")),
                None => format!("in {}", d.roots.join(", ")),
            };
            d.message.push_str(&format!(" ({said})"));
        }
    }
    *diagnostics = merged;
}
