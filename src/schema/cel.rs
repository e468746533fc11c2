//! CEL validation rules of CRD schemas (`x-kubernetes-validations`), evaluated the way the API
//! server does: each rule with `self` bound to the value at its schema node, in an environment
//! with the API server's libraries (`cel_k8s`). Transition rules (that read `oldSelf`) need
//! the object's previous state and are skipped, not failed; so is a rule kvet cannot parse or
//! that calls a function kvet lacks (found before it runs, and counted: `usage`). A rule that
//! errors on a given value (a type mismatch, a missing optional field) is not a violation:
//! kvet reports only rules that evaluate to `false`. A rule is run only when its cost on the
//! value is within the API server's limits (`cel_cost`); one that would cost more is reported,
//! as the API server refuses such an object.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use cel::common::ast::{EntryExpr, Expr, IdedExpr};
use cel::{Context, Env, Program, Value as CelValue};
use serde_json::Value;

use super::cel_cost::{self, PER_CALL_LIMIT, PER_OBJECT_BUDGET};
use crate::diag::{Finding, thousands};
use crate::load::spans::escape_pointer_token;

/// How many compiled rules are kept.
const MAX_CACHED_RULES: usize = 16_384;

/// The environment rules compile and run in, as the API server's: the standard library with
/// optional values (`self.?spec.x.orValue(1)`), `duration`/`timestamp`, the strings, lists
/// and math extensions, `cel.bind`, and Kubernetes' libraries. Built once: a context per
/// evaluation shares it.
pub(crate) fn env() -> &'static Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib().with_optional_support(true);
        for extension in [
            cel::extensions::strings,
            cel::extensions::lists,
            cel::extensions::math,
            super::cel_bind::extension,
            super::cel_k8s::extension,
            // Kyverno's cluster functions: declared everywhere, answered only where a Kyverno
            // CLI test gives the cluster's objects.
            crate::kyverno::cluster::extension,
        ] {
            // An extension that cannot be added leaves its rules skipped (and counted as
            // calling a missing function), not kvet stopped.
            let _ = env.add_extension(extension);
        }
        Arc::new(env)
    })
}

/// Why a rule is not run.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Skip {
    /// It reads `oldSelf`: it needs the object's previous state.
    Transition,
    /// It does not parse here.
    Syntax,
    /// It calls functions the environment does not declare.
    MissingFunctions(Vec<String>),
}

