//! What checking each file found, kept from one run to the next (`kvet lsp` checks its
//! workspace again after every edit): a file whose text, role and settings are unchanged is
//! not parsed or checked again. What spans files — whole-input rules, CRDs of the input,
//! renders, placing findings — runs on every run, from the kept results.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Mutex;

use super::FileResult;
use crate::diag::Diagnostic;
use crate::policy::result::PolicyResult;
use crate::source::Source;

/// The kept results; one per workspace, shared by its runs (see [`crate::LintOptions::cache`]).
#[derive(Default)]
pub struct CheckCache(Mutex<Inner>);

impl std::fmt::Debug for CheckCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CheckCache({} files)", self.len())
    }
}

#[derive(Default)]
struct Inner {
    /// What every kept result depends on beyond its file: config, flags, policies, CRDs.
    fingerprint: u64,
    /// The number of the current run.
    run: u64,
    files: Kept<Key, FileResult>,
    /// Whole-stream rules' results, by the key of the rule and its objects (see
    /// `stream::stream_key`).
    streams: Kept<[u64; 2], Vec<PolicyResult>>,
    /// A file's custom resources validated against the input's CRDs, by the file and the
    /// files that define CRDs.
    pending: Kept<[u64; 2], Vec<Diagnostic>>,
}

/// Values with the last run that used each.
struct Kept<K, V>(HashMap<K, (V, u64)>);

impl<K, V> Default for Kept<K, V> {
    fn default() -> Self {
        Kept(HashMap::new())
    }
}

impl<K: Eq + Hash, V: Clone> Kept<K, V> {
    fn get(&mut self, key: &K, run: u64) -> Option<V> {
        let (value, used) = self.0.get_mut(key)?;
        *used = run;
        Some(value.clone())
    }

    fn put(&mut self, key: K, value: V, run: u64) {
        self.0.insert(key, (value, run));
    }

    fn keep_used(&mut self, run: u64) {
        self.0.retain(|_, (_, used)| *used == run);
    }
}

/// A file as checked: its name, the path its settings come from, its folder, its role, and two
/// differently seeded hashes of its text (128 bits: a stale result is implausible).
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    name: String,
    config_path: std::path::PathBuf,
    folder: std::sync::Arc<Path>,
    role: String,
    text: [u64; 2],
}

impl Key {
    /// The hash of the file's text.
    pub(crate) fn text(&self) -> [u64; 2] {
        self.text
    }

    pub(crate) fn of(source: &Source, text: &str) -> Key {
        Key {
            name: source.name.clone(),
            config_path: source.config_path.clone(),
            folder: source.folder.clone(),
            role: format!("{:?}", source.role),
            text: hash128(text),
        }
    }
}

/// Two differently seeded hashes of `value`.
pub(crate) fn hash128(value: impl Hash) -> [u64; 2] {
    [0u8, 1].map(|seed| {
        let mut h = std::hash::DefaultHasher::new();
        h.write_u8(seed);
        value.hash(&mut h);
        h.finish()
    })
}

impl CheckCache {
    /// Starts a run whose results depend on `fingerprint`: results kept under another one are
    /// forgotten.
    pub(crate) fn begin(&self, fingerprint: u64) {
        let mut inner = self.lock();
        if inner.fingerprint != fingerprint {
            let run = inner.run;
            *inner = Inner {
                fingerprint,
                run,
                ..Inner::default()
            };
        }
        inner.run += 1;
    }

    /// Ends a run: the results it did not use (files changed or gone) are forgotten, so the
    /// cache holds one workspace's results, not its history.
    pub(crate) fn end(&self) {
        let mut inner = self.lock();
        let run = inner.run;
        inner.files.keep_used(run);
        inner.streams.keep_used(run);
        inner.pending.keep_used(run);
    }

    pub(crate) fn get(&self, key: &Key) -> Option<FileResult> {
        self.get_in(|inner| &mut inner.files, key)
    }

