//! Kyverno policies as kvet holds them: `kyverno.io` `ClusterPolicy`/`Policy` (v1, v2beta1)
//! and `policies.kyverno.io` `ValidatingPolicy`/`NamespacedValidatingPolicy`, read from their
//! JSON, with the rules Kyverno generates for pod controllers (`autogen`) added.

use serde_json::Value;

use super::autogen;

/// The kinds of Kyverno policy kvet knows, and whether it evaluates them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// `ClusterPolicy` or `Policy` (`kyverno.io`): rules with match/exclude and a validate
    /// block.
    Rules,
    /// `ValidatingPolicy` or `NamespacedValidatingPolicy` (`policies.kyverno.io`): CEL.
    Validating,
    /// Mutating, generating, image-verifying and deleting policies: not evaluated offline.
    NotEvaluated,
}

/// What a failed rule blocks: `Enforce` (Deny) is an error, `Audit` (Warn) a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Enforce,
    Audit,
}

impl Action {
    /// `Enforce`/`Deny` → Enforce; anything else (Kyverno's default, `Audit`, `Warn`) → Audit.
    fn parse(text: Option<&str>) -> Option<Action> {
        let text = text?;
        Some(
            if text.eq_ignore_ascii_case("enforce") || text.eq_ignore_ascii_case("deny") {
                Action::Enforce
            } else {
                Action::Audit
            },
        )
    }
}

/// The policy's annotations that document it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Docs {
    pub title: Option<String>,
    pub description: Option<String>,
    pub category: Option<String>,
    pub severity: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    /// A namespaced `Policy` applies only to objects of its namespace.
    pub namespace: Option<String>,
    /// `ClusterPolicy`, `ValidatingPolicy`, …
    pub kind: String,
    pub policy_kind: PolicyKind,
    pub docs: Docs,
    pub rules: Vec<Rule>,
    /// The policy's own JSON (`spec` of a ValidatingPolicy is read from it).
    pub spec: Value,
}

/// One rule of a `ClusterPolicy`/`Policy`, or the single rule a ValidatingPolicy is.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub action: Action,
    /// The rule's JSON as Kyverno reads it (rewritten for an autogen rule).
    pub body: Value,
    /// What the rule does.
    pub kind: RuleKind,
}

/// What a rule does, as far as kvet evaluates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    Pattern,
    AnyPattern,
    Deny,
    Foreach,
    Cel,
    PodSecurity,
    /// A `ValidatingPolicy`'s validations.
    ValidatingPolicy,
    /// A validate block kvet does not know (manifests, assert …), or mutate, generate,
    /// verifyImages: not evaluated.
    NotEvaluated(&'static str),
}

impl RuleKind {
    /// The name the agreement report and `--verbose` use.
    pub fn label(self) -> &'static str {
        match self {
            RuleKind::Pattern => "pattern",
            RuleKind::AnyPattern => "anyPattern",
            RuleKind::Deny => "deny",
            RuleKind::Foreach => "foreach",
            RuleKind::Cel => "cel",
            RuleKind::PodSecurity => "podSecurity",
            RuleKind::ValidatingPolicy => "ValidatingPolicy",
            RuleKind::NotEvaluated(what) => what,
        }
    }
}

/// The group of Kyverno's rule policies and of its CEL policies.
const RULES_GROUP: &str = "kyverno.io";
const CEL_GROUP: &str = "policies.kyverno.io";

/// Whether an object with this apiVersion and kind is a Kyverno policy kvet reads.
pub fn is_policy(api_version: &str, kind: &str) -> bool {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    match group {
        RULES_GROUP => matches!(kind, "ClusterPolicy" | "Policy"),
        CEL_GROUP => kind.ends_with("Policy"),
        _ => false,
    }
}

