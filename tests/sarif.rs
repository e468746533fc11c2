//! `--format sarif` end to end: the document's shape, fingerprints that survive edits elsewhere
//! in the file, and Microsoft's SARIF validator (`@microsoft/sarif-multitool` from npm;
//! `.ci/run` installs it) finding no error in it.
//!
//! Without `sarif-multitool` on the PATH the validation says it skipped, except in CI.

mod common;

use std::process::Command;

use common::kvet;
use serde_json::Value;

fn sarif(dir: &std::path::Path, files: &[&str]) -> (Vec<u8>, Value) {
    let out = kvet()
        .current_dir(dir)
        .args(["check", "--format", "sarif"])
        .args(files)
        .output()
        .unwrap();
    assert!(out.status.code().is_some_and(|c| c < 2), "{out:?}");
    let doc = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    (out.stdout, doc)
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n        - {name: web, image: \"nginx:latest\"}\n        - {name: web, image: \"nginx:1.27\"}\n";

#[test]
fn sarif_has_rules_results_regions_and_stable_fingerprints() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.yaml"), DEPLOYMENT).unwrap();
    let (_, doc) = sarif(dir.path(), &["app.yaml"]);
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "kvet");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"duplicate-container-name") && ids.contains(&"pod-security"));
    let results = run["results"].as_array().unwrap();
    let duplicate = results
        .iter()
        .find(|r| r["ruleId"] == "duplicate-container-name")
        .expect("the duplicate container is reported");
    assert_eq!(duplicate["level"], "error");
    assert_eq!(
        rules[duplicate["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "duplicate-container-name"
    );
    let location = &duplicate["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "app.yaml");
    assert_eq!(
        location["region"],
        serde_json::json!({"startLine": 11, "startColumn": 18, "endLine": 11, "endColumn": 21})
    );
    let fingerprint = duplicate["partialFingerprints"]["kvet/v1"].clone();

    // Two lines added above: the line moves, the fingerprint stays.
    std::fs::write(
        dir.path().join("app.yaml"),
        format!("# Deployed by Argo CD.\n# Owner: shop team.\n{DEPLOYMENT}"),
    )
    .unwrap();
    let (_, moved) = sarif(dir.path(), &["app.yaml"]);
    let again = moved["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "duplicate-container-name")
        .unwrap()
        .clone();
    assert_eq!(
        again["locations"][0]["physicalLocation"]["region"]["startLine"],
        13
    );
    assert_eq!(again["partialFingerprints"]["kvet/v1"], fingerprint);
}

#[test]
fn microsofts_sarif_validator_finds_no_error() {
    let available = Command::new("sarif-multitool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            std::env::var_os("CI").is_none(),
            "sarif-multitool is not installed; .ci/run installs it"
        );
        eprintln!("skipped: sarif-multitool is not on the PATH (`.ci/run` installs it)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // Findings of every kind: built-in rules (Rust and Rego), a user policy's, several files.
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::write(dir.path().join("app.yaml"), DEPLOYMENT).unwrap();
    let out = kvet()
        .args([
            "check",
            "--format",
            "sarif",
            "testdata/examples",
            "testdata/policies/manifests",
        ])
        .args([
            "-p",
            "testdata/policies/conftest",
            "-d",
            "testdata/policies/conftest/data.yaml",
        ])
        .arg(dir.path().join("app.yaml"))
        .current_dir(root)
        .output()
        .unwrap();
    let log = dir.path().join("kvet.sarif");
    std::fs::write(&log, &out.stdout).unwrap();
    let report = dir.path().join("validation.sarif");
    let validated = Command::new("sarif-multitool")
        .arg("validate")
        .arg(&log)
        .arg("--output")
        .arg(&report)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&validated.stdout);
    assert!(validated.status.success(), "{printed}");
    let findings: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let errors = findings["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|run| run["results"].as_array().cloned().unwrap_or_default())
        .filter(|r| r["level"] == "error")
        .count();
    assert_eq!(errors, 0, "the validator reports errors:\n{printed}");
}
