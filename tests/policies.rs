//! The policy engine end to end, on the real binary: conftest policy folders (`--policy`,
//! namespaces, data, exceptions, v0 and v1), broken and failing policies, and `kvet test`.

mod common;

use common::kvet;
use predicates::prelude::*;
use serde_json::Value;

const POLICIES: &str = "testdata/policies";
const MANIFESTS: &str = "testdata/policies/manifests/app.yaml";

/// Whether a rule is one these tests are about: the user's policies (`namespace.rule`),
/// `policy-error` and `image-tag-latest`. The manifests here are not hardened, and the
/// hardening rules' findings on them are their own tests' business.
fn relevant(rule: &str) -> bool {
    rule.contains('.') || rule == "policy-error" || rule == "image-tag-latest"
}

/// The relevant diagnostics of a JSON report.
fn relevant_diagnostics(stdout: &[u8]) -> Vec<Value> {
    let report: Value = serde_json::from_slice(stdout).expect("JSON output");
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| relevant(d["rule"].as_str().unwrap()))
        .cloned()
        .collect()
}

/// The relevant lines of compact output.
fn relevant_lines(stdout: &[u8]) -> String {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter(|l| {
            let rule = l.split('[').nth(1).and_then(|r| r.split(']').next());
            rule.is_some_and(relevant)
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// `(rule, level, line, column)` of every relevant diagnostic of a JSON report.
fn diagnostics(stdout: &[u8]) -> Vec<(String, String, u64, u64)> {
    relevant_diagnostics(stdout)
        .iter()
        .map(|d| {
            (
                d["rule"].as_str().unwrap().to_owned(),
                d["level"].as_str().unwrap().to_owned(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn d(rule: &str, level: &str, line: u64, column: u64) -> (String, String, u64, u64) {
    (rule.to_owned(), level.to_owned(), line, column)
}

#[test]
fn conftest_policies_run_unchanged_with_data_exceptions_and_both_rego_versions() {
    let out = kvet()
        .args(["check", "--format", "json", MANIFESTS])
        .args(["--policy", &format!("{POLICIES}/conftest")])
        .args(["--data", &format!("{POLICIES}/conftest/data.yaml")])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        diagnostics(&out),
        [
            // warn_latest has no path: the object's first line. The legacy Deployment's is
            // suppressed by its exception; the built-in image-tag-latest still sees both.
            d("main.warn_latest", "warning", 1, 1),
            // deny with an object result: placed by its path, extra fields kept.
            d("main.deny", "error", 6, 13),
            d("image-tag-latest", "warning", 16, 18),
            d("image-tag-latest", "warning", 34, 18),
            // violation[msg] { ... }: Rego v0 in the same package.
            d("main.violation", "error", 36, 1),
        ]
    );
    let found = relevant_diagnostics(&out);
    let deny = &found[1];
    assert_eq!(deny["message"], "web runs 1 replicas, fewer than 2");
    assert_eq!(deny["pointer"], "/spec/replicas");
    assert_eq!(deny["metadata"], serde_json::json!({"ticket": "OPS-12"}));
    assert!(found[0].get("metadata").is_none());
}

#[test]
fn namespaces_select_the_packages_that_run() {
    let run = |extra: &[&str]| {
        let out = kvet()
            .args(["check", "--format", "json", MANIFESTS])
            .args(["-p", &format!("{POLICIES}/conftest")])
            .args(["-d", &format!("{POLICIES}/conftest")])
            .args(extra)
            .output()
            .unwrap();
        let mut rules: Vec<String> = diagnostics(&out.stdout)
            .into_iter()
            .map(|(rule, ..)| rule)
            .filter(|r| r.contains('.'))
            .collect();
        rules.dedup();
        rules
    };
    assert_eq!(
        run(&["--namespace", "k8s.security"]),
        ["k8s.security.deny_host_network"]
    );
    assert_eq!(
        run(&["--all-namespaces"]),
        [
            "main.warn_latest",
            "main.deny",
            "k8s.security.deny_host_network",
            "main.violation"
        ]
    );
}

#[test]
fn config_sets_levels_of_built_in_and_user_policy_rules() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("kvet.yaml");
    std::fs::write(
        &config,
        "rules:\n  image-tag-latest: off\n  main.deny: warning\n  main.warn_latest: off\n",
    )
    .unwrap();
    let out = kvet()
        .args(["check", "--format", "json", MANIFESTS])
        .args(["-p", &format!("{POLICIES}/conftest")])
        .args(["-d", &format!("{POLICIES}/conftest/data.yaml")])
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(
        diagnostics(&out.stdout),
        [
            d("main.deny", "warning", 6, 13),
            d("main.violation", "error", 36, 1)
        ]
    );
}

#[test]
fn a_policy_that_does_not_parse_stops_the_run_naming_file_and_line() {
    kvet()
        .args([
            "check",
            MANIFESTS,
            "--policy",
            &format!("{POLICIES}/broken"),
        ])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            predicate::str::contains("testdata/policies/broken/policy.rego does not parse")
                .and(predicate::str::contains("policy.rego:7:25"))
                .and(predicate::str::contains("invalid character in string")),
        );
}

#[test]
fn missing_policy_and_data_paths_are_errors() {
    kvet()
        .args(["check", MANIFESTS, "--policy", "testdata/no-such-policy"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read policy testdata/no-such-policy",
        ));
    kvet()
        .args(["check", MANIFESTS, "-p", &format!("{POLICIES}/conftest")])
        .args(["--data", "testdata/policies/manifests/app.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot use data file"));
    kvet()
        .args(["check", MANIFESTS, "--policy", "testdata/examples"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no .rego policies in testdata/examples",
        ));
    // conftest's default namespace is main: a folder of other packages would run nothing.
    kvet()
        .args([
            "check",
            MANIFESTS,
            "-p",
            &format!("{POLICIES}/conftest/security.rego"),
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("no deny, violation or warn rules in namespace main")
                .and(predicate::str::contains("their packages: k8s.security")),
        );
    // Of several chosen namespaces, one without rules is only a warning, as in conftest: the
    // others run, and the findings decide the exit status.
    let security = format!("{POLICIES}/conftest/security.rego");
    let several = |namespaces: &[&str]| {
        let mut args = vec!["check", "--format", "compact", MANIFESTS, "-p", &security];
        for n in namespaces {
            args.extend(["--namespace", n]);
        }
        kvet().args(args).assert()
    };
    let ran = several(&["k8s.security", "main"]).code(1);
    let out = String::from_utf8(ran.get_output().stdout.clone()).unwrap();
    assert!(out.contains("[k8s.security."), "{out}");
    ran.stderr(predicate::str::contains(
        "warning: no deny, violation or warn rules in namespace main of the --policy files",
    ));
    several(&["main", "other"])
        .code(2)
        .stderr(predicate::str::contains(
            "no deny, violation or warn rules in namespaces main, other of the",
        ));
}

#[test]
fn a_runtime_error_is_a_diagnostic_and_everything_else_still_runs() {
    let out = kvet()
        .args([
            "check",
            "--format",
            "json",
            "testdata/policy-error/fail/conflict.yaml",
        ])
        .args(["--policy", &format!("{POLICIES}/runtime-error")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let found = relevant_diagnostics(&out.stdout);
    let messages: Vec<&str> = found
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "main.deny failed on Deployment web: testdata/policies/runtime-error/conflict.rego:8:1: rule conflicts with rule at testdata/policies/runtime-error/conflict.rego:6:1",
            "main.deny failed on Deployment api: testdata/policies/runtime-error/conflict.rego:8:1: rule conflicts with rule at testdata/policies/runtime-error/conflict.rego:6:1",
        ]
    );
}

#[test]
fn a_policy_that_works_too_long_is_stopped_with_a_diagnostic() {
    let out = kvet()
        .args([
            "check",
            "--format",
            "compact",
            "testdata/image-tag-latest/fail/cronjob.yaml",
        ])
        .args(["--policy", &format!("{POLICIES}/slow")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        relevant_lines(&out.stdout),
        "testdata/image-tag-latest/fail/cronjob.yaml:2:1: error[policy-error] main.deny failed on CronJob report: stopped: it did more work than kvet allows one rule on one object (5,000,000 steps, and 100 more per node of the object, which a rule that reads the object a fixed number of times never reaches)\n\
         testdata/image-tag-latest/fail/cronjob.yaml:15:22: warning[image-tag-latest] container \"report\" uses \"busybox:latest\": the latest tag moves, so what runs is not what Git says\n"
    );
}

#[test]
fn kvet_test_runs_the_built_in_policies_tests_with_full_coverage() {
    let out = kvet()
        .args(["test", "policies", "--coverage"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(out).unwrap();
    assert!(!stdout.contains("FAIL"), "{stdout}");
    let coverage: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("coverage "))
        .collect();
    assert!(!coverage.is_empty(), "{stdout}");
    for line in coverage {
        assert!(line.contains(": 100.0% ("), "not fully covered: {line}");
    }
    assert!(stdout.ends_with(" passed, 0 failed\n"), "{stdout}");
}

#[test]
fn kvet_test_reports_failures_and_exits_1() {
    kvet()
        .args(["test", &format!("{POLICIES}/failing-test")])
        .assert()
        .code(1)
        .stdout(
            "PASS testdata/policies/failing-test/labels_test.rego: data.labels.test_owner_is_required\n\
             FAIL testdata/policies/failing-test/labels_test.rego: data.labels.test_owned_objects_are_denied\n     \
             undefined (a condition did not hold)\n\
             1 passed, 1 failed\n",
        );
    kvet()
        .args([
            "test",
            &format!("{POLICIES}/conftest"),
            "--data",
            &format!("{POLICIES}/conftest/data.yaml"),
            "--coverage",
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "coverage testdata/policies/conftest/security.rego: not evaluated by any test",
        ))
        .stdout(predicate::str::ends_with("2 passed, 0 failed\n"));
    kvet()
        .args(["test", &format!("{POLICIES}/runtime-error")])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no tests in testdata/policies/runtime-error",
        ));
}

#[test]
fn rules_and_explain_list_policies_with_the_rust_rules() {
    kvet()
        .args(["rules"])
        .assert()
        .code(0)
        .stdout(predicate::str::is_match(
            r"(?m)^host-path-mount +warning +workload +a volume mounts a path of the node's file system$",
        ).unwrap());
    kvet()
        .args(["explain", "image-tag-latest"])
        .assert()
        .code(0)
        .stdout(
            predicate::str::starts_with(
                "# image-tag-latest\n\na container image is not pinned to a version\n",
            )
            .and(predicate::str::contains("## How to fix\nPin a version tag")),
        );
}

#[test]
fn whole_stream_policies_see_every_file_of_the_run() {
    // duplicate-template is evaluated once over the templates of all files, and its finding
    // lands in the file and line of the later copy.
    let dir = tempfile::tempdir().unwrap();
    let template = |name: &str| {
        format!(
            "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: {name}\nspec:\n  steps:\n    - name: build\n      image: golang:1.23\n      script: go build ./...\n"
        )
    };
    std::fs::write(dir.path().join("a.yaml"), template("build")).unwrap();
    std::fs::write(dir.path().join("b.yaml"), template("build-go")).unwrap();
    let out = kvet()
        .args(["check", "--format", "compact", "--config", "/dev/null"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let found: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("duplicate-template"))
        .collect();
    assert_eq!(found.len(), 1, "{stdout}");
    let a = dir.path().join("a.yaml");
    assert!(
        found[0].ends_with(&format!(
            "b.yaml:4:9: warning[duplicate-template] Task \"build-go\" has the same spec as \"build\": one of them is a copy that will drift (first at {}:4)",
            a.display()
        )),
        "{stdout}"
    );
}

#[test]
fn user_policies_may_look_at_the_whole_input_through_metadata() {
    // testdata/policies/stream declares `custom: {kinds: [Service, Deployment], scope: stream}`.
    let dir = tempfile::tempdir().unwrap();
    let service = dir.path().join("api.yaml");
    std::fs::write(
        &service,
        "apiVersion: v1\nkind: Service\nmetadata: {name: api}\nspec:\n  selector: {app: api}\n  ports: [{port: 80}]\n",
    )
    .unwrap();
    let out = kvet()
        .args([
            "check",
            "--format",
            "compact",
            "-p",
            &format!("{POLICIES}/stream"),
            MANIFESTS,
        ])
        .arg(&service)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let found: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("[main.deny]"))
        .collect();
    assert_eq!(
        found,
        [format!(
            "{}:5:13: error[main.deny] Service api selects no Deployment of the input",
            service.display()
        )]
    );
}

#[test]
fn rule_options_from_the_config_reach_policies_as_data() {
    let dir = tempfile::tempdir().unwrap();
    let run = |config: &str| {
        let file = dir.path().join("kvet.yaml");
        std::fs::write(&file, config).unwrap();
        kvet()
            .args([
                "check",
                "--format",
                "compact",
                "-p",
                &format!("{POLICIES}/options"),
                MANIFESTS,
            ])
            .arg("--config")
            .arg(&file)
            .output()
            .unwrap()
    };
    let deny = |out: &std::process::Output| -> Vec<String> {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("[main.deny]"))
            .map(str::to_owned)
            .collect()
    };
    assert!(deny(&run("rules: {}\n")).is_empty());
    assert_eq!(
        deny(&run(
            "rules:\n  main.deny: {level: warning, max_replicas: 2}\n"
        )),
        ["testdata/policies/manifests/app.yaml:25:13: warning[main.deny] 3 replicas, more than 2"]
    );
    let out =
        run("overrides:\n  - files: ['**']\n    rules:\n      main.deny: {max_replicas: 2}\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("options of \"main.deny\" can only be set in"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