impl Policy {
    /// The policy of a Kyverno policy object, or `None` for any other object.
    pub fn from_json(object: &Value) -> Option<Policy> {
        let api_version = object.get("apiVersion")?.as_str()?;
        let kind = object.get("kind")?.as_str()?;
        if !is_policy(api_version, kind) {
            return None;
        }
        let metadata = object.get("metadata");
        let name = text(metadata, "name").unwrap_or_default();
        let namespace = match kind {
            "Policy" | "NamespacedValidatingPolicy" => text(metadata, "namespace"),
            _ => None,
        };
        let annotations = metadata.and_then(|m| m.get("annotations"));
        let docs = Docs {
            title: text(annotations, "policies.kyverno.io/title"),
            description: text(annotations, "policies.kyverno.io/description"),
            category: text(annotations, "policies.kyverno.io/category"),
            severity: text(annotations, "policies.kyverno.io/severity"),
        };
        let spec = object.get("spec").cloned().unwrap_or(Value::Null);
        let policy_kind = match kind {
            "ClusterPolicy" | "Policy" => PolicyKind::Rules,
            "ValidatingPolicy" | "NamespacedValidatingPolicy" => PolicyKind::Validating,
            _ => PolicyKind::NotEvaluated,
        };
        let rules = match policy_kind {
            PolicyKind::Rules => {
                let action =
                    Action::parse(spec.get("validationFailureAction").and_then(Value::as_str))
                        .unwrap_or(Action::Audit);
                let mut rules: Vec<Rule> = spec
                    .get("rules")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|r| Rule::from_json(r, action))
                    .collect();
                let controllers = text(annotations, autogen::ANNOTATION);
                let generated = autogen::rules(&rules, controllers.as_deref());
                rules.extend(generated);
                rules
            }
            PolicyKind::Validating => {
                let rule = validating_rule(&name, &spec);
                let mut rules = autogen::validating_rules(&rule);
                rules.insert(0, rule);
                rules
            }
            PolicyKind::NotEvaluated => Vec::new(),
        };
        Some(Policy {
            name,
            namespace,
            kind: kind.to_owned(),
            policy_kind,
            docs,
            rules,
            spec,
        })
    }

    /// Whether the policy governs an object of that namespace (empty: none) and kind: a
    /// cluster policy every object; a namespaced one (`Policy`,
    /// `NamespacedValidatingPolicy`) the objects of its namespace, or, when it names none
    /// (kustomize or `kubectl -n` sets it), the namespaced objects that name none either —
    /// never a cluster-scoped one.
    pub fn scope_includes(&self, namespace: &str, kind: &str) -> bool {
        let namespaced = matches!(self.kind.as_str(), "Policy" | "NamespacedValidatingPolicy");
        match &self.namespace {
            _ if !namespaced => true,
            Some(own) => own == namespace,
            None => namespace.is_empty() && !super::matching::cluster_scoped(kind),
        }
    }

    /// `kyverno:<policy>/<rule>`, or `kyverno:<policy>` for a ValidatingPolicy.
    pub fn rule_id(&self, rule: &str) -> String {
        if self.policy_kind == PolicyKind::Validating {
            format!("kyverno:{}", self.name)
        } else {
            format!("kyverno:{}/{rule}", self.name)
        }
    }
}

impl Rule {
    pub fn from_json(body: &Value, policy_action: Action) -> Rule {
        let validate = body.get("validate");
        let action = Action::parse(
            validate
                .and_then(|v| v.get("failureAction"))
                .and_then(Value::as_str),
        )
        .unwrap_or(policy_action);
        Rule {
            name: text(Some(body), "name").unwrap_or_default(),
            action,
            body: body.clone(),
            kind: rule_kind(body),
        }
    }

    /// The `validate` block.
    pub fn validate(&self) -> &Value {
        self.body.get("validate").unwrap_or(&Value::Null)
    }

    /// The validate block's `message`.
    pub fn message(&self) -> Option<&str> {
        self.validate().get("message").and_then(Value::as_str)
    }
}

fn rule_kind(body: &Value) -> RuleKind {
    for other in ["mutate", "generate", "verifyImages"] {
        if body.get(other).is_some_and(|v| !v.is_null()) {
            return RuleKind::NotEvaluated(other);
        }
    }
    let Some(validate) = body.get("validate") else {
        return RuleKind::NotEvaluated("no validate block");
    };
    let has = |key: &str| validate.get(key).is_some_and(|v| !v.is_null());
    if has("pattern") {
        RuleKind::Pattern
    } else if has("anyPattern") {
        RuleKind::AnyPattern
    } else if has("deny") {
        RuleKind::Deny
    } else if has("foreach") {
        RuleKind::Foreach
    } else if has("cel") {
        RuleKind::Cel
    } else if has("podSecurity") {
        RuleKind::PodSecurity
    } else if has("manifests") {
        RuleKind::NotEvaluated("manifests")
    } else if has("assert") {
        RuleKind::NotEvaluated("assert")
    } else {
        RuleKind::NotEvaluated("an empty validate block")
    }
}

