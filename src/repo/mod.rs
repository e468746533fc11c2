//! A GitOps repository as Kustomize sees it: which files are kustomizations, which are patches
//! and which are resources; which kustomizations are render roots (no other one includes
//! them); rendering those roots with the real tool; and placing each finding on a rendered
//! object back in the file and line that wrote it.
//!
//! The plan is computed once, before any file is checked ([`Repository::plan`]); the later
//! stages only read it.

pub mod application_sets;
pub mod applications;
pub mod charts;
pub mod check;
pub mod directories;
pub mod findings;
pub mod kustomization;
pub mod patch;
pub mod place;
pub mod plan;
pub mod render;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use kustomization::{Kustomization, PatchFormat};

/// What a file is to the repository's kustomizations.
#[derive(Debug, Clone)]
pub enum Role {
    /// Read on its own: a manifest (a kustomization's resource or not).
    Manifest,
    /// A kustomization or component (index into [`Repository::kustomizations`]).
    Kustomization(usize),
    /// A patch file of a kustomization: a partial object or a list of JSON 6902 operations.
    Patch(Arc<PatchUse>),
    /// Data a kustomization reads that is no manifest: a generator's source, a plugin's or
    /// transformer's configuration, a `replacements` file, CRD schemas.
    Data,
}

/// How a patch file is used: by which kustomization, in which format, on which target.
#[derive(Debug)]
pub struct PatchUse {
    pub kustomization: usize,
    pub patch: usize,
    pub format: PatchFormat,
    pub target: Option<kustomization::Target>,
}

/// The kustomizations of the input and those they include, with the roles of their files.
#[derive(Debug, Default)]
pub struct Repository {
    pub kustomizations: Vec<Kustomization>,
    by_file: HashMap<PathBuf, usize>,
    /// For each kustomization: the kustomizations it includes (`resources` folders, `bases`,
    /// `components`), in the order it lists them.
    pub includes: Vec<Vec<usize>>,
    /// Kustomizations of the input that no other one includes, and are not components.
    pub roots: Vec<usize>,
    roles: HashMap<PathBuf, Role>,
    /// Resource files (identities) of each kustomization, directly listed.
    resource_files: Vec<Vec<PathBuf>>,
    /// Every local file (identities) each kustomization reads itself: the file, its resource
    /// files, patches and generator sources.
    read_files: Vec<Vec<PathBuf>>,
    /// Editors' buffers: what the plan, the renders and the placing read in their files' place.
    pub buffers: crate::load::buffers::Buffers,
}

/// The identity of a path: canonical where it exists, else absolute and normalized.
pub fn identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| {
        crate::load::discover::normalize(
            &std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
        )
    })
}

impl Repository {
    /// Reads the kustomizations `seeds` (files of the input) and every kustomization they
    /// include, directly or not.
    pub fn plan(seeds: &[PathBuf]) -> Repository {
        Repository::plan_with(seeds, Vec::new(), Default::default())
    }

