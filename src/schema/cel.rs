//! CEL validation rules of CRD schemas (`x-kubernetes-validations`), evaluated the way the API
//! server does: each rule with `self` bound to the value at its schema node. Transition rules
//! (that read `oldSelf`) need the object's previous state and are skipped, not failed. A rule
//! that cannot be evaluated (a Kubernetes CEL extension function the evaluator lacks, a type
//! mismatch) is skipped too: kvet reports only rules that evaluate to `false`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use cel::{Context, Program, Value as CelValue};
use serde_json::Value;

use crate::diag::Finding;
use crate::load::spans::escape_pointer_token;

/// Compiled rules, by source text; `None` for rules that do not compile here.
fn compiled(rule: &str) -> Option<Arc<Program>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Option<Arc<Program>>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(program) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(rule) {
        return program.clone();
    }
    let program = std::panic::catch_unwind(|| Program::compile(rule).ok().map(Arc::new))
        .ok()
        .flatten();
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(rule.to_owned(), program.clone());
    program
}

/// Evaluates every rule of `schema` (a converted CRD schema) that applies to `instance`.
pub fn evaluate(schema: &Value, instance: &Value, out: &mut Vec<Finding>) {
    walk(schema, instance, String::new(), out);
}

fn walk(schema: &Value, instance: &Value, pointer: String, out: &mut Vec<Finding>) {
    if instance.is_null() {
        return;
    }
    for rule in schema
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        check_rule(rule, instance, &pointer, out);
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
                        out,
                    );
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk(sub, item, format!("{pointer}/{i}"), out);
                }
            }
        }
        _ => {}
    }
}

fn check_rule(rule: &Value, instance: &Value, pointer: &str, out: &mut Vec<Finding>) {
    let Some(source) = rule.get("rule").and_then(Value::as_str) else {
        return;
    };
    if source.contains("oldSelf") {
        return;
    }
    let Some(program) = compiled(source) else {
        return;
    };
    let mut context = Context::default();
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
    let at = super::validate::field_path(pointer);
    let text = if at.is_empty() {
        message
    } else {
        format!("{at}: {message}")
    };
    out.push(Finding::new(pointer, text).at_key().with_help(format!(
        "the CustomResourceDefinition requires `{source}` (x-kubernetes-validations)"
    )));
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
}
