//! The Kyverno stage: the Kyverno policies of the input and of `--kyverno` applied to every
//! other object of the input, once every file is read (a policy may come after the objects
//! it governs, and Namespaces' labels select objects). A failed rule is a diagnostic at the
//! field that breaks it, with the rule's id `kyverno:<policy>/<rule>` and its level from the
//! policy's action (Enforce → error, Audit → warning) unless the config says otherwise; a
//! rule kvet cannot evaluate offline is one info; every verdict goes to the JSON output.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use rayon::prelude::*;
use serde_json::Value;

use super::place;
use crate::config::Setting;
use crate::diag::{Diagnostic, Finding, KyvernoVerdict, Level, RunRule};
use crate::kyverno::engine::{self, Request, Result_, Verdict};
use crate::kyverno::matching::labels_of;
use crate::kyverno::policy::{Action, Policy, PolicyKind, RuleKind, is_policy};
use crate::source::{Role, Source, guarded, read_text};
use crate::{Error, load};

/// The Kyverno policies and Namespaces among a file's objects, as JSON.
pub(crate) fn policies_and_namespaces(objects: &[load::object::Object]) -> Vec<Value> {
    objects
        .iter()
        .filter(|o| {
            is_policy(&o.id.api_version, &o.id.kind)
                || (o.id.kind == "Namespace" && o.id.api_version == "v1")
        })
        .map(|o| o.root.to_json())
        .collect()
}

/// Reads the policies of `--kyverno` files and folders: every `*.yaml`/`*.yml`/`*.json` file,
/// each document that is a Kyverno policy. A path that holds none is an error.
pub(crate) fn read_policies(paths: &[PathBuf]) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for path in paths {
        let error = |message: String| Error::Kyverno {
            path: load::shown(path),
            message,
        };
        let files = if path.is_dir() {
            let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(path)
                .build()
                .flatten()
                .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
                .map(|e| e.into_path())
                .filter(|p| {
                    p.extension()
                        .and_then(|e| e.to_str())
                        .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
                })
                .collect();
            files.sort();
            files
        } else if path.exists() {
            vec![path.clone()]
        } else {
            return Err(error("no such file or folder".into()));
        };
        let before = out.len();
        for file in files {
            let text = load::read_file_text(&file).map_err(|e| Error::Kyverno {
                path: load::shown(&file),
                message: load::discover::io_message(&e),
            })?;
            let loaded = load::load_text(&text);
            out.extend(
                policies_and_namespaces(&loaded.objects)
                    .into_iter()
                    .filter(|v| v.get("kind").and_then(Value::as_str) != Some("Namespace")),
            );
        }
        if out.len() == before {
            return Err(error("no Kyverno policy in it".into()));
        }
    }
    Ok(out)
}

/// A policy or Namespace and where it came from: the index of the render (a kustomization's,
/// a chart's) whose output holds it, or `None` for a file of the input or `--kyverno`.
pub(crate) type Scoped<T> = (Option<usize>, T);

/// The policies of the run, and what each governs (`None`: every object; `Some(render)`: the
/// objects of that render). A policy is one policy however many renders and files hold it —
/// the first copy, as a cluster holds one object of a name — and governs every object; a
/// render whose copy differs (an overlay patches it to Enforce) is governed by its own copy.
pub(crate) fn policies(documents: &[Scoped<Value>]) -> Vec<Scoped<Policy>> {
    type Identity = (String, Option<String>, String);
    let mut order: Vec<Identity> = Vec::new();
    let mut copies: HashMap<Identity, Vec<(Option<usize>, &Value)>> = HashMap::new();
    for (scope, document) in documents {
        let Some(policy) = Policy::from_json(document) else {
            continue;
        };
        let identity = (policy.kind, policy.namespace, policy.name);
        if !copies.contains_key(&identity) {
            order.push(identity.clone());
        }
        copies.entry(identity).or_default().push((*scope, document));
    }
    let mut out = Vec::new();
    for identity in &order {
        let Some((&(_, first), others)) = copies[identity].split_first() else {
            continue;
        };
        let mut kept: Vec<(Option<usize>, &Value)> = vec![(None, first)];
        for &(scope, document) in others {
            let own = scope.is_some() && document != first;
            if own && !kept.contains(&(scope, document)) {
                kept.push((scope, document));
            }
        }
        out.extend(
            kept.into_iter()
                .filter_map(|(scope, d)| Some((scope, Policy::from_json(d)?))),
        );
    }
    out
}

