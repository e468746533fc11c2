//! CEL validation rules of CRD schemas (`x-kubernetes-validations`), evaluated the way the API
//! server does: each rule with `self` bound to the value at its schema node. Transition rules
//! (that read `oldSelf`) need the object's previous state and are skipped, not failed. A rule
//! that cannot be evaluated (a Kubernetes CEL extension function the evaluator lacks, a type
//! mismatch) is skipped too: kvet reports only rules that evaluate to `false`. A rule is run
//! only when its cost on the value is within the API server's limits (`cel_cost`); one that
//! would cost more is reported, as the API server refuses such an object.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use cel::{Context, Env, Program, Value as CelValue};
use serde_json::Value;

use super::cel_cost::{self, PER_CALL_LIMIT, PER_OBJECT_BUDGET};
use crate::diag::{Finding, thousands};
use crate::load::spans::escape_pointer_token;

/// How many compiled rules are kept.
const MAX_CACHED_RULES: usize = 16_384;

/// The environment rules compile and run in, as the API server's: the standard library with
/// optional values (`self.?spec.x.orValue(1)`), `duration`/`timestamp`, and the strings,
/// lists and math extensions. Built once: a context per evaluation shares it.
pub(super) fn env() -> &'static Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib().with_optional_support(true);
        for extension in [
            cel::extensions::strings,
            cel::extensions::lists,
            cel::extensions::math,
            super::cel_k8s::extension,
        ] {
            // An extension that cannot be added leaves its rules skipped, not kvet stopped.
            let _ = env.add_extension(extension);
        }
        Arc::new(env)
    })
}

/// Compiled rules, by source text; `None` for rules that do not compile here.
fn compiled(rule: &str) -> Option<Arc<Program>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Arc<Program>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(program) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(rule) {
        return program.clone();
    }
    let program = std::panic::catch_unwind(|| env().compile(rule).ok().map(Arc::new))
        .ok()
        .flatten();
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    // Rules come from the input: past a bound (far more than the GitOps stack's CRDs hold
    // together), a new rule is compiled each time it is needed instead of kept.
    if cache.len() < MAX_CACHED_RULES {
        cache.insert(rule.to_owned(), program.clone());
    }
    program
}

/// Why a rule is not run: `None` for one kvet runs. Transition rules need the object's
/// previous state; a rule that does not compile here uses syntax or a function kvet lacks.
pub fn skipped_because(rule: &str) -> Option<&'static str> {
    if rule.contains("oldSelf") {
        Some("a transition rule (oldSelf): it needs the object's previous state")
    } else if compiled(rule).is_none() {
        Some("it does not compile here (syntax or a function kvet lacks)")
    } else {
        None
    }
}

/// The source of every CEL rule in a schema, with repeats.
pub fn rules_of(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(fields) => {
            let rules = fields
                .get("x-kubernetes-validations")
                .and_then(Value::as_array);
            for rule in rules.into_iter().flatten() {
                if let Some(source) = rule.get("rule").and_then(Value::as_str) {
                    out.push(source.to_owned());
                }
            }
            fields.values().for_each(|v| rules_of(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| rules_of(v, out)),
        _ => {}
    }
}

/// Evaluates every rule of `schema` (a converted CRD schema) that applies to `instance`.
pub fn evaluate(schema: &Value, instance: &Value, out: &mut Vec<Finding>) {
    let mut budget = Budget {
        left: PER_OBJECT_BUDGET,
    };
    walk(schema, instance, String::new(), &mut budget, out);
}

/// What the rules of one object may still cost; below zero once they went over it.
struct Budget {
    left: f64,
}

fn walk(
    schema: &Value,
    instance: &Value,
    pointer: String,
    budget: &mut Budget,
    out: &mut Vec<Finding>,
) {
    if instance.is_null() || budget.left < 0.0 {
        return;
    }
    for rule in schema
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        check_rule(rule, instance, &pointer, budget, out);
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    match instance {
        Value::Object(fields) => {
            for (name, value) in fields {
                let sub = properties
                    .and_then(|p| p.get(name))
                    .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()));
                if let Some(sub) = sub {
                    walk(
                        sub,
                        value,
                        format!("{pointer}/{}", escape_pointer_token(name)),
                        budget,
                        out,
                    );
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk(sub, item, format!("{pointer}/{i}"), budget, out);
                }
            }
        }
        _ => {}
    }
}

fn check_rule(
    rule: &Value,
    instance: &Value,
    pointer: &str,
    budget: &mut Budget,
    out: &mut Vec<Finding>,
) {
    let Some(source) = rule.get("rule").and_then(Value::as_str) else {
        return;
    };
    if source.contains("oldSelf") || budget.left < 0.0 {
        return;
    }
    let Some(program) = compiled(source) else {
        return;
    };
    let cost = cel_cost::estimate(program.expression(), instance);
    if cost > PER_CALL_LIMIT {
        // The API server stops the rule at its limit, having spent that much of the budget.
        out.push(over_cost(source, pointer, cost, budget.left));
        budget.left -= PER_CALL_LIMIT;
        return;
    }
    if cost > budget.left {
        out.push(over_cost(source, pointer, cost, budget.left));
        budget.left = -1.0;
        return;
    }
    budget.left -= cost;
    let mut context = Context::with_env(Arc::clone(env()));
    if context.add_variable("self", instance.clone()).is_err() {
        return;
    }
    let result =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| program.execute(&context)));
    if !matches!(result, Ok(Ok(CelValue::Bool(false)))) {
        return;
    }
    let message = match rule.get("message").and_then(Value::as_str) {
        Some(m) => m.to_owned(),
        None => format!("failed validation rule `{source}`"),
    };
    out.push(
        Finding::new(pointer, at_field(pointer, message))
            .at_key()
            .with_help(format!(
                "the CustomResourceDefinition requires `{source}` (x-kubernetes-validations)"
            )),
    );
}