    /// [`Repository::plan`], with the layers Argo CD Applications add over the kustomizations
    /// they deploy (`layers`, see [`Kustomization::application`]): roots of their own; files
    /// read from `buffers` where they have one.
    pub fn plan_with(
        seeds: &[PathBuf],
        layers: Vec<Kustomization>,
        buffers: crate::load::buffers::Buffers,
    ) -> Repository {
        let mut repo = Repository {
            buffers,
            ..Repository::default()
        };
        let mut queue: Vec<PathBuf> = seeds.iter().rev().cloned().collect();
        let mut pending_links: Vec<(usize, PathBuf)> = Vec::new();
        let mut layer_ids = Vec::new();
        for (n, k) in layers.into_iter().enumerate() {
            let index = repo.kustomizations.len();
            // No file is the layer: it is known by one that cannot exist.
            repo.by_file
                .insert(identity(&k.file).join(format!("#application-{n}")), index);
            if let Some(inner) = k.resolve(".").and_then(|dir| kustomization::file_in(&dir)) {
                pending_links.push((index, inner.clone()));
                queue.push(inner);
            }
            layer_ids.push(index);
            repo.kustomizations.push(k);
        }
        while let Some(file) = queue.pop() {
            let id = identity(&file);
            if repo.by_file.contains_key(&id) {
                continue;
            }
            let root = repo
                .buffers
                .read(&file)
                .ok()
                .and_then(|b| crate::load::decode(b).ok())
                .and_then(|text| crate::load::yaml::first_root(&text))
                .unwrap_or(crate::load::yaml::Node {
                    value: crate::load::yaml::Value::Null,
                    span: Default::default(),
                });
            let dir = id.parent().map(Path::to_path_buf).unwrap_or_default();
            let k = Kustomization::read(file.clone(), dir, root);
            let index = repo.kustomizations.len();
            repo.by_file.insert(id, index);
            for reference in k.resources.iter().chain(&k.components).chain(&k.plugins) {
                if let Some(path) = k.resolve(&reference.value)
                    && path.is_dir()
                    && let Some(inner) = kustomization::file_in(&path)
                {
                    pending_links.push((index, inner.clone()));
                    queue.push(inner);
                }
            }
            repo.kustomizations.push(k);
        }
        repo.link(pending_links);
        repo.assign_roles();
        let included: HashSet<usize> = repo.includes.iter().flatten().copied().collect();
        let seed_ids: BTreeSet<usize> = seeds
            .iter()
            .filter_map(|s| repo.by_file.get(&identity(s)).copied())
            .chain(layer_ids)
            .collect();
        repo.roots = seed_ids
            .into_iter()
            .filter(|i| !included.contains(i) && !repo.kustomizations[*i].is_component)
            .collect();
        repo.roots.sort_by(|a, b| {
            repo.kustomizations[*a]
                .file
                .cmp(&repo.kustomizations[*b].file)
        });
        repo
    }

    fn link(&mut self, links: Vec<(usize, PathBuf)>) {
        self.includes = vec![Vec::new(); self.kustomizations.len()];
        for (from, file) in links {
            if let Some(&to) = self.by_file.get(&identity(&file))
                && to != from
                && !self.includes[from].contains(&to)
            {
                self.includes[from].push(to);
            }
        }
    }

    /// Kustomizations that make plugin configurations (folders of `generators`,
    /// `transformers`, `validators`): what they list is configuration, not objects.
    fn plugin_makers(&self) -> HashSet<usize> {
        let mut makers = HashSet::new();
        for k in &self.kustomizations {
            for entry in &k.plugins {
                let maker = k
                    .resolve(&entry.value)
                    .and_then(|dir| kustomization::file_in(&dir))
                    .and_then(|file| self.by_file.get(&identity(&file)));
                makers.extend(maker);
            }
        }
        makers
    }

    fn assign_roles(&mut self) {
        self.resource_files = vec![Vec::new(); self.kustomizations.len()];
        let plugin_makers = self.plugin_makers();
        for (index, k) in self.kustomizations.iter().enumerate() {
            // An Application's layer: its file is the Application's, a manifest.
            if k.application.is_none() {
                self.roles
                    .insert(identity(&k.file), Role::Kustomization(index));
            }
            for (p, patch) in k.patches.iter().enumerate() {
                if let Some(file) = &patch.file {
                    self.roles.entry(identity(file)).or_insert_with(|| {
                        Role::Patch(Arc::new(PatchUse {
                            kustomization: index,
                            patch: p,
                            format: patch.format,
                            target: patch.target.clone(),
                        }))
                    });
                }
            }
        }
        for k in &self.kustomizations {
            for f in &k.files {
                if let Some(path) = k.resolve(&f.value) {
                    self.roles.entry(identity(&path)).or_insert(Role::Data);
                }
            }
        }
        // A file some kustomization lists as a resource is a whole object, whatever else uses it.
        for (index, k) in self.kustomizations.iter().enumerate() {
            for r in &k.resources {
                if let Some(path) = k.resolve(&r.value)
                    && path.is_file()
                {
                    let id = identity(&path);
                    if plugin_makers.contains(&index) {
                        self.roles.entry(id.clone()).or_insert(Role::Data);
                    } else {
                        self.roles.insert(id.clone(), Role::Manifest);
                    }
                    self.resource_files[index].push(id);
                }
            }
        }
        self.read_files = self
            .kustomizations
            .iter()
            .enumerate()
            .map(|(index, k)| {
                // An Application's layer reads no file of its own.
                let mut files: Vec<PathBuf> = k
                    .application
                    .is_none()
                    .then(|| identity(&k.file))
                    .into_iter()
                    .collect();
                files.extend(self.resource_files[index].iter().cloned());
                files.extend(
                    k.files
                        .iter()
                        .filter_map(|f| k.resolve(&f.value))
                        .filter(|path| path.is_file())
                        .map(|path| identity(&path)),
                );
                files
            })
            .collect();
    }

