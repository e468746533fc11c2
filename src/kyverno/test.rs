//! `kvet test` for Kyverno CLI test files: each `kyverno-test.yaml` (`cli.kyverno.io/v1alpha1`
//! `Test`, or the older unversioned form) names policies, resources, an optional values file
//! and the expected result of each rule on each resource; kvet applies the policies and
//! compares. Results for mutate and generate rules, MutatingPolicies and GeneratingPolicies
//! are reported as not evaluated.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::cluster::{Cluster, with_cluster};
use super::engine::{self, Request, Result_, Verdict};
use super::matching::labels_of;
use super::policy::{Policy, RuleKind};

/// The names Kyverno's CLI looks for.
const TEST_FILE_NAMES: [&str; 2] = ["kyverno-test.yaml", "kyverno-test.yml"];

/// One expected result on one resource, and what kvet found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The test file, as kvet names it.
    pub file: String,
    pub policy: String,
    /// The rule (empty for a ValidatingPolicy).
    pub rule: String,
    pub kind: String,
    pub resource: String,
    pub expected: String,
    /// What kvet found: `None` when no rule of that name applied to the resource.
    pub actual: Option<Result_>,
    /// What kind of rule it is (`pattern`, `cel`, `mutate` …), for the report by feature.
    pub feature: String,
    /// Why it was not evaluated (mutate, generate …): not counted as passed or failed.
    pub not_evaluated: Option<String>,
    /// kvet's message for a failure, skip or error.
    pub message: String,
    /// What the test names that is not there (its policy, rule or resource): a failure.
    pub missing: Option<String>,
}

impl Outcome {
    /// Whether kvet agrees with the expected result. A rule that does not apply to a
    /// resource is what Kyverno's CLI reports as skipped.
    pub fn agrees(&self) -> bool {
        let actual = self.actual.map_or("skip", Result_::as_str);
        self.missing.is_none() && actual == self.expected
    }
}

/// A test file that could not be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{file}: {message}")]
pub struct TestError {
    pub file: String,
    pub message: String,
}

/// The Kyverno test files under `paths` (files or folders, hidden `.kyverno-test` folders
/// included), in path order.
pub fn test_files(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_file() {
            if is_test_file(path) {
                out.push(path.clone());
            }
            continue;
        }
        let walker = ignore::WalkBuilder::new(path)
            .hidden(false)
            .git_ignore(false)
            .ignore(false)
            .parents(false)
            .sort_by_file_name(|a, b| a.cmp(b))
            .build();
        for entry in walker.flatten() {
            if entry.file_type().is_some_and(|t| t.is_file()) && is_test_file(entry.path()) {
                out.push(entry.into_path());
            }
        }
    }
    out
}

fn is_test_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| TEST_FILE_NAMES.contains(&n))
}

/// Runs one test file.
pub fn run(file: &Path) -> Result<Vec<Outcome>, TestError> {
    let shown = crate::load::shown(file);
    let error = |message: String| TestError {
        file: shown.clone(),
        message,
    };
    let test = read_documents(file)
        .map_err(&error)?
        .into_iter()
        .next()
        .ok_or_else(|| error("the test file is empty".into()))?;
    let folder = file.parent().unwrap_or(Path::new("."));
    let files = |key: &str| -> Vec<PathBuf> {
        match test.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(|p| folder.join(p))
                .collect(),
            Some(Value::String(one)) => vec![folder.join(one)],
            _ => Vec::new(),
        }
    };
    let mut policies = Vec::new();
    for path in files("policies") {
        for document in read_documents(&path).map_err(&error)? {
            policies.extend(Policy::from_json(&document));
        }
    }
    let mut resources = Vec::new();
    for path in files("resources") {
        resources.extend(read_documents(&path).map_err(&error)?);
    }
    let values = match files("variables").first() {
        Some(path) => Values::read(path).map_err(&error)?,
        None => Values::default(),
    };
    let namespaces = Namespaces::new(&resources, &values);
    // The cluster that `resource.Get` and `image.GetMetadata` read.
    let cluster = match files("context").first() {
        Some(path) => {
            let document = read_documents(path).map_err(&error)?.into_iter().next();
            document.map(|d| std::sync::Arc::new(Cluster::from_context(&d)))
        }
        None => None,
    };
    let mut out = Vec::new();
    for expected in test
        .get("results")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.extend(with_cluster(cluster.clone(), || {
            check_result(
                &shown,
                expected,
                &policies,
                &resources,
                &values,
                &namespaces,
            )
        }));
    }
    Ok(out)
}

