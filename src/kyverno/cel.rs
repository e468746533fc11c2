//! CEL in Kyverno policies: a `ClusterPolicy` rule's `validate.cel` and a `ValidatingPolicy`'s
//! `validations`, with its `variables` and `matchConditions`, evaluated in the environment CRD
//! rules run in (the Kubernetes CEL libraries) with Kyverno's bindings: `object`, `oldObject`
//! (null: offline, every request creates), `request`, `namespaceObject` (the Namespace when
//! the input has it) and `variables`. `auditAnnotations` and `params` are not evaluated.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use cel::common::ast::{Expr, IdedExpr};
use cel::{Context, Program, Value as CelValue};
use serde_json::Value;

use crate::load::spans::escape_pointer_token;
use crate::schema::cel as schema_cel;

/// What kvet binds for one object.
pub struct Bindings<'a> {
    pub object: &'a Value,
    pub namespace_object: Option<&'a Value>,
    /// Kyverno's admission request (`operation`, `object`, `namespace`, `kind`, …).
    pub request: &'a Value,
}

/// The bindings converted to CEL once for an object, shared by every rule applied to it.
pub struct Prepared {
    object: CelValue,
    request: CelValue,
    namespace_object: CelValue,
    /// Whether the input has the object's Namespace: without it, `namespaceObject` is unknown
    /// (not null, as for a cluster-scoped object in the cluster).
    namespace_known: bool,
}

/// Converts the bindings to CEL values.
pub fn prepare(bindings: &Bindings) -> Result<Prepared, String> {
    let convert = |name: &str, value: &Value| {
        cel::to_value(value).map_err(|e| format!("`{name}` cannot be given to CEL: {e}"))
    };
    Ok(Prepared {
        object: convert("object", bindings.object)?,
        request: convert("request", bindings.request)?,
        namespace_object: convert(
            "namespaceObject",
            bindings.namespace_object.unwrap_or(&Value::Null),
        )?,
        // A cluster-scoped object's namespaceObject is null, in the cluster as here.
        namespace_known: bindings.namespace_object.is_some()
            || super::matching::cluster_scoped(
                bindings
                    .object
                    .get("kind")
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            ),
    })
}

/// How a CEL rule ended on one object.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Pass,
    /// An expression was false: its message, and where in the object it reads.
    Fail {
        message: String,
        pointer: String,
    },
    /// A match condition (a precondition) was false: the rule does not apply.
    Skip {
        reason: String,
    },
    /// An expression could not be evaluated.
    Error {
        reason: String,
    },
}

/// The parts of a CEL rule: a ValidatingPolicy's `spec`, or a `validate.cel` block.
pub struct CelRule<'a> {
    pub match_conditions: &'a [Value],
    pub variables: &'a [Value],
    pub validations: &'a [Value],
}

impl<'a> CelRule<'a> {
    /// A ValidatingPolicy's spec.
    pub fn of_validating_policy(spec: &'a Value) -> CelRule<'a> {
        CelRule {
            match_conditions: list(spec, "matchConditions"),
            variables: list(spec, "variables"),
            validations: list(spec, "validations"),
        }
    }

    /// A ClusterPolicy rule's `validate.cel` block, with the rule's `celPreconditions`.
    pub fn of_validate_cel(rule: &'a Value, cel: &'a Value) -> CelRule<'a> {
        CelRule {
            match_conditions: list(rule, "celPreconditions"),
            variables: list(cel, "variables"),
            validations: list(cel, "expressions"),
        }
    }
}

