//! Test assertions of Chainsaw and kuttl: YAML files of expected objects that an end-to-end
//! test compares the cluster with. They hold partial objects (no `spec`, only the status
//! fields checked) and Chainsaw's operators in keys (`~.rules`, `(length(x))`): not manifests
//! anyone applies, so they are not checked.
//!
//! A file is one when it is named by the kuttl and Chainsaw convention (`01-assert.yaml`,
//! `02-cluster-assert.yaml`, `03-errors.yaml`), or when a Chainsaw test in its folder
//! (`chainsaw-test.yaml`) names it in an `assert` or `error` operation.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};

use serde_json::Value;

/// kuttl's `<step>-assert.yaml` and `<step>-errors.yaml`, and Chainsaw's `<step>-<name>-assert.yaml`
/// and `-error(s).yaml`.
static CONVENTION: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"^[0-9]+-(.*-)?(assert|errors?)\.ya?ml$").expect("a valid pattern")
});

/// Whether the file at `path` is a test assertion.
pub fn is_test_assertion(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    if CONVENTION.is_match(name) {
        return true;
    }
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let Some(folder) = path.parent() else {
        return false;
    };
    chainsaw_assertions(folder)
        .iter()
        .any(|pattern| pattern.is_match(name))
}

/// The files (patterns: Chainsaw takes globs) the Chainsaw tests of a folder assert with, read
/// once per folder.
fn chainsaw_assertions(folder: &Path) -> Vec<globset::GlobMatcher> {
    static BY_FOLDER: LazyLock<Mutex<HashMap<PathBuf, Vec<String>>>> =
        LazyLock::new(Mutex::default);
    let files = {
        let mut cache = BY_FOLDER.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(folder.to_path_buf())
            .or_insert_with(|| read_chainsaw_tests(folder))
            .clone()
    };
    files
        .iter()
        .filter_map(|f| globset::Glob::new(f).ok())
        .map(|g| g.compile_matcher())
        .collect()
}

fn read_chainsaw_tests(folder: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for name in ["chainsaw-test.yaml", "chainsaw-test.yml"] {
        let Ok(bytes) = super::read_file(folder.join(name)) else {
            continue;
        };
        let Ok(text) = super::decode(bytes) else {
            continue;
        };
        for object in super::load_text(&text).objects {
            if object.id.kind == "Test" && object.id.group() == "chainsaw.kyverno.io" {
                asserted_files(&object.root.to_json(), &mut files);
            }
        }
    }
    files
}

/// The `file` of every `assert` and `error` operation, at any depth (steps' `try`, `catch`,
/// `finally`), as a path relative to the test's folder.
fn asserted_files(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields {
                if matches!(key.as_str(), "assert" | "error")
                    && let Some(file) = field.get("file").and_then(Value::as_str)
                {
                    out.push(file.trim_start_matches("./").to_owned());
                }
                asserted_files(field, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| asserted_files(i, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assertions_are_known_by_name_or_by_their_chainsaw_test() {
        for name in [
            "00-assert.yaml",
            "01-errors.yaml",
            "02-cluster-assert.yaml",
            "10-backup_completed-assert.yml",
            "3-error.yaml",
        ] {
            assert!(is_test_assertion(Path::new(name)), "{name}");
        }
        for name in [
            "assert.yaml",
            "01-install.yaml",
            "deployment-assert-policy.yaml",
            "01-asserts.yaml",
        ] {
            assert!(!is_test_assertion(Path::new(name)), "{name}");
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("chainsaw-test.yaml"),
            "apiVersion: chainsaw.kyverno.io/v1alpha1\nkind: Test\nmetadata: {name: t}\nspec:\n  steps:\n    - try:\n        - apply: {file: cluster.yaml}\n        - assert: {file: ./cluster-ready.yaml}\n      catch:\n        - error: {file: 'gone-*.yaml'}\n",
        )
        .unwrap();
        let at = |name: &str| is_test_assertion(&dir.path().join(name));
        assert!(at("cluster-ready.yaml"));
        assert!(at("gone-pod.yaml"));
        assert!(!at("cluster.yaml"), "applied, so a manifest");
    }
}