/// `spec.items[2]: message`, or the message alone at the root.
fn at_field(pointer: &str, message: String) -> String {
    let at = super::validate::field_path(pointer);
    if at.is_empty() {
        message
    } else {
        format!("{at}: {message}")
    }
}

/// A rule not run because it would cost more than the API server allows: more than one rule may
/// (it refuses the object), or more than what the object's earlier rules left of its budget (it
/// stops validating it).
fn over_cost(source: &str, pointer: &str, cost: f64, left: f64) -> Finding {
    let message = if cost > PER_CALL_LIMIT {
        format!(
            "validation rule `{source}` would cost up to {} on this value, over the limit of {} for one rule; the API server refuses the object",
            thousands(cost),
            thousands(PER_CALL_LIMIT)
        )
    } else {
        format!(
            "validation rule `{source}` would cost up to {}, more than the {} left of the cost budget for this object's rules ({} in all); the API server refuses the object, and kvet evaluates no more of its rules",
            thousands(cost),
            thousands(left.max(0.0)),
            thousands(PER_OBJECT_BUDGET)
        )
    };
    Finding::new(pointer, at_field(pointer, message))
        .at_key()
        .with_help(
            "the cost grows with the size of the lists, maps and strings a rule walks, multiplied for each loop inside a loop: make the value smaller, or the rule walk it fewer times",
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn findings(schema: Value, instance: Value) -> Vec<Finding> {
        let mut out = Vec::new();
        evaluate(&schema, &instance, &mut out);
        out
    }

    #[test]
    fn failing_rules_are_reported_at_their_node() {
        let schema = json!({"properties": {"spec": {
            "x-kubernetes-validations": [
                {"rule": "self.minReplicas <= self.maxReplicas", "message": "minReplicas must not exceed maxReplicas"},
                {"rule": "self.minReplicas == oldSelf.minReplicas"},
                {"rule": "self.name.unknownKubernetesFunction()"}
            ]
        }}});
        let bad = findings(
            schema.clone(),
            json!({"spec": {"minReplicas": 5, "maxReplicas": 2, "name": "x"}}),
        );
        assert_eq!(bad.len(), 1);
        assert_eq!(bad[0].pointer, "/spec");
        assert_eq!(
            bad[0].message,
            "spec: minReplicas must not exceed maxReplicas"
        );
        assert!(
            findings(
                schema,
                json!({"spec": {"minReplicas": 1, "maxReplicas": 2}})
            )
            .is_empty()
        );
    }

    #[test]
    fn rules_apply_to_list_items_and_map_values() {
        let schema = json!({"properties": {"steps": {"items": {
            "x-kubernetes-validations": [{"rule": "has(self.name)", "message": "every step needs a name"}]
        }}}});
        let out = findings(schema, json!({"steps": [{"name": "a"}, {"image": "x"}]}));
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].pointer, "/steps/1");
    }

    #[test]
    fn a_rule_over_the_cost_limit_is_reported_not_run() {
        let schema = json!({"properties": {"spec": {"x-kubernetes-validations": [
            {"rule": "self.l.all(a, self.l.all(b, self.l.all(c, a + b + c >= 0)))"},
            {"rule": "self.l.all(a, a >= 0)", "message": "no negative numbers"}
        ]}}});
        let mut l: Vec<i64> = (0..300).collect();
        l.push(-1);
        let out = findings(schema, json!({"spec": {"l": l}}));
        let messages: Vec<&str> = out.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[0].starts_with("spec: validation rule `self.l.all(a, self.l.all(b, self.l.all(c, a + b + c >= 0)))` would cost up to ")
                && messages[0].ends_with("over the limit of 1,000,000 for one rule; the API server refuses the object"),
            "{}",
            messages[0]
        );
        // The cheap rule still runs.
        assert_eq!(messages[1], "spec: no negative numbers");
    }

    #[test]
    fn the_rules_of_one_object_stop_when_its_cost_budget_is_spent() {
        // Each item's rule costs about 300 × 300 × 6, within the limit for one rule; thirty of
        // them are over the object's budget.
        let schema = json!({"properties": {"items": {"items": {"x-kubernetes-validations": [
            {"rule": "self.l.all(a, self.l.all(b, a + b >= 0))"}
        ]}}}});
        let item = json!({"l": (0..300).collect::<Vec<_>>()});
        let out = findings(schema, json!({"items": vec![item; 30]}));
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(
            out[0]
                .message
                .contains("left of the cost budget for this object's rules (10,000,000 in all)"),
            "{}",
            out[0].message
        );
        assert!(out[0].pointer.starts_with("/items/1"), "{}", out[0].pointer);
    }
}