    /// Keeps what checking a file found; its text only when it cannot be read again (stdin,
    /// a render): a run reads a file's text again for its findings' snippets.
    pub(crate) fn put(&self, key: Key, source: &Source, result: &FileResult) {
        let mut result = result.clone();
        if source.in_memory.is_none() {
            result.text = None;
        }
        self.put_in(|inner| &mut inner.files, key, result);
    }

    pub(crate) fn stream_get(&self, key: [u64; 2]) -> Option<Vec<PolicyResult>> {
        self.get_in(|inner| &mut inner.streams, &key)
    }

    pub(crate) fn stream_put(&self, key: [u64; 2], results: &[PolicyResult]) {
        self.put_in(|inner| &mut inner.streams, key, results.to_vec());
    }

    pub(crate) fn pending_get(&self, key: [u64; 2]) -> Option<Vec<Diagnostic>> {
        self.get_in(|inner| &mut inner.pending, &key)
    }

    pub(crate) fn pending_put(&self, key: [u64; 2], found: &[Diagnostic]) {
        self.put_in(|inner| &mut inner.pending, key, found.to_vec());
    }

    /// A kept value of one kind (`part`), marked used by this run.
    fn get_in<K: Eq + Hash, V: Clone>(
        &self,
        part: impl FnOnce(&mut Inner) -> &mut Kept<K, V>,
        key: &K,
    ) -> Option<V> {
        let mut inner = self.lock();
        let run = inner.run;
        part(&mut inner).get(key, run)
    }

    fn put_in<K: Eq + Hash, V: Clone>(
        &self,
        part: impl FnOnce(&mut Inner) -> &mut Kept<K, V>,
        key: K,
        value: V,
    ) {
        let mut inner = self.lock();
        let run = inner.run;
        part(&mut inner).put(key, value, run);
    }