    /// The index of a kustomization file.
    pub fn index_of(&self, file: &Path) -> Option<usize> {
        self.by_file.get(&identity(file)).copied()
    }

    /// The role of a file (by its identity, see [`identity`]).
    pub fn role(&self, identity: &Path) -> Role {
        self.roles.get(identity).cloned().unwrap_or(Role::Manifest)
    }

    /// The kustomizations a root renders, the root first, each once.
    pub fn closure(&self, root: usize) -> Vec<usize> {
        let mut out = vec![root];
        let mut i = 0;
        while i < out.len() {
            for &next in &self.includes[out[i]] {
                if !out.contains(&next) {
                    out.push(next);
                }
            }
            i += 1;
        }
        out
    }

    /// Every local file a root's render reads, as far as kvet can tell: its kustomizations,
    /// their resources, patches and generator sources.
    pub fn files_of(&self, root: usize) -> BTreeSet<PathBuf> {
        self.closure(root)
            .into_iter()
            .flat_map(|k| self.read_files[k].iter().cloned())
            .collect()
    }

    /// The chain of kustomizations from `root` down to the one that lists `file` as a
    /// resource (or generates the object), in the order kustomize applies them: the innermost
    /// first, `root` last. Components count as part of the kustomization that includes them,
    /// applied before its own patches.
    pub fn chain(&self, root: usize, owner: impl Fn(usize) -> bool) -> Vec<usize> {
        // Depth-first from the root; the first path that reaches an owner is the chain.
        fn search(
            repo: &Repository,
            at: usize,
            owner: &dyn Fn(usize) -> bool,
            path: &mut Vec<usize>,
            seen: &mut HashSet<usize>,
        ) -> bool {
            if !seen.insert(at) {
                return false;
            }
            path.push(at);
            if owner(at) {
                return true;
            }
            for &next in &repo.includes[at] {
                if repo.kustomizations[next].is_component {
                    continue;
                }
                if search(repo, next, owner, path, seen) {
                    return true;
                }
            }
            path.pop();
            false
        }
        let mut path = Vec::new();
        if !search(self, root, &owner, &mut path, &mut HashSet::new()) {
            path = vec![root];
        }
        // Each kustomization's components apply inside it, just before it (and theirs before
        // them).
        let mut chain = Vec::new();
        for &k in path.iter().rev() {
            self.push_with_components(k, &mut chain);
        }
        chain
    }

    fn push_with_components(&self, k: usize, chain: &mut Vec<usize>) {
        if chain.contains(&k) {
            return;
        }
        for &c in &self.includes[k] {
            if self.kustomizations[c].is_component {
                self.push_with_components(c, chain);
            }
        }
        chain.push(k);
    }

    /// Whether a kustomization lists a file (absolute) among its resources.
    pub fn lists_resource(&self, kustomization: usize, file: &Path) -> bool {
        self.resource_files[kustomization].iter().any(|f| f == file)
    }