/// The documents of a YAML file, as JSON.
fn read_documents(path: &Path) -> Result<Vec<Value>, String> {
    let text = crate::load::read_file_text(path).map_err(|e| {
        format!(
            "cannot read {}: {}",
            crate::load::shown(path),
            crate::load::discover::io_message(&e)
        )
    })?;
    let loaded = crate::load::load_text(&text);
    if let Some(issue) = loaded.yaml_issues.first() {
        return Err(format!("{}: {}", crate::load::shown(path), issue.message));
    }
    let mut out = Vec::new();
    crate::load::yaml::parse_each(&text, |document| {
        if !document.root.is_null() {
            out.push(document.root.to_json());
        }
    });
    Ok(out)
}

/// A test's values file (`kind: Values`): global values, per-policy rule and resource values,
/// namespace labels, and Namespace objects.
#[derive(Debug, Default)]
struct Values {
    global: Map<String, Value>,
    /// policy → rule → values.
    rules: BTreeMap<String, BTreeMap<String, Map<String, Value>>>,
    /// policy → resource name → values.
    resources: BTreeMap<String, BTreeMap<String, Map<String, Value>>>,
    /// namespace → labels.
    namespace_labels: BTreeMap<String, BTreeMap<String, String>>,
    /// Namespace objects the values give (`namespaces:`).
    namespaces: Vec<Value>,
}

impl Values {
    fn read(path: &Path) -> Result<Values, String> {
        let document = read_documents(path)?
            .into_iter()
            .next()
            .unwrap_or(Value::Null);
        let mut values = Values {
            global: object(document.get("globalValues")),
            namespaces: document
                .get("namespaces")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default(),
            ..Values::default()
        };
        for policy in document
            .get("policies")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = policy
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            for (key, into) in [
                ("rules", &mut values.rules),
                ("resources", &mut values.resources),
            ] {
                for item in policy
                    .get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let item_name = item.get("name").and_then(Value::as_str).unwrap_or_default();
                    into.entry(name.to_owned())
                        .or_default()
                        .insert(item_name.to_owned(), object(item.get("values")));
                }
            }
        }
        for selector in document
            .get("namespaceSelector")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = selector
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let labels = labels_of(selector.get("labels").and_then(Value::as_object));
            values.namespace_labels.insert(name.to_owned(), labels);
        }
        Ok(values)
    }

    /// The values for a policy's rule on a resource: global, then the rule's, then the
    /// resource's.
    fn for_rule(&self, policy: &str, rule: &str, resource: &str) -> Map<String, Value> {
        let mut out = self.global.clone();
        for layer in [
            self.rules.get(policy).and_then(|r| r.get(rule)),
            self.resources.get(policy).and_then(|r| r.get(resource)),
        ]
        .into_iter()
        .flatten()
        {
            out.extend(layer.clone());
        }
        out
    }
}

