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

/// A field a rule may not depend on, taken away from every object of a fixture by renaming its
/// key (same length, so every other position stays), and the rules that do look at it.
struct Mutation {
    what: &'static str,
    /// Where the keys to rename start, in the fixture's objects.
    keys: fn(&kvet::load::object::Object) -> Vec<kvet::load::spans::Span>,
    /// The rules that look at the field, which may lose findings without it.
    readers: &'static [&'static str],
}

/// The key `key` of a mapping, if the node is one and has it.
fn key_span(node: Option<&kvet::load::yaml::Node>, key: &str) -> Option<kvet::load::spans::Span> {
    let entries = node?.as_map()?;
    entries.iter().find(|e| e.key == key).map(|e| e.key_span)
}

/// The rules that compare a pod's containers with each other.
const CONTAINER_READERS: &[&str] = &["duplicate-container-name"];

const MUTATIONS: &[Mutation] = &[
    Mutation {
        what: "container names",
        keys: |object| {
            let Some(pod) = kvet::workload::pod_spec(object) else {
                return Vec::new();
            };
            pod.containers()
                .filter_map(|c| key_span(Some(c.node), "name"))
                .collect()
        },
        readers: &["duplicate-container-name"],
    },
    Mutation {
        what: "object names",
        keys: |object| {
            key_span(object.root.get("metadata"), "name")
                .into_iter()
                .collect()
        },
        // Rules about names, and those that look objects up by name (references, a Kargo
        // Project, the Namespace whose labels set the Pod Security level).
        readers: &[
            "duplicate-object",
            "duplicate-template",
            "cnpg-reference",
            "external-secret-store-ref",
            "kargo-credentials",
            "pod-security",
        ],
    },
    Mutation {
        what: "object labels",
        keys: |object| {
            key_span(object.root.get("metadata"), "labels")
                .into_iter()
                .collect()
        },
        readers: &[
            "required-secret-labels",
            "kargo-credentials",
            "kyverno-selector-unmatched",
            "pod-security",
        ],
    },
    Mutation {
        what: "namespaces",
        keys: |object| {
            key_span(object.root.get("metadata"), "namespace")
                .into_iter()
                .collect()
        },
        // Rules about namespaces, and those that match objects within one (without one, an
        // object matches any).
        readers: &[
            "default-namespace",
            "kargo-credentials",
            "kyverno-selector-unmatched",
            "missing-pdb",
            "pod-security",
        ],
    },
];

/// The fixture's text with every key `mutation` finds renamed (`name` to `nam_`), or `None`
/// when it finds none.
fn mutated(text: &str, mutation: &Mutation) -> Option<String> {
    let loaded = kvet::load::load_text(text);
    let at: Vec<_> = loaded.objects.iter().flat_map(mutation.keys).collect();
    if at.is_empty() {
        return None;
    }
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    for span in at {
        let line = &mut lines[span.start.line as usize - 1];
        let start = line
            .char_indices()
            .nth(span.start.col as usize - 1)
            .map(|(i, _)| i)
            .unwrap();
        // The key's last character becomes `_`: same length, another key.
        let Some(end) = line[start..].find(':').map(|i| start + i) else {
            continue;
        };
        if end > start && line[start..end].chars().all(|c| c.is_ascii_alphanumeric()) {
            line.replace_range(end - 1..end, "_");
        }
    }
    Some(lines.join("\n"))
}

/// The fixture's text without the containers that hold none of the findings at `keep` (each
/// written as a block list item: its lines become comments, so every other position stays),
/// leaving at least one container in each pod; `None` when there is nothing to take away.
fn without_unrelated_containers(text: &str, keep: &[(u32, u32)]) -> Option<String> {
    let loaded = kvet::load::load_text(text);
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let mut removed = false;
    for object in &loaded.objects {
        let Some(pod) = kvet::workload::pod_spec(object) else {
            continue;
        };
        let containers: Vec<_> = pod.containers().map(|c| c.node.span).collect();
        let holds = |span: &kvet::load::spans::Span| {
            keep.iter().any(|&at| {
                at >= (span.start.line, span.start.col) && at < (span.end.line, span.end.col)
            })
        };
        let mut unrelated: Vec<_> = containers.iter().filter(|s| !holds(s)).collect();
        if unrelated.len() == containers.len() {
            unrelated.remove(0);
        }
        for span in unrelated {
            let first = span.start.line as usize - 1;
            let last = if span.end.col > 1 {
                span.end.line
            } else {
                span.end.line - 1
            } as usize
                - 1;
            // A block item alone on its lines: `- ` and the container's first key.
            let prefix: String = lines[first]
                .chars()
                .take(span.start.col as usize - 1)
                .collect();
            if prefix.trim() != "-" || last < first || lines[last].contains(']') {
                continue;
            }
            for line in &mut lines[first..=last] {
                *line = format!("#{}", " ".repeat(line.chars().count().saturating_sub(1)));
            }
            removed = true;
        }
    }
    removed.then(|| lines.join("\n"))
}

/// A rule's findings must not depend on fields it does not look at: a container without a name
/// (the API server refuses it, and the schema rule says so), an object without a name, labels
/// or namespace. Rules that built their message from such a field went silent without it
/// (issue 16). Every finding of every fail fixture must stay.
#[test]
fn findings_stay_without_fields_their_rule_does_not_read() {
    let scratch = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut checked = std::collections::BTreeMap::new();
    for rule in registry() {
        let id = rule.id;
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
            let want = positions(id, &file);
            let mutations = MUTATIONS.iter().filter(|m| !m.readers.contains(&id));
            let changes = mutations.filter_map(|m| Some((m.what, mutated(&text, m)?)));
            // Rules that compare a pod's containers with each other.
            let containers = (!CONTAINER_READERS.contains(&id))
                .then(|| without_unrelated_containers(&text, &want))
                .flatten()
                .map(|changed| ("other containers", changed));
            for (what, changed) in changes.chain(containers) {
                let copy = scratch.path().join(file.file_name().unwrap());
                std::fs::write(&copy, changed).unwrap();
                *checked.entry(what).or_insert(0) += 1;
                let got = positions(id, &copy);
                let lost: Vec<_> = want.iter().filter(|p| !got.contains(p)).collect();
                if !lost.is_empty() {
                    failures.push(format!(
                        "{id}: {} without {what}: lost the findings at {lost:?}",
                        file.display(),
                    ));
                }
            }
        }
    }
    // Fewer fixtures have pods of several containers.
    let wanted = MUTATIONS
        .iter()
        .map(|m| (m.what, 10))
        .chain([("other containers", 3)]);
    for (what, least) in wanted {
        let n = checked.get(what).copied().unwrap_or(0);
        assert!(n > least, "only {n} fixtures have {what}");
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