impl std::fmt::Display for Skip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Skip::Transition => {
                f.write_str("a transition rule (oldSelf): it needs the object's previous state")
            }
            Skip::Syntax => f.write_str("it does not parse here (syntax kvet lacks)"),
            Skip::MissingFunctions(names) => write!(
                f,
                "it calls {}, which kvet lacks",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

/// A rule as kvet holds it: its program, or why it is not run; and whether a check met it.
struct Rule {
    program: Result<Arc<Program>, Skip>,
    met: AtomicBool,
    /// Whether it failed to evaluate on some value (not reported as a violation).
    errored: AtomicBool,
}

fn cache() -> &'static Mutex<HashMap<String, Arc<Rule>>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<Rule>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The rule of that source, compiled once.
fn compiled(source: &str) -> Arc<Rule> {
    if let Some(rule) = cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(source)
    {
        return Arc::clone(rule);
    }
    let rule = Arc::new(Rule {
        program: compile(source),
        met: AtomicBool::new(false),
        errored: AtomicBool::new(false),
    });
    let mut cache = cache().lock().unwrap_or_else(|e| e.into_inner());
    // Rules come from the input: past a bound (far more than the GitOps stack's CRDs hold
    // together), a new rule is compiled each time it is needed instead of kept.
    if cache.len() < MAX_CACHED_RULES {
        return Arc::clone(cache.entry(source.to_owned()).or_insert(rule));
    }
    rule
}

fn compile(source: &str) -> Result<Arc<Program>, Skip> {
    if source.contains("oldSelf") {
        return Err(Skip::Transition);
    }
    let program = std::panic::catch_unwind(|| env().compile(source).ok())
        .ok()
        .flatten()
        .ok_or(Skip::Syntax)?;
    let mut missing = BTreeSet::new();
    missing_functions(program.expression(), &mut vec!["self"], &mut missing);
    if !missing.is_empty() {
        return Err(Skip::MissingFunctions(missing.into_iter().collect()));
    }
    Ok(Arc::new(program))
}

/// The functions `expr` calls that the environment does not declare, with the variables in
/// scope (`self`, comprehension variables). Operators (`_+_`, `@in`, `!_`) are the
/// interpreter's own; macros are expanded by the time a rule is parsed.
fn missing_functions<'e>(expr: &'e IdedExpr, scope: &mut Vec<&'e str>, out: &mut BTreeSet<String>) {
    match &expr.expr {
        Expr::Call(call) => {
            let name = call.func_name.as_str();
            let operator = !name.starts_with(|c: char| c.is_ascii_alphabetic());
            // `format.dns1123Label()` parses as a call on `format`: a namespaced function,
            // unless `format` is a variable.
            let qualified = call
                .target
                .as_deref()
                .and_then(qualified_name)
                .filter(|(root, _)| !scope.contains(root))
                .map(|(_, target)| format!("{target}.{name}"));
            let known = operator || declared(name) || qualified.as_deref().is_some_and(declared);
            if !known {
                out.insert(qualified.unwrap_or_else(|| name.to_owned()));
            }
            for arg in call.target.as_deref().into_iter().chain(&call.args) {
                missing_functions(arg, scope, out);
            }
        }
        Expr::Select(select) => missing_functions(&select.operand, scope, out),
        Expr::List(list) => {
            for element in &list.elements {
                missing_functions(element, scope, out);
            }
        }
        Expr::Map(map) => entries_functions(&map.entries, scope, out),
        Expr::Struct(object) => entries_functions(&object.entries, scope, out),
        Expr::Comprehension(c) => {
            missing_functions(&c.iter_range, scope, out);
            missing_functions(&c.accu_init, scope, out);
            let depth = scope.len();
            scope.extend([c.iter_var.as_str(), c.accu_var.as_str()]);
            scope.extend(c.iter_var2.as_deref());
            for part in [&c.loop_cond, &c.loop_step, &c.result] {
                missing_functions(part, scope, out);
            }
            scope.truncate(depth);
        }
        Expr::Unspecified | Expr::Literal(_) | Expr::Ident(_) => {}
    }
}

fn entries_functions<'e>(
    entries: &'e [cel::common::ast::IdedEntryExpr],
    scope: &mut Vec<&'e str>,
    out: &mut BTreeSet<String>,
) {
    for entry in entries {
        match &entry.expr {
            EntryExpr::MapEntry(e) => {
                missing_functions(&e.key, scope, out);
                missing_functions(&e.value, scope, out);
            }
            EntryExpr::StructField(f) => missing_functions(&f.value, scope, out),
        }
    }
}

/// The root identifier and the whole `a.b.c` of an identifier or a chain of selections on one.
fn qualified_name(expr: &IdedExpr) -> Option<(&str, String)> {
    match &expr.expr {
        Expr::Ident(name) => Some((name.as_str(), name.clone())),
        Expr::Select(select) if !select.test => {
            let (root, path) = qualified_name(&select.operand)?;
            Some((root, format!("{path}.{}", select.field)))
        }
        _ => None,
    }
}

/// Whether the environment declares a function of that name: a context refuses to add a
/// function the environment has.
fn declared(name: &str) -> bool {
    let mut context = Context::with_env(Arc::clone(env()));
    context.add_function(name, |x: i64| x).is_err()
}

/// An expression of another kind of CEL rule (a Kyverno policy's), compiled once in the
/// environment CRD rules run in; `Err` says why it is not run.
pub fn program(source: &str) -> Result<Arc<Program>, Skip> {
    compiled(source).program.clone()
}

/// Why a rule is not run: `None` for one kvet runs.
pub fn skipped_because(source: &str) -> Option<Skip> {
    compiled(source).program.clone().err()
}

/// The distinct CEL rules this process met while checking: how many ran (and of those, how
/// many failed to evaluate on some value), and how many were skipped for each reason.
#[derive(Debug, Default, PartialEq)]
pub struct Usage {
    pub run: usize,
    pub errored: usize,
    pub skipped: BTreeMap<Skip, usize>,
}

