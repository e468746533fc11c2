//! What checking each file found, kept from one run to the next (`kvet lsp` checks its
//! workspace again after every edit): a file whose text, role and settings are unchanged is
//! not parsed or checked again. What spans files — whole-input rules, CRDs of the input,
//! renders, placing findings — runs on every run, from the kept results.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Mutex;

use super::FileResult;
use crate::source::Source;

/// The kept results; one per workspace, shared by its runs (see [`crate::LintOptions::cache`]).
#[derive(Default)]
pub struct CheckCache(Mutex<Inner>);

impl std::fmt::Debug for CheckCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.0.lock().unwrap_or_else(|e| e.into_inner());
        write!(f, "CheckCache({} files)", inner.entries.len())
    }
}

#[derive(Default)]
struct Inner {
    /// What every kept result depends on beyond its file: config, flags, policies, CRDs.
    fingerprint: u64,
    /// The number of the current run.
    run: u64,
    entries: HashMap<Key, Entry>,
}

struct Entry {
    result: FileResult,
    /// The last run that used it.
    used: u64,
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
    pub(crate) fn of(source: &Source, text: &str) -> Key {
        let text = [0u8, 1].map(|seed| {
            let mut h = std::hash::DefaultHasher::new();
            h.write_u8(seed);
            text.hash(&mut h);
            h.finish()
        });
        Key {
            name: source.name.clone(),
            config_path: source.config_path.clone(),
            folder: source.folder.clone(),
            role: format!("{:?}", source.role),
            text,
        }
    }
}

impl CheckCache {
    /// Starts a run whose results depend on `fingerprint`: results kept under another one are
    /// forgotten.
    pub(crate) fn begin(&self, fingerprint: u64) {
        let mut inner = self.lock();
        if inner.fingerprint != fingerprint {
            inner.entries.clear();
            inner.fingerprint = fingerprint;
        }
        inner.run += 1;
    }

    /// Ends a run: the results it did not use (files changed or gone) are forgotten, so the
    /// cache holds one workspace's results, not its history.
    pub(crate) fn end(&self) {
        let mut inner = self.lock();
        let run = inner.run;
        inner.entries.retain(|_, entry| entry.used == run);
    }

    pub(crate) fn get(&self, key: &Key) -> Option<FileResult> {
        let mut inner = self.lock();
        let run = inner.run;
        let entry = inner.entries.get_mut(key)?;
        entry.used = run;
        Some(entry.result.clone())
    }

    /// Keeps what checking a file found; its text only when it cannot be read again (stdin,
    /// a render): a run reads a file's text again for its findings' snippets.
    pub(crate) fn put(&self, key: Key, source: &Source, result: &FileResult) {
        let mut result = result.clone();
        if source.in_memory.is_none() {
            result.text = None;
        }
        let mut inner = self.lock();
        let used = inner.run;
        inner.entries.insert(key, Entry { result, used });
    }

    /// How many files' results are kept.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
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