/// A ValidatingPolicy is one rule, named after the policy.
fn validating_rule(name: &str, spec: &Value) -> Rule {
    let actions = spec
        .get("validationActions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str);
    let mut action = Action::Audit;
    for a in actions {
        if Action::parse(Some(a)) == Some(Action::Enforce) {
            action = Action::Enforce;
        }
    }
    Rule {
        name: name.to_owned(),
        action,
        body: spec.clone(),
        kind: RuleKind::ValidatingPolicy,
    }
}

fn text(value: Option<&Value>, key: &str) -> Option<String> {
    value?.get(key)?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_cluster_policy_has_its_rules_and_their_autogen_rules() {
        let policy = Policy::from_json(&json!({
            "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy",
            "metadata": {"name": "require-labels", "annotations": {"policies.kyverno.io/title": "Require labels"}},
            "spec": {"validationFailureAction": "Enforce", "rules": [{
                "name": "check-team",
                "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                "validate": {"message": "team", "pattern": {"metadata": {"labels": {"team": "?*"}}}}
            }, {
                "name": "audit-only",
                "match": {"any": [{"resources": {"kinds": ["ConfigMap"]}}]},
                "validate": {"failureAction": "Audit", "deny": {}}
            }]}
        }))
        .unwrap();
        let names: Vec<&str> = policy.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "check-team",
                "audit-only",
                "autogen-check-team",
                "autogen-cronjob-check-team"
            ]
        );
        assert_eq!(policy.rules[0].action, Action::Enforce);
        assert_eq!(policy.rules[1].action, Action::Audit);
        assert_eq!(policy.rules[0].kind, RuleKind::Pattern);
        assert_eq!(policy.rules[1].kind, RuleKind::Deny);
        assert_eq!(policy.docs.title.as_deref(), Some("Require labels"));
        assert_eq!(
            policy.rule_id("check-team"),
            "kyverno:require-labels/check-team"
        );
    }

    #[test]
    fn a_namespaced_policy_governs_its_namespace_and_never_cluster_scoped_objects() {
        let policy = |namespace: Option<&str>| {
            let mut metadata = json!({"name": "p"});
            if let Some(ns) = namespace {
                metadata["namespace"] = json!(ns);
            }
            Policy::from_json(&json!({"apiVersion": "kyverno.io/v1", "kind": "Policy", "metadata": metadata, "spec": {"rules": []}}))
                .unwrap()
        };
        let shop = policy(Some("shop"));
        assert!(shop.scope_includes("shop", "Deployment"));
        assert!(!shop.scope_includes("other", "Deployment"));
        assert!(!shop.scope_includes("", "ClusterRole"));
        // Without a namespace (kustomize or `kubectl -n` sets it): the objects without one.
        let unset = policy(None);
        assert!(unset.scope_includes("", "ConfigMap"));
        assert!(!unset.scope_includes("other", "ConfigMap"));
        assert!(!unset.scope_includes("", "Namespace"));
        assert!(!unset.scope_includes("", "ClusterRole"));
    }

    #[test]
    fn a_validating_policy_is_one_rule() {
        let policy = Policy::from_json(&json!({
            "apiVersion": "policies.kyverno.io/v1alpha1", "kind": "ValidatingPolicy",
            "metadata": {"name": "restrict-jobs"},
            "spec": {"validationActions": ["Audit", "Deny"], "validations": [{"expression": "false"}]}
        }))
        .unwrap();
        assert_eq!(policy.rules.len(), 1);
        assert_eq!(policy.rules[0].action, Action::Enforce);
        assert_eq!(policy.rule_id("restrict-jobs"), "kyverno:restrict-jobs");
        assert!(Policy::from_json(&json!({"apiVersion": "v1", "kind": "ConfigMap"})).is_none());
    }
}