/// The policies that govern the objects of source `i`: its render's own copies, and the
/// others of which it has no copy.
fn governing(policies: &[Scoped<Policy>], i: usize) -> Vec<&Policy> {
    let identity = |p: &Policy| (p.kind.clone(), p.namespace.clone(), p.name.clone());
    let own: std::collections::HashSet<_> = policies
        .iter()
        .filter(|(scope, _)| *scope == Some(i))
        .map(|(_, p)| identity(p))
        .collect();
    policies
        .iter()
        .filter(|(scope, p)| match scope {
            Some(s) => *s == i,
            None => !own.contains(&identity(p)),
        })
        .map(|(_, p)| p)
        .collect()
}

/// What the stage found.
#[derive(Default)]
pub(crate) struct Applied {
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) verdicts: Vec<KyvernoVerdict>,
    pub(crate) rules: BTreeMap<String, RunRule>,
    /// One line per policy or rule kvet does not evaluate.
    pub(crate) notes: Vec<String>,
    /// One line per rule that can apply only to a request by given users: offline, to nothing.
    pub(crate) warnings: Vec<String>,
}

/// The default level of a rule: its action's.
fn default_level(action: Action) -> Level {
    match action {
        Action::Enforce => Level::Error,
        Action::Audit => Level::Warning,
    }
}

/// The rules of the run, by id, with the policy's annotations as their docs.
pub(crate) fn run_rules<'p>(
    policies: impl IntoIterator<Item = &'p Policy>,
) -> BTreeMap<String, RunRule> {
    let mut out = BTreeMap::new();
    for policy in policies {
        for rule in &policy.rules {
            let id = policy.rule_id(&rule.name);
            let summary = policy
                .docs
                .title
                .clone()
                .unwrap_or_else(|| format!("Kyverno {} {}", policy.kind, policy.name));
            let mut docs = format!(
                "## What it checks\nKyverno {} `{}`",
                policy.kind, policy.name
            );
            if policy.policy_kind != PolicyKind::Validating {
                docs.push_str(&format!(", rule `{}` ({})", rule.name, rule.kind.label()));
            }
            docs.push_str(".\n");
            if let Some(description) = &policy.docs.description {
                docs.push_str(&format!("\n{}\n", description.trim()));
            }
            if let Some(message) = rule.message() {
                docs.push_str(&format!("\nMessage: {}\n", message.trim()));
            }
            if let Some(severity) = &policy.docs.severity {
                docs.push_str(&format!("\nSeverity: {severity}\n"));
            }
            out.entry(id).or_insert_with(|| RunRule {
                summary,
                docs,
                category: policy
                    .docs
                    .category
                    .clone()
                    .unwrap_or_else(|| "kyverno".into()),
                default_level: default_level(rule.action),
            });
        }
    }
    out
}

/// A rule's level in a file: the config's, else its action's; `None` when it is off.
fn level(id: &str, action: Action, settings: &HashMap<String, Setting>) -> Option<Level> {
    match settings.get(id) {
        Some(setting) => *setting,
        None => Some(default_level(action)),
    }
}

