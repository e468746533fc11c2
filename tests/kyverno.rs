//! Kyverno policies end to end: each `testdata/kyverno/<case>/` folder has a policy, objects
//! that break it (`fail.yaml`, the findings at its `# expect: LINE:COLUMN RULE-ID` lines) and
//! objects that keep it (`pass.yaml`); `testdata/kyverno/suite/` is a Kyverno CLI test.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

mod common;
use common::kvet;

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/kyverno");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("policy.yaml").is_file())
        .collect();
    out.sort();
    assert!(out.len() >= 6, "{out:?}");
    out
}

fn json_report(args: &[&str]) -> Value {
    let output = kvet()
        .args(["check", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `(line, column, rule)` of the Kyverno findings in `file`.
fn kyverno_findings(report: &Value, file: &str) -> BTreeSet<(u64, u64, String)> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"].as_str().unwrap().starts_with("kyverno:") && d["file"] == file)
        .map(|d| {
            let n = |k: &str| d[k].as_u64().unwrap();
            (
                n("line"),
                n("column"),
                d["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn expected(file: &Path) -> BTreeSet<(u64, u64, String)> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("# expect: "))
        .map(|e| {
            let (at, rule) = e.split_once(' ').unwrap();
            let (line, column) = at.split_once(':').unwrap();
            (
                line.parse().unwrap(),
                column.parse().unwrap(),
                rule.to_owned(),
            )
        })
        .collect()
}

fn relative(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap()
        .display()
        .to_string()
}

#[test]
fn each_policy_fails_its_objects_exactly_where_they_say() {
    for case in cases() {
        let fail = relative(&case.join("fail.yaml"));
        let policy = relative(&case.join("policy.yaml"));
        let report = json_report(&[&fail, "--kyverno", &policy]);
        let want = expected(&case.join("fail.yaml"));
        assert!(!want.is_empty(), "{fail} expects nothing");
        assert_eq!(kyverno_findings(&report, &fail), want, "{fail}");
    }
}

#[test]
fn each_policy_keeps_quiet_on_objects_that_keep_it() {
    for case in cases() {
        let pass = relative(&case.join("pass.yaml"));
        let policy = relative(&case.join("policy.yaml"));
        let report = json_report(&[&pass, "--kyverno", &policy]);
        assert_eq!(kyverno_findings(&report, &pass), BTreeSet::new(), "{pass}");
        let verdicts = report["kyverno"].as_array().unwrap();
        assert!(!verdicts.is_empty(), "{pass}: no rule applied");
        for verdict in verdicts {
            assert!(
                ["pass", "skip"].contains(&verdict["result"].as_str().unwrap()),
                "{pass}: {verdict}"
            );
        }
    }
}

#[test]
fn policies_in_the_input_apply_to_the_other_objects() {
    for case in cases() {
        let folder = relative(&case);
        let report = json_report(&[&folder]);
        let fail = relative(&case.join("fail.yaml"));
        assert_eq!(
            kyverno_findings(&report, &fail),
            expected(&case.join("fail.yaml")),
            "{folder}"
        );
        for other in ["pass.yaml", "policy.yaml"] {
            let file = relative(&case.join(other));
            assert_eq!(kyverno_findings(&report, &file), BTreeSet::new(), "{file}");
        }
    }
}

#[test]
fn the_json_report_has_every_verdict() {
    let report = json_report(&["testdata/kyverno/kargo-credential-label"]);
    let verdicts: Vec<(String, String, String)> = report["kyverno"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["file"].as_str().unwrap().to_owned(),
                v["object"]["name"].as_str().unwrap().to_owned(),
                v["result"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let dir = "testdata/kyverno/kargo-credential-label";
    assert_eq!(
        verdicts,
        [
            (
                format!("{dir}/fail.yaml"),
                "chart-creds".into(),
                "fail".into()
            ),
            (
                format!("{dir}/fail.yaml"),
                "repo-creds".into(),
                "fail".into()
            ),
            (
                format!("{dir}/pass.yaml"),
                "repo-creds".into(),
                "pass".into()
            ),
        ]
    );
    for verdict in report["kyverno"].as_array().unwrap() {
        assert_eq!(verdict["policy"], "kargo-credentials-labelled");
        assert_eq!(verdict["rule"], "cred-type-label");
    }
    // Without Kyverno policies, the JSON report is as it was.
    let plain = json_report(&["testdata/kyverno/kargo-credential-label/fail.yaml"]);
    assert!(plain.get("kyverno").is_none());
}

#[test]
fn the_config_sets_a_kyverno_rules_level() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kvet.yaml");
    std::fs::write(
        &config,
        "rules:\n  kyverno:no-loadbalancer-service/no-loadbalancer: off\n  kyverno:deployment-replicas: info\n",
    )
    .unwrap();
    let config = config.display().to_string();
    let report = json_report(&[
        "testdata/kyverno/loadbalancer-deny",
        "testdata/kyverno/replicas-cel",
        "--config",
        &config,
    ]);
    let levels: Vec<(&str, &str)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"].as_str().unwrap().starts_with("kyverno:"))
        .map(|d| (d["rule"].as_str().unwrap(), d["level"].as_str().unwrap()))
        .collect();
    assert_eq!(levels, [("kyverno:deployment-replicas", "info")]);
}

#[test]
fn sarif_describes_kyverno_rules_with_their_policies_annotations() {
    let output = kvet()
        .args([
            "check",
            "--format",
            "sarif",
            "testdata/kyverno/kargo-credential-label",
        ])
        .output()
        .unwrap();
    let sarif: Value = serde_json::from_slice(&output.stdout).unwrap();
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let rule = rules
        .iter()
        .find(|r| r["id"] == "kyverno:kargo-credentials-labelled/cred-type-label")
        .unwrap();
    assert_eq!(
        rule["shortDescription"]["text"],
        "Kargo credentials carry their type"
    );
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    assert_eq!(rule["properties"]["category"], "Kargo");
    assert!(
        rule["fullDescription"]["text"]
            .as_str()
            .unwrap()
            .contains("Kargo reads a credentials Secret only when it is labelled"),
        "{rule}"
    );
}

#[test]
fn kvet_test_runs_kyverno_cli_tests() {
    let output = kvet()
        .args(["test", "testdata/kyverno/suite"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.ends_with("8 passed, 0 failed\n"), "{stdout}");
    assert!(
        stdout.contains("PASS testdata/kyverno/suite/kyverno-test.yaml: no-loadbalancer-service/no-loadbalancer Service status: skip (deny)"),
        "{stdout}"
    );

    // A test that expects what kvet does not find fails, and says what kvet found.
    let dir = tempfile::tempdir().unwrap();
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/kyverno");
    let test = std::fs::read_to_string(suite.join("suite/kyverno-test.yaml"))
        .unwrap()
        .replace("../", &format!("{}/", suite.display()))
        .replace(
            "services.yaml",
            &suite.join("suite/services.yaml").display().to_string(),
        )
        .replace(
            "values.yaml",
            &suite.join("suite/values.yaml").display().to_string(),
        )
        .replace(
            "resources: [api]\n    result: pass",
            "resources: [api]\n    result: fail",
        );
    std::fs::write(dir.path().join("kyverno-test.yaml"), test).unwrap();
    let output = kvet().arg("test").arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.ends_with("7 passed, 1 failed\n"), "{stdout}");
    assert!(
        stdout.contains(
            "deployment-replicas Deployment api: expected fail, kvet found pass (ValidatingPolicy)"
        ),
        "{stdout}"
    );
}

#[test]
fn a_kyverno_path_without_policies_stops_the_run() {
    for (path, says) in [
        ("testdata/kyverno/missing", "no such file or folder"),
        (
            "testdata/kyverno/replicas-cel/pass.yaml",
            "no Kyverno policy in it",
        ),
    ] {
        let output = kvet()
            .args([
                "check",
                "testdata/kyverno/replicas-cel/fail.yaml",
                "--kyverno",
                path,
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        // miette wraps long lines behind a margin.
        let words: Vec<&str> = stderr.split_whitespace().filter(|w| *w != "│").collect();
        assert!(words.join(" ").contains(says), "{stderr}");
    }
}

#[test]
fn kvet_explain_prints_a_kyverno_rules_policy_docs() {
    let output = kvet()
        .args([
            "explain",
            "kyverno:kargo-credentials-labelled/cred-type-label",
            "--kyverno",
            "testdata/kyverno/kargo-credential-label",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.starts_with("# kyverno:kargo-credentials-labelled/cred-type-label\n\nKargo credentials carry their type\n\nDefault level: error · Category: Kargo\n"),
        "{stdout}"
    );
    assert!(stdout.contains("Severity: high"), "{stdout}");
    let unknown = kvet()
        .args([
            "explain",
            "kyverno:nope/nope",
            "--kyverno",
            "testdata/kyverno/kargo-credential-label",
        ])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn each_render_applies_its_own_policies() {
    if !common::tool_available("kubectl", &["--client"]) {
        return;
    }
    // overlays/prod patches the base's Audit policy to Enforce; overlays/dev keeps it.
    let report = json_report(&["testdata/kyverno/repository"]);
    let found: Vec<(String, u64, u64, String)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"].as_str().unwrap().starts_with("kyverno:"))
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_owned(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
                d["level"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let file = "testdata/kyverno/repository/base/deploy.yaml".to_owned();
    assert_eq!(
        found,
        [
            (file.clone(), 10, 7, "warning".to_owned()),
            (file, 10, 7, "error".to_owned())
        ]
    );
    let messages: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"].as_str().unwrap().starts_with("kyverno:"))
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert!(
        messages[0].ends_with("(in testdata/kyverno/repository/overlays/dev)"),
        "{messages:?}"
    );
    assert!(
        messages[1].ends_with("(in testdata/kyverno/repository/overlays/prod)"),
        "{messages:?}"
    );
    let namespaces: Vec<&str> = report["kyverno"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["object"]["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(namespaces, ["dev", "prod"]);
}

#[test]
fn kvet_test_fails_what_a_test_names_and_the_files_lack() {
    let dir = tempfile::tempdir().unwrap();
    let suite = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/kyverno");
    let test = format!(
        "apiVersion: cli.kyverno.io/v1alpha1\nkind: Test\nmetadata: {{name: t}}\npolicies: [{policy}]\nresources: [{pods}]\nresults:\n  - {{policy: restrict-image-regitsries, rule: validate-registries, kind: Pod, resources: [web], result: skip}}\n  - {{policy: restrict-image-registries, rule: validate-registries, kind: Pod, resources: [nope], result: skip}}\n  - {{policy: restrict-image-registries, rule: validate-registries, resources: [web], result: fail}}\n",
        policy = suite.join("image-registry/policy.yaml").display(),
        pods = suite.join("image-registry/fail.yaml").display(),
    );
    std::fs::write(dir.path().join("kyverno-test.yaml"), test).unwrap();
    let output = kvet().arg("test").arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.ends_with("1 passed, 2 failed\n"), "{stdout}");
    assert!(
        stdout.contains("no policy named restrict-image-regitsries in the test's policies"),
        "{stdout}"
    );
    assert!(
        stdout.contains("no Pod named nope in the test's resources"),
        "{stdout}"
    );
}

#[test]
fn a_policy_rendered_by_its_own_kustomization_governs_the_other_renders() {
    if !common::tool_available("kubectl", &["--client"]) {
        return;
    }
    // policies/ and apps/ are two kustomizations, as a GitOps repository has one per folder.
    let report = json_report(&["testdata/kyverno/separate-roots"]);
    let found = kyverno_findings(&report, "testdata/kyverno/separate-roots/apps/deploy.yaml");
    assert_eq!(
        found,
        [(10, 7, "kyverno:require-team/autogen-check-team".to_owned())]
            .into_iter()
            .collect()
    );
}

#[test]
fn a_rule_that_matches_only_by_user_is_named_once() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata: {name: admins}\nspec:\n  rules:\n    - name: by-admins\n      match:\n        any:\n          - clusterRoles: [cluster-admin]\n      validate:\n        deny: {}\n",
    )
    .unwrap();
    let output = kvet()
        .args([
            "check",
            "testdata/kyverno/replicas-cel/pass.yaml",
            "--kyverno",
        ])
        .arg(&policy)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr
            .matches("kyverno:admins/by-admins matches only requests by given users")
            .count(),
        1,
        "{stderr}"
    );
}