fn list<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn expression(item: &Value) -> &str {
    item.get("expression")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// Evaluates the rule on one object.
pub fn evaluate(rule: &CelRule, bound: &Prepared) -> Outcome {
    let reads_namespace = [rule.match_conditions, rule.variables, rule.validations]
        .iter()
        .flat_map(|items| items.iter())
        .any(|item| expression(item).contains("namespaceObject"));
    if reads_namespace && !bound.namespace_known {
        return Outcome::Error {
            reason: "it reads namespaceObject, and the object's Namespace is not in the input"
                .into(),
        };
    }
    let reads_cluster = [rule.match_conditions, rule.variables, rule.validations]
        .iter()
        .flat_map(|items| items.iter())
        .flat_map(|item| {
            super::cluster::FUNCTIONS
                .into_iter()
                .filter(|f| expression(item).contains(f))
        })
        .next();
    if let Some(function) = reads_cluster
        && !super::cluster::available()
    {
        return Outcome::Error {
            reason: format!("it calls {function}, which reads the cluster: kvet cannot offline"),
        };
    }
    let mut context = Context::with_env(Arc::clone(schema_cel::env()));
    context.add_variable_from_value("object", bound.object.clone());
    context.add_variable_from_value("oldObject", CelValue::Null);
    context.add_variable_from_value("request", bound.request.clone());
    context.add_variable_from_value("namespaceObject", bound.namespace_object.clone());
    context.add_variable_from_value("params", CelValue::Null);
    // Variables are evaluated in order, each seeing those before it; one that fails is left
    // out, and an expression that reads it fails then (Kyverno evaluates them lazily).
    let mut variables: HashMap<String, CelValue> = HashMap::new();
    context.add_variable_from_value("variables", variables.clone());
    for variable in rule.variables {
        let Some(name) = variable.get("name").and_then(Value::as_str) else {
            continue;
        };
        // A variable kvet cannot evaluate at all (it calls `resource.Get`, which reads the
        // cluster) leaves the rule unevaluated, not failed.
        if let Err(reason) = program(expression(variable)) {
            return Outcome::Error {
                reason: format!("variable `{name}`: {reason}"),
            };
        }
        if let Ok(value) = run(expression(variable), &context) {
            variables.insert(name.to_owned(), value);
            context.add_variable_from_value("variables", variables.clone());
        }
    }
    for condition in rule.match_conditions {
        match run(expression(condition), &context) {
            Ok(CelValue::Bool(true)) => {}
            Ok(CelValue::Bool(false)) => {
                let name = condition.get("name").and_then(Value::as_str).unwrap_or("");
                return Outcome::Skip {
                    reason: format!("match condition `{name}` is false"),
                };
            }
            Ok(_) => {
                return Outcome::Error {
                    reason: format!("match condition `{}` is not a bool", expression(condition)),
                };
            }
            Err(reason) => return Outcome::Error { reason },
        }
    }
    // Every validation runs: a failure decides, else the first that kvet could not evaluate.
    let mut undecided = None;
    for validation in rule.validations {
        let source = expression(validation);
        if let Err(reason) = program(source) {
            undecided.get_or_insert(Outcome::Error { reason });
            continue;
        }
        match run(source, &context) {
            Ok(CelValue::Bool(true)) => {}
            Ok(CelValue::Bool(false)) => {
                return Outcome::Fail {
                    message: message(validation, &context),
                    pointer: read_pointer(source),
                };
            }
            // As the API server's admission policies: an expression that does not evaluate to
            // true on the object rejects it.
            Ok(other) => {
                return Outcome::Fail {
                    message: format!("`{}` gave {other:?}, not a bool", source.trim()),
                    pointer: read_pointer(source),
                };
            }
            // A field the API server defaults before admission (a Service's `type`) may be
            // missing offline: then there is no verdict.
            Err(reason) if reads_a_defaulted_field(&reason) => {
                undecided.get_or_insert(Outcome::Error { reason });
            }
            Err(reason) => {
                return Outcome::Fail {
                    message: format!("evaluation error: {reason}"),
                    pointer: read_pointer(source),
                };
            }
        }
    }
    undecided.unwrap_or(Outcome::Pass)
}

/// Fields the API server fills in when a manifest leaves them out (defaults, and what
/// admission sets: a namespace, a service account, a cluster IP).
const DEFAULTED_FIELDS: [&str; 36] = [
    "namespace",
    "type",
    "imagePullPolicy",
    "restartPolicy",
    "dnsPolicy",
    "schedulerName",
    "terminationGracePeriodSeconds",
    "securityContext",
    "protocol",
    "sessionAffinity",
    "replicas",
    "revisionHistoryLimit",
    "progressDeadlineSeconds",
    "strategy",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "serviceAccountName",
    "serviceAccount",
    "enableServiceLinks",
    "clusterIP",
    "clusterIPs",
    "ipFamilies",
    "ipFamilyPolicy",
    "internalTrafficPolicy",
    "concurrencyPolicy",
    "successfulJobsHistoryLimit",
    "failedJobsHistoryLimit",
    "suspend",
    "backoffLimit",
    "completions",
    "parallelism",
    "completionMode",
    "podManagementPolicy",
    "updateStrategy",
    "volumeMode",
    "preemptionPolicy",
];

/// Whether an evaluation error is a missing key that the API server would have defaulted.
fn reads_a_defaulted_field(reason: &str) -> bool {
    reason
        .rsplit_once("No such key: ")
        .is_some_and(|(_, key)| DEFAULTED_FIELDS.contains(&key.trim()))
}

/// The compiled program of an expression, or why it cannot run.
fn program(source: &str) -> Result<Arc<Program>, String> {
    schema_cel::program(source).map_err(|skip| format!("`{source}` is not evaluated: {skip}"))
}

fn run(source: &str, context: &Context) -> Result<CelValue, String> {
    let program = program(source)?;
    let result =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| program.execute(context)));
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(format!("`{}`: {e}", source.trim())),
        Err(_) => Err(format!("`{}` could not be evaluated", source.trim())),
    }
}

