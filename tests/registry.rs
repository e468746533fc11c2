//! Contract checks on the rule registry: ids, docs, files and fixtures agree.

use std::collections::BTreeSet;
use std::path::Path;

use kvet::policy::builtin;
use kvet::rules::registry;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn ids_are_kebab_case_unique_and_sorted() {
    let ids: Vec<&str> = registry().iter().map(|m| m.id).collect();
    for id in &ids {
        assert!(
            !id.is_empty()
                && id.split('-').all(|w| !w.is_empty()
                    && w.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())),
            "rule id {id:?} is not kebab-case"
        );
    }
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(
        ids, sorted,
        "rule ids must be unique (Rust rules and policies)"
    );
}

#[test]
fn every_rule_is_documented() {
    for m in registry() {
        for section in ["## What it checks", "## Why", "## How to fix", "## Example"] {
            assert!(m.docs.contains(section), "{} docs lack {section:?}", m.id);
        }
        assert!(
            !m.summary.is_empty() && !m.summary.ends_with('.'),
            "{}: summary",
            m.id
        );
        assert!(!m.category.is_empty(), "{}: category", m.id);
    }
}

#[test]
fn every_rule_has_its_file_and_fixtures_and_nothing_else_does() {
    let mut folders = BTreeSet::new();
    for entry in std::fs::read_dir(Path::new(ROOT).join("testdata")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name != "examples" {
            folders.insert(name);
        }
    }
    // testdata/policies/ holds user policies (conftest style) that fixtures and CLI tests use;
    // testdata/render/ a Helm chart and kustomizations for --helm, --kustomize and repository
    // mode; testdata/kyverno/ Kyverno policies with the objects they pass and fail.
    folders.remove("policies");
    folders.remove("render");
    folders.remove("kyverno");
    let ids: BTreeSet<String> = registry().iter().map(|m| m.id.to_owned()).collect();
    assert_eq!(folders, ids, "testdata/<rule-id>/ folders and rules differ");
    let policies: BTreeSet<&str> = builtin::policies().iter().map(|p| p.meta.id).collect();
    for id in &ids {
        if policies.contains(id.as_str()) {
            continue;
        }
        let file = Path::new(ROOT)
            .join("src/rules")
            .join(format!("{}.rs", id.replace('-', "_")));
        assert!(file.is_file(), "rule {id} is not in {}", file.display());
        for kind in ["pass", "fail"] {
            assert!(
                Path::new(ROOT)
                    .join("testdata")
                    .join(id)
                    .join(kind)
                    .is_dir(),
                "testdata/{id}/{kind}/ is missing"
            );
        }
    }
}

#[test]
fn every_policy_is_embedded_valid_and_tested() {
    assert!(
        builtin::invalid().is_empty(),
        "invalid built-in policies:\n{}",
        builtin::invalid()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let root = Path::new(ROOT).join("policies");
    let mut on_disk = BTreeSet::new();
    let mut tests = BTreeSet::new();
    for category in std::fs::read_dir(&root).unwrap() {
        let category = category.unwrap().path();
        if !category.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(&category).unwrap() {
            let file = file.unwrap().path();
            let relative = file.strip_prefix(&root).unwrap().display().to_string();
            match relative.strip_suffix("_test.rego") {
                Some(tested) => {
                    tests.insert(format!("{tested}.rego"));
                }
                None => {
                    assert!(relative.ends_with(".rego"), "policies/{relative}: not Rego");
                    on_disk.insert(relative);
                }
            }
        }
    }
    let embedded: BTreeSet<String> = builtin::EMBEDDED
        .iter()
        .map(|(path, _)| (*path).to_owned())
        .collect();
    assert_eq!(on_disk, embedded, "policies/index.rs and policies/ differ");
    for policy in builtin::policies() {
        assert!(
            tests.contains(policy.path),
            "policies/{} has no _test.rego beside it",
            policy.path
        );
    }
    assert!(tests.is_subset(&on_disk), "a _test.rego tests no policy");
}

#[test]
fn the_readme_lists_every_rule_in_its_table() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    for m in registry() {
        let row = format!("| `{}` | {} | {} |", m.id, m.default_level, m.category);
        assert!(readme.contains(&row), "README.md lacks the row {row}");
    }
}
