//! The rules Kyverno generates for pod controllers from a Pod rule (`autogen`): a rule that
//! matches only Pods also applies, rewritten, to the controllers that make Pods — named
//! `autogen-<rule>` for DaemonSets, Deployments, Jobs, StatefulSets, ReplicaSets and
//! ReplicationControllers (their `spec.template`), `autogen-cronjob-<rule>` for CronJobs
//! (`spec.jobTemplate.spec.template`), as the `pod-policies.kyverno.io/autogen-controllers`
//! annotation says (`none`: no rule; absent or `all`: every controller).

use serde_json::{Value, json};

use super::policy::Rule;

pub const ANNOTATION: &str = "pod-policies.kyverno.io/autogen-controllers";

/// Kyverno's default controllers, CronJob last.
const DEFAULT_CONTROLLERS: [&str; 7] = [
    "DaemonSet",
    "Deployment",
    "Job",
    "StatefulSet",
    "ReplicaSet",
    "ReplicationController",
    "CronJob",
];

/// Whether Kyverno treats objects of a kind as pods: a Pod, or a controller autogen knows.
pub fn runs_pods(kind: &str) -> bool {
    kind == "Pod" || DEFAULT_CONTROLLERS.contains(&kind)
}

/// The pod template of an object Kyverno treats as pods (a Pod is its own), with the path of
/// fields to it, from kvet's workload table.
pub fn pod_template(object: &Value) -> Option<(&'static [&'static str], &Value)> {
    let kind = object.get("kind")?.as_str()?;
    if !runs_pods(kind) {
        return None;
    }
    let path = crate::workload::template_path(kind)?;
    let template = path.iter().try_fold(object, |v, key| v.get(*key))?;
    Some((path, template))
}

/// The autogen rules of a policy's rules: none when the annotation says `none`, or when a rule
/// cannot be generated for controllers (it names objects, selects them by label or
/// annotation, or matches Pods together with other kinds), as Kyverno decides for the whole
/// policy.
pub fn rules(rules: &[Rule], annotation: Option<&str>) -> Vec<Rule> {
    let controllers: Vec<&str> = match annotation.map(str::trim) {
        Some("none") => return Vec::new(),
        None | Some("all") => DEFAULT_CONTROLLERS.to_vec(),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|c| DEFAULT_CONTROLLERS.contains(c))
            .collect(),
    };
    if !rules.iter().all(|r| supports_autogen(&r.body)) {
        return Vec::new();
    }
    let (cronjob, others): (Vec<&str>, Vec<&str>) =
        controllers.into_iter().partition(|c| *c == "CronJob");
    let mut out = Vec::new();
    for rule in rules.iter().filter(|r| matches_pods(&r.body)) {
        if !others.is_empty() {
            out.push(generate(rule, "autogen-", &others, &["spec", "template"]));
        }
        if !cronjob.is_empty() {
            out.push(generate(
                rule,
                "autogen-cronjob-",
                &cronjob,
                &["spec", "jobTemplate", "spec", "template"],
            ));
        }
    }
    out
}

/// The controllers' resources a ValidatingPolicy's autogen applies to, with their group and
/// where their pod template is.
const VALIDATING_CONTROLLERS: [(&str, &str, &str); 6] = [
    ("apps", "daemonsets", "DaemonSet"),
    ("apps", "deployments", "Deployment"),
    ("batch", "jobs", "Job"),
    ("apps", "statefulsets", "StatefulSet"),
    ("apps", "replicasets", "ReplicaSet"),
    ("batch", "cronjobs", "CronJob"),
];