/// The validation's `messageExpression` when it gives a string, else its `message`, else
/// Kyverno's default.
fn message(validation: &Value, context: &Context) -> String {
    if let Some(source) = validation.get("messageExpression").and_then(Value::as_str)
        && let Ok(CelValue::String(text)) = run(source, context)
        && !text.trim().is_empty()
    {
        return text.to_string();
    }
    match validation.get("message").and_then(Value::as_str) {
        Some(text) => text.trim().to_owned(),
        None => format!("failed expression: {}", expression(validation).trim()),
    }
}

/// Where in the object a failed expression points: the field it reads when it reads one
/// path of `object` (a shorter path it also reads leads to it), else the object itself.
pub fn read_pointer(source: &str) -> String {
    let Ok(program) = program(source) else {
        return String::new();
    };
    let mut paths = BTreeSet::new();
    object_paths(program.expression(), &mut paths);
    let longest = paths.iter().max_by_key(|p| p.len());
    match longest {
        Some(longest) if paths.iter().all(|p| longest.starts_with(p)) => longest
            .iter()
            .map(|field| format!("/{}", escape_pointer_token(field)))
            .collect(),
        _ => String::new(),
    }
}

/// Every maximal chain of field selections on `object` in `expr`.
fn object_paths(expr: &IdedExpr, out: &mut BTreeSet<Vec<String>>) {
    if let Some(path) = object_path(expr) {
        out.insert(path);
        return;
    }
    match &expr.expr {
        Expr::Call(call) => {
            for arg in call.target.as_deref().into_iter().chain(&call.args) {
                object_paths(arg, out);
            }
        }
        Expr::Select(select) => object_paths(&select.operand, out),
        Expr::List(list) => list.elements.iter().for_each(|e| object_paths(e, out)),
        Expr::Comprehension(c) => {
            for part in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                object_paths(part, out);
            }
        }
        Expr::Map(_) | Expr::Struct(_) | Expr::Unspecified | Expr::Literal(_) | Expr::Ident(_) => {}
    }
}