/// Applies the policies to the objects of every source (not to the policies themselves).
pub(crate) fn apply(
    policies: &[Scoped<Policy>],
    documents: &[Scoped<Value>],
    sources: &[Source],
    settings: &[HashMap<String, Setting>],
) -> Result<Applied, Error> {
    let all = || policies.iter().map(|(_, p)| p);
    let (warnings, mut notes) = by_user(all());
    notes.extend(not_evaluated(all()));
    let mut applied = Applied {
        rules: run_rules(all()),
        notes,
        warnings,
        ..Applied::default()
    };
    let namespaces: HashMap<&str, &Value> = documents
        .iter()
        .map(|(_, d)| d)
        .filter(|d| d.get("kind").and_then(Value::as_str) == Some("Namespace"))
        .filter_map(|d| Some((d.pointer("/metadata/name")?.as_str()?, d)))
        .collect();
    let per_file: Vec<FileFound> = sources
        .par_iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.role, Role::Manifest { rendered: false } | Role::Rendered))
        .map(|(i, source)| {
            let governing = governing(policies, i);
            guarded(source, || {
                apply_to_file(&governing, &namespaces, source, &settings[i])
            })
        })
        .collect::<Result<_, Error>>()?;
    // A rule kvet could not evaluate is said once, where it first met it.
    let mut told = std::collections::HashSet::new();
    for (diagnostics, verdicts, infos) in per_file {
        applied.diagnostics.extend(diagnostics);
        applied.verdicts.extend(verdicts);
        for (id, info) in infos {
            if told.insert(id) {
                applied.diagnostics.push(info);
            }
        }
    }
    Ok(applied)
}

/// The rules whose match (warnings) or exclude (notes) holds only for requests by given
/// users, groups or roles, which offline requests do not have: said once per rule (not again
/// for its autogen rules).
fn by_user<'p>(policies: impl IntoIterator<Item = &'p Policy>) -> (Vec<String>, Vec<String>) {
    let (mut warnings, mut notes) = (Vec::new(), Vec::new());
    for policy in policies {
        for rule in policy
            .rules
            .iter()
            .filter(|r| !r.name.starts_with("autogen-"))
        {
            let id = policy.rule_id(&rule.name);
            let needs = |block: &str| {
                rule.body
                    .get(block)
                    .is_some_and(crate::kyverno::matching::needs_a_user)
            };
            if needs("match") {
                warnings.push(format!(
                    "{id} matches only requests by given users, groups or roles (subjects, roles, clusterRoles): kvet's offline requests have none, so it checks nothing"
                ));
            } else if needs("exclude") {
                notes.push(format!(
                    "{id} excludes requests by given users, groups or roles: kvet's offline requests have none, so it excludes none of them"
                ));
            }
        }
    }
    (warnings, notes)
}

/// The policies and rules kvet does not evaluate (mutate, generate, verifyImages, …).
fn not_evaluated<'p>(policies: impl IntoIterator<Item = &'p Policy>) -> Vec<String> {
    let mut out = Vec::new();
    for policy in policies {
        if policy.policy_kind == PolicyKind::NotEvaluated {
            out.push(format!(
                "Kyverno {} {} is not evaluated offline",
                policy.kind, policy.name
            ));
            continue;
        }
        let mut kinds: Vec<&str> = policy
            .rules
            .iter()
            .filter_map(|r| match r.kind {
                RuleKind::NotEvaluated(what) => Some(what),
                _ => None,
            })
            .collect();
        kinds.sort_unstable();
        kinds.dedup();
        if !kinds.is_empty() {
            out.push(format!(
                "Kyverno {} {}: its {} rules are not evaluated offline",
                policy.kind,
                policy.name,
                kinds.join(", ")
            ));
        }
    }
    out
}

type FileFound = (
    Vec<Diagnostic>,
    Vec<KyvernoVerdict>,
    Vec<(String, Diagnostic)>,
);

fn apply_to_file(
    policies: &[&Policy],
    namespaces: &HashMap<&str, &Value>,
    source: &Source,
    settings: &HashMap<String, Setting>,
) -> FileFound {
    let mut found: FileFound = Default::default();
    let Ok(text) = read_text(source) else {
        return found;
    };
    let loaded = load::load_text(&text);
    let file = source.name.as_str();
    for object in &loaded.objects {
        if is_policy(&object.id.api_version, &object.id.kind) {
            continue;
        }
        let value = object.root.to_json();
        let namespace = object.id.namespace.as_deref().unwrap_or_default();
        let namespace_object = namespaces.get(namespace).copied();
        let labels = namespace_object
            .map(|ns| labels_of(ns.pointer("/metadata/labels").and_then(Value::as_object)));
        let request = Request::new(&value, namespace_object, labels, serde_json::Map::new());
        for policy in policies {
            for verdict in engine::apply(policy, &request) {
                let id = policy.rule_id(&verdict.rule);
                record(
                    &mut found,
                    policy,
                    &id,
                    verdict,
                    (file, &text),
                    object,
                    &value,
                    settings,
                );
            }
        }
    }
    found
}