/// The rules Kyverno generates for a ValidatingPolicy whose resource rules select Pods (and
/// no controller already): its expressions read the controllers' pod templates, as
/// `spec.autogen.podControllers.controllers` says (absent: every controller; `[]`: none).
pub fn validating_rules(rule: &Rule) -> Vec<Rule> {
    let spec = &rule.body;
    let Some(resource_rules) = spec
        .pointer("/matchConstraints/resourceRules")
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    let resources: Vec<&str> = resource_rules
        .iter()
        .flat_map(|r| {
            r.get("resources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter_map(Value::as_str)
        .collect();
    let controller_listed = resources
        .iter()
        .any(|r| VALIDATING_CONTROLLERS.iter().any(|(_, c, _)| c == r));
    if !resources.contains(&"pods") || controller_listed {
        return Vec::new();
    }
    let wanted: Option<Vec<String>> = spec
        .pointer("/autogen/podControllers/controllers")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_ascii_lowercase)
                .collect()
        });
    let chosen: Vec<&(&str, &str, &str)> = VALIDATING_CONTROLLERS
        .iter()
        .filter(|(_, resource, kind)| {
            wanted.as_ref().is_none_or(|w| {
                w.iter()
                    .any(|c| c == resource || *c == kind.to_ascii_lowercase())
            })
        })
        .collect();
    let operations = resource_rules
        .first()
        .and_then(|r| r.get("operations"))
        .cloned()
        .unwrap_or_else(|| json!(["CREATE", "UPDATE"]));
    let (cronjob, others): (Vec<_>, Vec<_>) = chosen
        .into_iter()
        .partition(|(_, _, kind)| *kind == "CronJob");
    let mut out = Vec::new();
    for (prefix, controllers, template) in [
        ("autogen-", others, "spec.template"),
        (
            "autogen-cronjob-",
            cronjob,
            "spec.jobTemplate.spec.template",
        ),
    ] {
        if controllers.is_empty() {
            continue;
        }
        let mut body = spec.clone();
        for key in ["matchConditions", "variables", "validations"] {
            if let Some(value) = body.get_mut(key) {
                rewrite_cel(value, template);
            }
        }
        let rules: Vec<Value> = controllers
            .iter()
            .map(|(group, resource, _)| {
                json!({"apiGroups": [group], "apiVersions": ["v1"], "operations": operations, "resources": [resource]})
            })
            .collect();
        if let Some(constraints) = body
            .get_mut("matchConstraints")
            .and_then(Value::as_object_mut)
        {
            constraints.insert("resourceRules".into(), Value::Array(rules));
        }
        out.push(Rule {
            name: format!("{prefix}{}", rule.name),
            action: rule.action,
            kind: rule.kind,
            body,
        });
    }
    out
}

/// The resource descriptions of a match or exclude block: legacy `resources`, `any`, `all`.
fn descriptions(block: Option<&Value>) -> Vec<&Value> {
    let Some(block) = block else {
        return Vec::new();
    };
    let mut out: Vec<&Value> = block.get("resources").into_iter().collect();
    for key in ["any", "all"] {
        for filter in block
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.extend(filter.get("resources"));
        }
    }
    out
}