/// `object.a.b` (and `object.?a.b`, `has(object.a.b)`) as `[a, b]`.
fn object_path(expr: &IdedExpr) -> Option<Vec<String>> {
    match &expr.expr {
        Expr::Ident(name) if name == "object" => Some(Vec::new()),
        Expr::Select(select) => {
            let mut path = object_path(&select.operand)?;
            path.push(select.field.clone());
            Some(path)
        }
        Expr::Call(call) if call.func_name == "_?._" && call.args.len() == 2 => {
            let mut path = object_path(call.args.first()?)?;
            let cel::common::ast::Expr::Literal(cel::common::ast::LiteralValue::String(field)) =
                &call.args.get(1)?.expr
            else {
                return None;
            };
            path.push(field.to_string());
            Some(path)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn outcome(spec: Value, object: Value) -> Outcome {
        let request = json!({"operation": "CREATE", "object": object});
        let bindings = Bindings {
            object: &object,
            namespace_object: None,
            request: &request,
        };
        let prepared = prepare(&bindings).unwrap();
        evaluate(&CelRule::of_validating_policy(&spec), &prepared)
    }

    #[test]
    fn validations_variables_and_match_conditions() {
        let spec = json!({
            "matchConditions": [{"name": "not-system", "expression": "object.metadata.namespace != 'kube-system'"}],
            "variables": [{"name": "images", "expression": "object.spec.containers.map(c, c.image)"}],
            "validations": [{
                "expression": "variables.images.all(i, i.startsWith('ghcr.io/'))",
                "messageExpression": "'images must come from ghcr.io: ' + variables.images.join(', ')"
            }]
        });
        let pod = |ns: &str, image: &str| json!({"metadata": {"namespace": ns}, "spec": {"containers": [{"image": image}]}});
        assert_eq!(outcome(spec.clone(), pod("a", "ghcr.io/x")), Outcome::Pass);
        assert_eq!(
            outcome(spec.clone(), pod("a", "docker.io/x")),
            Outcome::Fail {
                message: "images must come from ghcr.io: docker.io/x".into(),
                pointer: String::new()
            }
        );
        assert!(matches!(
            outcome(spec, pod("kube-system", "docker.io/x")),
            Outcome::Skip { .. }
        ));
    }

    #[test]
    fn a_failed_expression_points_at_the_one_path_it_reads() {
        assert_eq!(
            read_pointer("has(object.metadata.labels) && has(object.metadata.labels.team)"),
            "/metadata/labels/team"
        );
        assert_eq!(
            read_pointer("object.spec.containers.all(c, c.image.startsWith('ghcr.io/'))"),
            "/spec/containers"
        );
        assert_eq!(
            read_pointer("object.spec.replicas > 1 && object.metadata.name != ''"),
            ""
        );
        assert_eq!(
            read_pointer("object.spec.?replicas.orValue(1) > 1"),
            "/spec/replicas"
        );
    }

    #[test]
    fn cluster_functions_read_a_tests_context() {
        use super::super::cluster::{Cluster, with_cluster};
        let spec = json!({
            "variables": [{"name": "cm", "expression": "resource.Get('v1', 'configmaps', 'shop', 'allowed')"}],
            "validations": [{"expression": "object.spec.priorityClassName in variables.cm.data.classes.split(', ')"}]
        });
        let cluster = Arc::new(Cluster {
            resources: vec![json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "allowed", "namespace": "shop"}, "data": {"classes": "high, low"}})],
            images: Vec::new(),
        });
        let pod = |class: &str| json!({"spec": {"priorityClassName": class}});
        with_cluster(Some(cluster), || {
            assert_eq!(outcome(spec.clone(), pod("high")), Outcome::Pass);
            assert!(matches!(
                outcome(spec.clone(), pod("mid")),
                Outcome::Fail { .. }
            ));
        });
        // Without a test's context (as in `kvet check`), the rule is not evaluated.
        assert!(matches!(outcome(spec, pod("high")), Outcome::Error { .. }));
    }

    #[test]
    fn evaluation_errors_reject_the_object() {
        let spec = json!({"validations": [{"expression": "object.spec.name.startsWith(1)"}]});
        let named = json!({"spec": {"name": "a"}});
        assert!(matches!(outcome(spec, named), Outcome::Fail { .. }));
        // A missing field the API server defaults: no verdict offline; any other fails.
        let spec = json!({"validations": [{"expression": "object.spec.type != 'LoadBalancer'"}]});
        assert!(matches!(
            outcome(spec, json!({"spec": {}})),
            Outcome::Error { .. }
        ));
        let spec = json!({"validations": [
            {"expression": "object.spec.type != 'LoadBalancer'"},
            {"expression": "object.spec.ports.size() < 3"}
        ]});
        let many = json!({"spec": {"ports": [1, 2, 3]}});
        assert!(matches!(outcome(spec, many), Outcome::Fail { .. }));
        let spec = json!({"validations": [{"expression": "object.metadata.labels.team != ''"}]});
        let unlabelled = json!({"metadata": {"labels": {}}});
        assert!(matches!(outcome(spec, unlabelled), Outcome::Fail { .. }));
        // A cluster-scoped object's namespaceObject is null.
        let spec = json!({"validations": [{"expression": "namespaceObject == null"}]});
        assert_eq!(outcome(spec, json!({"kind": "ClusterRole"})), Outcome::Pass);
        let spec =
            json!({"validations": [{"expression": "namespaceObject.metadata.name != 'default'"}]});
        assert!(matches!(
            outcome(spec, json!({"spec": {}})),
            Outcome::Error { .. }
        ));
        let lacking = json!({"validations": [{"expression": "resource.Get('v1', 'configmaps', 'a', 'b') == null"}]});
        // Without a test's context, the cluster functions are not answered.
        assert!(matches!(outcome(lacking, json!({})), Outcome::Error { .. }));
        let message = json!({"validations": [{"expression": "false", "message": "no"}]});
        assert_eq!(
            outcome(message, json!({})),
            Outcome::Fail {
                message: "no".into(),
                pointer: String::new()
            }
        );
    }
}