#[allow(clippy::too_many_arguments)]
fn record(
    found: &mut FileFound,
    policy: &Policy,
    id: &str,
    verdict: Verdict,
    at: (&str, &str),
    object: &load::object::Object,
    value: &Value,
    settings: &HashMap<String, Setting>,
) {
    let level = level(id, verdict.action, settings);
    found.1.push(KyvernoVerdict {
        policy: policy.name.clone(),
        rule: verdict.rule.clone(),
        object: object.id.clone(),
        file: at.0.to_owned(),
        result: verdict.result.as_str(),
        message: (!verdict.message.is_empty() && verdict.result != Result_::Pass)
            .then(|| verdict.message.clone()),
    });
    let Some(level) = level else {
        return;
    };
    match verdict.result {
        Result_::Pass => {}
        Result_::Fail => {
            // A missing field is reported at the key of the mapping that lacks it.
            let mut pointer = verdict.pointer.as_str();
            let missing = value.pointer(pointer).is_none();
            while value.pointer(pointer).is_none() {
                pointer = pointer.rsplit_once('/').map_or("", |(parent, _)| parent);
            }
            let mut finding = Finding::new(pointer, verdict.message);
            finding.at_key = missing;
            finding.help = Some(help(policy));
            found.0.push(place(id, level, at, object, finding));
        }
        Result_::Skip if !verdict.offline => {}
        Result_::Skip | Result_::Error => {
            let what = if verdict.result == Result_::Error {
                "could not be evaluated"
            } else {
                "was skipped"
            };
            let finding = Finding::new(String::new(), format!("{id} {what}: {}", verdict.message));
            let mut d = place(id, Level::Info, at, object, finding);
            d.help = Some(
                "kvet evaluates Kyverno rules offline: what needs the cluster (API calls, ConfigMaps, image registries) cannot be read".into(),
            );
            found.2.push((id.to_owned(), d));
        }
    }
}

fn help(policy: &Policy) -> String {
    let mut help = format!("Kyverno {} `{}`", policy.kind, policy.name);
    if let Some(title) = &policy.docs.title {
        help.push_str(&format!(": {title}"));
    }
    help
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(action: &str) -> Value {
        json!({"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "p"},
               "spec": {"validationFailureAction": action, "rules": []}})
    }

    fn scopes(documents: &[Scoped<Value>]) -> Vec<(Option<usize>, String)> {
        policies(documents)
            .into_iter()
            .map(|(scope, p)| {
                (
                    scope,
                    p.spec["validationFailureAction"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn a_policy_is_one_policy_unless_a_render_changes_it() {
        // Two renders of one base: one policy for every object.
        let same = [(Some(1), policy("Audit")), (Some(2), policy("Audit"))];
        assert_eq!(scopes(&same), [(None, "Audit".to_owned())]);
        // An overlay patches it: that render's objects get its copy.
        let patched = [(Some(1), policy("Audit")), (Some(2), policy("Enforce"))];
        assert_eq!(
            scopes(&patched),
            [(None, "Audit".to_owned()), (Some(2), "Enforce".to_owned())]
        );
        let scoped = policies(&patched);
        let governs = |i| -> Vec<String> {
            governing(&scoped, i)
                .iter()
                .map(|p| {
                    p.spec["validationFailureAction"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect()
        };
        assert_eq!(governs(1), ["Audit"]);
        assert_eq!(governs(2), ["Enforce"]);
        assert_eq!(governs(3), ["Audit"]);
        // Two files of the input with one name: the first, as a cluster keeps one.
        let files = [(None, policy("Audit")), (None, policy("Enforce"))];
        assert_eq!(scopes(&files), [(None, "Audit".to_owned())]);
    }
}
