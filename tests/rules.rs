//! Fixture runner: every rule has `testdata/<rule-id>/fail/*` files that must fire exactly at
//! the `# expect: LINE:COLUMN` positions they list, and `pass/*` files where it stays silent.

use std::path::{Path, PathBuf};

use kvet::config::Config;
use kvet::policy::PolicyOptions;
use kvet::rules::registry;
use kvet::{LintOptions, lint};

mod common;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

/// The fixture files of a rule; a fixture whose `# requires: TOOL` line names a tool that is not
/// on the PATH is left out (except in CI, where that fails).
fn fixtures(rule: &str, kind: &str) -> Vec<PathBuf> {
    let dir = testdata().join(rule).join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    // What a fixture needs beside it (a chart's values.schema.json, a Chart.yaml that says
    // `# not a fixture`) is no fixture.
    files.retain(|file| file.extension().is_none_or(|e| e != "json"));
    files.retain(|file| {
        let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
        !text.contains("# not a fixture")
            && text
                .lines()
                .filter_map(|l| l.trim().strip_prefix("# requires:"))
                .all(|tool| common::tool_available(tool.trim(), &[]))
    });
    files.sort();
    files
}

/// How a fixture is checked: alone, against the Kubernetes version its
/// `# kubernetes-version: X.Y` line names, with the user policies its `# policy: PATH` lines
/// name (relative to testdata/), if any; with the config of its `# config:` line; and looking
/// for helm, kustomize and kubectl in the folders of its `# tool-path:` line instead of the
/// PATH.
fn options(file: &Path) -> LintOptions {
    let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
    let directive = |name: &str| {
        text.lines()
            .filter_map(|l| l.trim().strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .collect::<Vec<_>>()
    };
    LintOptions {
        paths: vec![file.display().to_string()],
        kubernetes_version: directive("# kubernetes-version:").pop(),
        policy: PolicyOptions {
            policy_paths: directive("# policy:")
                .iter()
                .map(|p| testdata().join(p))
                .collect(),
            ..PolicyOptions::default()
        },
        tool_path: directive("# tool-path:").pop().map(Into::into),
        ..LintOptions::default()
    }
}

/// The config a fixture's `# config: {...}` line gives (one line of flow YAML), else none.
fn config(file: &Path) -> Config {
    let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("# config:"))
        .map(|yaml| Config::parse("fixture config", yaml.trim()).expect("fixture config parses"))
        .unwrap_or_default()
}

/// `(line, column)` of every diagnostic of `rule` when the file is checked on its own.
fn positions(rule: &str, file: &Path) -> Vec<(u32, u32)> {
    let report = lint(&options(file), &config(file)).expect("lint runs");
    report
        .diagnostics
        .iter()
        .filter(|d| d.rule == rule)
        .map(|d| (d.line, d.column))
        .collect()
}

/// The `# expect: L:C` lines of a fixture (read as bytes: some fixtures are not UTF-8).
fn expected(file: &Path) -> Vec<(u32, u32)> {
    let bytes = std::fs::read(file).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let mut out: Vec<(u32, u32)> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("# expect:"))
        .map(|pos| {
            let (line, col) = pos.trim().split_once(':').expect("expect: LINE:COLUMN");
            (line.parse().unwrap(), col.parse().unwrap())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_rule_fires_exactly_where_its_fail_fixtures_say() {
    let mut failures = Vec::new();
    for rule in registry() {
        let id = rule.id;
        for file in fixtures(id, "fail") {
            let want = expected(&file);
            assert!(
                !want.is_empty(),
                "{} has no `# expect:` line",
                file.display()
            );
            let got = positions(id, &file);
            if got != want {
                failures.push(format!(
                    "{id}: {}: expected {want:?}, got {got:?}",
                    file.display()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_rule_stays_silent_on_its_pass_fixtures() {
    let mut failures = Vec::new();
    for rule in registry() {
        let id = rule.id;
        for file in fixtures(id, "pass") {
            let got = positions(id, &file);
            if !got.is_empty() {
                failures.push(format!("{id}: {}: fired at {got:?}", file.display()));
            }
            assert!(
                expected(&file).is_empty(),
                "pass fixture {} has `# expect:`",
                file.display()
            );
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn pass_fixtures_are_clean_of_every_rule() {
    // A pass fixture is a clean manifest: no rule at all should fire on it. Three exceptions,
    // for fixtures of other rules only (their own pass fixtures are held to the full standard):
    // custom resources without their CRD (fixtures use them to show what a rule ignores) are
    // unknown-schema's business; Argo CD Applications of charts from a Helm repository are
    // helm-not-rendered's (kvet says once per Application that it fetches nothing); and the
    // opinionated hardening rules (categories security and reliability: resources, probes,
    // securityContext...) would make every workload fixture a hardening exercise.
    let exempt = |fixture_rule: &str, fired: &str| {
        fired != fixture_rule
            && (fired == "unknown-schema"
                || fired == "helm-not-rendered"
                || kvet::rules::meta(fired)
                    .is_some_and(|m| m.category == "security" || m.category == "reliability"))
    };
    let mut failures = Vec::new();
    for rule in registry() {
        for file in fixtures(rule.id, "pass") {
            let report = lint(&options(&file), &config(&file)).unwrap();
            for d in &report.diagnostics {
                if exempt(rule.id, &d.rule) {
                    continue;
                }
                failures.push(format!("{}:{}:{} {}", d.file, d.line, d.column, d.rule));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The fixture's text with the `name` key of every container renamed to `nam_` (same length,
/// so every other position stays), or `None` when no container has a name.
fn without_container_names(text: &str) -> Option<String> {
    let loaded = kvet::load::load_text(text);
    let mut at: Vec<(u32, u32)> = Vec::new();
    for object in &loaded.objects {
        let Some(pod) = kvet::workload::pod_spec(object) else {
            continue;
        };
        for container in pod.containers() {
            if let Some(entry) = container
                .node
                .as_map()
                .and_then(|entries| entries.iter().find(|e| e.key == "name"))
            {
                at.push((entry.key_span.start.line, entry.key_span.start.col));
            }
        }
    }
    if at.is_empty() {
        return None;
    }
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    for (line, col) in at {
        let line = &mut lines[line as usize - 1];
        let start = line
            .char_indices()
            .nth(col as usize - 1)
            .map(|(i, _)| i)
            .unwrap();
        if line[start..].starts_with("name") {
            line.replace_range(start..start + 4, "nam_");
        }
    }
    Some(lines.join("\n"))
}

/// A container without a name is refused by the API server (the schema rule says so), but
/// every other rule must still see it: a rule that named containers by `name` alone went
/// silent on them (issue 16).
#[test]
fn findings_stay_when_containers_have_no_name() {
    let scratch = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for rule in registry() {
        let id = rule.id;
        // Rules about names themselves, and the ones a renamed key changes on purpose.
        if matches!(id, "duplicate-container-name" | "schema") {
            continue;
        }
        for file in fixtures(id, "fail") {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            // Fixtures that read other files (kustomizations, charts, policies) stay where
            // they are.
            if text.contains("# policy:")
                || text.contains("# tool-path:")
                || text.contains("kustomize")
            {
                continue;
            }
            let Some(mutated) = without_container_names(&text) else {
                continue;
            };
            let copy = scratch.path().join(file.file_name().unwrap());
            std::fs::write(&copy, mutated).unwrap();
            checked += 1;
            let (want, got) = (positions(id, &file), positions(id, &copy));
            if got != want {
                failures.push(format!(
                    "{id}: {} without container names: expected {want:?}, got {got:?}",
                    file.display()
                ));
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} fixtures have named containers"
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