    /// The roots whose render reads one of `files` (identities).
    pub fn roots_reading(&self, files: &HashSet<PathBuf>) -> Vec<usize> {
        self.roots
            .iter()
            .copied()
            .filter(|&root| self.files_of(root).iter().any(|f| files.contains(f)))
            .collect()
    }

    /// Whether any kustomization in a root's render uses Helm charts or remote resources
    /// (whose content kvet cannot hash).
    pub fn reads_outside(&self, root: usize) -> bool {
        self.closure(root).into_iter().any(|k| {
            let k = &self.kustomizations[k];
            k.helm_charts
                || k.resources
                    .iter()
                    .any(|r| kustomization::is_remote(&r.value))
        })
    }
}

/// The kustomization files in a tree, walked as folders are (hidden and git-ignored entries
/// skipped).
pub fn find_kustomizations(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .hidden(true)
        .git_ignore(true)
        .require_git(false)
        .ignore(false)
        .parents(true)
        .build();
    for entry in walker.flatten() {
        if entry.file_type().is_some_and(|t| t.is_file())
            && kustomization::is_kustomization_name(entry.path())
        {
            found.push(crate::load::discover::clean(entry.path()));
        }
    }
    found.sort();
    found
}

/// The folder a repository is walked from when only files are named: the work tree of the
/// git repository holding `file`, else the current folder.
/// `name`, or `name [2]`, `name [3]`… when another stream has it: diagnostics find their
/// stream by its name (two Applications may both be `argocd/web`, in two clusters' folders).
pub(crate) fn unique_name(taken: &mut HashSet<String>, name: String) -> String {
    let mut candidate = name.clone();
    let mut n = 1;
    while !taken.insert(candidate.clone()) {
        n += 1;
        candidate = format!("{name} [{n}]");
    }
    candidate
}

pub fn repository_root(file: &Path) -> PathBuf {
    let start = identity(file);
    let mut at = start.parent();
    while let Some(dir) = at {
        if dir.join(".git").exists() {
            return dir.to_path_buf();
        }
        at = dir.parent();
    }
    std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, file: &str, text: &str) {
        let path = dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn roots_are_the_kustomizations_nothing_includes_and_files_get_their_roles() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "base/kustomization.yaml", "resources: [app.yaml]\n");
        write(d, "base/app.yaml", "kind: ConfigMap\n");
        write(
            d,
            "comp/kustomization.yaml",
            "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n",
        );
        write(
            d,
            "prod/kustomization.yaml",
            "resources: [../base]\ncomponents: [../comp]\npatches: [{path: p.yaml}]\n",
        );
        write(d, "prod/p.yaml", "kind: ConfigMap\n");
        let seeds = find_kustomizations(d);
        let repo = Repository::plan(&seeds);
        let names: Vec<_> = repo
            .roots
            .iter()
            .map(|&r| repo.kustomizations[r].file.clone())
            .collect();
        assert_eq!(names, [d.join("prod/kustomization.yaml")]);
        assert!(matches!(
            repo.role(&identity(&d.join("prod/p.yaml"))),
            Role::Patch(_)
        ));
        assert!(matches!(
            repo.role(&identity(&d.join("base/app.yaml"))),
            Role::Manifest
        ));
        let root = repo.roots[0];
        let files = repo.files_of(root);
        assert!(files.contains(&identity(&d.join("base/app.yaml"))));
        assert!(files.contains(&identity(&d.join("prod/p.yaml"))));
        let base = repo.by_file[&identity(&d.join("base/kustomization.yaml"))];
        let chain = repo.chain(root, |k| {
            repo.lists_resource(k, &identity(&d.join("base/app.yaml")))
        });
        let chain: Vec<_> = chain
            .iter()
            .map(|&k| {
                repo.kustomizations[k]
                    .file
                    .strip_prefix(d)
                    .unwrap()
                    .to_path_buf()
            })
            .collect();
        assert_eq!(
            chain,
            [
                PathBuf::from("base/kustomization.yaml"),
                "comp/kustomization.yaml".into(),
                "prod/kustomization.yaml".into()
            ]
        );
        let _ = base;
    }
}