fn object(value: Option<&Value>) -> Map<String, Value> {
    value
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// The Namespaces a test knows: its resources' and its values' labels.
struct Namespaces {
    objects: BTreeMap<String, Value>,
    labels: BTreeMap<String, BTreeMap<String, String>>,
}

impl Namespaces {
    fn new(resources: &[Value], values: &Values) -> Namespaces {
        let mut objects = BTreeMap::new();
        let mut labels = values.namespace_labels.clone();
        for resource in resources.iter().chain(&values.namespaces) {
            if resource.get("kind").and_then(Value::as_str) == Some("Namespace")
                && let Some(name) = resource.pointer("/metadata/name").and_then(Value::as_str)
            {
                objects
                    .entry(name.to_owned())
                    .or_insert_with(|| resource.clone());
                labels.entry(name.to_owned()).or_insert_with(|| {
                    labels_of(
                        resource
                            .pointer("/metadata/labels")
                            .and_then(Value::as_object),
                    )
                });
            }
        }
        Namespaces { objects, labels }
    }
}

fn check_result(
    file: &str,
    expected: &Value,
    policies: &[Policy],
    resources: &[Value],
    values: &Values,
    namespaces: &Namespaces,
) -> Vec<Outcome> {
    let text = |key: &str| {
        expected
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let policy_name = text("policy");
    let rule_name = text("rule");
    let kind = text("kind");
    let result = match expected.get("result").or_else(|| expected.get("status")) {
        Some(Value::String(r)) => r.to_ascii_lowercase(),
        _ => String::new(),
    };
    let mut names: Vec<String> = match expected.get("resources") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    };
    if let Some(one) = expected.get("resource").and_then(Value::as_str) {
        names.push(one.to_owned());
    }
    let policy = policies.iter().find(|p| p.name == policy_name);
    let not_evaluated = if expected.get("patchedResources").is_some()
        || expected.get("patchedResource").is_some()
        || expected.get("isMutatingPolicy").is_some()
        || expected.get("isMUtatingPolicy").is_some()
    {
        Some("mutate".to_owned())
    } else if expected.get("generatedResource").is_some()
        || expected.get("isGeneratingPolicy").is_some()
        || expected.get("cloneSourceResource").is_some()
    {
        Some("generate".to_owned())
    } else {
        None
    };
    let rule = policy.and_then(|p| p.rules.iter().find(|r| r.name == rule_name));
    let feature = match (not_evaluated.as_deref(), policy, rule) {
        (Some(what), _, _) => what.to_owned(),
        (None, _, Some(rule)) => rule.kind.label().to_owned(),
        (None, Some(p), None) if rule_name.is_empty() => p
            .rules
            .first()
            .map_or("unknown", |r| r.kind.label())
            .to_owned(),
        _ => "unknown".to_owned(),
    };
    let not_evaluated = not_evaluated.or_else(|| match rule.map(|r| r.kind) {
        Some(RuleKind::NotEvaluated(what)) => Some(what.to_owned()),
        _ => None,
    });
    names
        .into_iter()
        .map(|name| {
            let (verdict, message, missing) = match (policy, &not_evaluated) {
                (Some(_), None) if rule.is_none() && !rule_name.is_empty() => (
                    None,
                    String::new(),
                    Some(format!("policy {policy_name} has no rule {rule_name}")),
                ),
                (Some(policy), None) => {
                    match verdict_for(
                        policy, &rule_name, &kind, &name, resources, values, namespaces,
                    ) {
                        Ok(found) => {
                            let message = found
                                .as_ref()
                                .map(|v| v.message.clone())
                                .unwrap_or_default();
                            (found.map(|v| v.result), message, None)
                        }
                        Err(missing) => (None, String::new(), Some(missing)),
                    }
                }
                (None, None) => (
                    None,
                    String::new(),
                    Some(format!(
                        "no policy named {policy_name} in the test's policies"
                    )),
                ),
                _ => (None, String::new(), None),
            };
            Outcome {
                file: file.to_owned(),
                policy: policy_name.clone(),
                rule: rule_name.clone(),
                kind: kind.clone(),
                resource: name,
                expected: result.clone(),
                actual: verdict,
                feature: feature.clone(),
                not_evaluated: not_evaluated.clone(),
                message,
                missing,
            }
        })
        .collect()
}

/// The verdict of the policy's rule (any rule of a ValidatingPolicy) on the resource of that
/// kind and name (`namespace/name`).
fn verdict_for(
    policy: &Policy,
    rule: &str,
    kind: &str,
    name: &str,
    resources: &[Value],
    values: &Values,
    namespaces: &Namespaces,
) -> Result<Option<Verdict>, String> {
    let (namespace, name) = match name.split_once('/') {
        Some((ns, n)) => (Some(ns), n),
        None => (None, name),
    };
    let field = |r: &Value, p: &str| {
        r.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut found = None;
    let mut any = false;
    for resource in resources.iter().filter(|r| {
        (kind.is_empty() || field(r, "/kind") == kind)
            && field(r, "/metadata/name") == name
            && namespace.is_none_or(|ns| {
                // The CLI puts a namespaced resource without a namespace in `default`.
                let own = field(r, "/metadata/namespace");
                own == ns || (own.is_empty() && ns == "default")
            })
    }) {
        any = true;
        // As Kyverno's CLI, a namespaced resource is in `default` when it names no namespace,
        // and its Namespace is there even when the test does not give it: named, with the
        // labels the values give.
        let mut ns = field(resource, "/metadata/namespace");
        if ns.is_empty() && !super::matching::cluster_scoped(&field(resource, "/kind")) {
            ns = "default".to_owned();
        }
        let made;
        let namespace_object = match namespaces.objects.get(&ns) {
            Some(object) => Some(object),
            None if !ns.is_empty() => {
                let labels = namespaces.labels.get(&ns).cloned().unwrap_or_default();
                made = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}});
                Some(&made)
            }
            None => None,
        };
        let request = Request::new(
            resource,
            namespace_object,
            namespaces.labels.get(&ns).cloned(),
            values.for_rule(&policy.name, rule, name),
        );
        let verdicts = engine::apply(policy, &request);
        // Kyverno's CLI names a rule's result on a controller by the rule it was generated
        // from, or by the generated rule.
        let verdict = verdicts.into_iter().find(|v| {
            rule.is_empty()
                || v.rule == rule
                || v.rule.strip_prefix("autogen-cronjob-") == Some(rule)
                || v.rule.strip_prefix("autogen-") == Some(rule)
        });
        // With several resources of one name, a failure decides.
        if let Some(v) = verdict
            && found
                .as_ref()
                .is_none_or(|f: &Verdict| f.result != Result_::Fail)
        {
            found = Some(v);
        }
    }
    if !any {
        let kind = if kind.is_empty() { "resource" } else { kind };
        return Err(format!("no {kind} named {name} in the test's resources"));
    }
    Ok(found)
}