fn kinds(description: &Value) -> Vec<&str> {
    description
        .get("kinds")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn is_pod(kind: &str) -> bool {
    kind == "Pod" || kind.ends_with("/Pod")
}

/// Kyverno's `checkAutogenSupport`: no names, selectors or annotations, and Pods not matched
/// together with other kinds.
fn supports_autogen(rule: &Value) -> bool {
    ["match", "exclude"].iter().all(|block| {
        descriptions(rule.get(*block)).iter().all(|d| {
            let kinds = kinds(d);
            let named = ["name", "names", "selector", "annotations"]
                .iter()
                .any(|k| d.get(*k).is_some_and(|v| !v.is_null()));
            let mixed = kinds.len() > 1 && kinds.iter().any(|k| is_pod(k));
            !(named || mixed)
        })
    })
}

fn matches_pods(rule: &Value) -> bool {
    descriptions(rule.get("match"))
        .iter()
        .any(|d| kinds(d).iter().any(|k| is_pod(k)))
}

fn generate(rule: &Rule, prefix: &str, controllers: &[&str], template: &[&str]) -> Rule {
    let inner = template.join(".");
    let mut body = rule.body.clone();
    if let Some(fields) = body.as_object_mut() {
        for (key, value) in fields.iter_mut() {
            if key != "validate" {
                rewrite_variables(value, &inner);
            }
        }
    }
    if let Some(validate) = body.get_mut("validate").and_then(Value::as_object_mut) {
        for (key, value) in validate.iter_mut() {
            match key.as_str() {
                "pattern" => *value = wrap(value.take(), template),
                "anyPattern" => {
                    if let Some(patterns) = value.as_array_mut() {
                        for pattern in patterns {
                            *pattern = wrap(pattern.take(), template);
                        }
                    }
                }
                "cel" => rewrite_cel(value, &inner),
                _ => rewrite_variables(value, &inner),
            }
        }
    }
    for block in ["match", "exclude"] {
        if let Some(block) = body.get_mut(block) {
            set_kinds(block, controllers);
        }
    }
    if let Some(fields) = body.as_object_mut() {
        fields.insert("name".into(), json!(format!("{prefix}{}", rule.name)));
    }
    Rule {
        name: format!("{prefix}{}", rule.name),
        action: rule.action,
        kind: rule.kind,
        body,
    }
}

/// `{spec: {template: pattern}}`: the pod pattern applied to the controller's template.
fn wrap(pattern: Value, template: &[&str]) -> Value {
    template
        .iter()
        .rev()
        .fold(pattern, |inner, field| json!({ *field: inner }))
}

/// `request.object.spec` → `request.object.spec.template.spec` (and `metadata`, and
/// `oldObject`), in every string, as Kyverno rewrites the rule's JSON.
fn rewrite_variables(value: &mut Value, template: &str) {
    rewrite_strings(value, &|s| {
        let mut s = s.to_owned();
        for object in ["request.object", "request.oldObject"] {
            s = replace_path(
                &s,
                &format!("{object}.spec"),
                &format!("{object}.{template}.spec"),
            );
            s = replace_path(
                &s,
                &format!("{object}.metadata"),
                &format!("{object}.{template}.metadata"),
            );
        }
        s
    });
}

/// The same for the CEL expressions of `validate.cel`, which read `object`.
fn rewrite_cel(value: &mut Value, template: &str) {
    rewrite_strings(value, &|s| {
        let mut s = s.to_owned();
        for object in ["object", "oldObject"] {
            for field in ["spec", "metadata"] {
                s = replace_identifier_path(
                    &s,
                    &format!("{object}.{field}"),
                    &format!("{object}.{template}.{field}"),
                );
            }
        }
        s
    });
}

fn rewrite_strings(value: &mut Value, rewrite: &dyn Fn(&str) -> String) {
    match value {
        Value::String(s) => *s = rewrite(s),
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_strings(v, rewrite)),
        Value::Object(fields) => fields
            .values_mut()
            .for_each(|v| rewrite_strings(v, rewrite)),
        _ => {}
    }
}

/// Replaces `from` where it is a whole path prefix (not followed by an identifier character).
fn replace_path(text: &str, from: &str, to: &str) -> String {
    replace_where(text, from, to, |_| true)
}

/// Replaces `from` where it starts an identifier path (not preceded by an identifier
/// character or a dot: `object.spec`, not `request.object.spec` nor `myobject.spec`).
fn replace_identifier_path(text: &str, from: &str, to: &str) -> String {
    replace_where(text, from, to, |before| {
        !before.is_some_and(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '.')
    })
}

fn replace_where(
    text: &str,
    from: &str,
    to: &str,
    starts: impl Fn(Option<char>) -> bool,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in text.match_indices(from) {
        let before = text[..at].chars().last();
        let after = text[at + from.len()..].chars().next();
        let whole = !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if whole && starts(before) {
            out.push_str(&text[last..at]);
            out.push_str(to);
            last = at + from.len();
        }
    }
    out.push_str(&text[last..]);
    out
}