pub fn usage() -> Usage {
    let mut usage = Usage::default();
    let cache = cache().lock().unwrap_or_else(|e| e.into_inner());
    for rule in cache.values().filter(|r| r.met.load(Ordering::Relaxed)) {
        match &rule.program {
            Ok(_) => {
                usage.run += 1;
                usage.errored += usize::from(rule.errored.load(Ordering::Relaxed));
            }
            Err(skip) => *usage.skipped.entry(skip.clone()).or_default() += 1,
        }
    }
    usage
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

/// Evaluates every rule of `schema` (a converted CRD schema) that applies to `instance`, on
/// the object as the API server validates it: with the schema's defaults filled in.
pub fn evaluate(schema: &Value, instance: &Value, out: &mut Vec<Finding>) {
    let mut budget = Budget {
        left: PER_OBJECT_BUDGET,
    };
    let mut defaulted = instance.clone();
    apply_defaults(schema, &mut defaulted);
    walk(schema, &defaulted, String::new(), &mut budget, out);
}

/// Fills in the `default` of every property an object of `instance` lacks, at every depth (in
/// list items, map values and the defaults themselves), as the API server does before it
/// validates: a rule reading `self.kind` sees the `Service` Gateway API defaults it to.
fn apply_defaults(schema: &Value, instance: &mut Value) {
    match instance {
        Value::Object(fields) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            for (name, property) in properties.into_iter().flatten() {
                if let Some(default) = property.get("default")
                    && !fields.contains_key(name)
                {
                    fields.insert(name.clone(), default.clone());
                }
            }
            let others = schema.get("additionalProperties").filter(|a| a.is_object());
            for (name, value) in fields.iter_mut() {
                if let Some(sub) = properties.and_then(|p| p.get(name)).or(others) {
                    apply_defaults(sub, value);
                }
            }
        }
        Value::Array(items) => {
            if let Some(sub) = schema.get("items") {
                items.iter_mut().for_each(|item| apply_defaults(sub, item));
            }
        }
        _ => {}
    }
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
    if budget.left < 0.0 {
        return;
    }
    let compiled = compiled(source);
    compiled.met.store(true, Ordering::Relaxed);
    let Ok(program) = &compiled.program else {
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
    match result {
        Ok(Ok(CelValue::Bool(false))) => {}
        Ok(Ok(_)) => return,
        _ => {
            compiled.errored.store(true, Ordering::Relaxed);
            return;
        }
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
    fn rules_calling_a_function_kvet_lacks_are_found_before_they_run() {
        let missing = |rule: &str| match skipped_because(rule) {
            Some(Skip::MissingFunctions(names)) => names,
            other => panic!("{rule}: {other:?}"),
        };
        assert_eq!(
            missing("self.name.unknownKubernetesFunction()"),
            ["unknownKubernetesFunction"]
        );
        assert_eq!(
            missing("nope.helper(self) && semver(self).mayor() > 1"),
            ["mayor", "nope.helper"]
        );
        // A comprehension's variable is not a namespace.
        assert_eq!(missing("self.all(x, x.frobnicate())"), ["frobnicate"]);
        for runs in [
            "format.dns1123Label().validate(self) == optional.none()",
            "quantity(self).isLessThan(quantity('1Gi'))",
            "self.all(x, x.matches('^a') && x.lowerAscii() == x)",
            "cel.bind(n, self.size(), n > 1)",
            "sets.contains(self, ['a'])",
            "math.greatest([1, 2]) == 2",
            "optional.of(self).hasValue()",
        ] {
            assert_eq!(skipped_because(runs), None, "{runs}");
        }
        assert_eq!(skipped_because("self == oldSelf"), Some(Skip::Transition));
        assert_eq!(skipped_because("self.("), Some(Skip::Syntax));
    }

    #[test]
    fn rules_see_the_defaults_the_api_server_fills_in() {
        // Gateway API: a backendRef's kind defaults to Service, which needs a port.
        let schema = json!({"properties": {"backendRefs": {"items": {
            "properties": {
                "kind": {"type": "string", "default": "Service"},
                "group": {"type": "string", "default": ""},
                "port": {"type": "integer"}
            },
            "x-kubernetes-validations": [{
                "rule": "(size(self.group) == 0 && self.kind == 'Service') ? has(self.port) : true",
                "message": "Must have port for Service reference"
            }]
        }}}});
        let out = findings(
            schema,
            json!({"backendRefs": [{"name": "a", "port": 80}, {"name": "b"}, {"name": "c", "kind": "Bucket"}]}),
        );
        let at: Vec<&str> = out.iter().map(|f| f.pointer.as_str()).collect();
        assert_eq!(at, ["/backendRefs/1"]);
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
