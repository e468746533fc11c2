//! Contract checks on the rule registry: ids, docs, files and fixtures agree.

use std::collections::BTreeSet;
use std::path::Path;

use kvet::rules::RULES;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn ids_are_kebab_case_unique_and_sorted() {
    let ids: Vec<&str> = RULES.iter().map(|r| r.meta.id).collect();
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
    assert_eq!(ids, sorted, "RULES must be unique and in id order");
}

#[test]
fn every_rule_is_documented() {
    for rule in RULES {
        let m = &rule.meta;
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
    let ids: BTreeSet<String> = RULES.iter().map(|r| r.meta.id.to_owned()).collect();
    assert_eq!(folders, ids, "testdata/<rule-id>/ folders and rules differ");
    for id in &ids {
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