/// Replaces Pod with the controllers in the kinds of a match or exclude block.
fn set_kinds(block: &mut Value, controllers: &[&str]) {
    let replace = |description: &mut Value| {
        if let Some(kinds) = description.get_mut("kinds").and_then(Value::as_array_mut)
            && kinds.iter().any(|k| k.as_str().is_some_and(is_pod))
        {
            *kinds = controllers.iter().map(|c| json!(c)).collect();
        }
    };
    if let Some(resources) = block.get_mut("resources") {
        replace(resources);
    }
    for key in ["any", "all"] {
        for filter in block
            .get_mut(key)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(resources) = filter.get_mut("resources") {
                replace(resources);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::policy::Action;
    use super::*;

    fn rule(body: Value) -> Rule {
        Rule::from_json(&body, Action::Audit)
    }

    #[test]
    fn a_pod_pattern_is_wrapped_in_the_controllers_template() {
        let pod = rule(json!({
            "name": "check-team",
            "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
            "validate": {"message": "{{request.object.metadata.name}} needs a team",
                         "pattern": {"metadata": {"labels": {"team": "?*"}}}}
        }));
        let out = rules(&[pod], Some("Deployment,CronJob"));
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].name, "autogen-check-team");
        assert_eq!(
            out[0].body["validate"]["pattern"],
            json!({"spec": {"template": {"metadata": {"labels": {"team": "?*"}}}}})
        );
        assert_eq!(
            out[0].body["match"]["any"][0]["resources"]["kinds"],
            json!(["Deployment"])
        );
        assert_eq!(
            out[0].body["validate"]["message"],
            "{{request.object.spec.template.metadata.name}} needs a team"
        );
        assert_eq!(out[1].name, "autogen-cronjob-check-team");
        assert_eq!(
            out[1].body["validate"]["pattern"]["spec"]["jobTemplate"]["spec"]["template"]["metadata"],
            json!({"labels": {"team": "?*"}})
        );
    }

    #[test]
    fn cel_expressions_read_the_template() {
        let pod = rule(json!({
            "name": "c",
            "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
            "validate": {"cel": {"expressions": [{"expression": "object.spec.containers.all(c, has(c.image)) && !has(object.metadata.x) && myobject.spec == 1"}]}}
        }));
        let out = rules(&[pod], None);
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[0].body["validate"]["cel"]["expressions"][0]["expression"],
            "object.spec.template.spec.containers.all(c, has(c.image)) && !has(object.spec.template.metadata.x) && myobject.spec == 1"
        );
        assert_eq!(
            out[0].body["match"]["any"][0]["resources"]["kinds"],
            json!([
                "DaemonSet",
                "Deployment",
                "Job",
                "StatefulSet",
                "ReplicaSet",
                "ReplicationController"
            ])
        );
    }

    #[test]
    fn no_autogen_for_named_or_mixed_rules_nor_with_none() {
        let named = rule(
            json!({"name": "n", "match": {"resources": {"kinds": ["Pod"], "names": ["x"]}}, "validate": {"deny": {}}}),
        );
        assert!(rules(&[named], None).is_empty());
        let mixed = rule(
            json!({"name": "m", "match": {"any": [{"resources": {"kinds": ["Pod", "Deployment"]}}]}, "validate": {"deny": {}}}),
        );
        assert!(rules(&[mixed], None).is_empty());
        let pod = rule(
            json!({"name": "p", "match": {"any": [{"resources": {"kinds": ["Pod"]}}]}, "validate": {"deny": {}}}),
        );
        assert!(rules(std::slice::from_ref(&pod), Some("none")).is_empty());
        let config = rule(
            json!({"name": "c", "match": {"any": [{"resources": {"kinds": ["ConfigMap"]}}]}, "validate": {"deny": {}}}),
        );
        assert_eq!(rules(&[pod, config], None).len(), 2);
    }
}