    /// How many files' results are kept.
    pub fn len(&self) -> usize {
        self.lock().files.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What every file's result depends on besides the file: the config, the flags that change
/// findings, and the files behind them (policies, data, CRDs: path, size and time changed).
/// Runs with `--schema-location` keep nothing (see [`crate::lint`]).
pub(crate) fn fingerprint(opts: &crate::LintOptions, config: &crate::config::Config) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    (&config.root, &config.path, config.text_hash).hash(&mut h);
    opts.kubernetes_version.hash(&mut h);
    opts.crds.hash(&mut h);
    format!("{:?}", opts.policy).hash(&mut h);
    opts.no_catalog.hash(&mut h);
    let behind = opts
        .crds
        .iter()
        .map(Path::new)
        .chain(opts.policy.policy_paths.iter().map(|p| p.as_path()))
        .chain(opts.policy.data_paths.iter().map(|p| p.as_path()));
    for path in behind {
        let walk = ignore::WalkBuilder::new(path)
            .standard_filters(false)
            .build();
        for entry in walk.flatten() {
            let meta = entry.metadata().ok();
            entry.path().hash(&mut h);
            meta.as_ref().map(std::fs::Metadata::len).hash(&mut h);
            meta.and_then(|m| m.modified().ok()).hash(&mut h);
        }
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{LintOptions, config::Config, lint};

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: NAME}\nspec:\n  containers:\n    - {name: a, image: \"x:1\"}\n";

    fn report(opts: &LintOptions, config: &Config) -> Vec<String> {
        let report = lint(opts, config).unwrap();
        let placed = report.diagnostics.iter();
        placed
            .map(|d| format!("{}:{}:{} {}", d.file, d.line, d.column, d.rule))
            .collect()
    }

    #[test]
    fn a_run_with_the_cache_finds_what_a_run_without_finds() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.yaml"), dir.path().join("b.yaml"));
        std::fs::write(&a, POD.replace("NAME", "web")).unwrap();
        std::fs::write(&b, POD.replace("NAME", "web")).unwrap();
        let cache = Arc::new(CheckCache::default());
        let plain = LintOptions {
            paths: vec![dir.path().display().to_string()],
            ..LintOptions::default()
        };
        let cached = LintOptions {
            cache: Some(Arc::clone(&cache)),
            ..plain.clone()
        };
        let config = Config::default();
        let expected = report(&plain, &config);
        assert!(expected.iter().any(|f| f.ends_with("duplicate-object")));
        assert!(expected.iter().any(|f| f.ends_with("run-as-root")));
        assert_eq!(report(&cached, &config), expected);
        assert_eq!(cache.len(), 2);
        // From the cache: the same, whole-input findings included.
        assert_eq!(report(&cached, &config), expected);

        // One file changed, another gone: the changed one is checked again, the gone one
        // forgotten, and the duplicate across them goes.
        std::fs::write(&a, POD.replace("NAME", "api")).unwrap();
        std::fs::remove_file(&b).unwrap();
        let now = report(&cached, &config);
        assert_eq!(now, report(&plain, &config));
        assert!(!now.iter().any(|f| f.ends_with("duplicate-object")));
        assert_eq!(cache.len(), 1);

        // Another config: nothing kept is used.
        let quiet = Config::parse(".kvet.yaml", "rules: {run-as-root: off}\n").unwrap();
        let without = report(&cached, &quiet);
        assert!(!without.iter().any(|f| f.ends_with("run-as-root")));
        assert_eq!(without, report(&plain, &quiet));
    }

    #[test]
    fn kept_whole_input_and_custom_resource_results_follow_the_files_they_depend_on() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: a, image: \"x:1\"}]}\n";
        let pdb = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\nspec:\n  minAvailable: 1\n  selector: {matchLabels: {app: APP}}\n";
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          properties:\n            spec:\n              type: object\n              properties:\n                size: {type: TYPE}\n";
        write("deploy.yaml", deployment);
        write("pdb.yaml", &pdb.replace("APP", "other"));
        write("crd.yaml", &crd.replace("TYPE", "integer"));
        write(
            "widget.yaml",
            "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n",
        );
        let cache = Arc::new(CheckCache::default());
        let plain = LintOptions {
            paths: vec![dir.path().display().to_string()],
            ..LintOptions::default()
        };
        let cached = LintOptions {
            cache: Some(Arc::clone(&cache)),
            ..plain.clone()
        };
        let config = Config::default();
        let both = || {
            let expected = report(&plain, &config);
            assert_eq!(report(&cached, &config), expected);
            expected
        };
        let has = |found: &[String], rule: &str| found.iter().any(|f| f.ends_with(rule));
        let first = both();
        assert!(
            has(&first, "missing-pdb") && !has(&first, " schema"),
            "{first:?}"
        );
        assert_eq!(report(&cached, &config), first);
        // The budget now selects the pods; the CRD now wants a string.
        write("pdb.yaml", &pdb.replace("APP", "web"));
        write("crd.yaml", &crd.replace("TYPE", "string"));
        let now = both();
        assert!(!has(&now, "missing-pdb") && has(&now, " schema"), "{now:?}");
    }

    #[test]
    fn a_config_parsed_again_is_the_same_config() {
        let text = "rules: {run-as-root: off, missing-probes: warning, image-tag-latest: error, writable-root-fs: off}\n";
        let opts = LintOptions::default();
        let first = fingerprint(&opts, &Config::parse("c", text).unwrap());
        for _ in 0..10 {
            assert_eq!(
                fingerprint(&opts, &Config::parse("c", text).unwrap()),
                first
            );
        }
        let other = Config::parse("c", "rules: {run-as-root: off}\n").unwrap();
        assert_ne!(fingerprint(&opts, &other), first);
    }

    #[test]
    fn a_kustomization_is_checked_again_every_run() {
        // Whether the files it lists exist is not in its text.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("kustomization.yaml"),
            "resources: [app.yaml]\n",
        )
        .unwrap();
        let cache = Arc::new(CheckCache::default());
        let opts = LintOptions {
            paths: vec![dir.path().display().to_string()],
            no_render: true,
            cache: Some(Arc::clone(&cache)),
            ..LintOptions::default()
        };
        let config = Config::default();
        let missing =
            |found: &[String]| found.iter().any(|f| f.ends_with("kustomize-missing-file"));
        assert!(missing(&report(&opts, &config)));
        std::fs::write(dir.path().join("app.yaml"), POD.replace("NAME", "app")).unwrap();
        assert!(!missing(&report(&opts, &config)));
    }
}
