//! Applies a Kyverno policy to one object, as Kyverno's engine does for an admission request
//! offline: each rule that matches the object loads its context, checks its preconditions and
//! validates (pattern, anyPattern, deny, foreach, CEL, podSecurity), giving one verdict per
//! rule: pass, fail (with the message and where in the object), skip or error.

use std::cell::OnceCell;
use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::cel::{self, Bindings, CelRule};
use super::conditions;
use super::matching::{self, Target};
use super::pattern;
use super::policy::{Action, Policy, PolicyKind, Rule, RuleKind};
use super::variables;

/// The object a policy is applied to, and what kvet knows around it.
pub struct Request<'a> {
    pub object: &'a Value,
    /// Its Namespace object, when the input has it.
    pub namespace_object: Option<&'a Value>,
    /// Its namespace's labels: the Namespace's, or what a test's values say.
    pub namespace_labels: Option<BTreeMap<String, String>>,
    /// Values set for this object (a Kyverno test's values): `request.operation`, context
    /// entries by name, any variable by its dotted path.
    pub values: Map<String, Value>,
    /// Kyverno's JSON context and the CEL bindings, built on first use and shared by every
    /// policy applied to the object.
    data: OnceCell<Value>,
    cel: OnceCell<Result<cel::Prepared, String>>,
}

impl<'a> Request<'a> {
    pub fn new(
        object: &'a Value,
        namespace_object: Option<&'a Value>,
        namespace_labels: Option<BTreeMap<String, String>>,
        values: Map<String, Value>,
    ) -> Request<'a> {
        Request {
            object,
            namespace_object,
            namespace_labels,
            values,
            data: OnceCell::new(),
            cel: OnceCell::new(),
        }
    }

    /// `CREATE` unless the values say otherwise.
    fn operation(&self) -> &str {
        self.values
            .get("request.operation")
            .and_then(Value::as_str)
            .unwrap_or("CREATE")
    }

    fn data(&self) -> &Value {
        self.data
            .get_or_init(|| context_data(self, self.operation()))
    }

    fn cel(&self) -> Result<&cel::Prepared, String> {
        self.cel
            .get_or_init(|| {
                let data = self.data();
                cel::prepare(&Bindings {
                    object: self.object,
                    namespace_object: self.namespace_object,
                    request: &data["request"],
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Result_ {
    Pass,
    Fail,
    Skip,
    Error,
}

impl Result_ {
    pub fn as_str(self) -> &'static str {
        match self {
            Result_::Pass => "pass",
            Result_::Fail => "fail",
            Result_::Skip => "skip",
            Result_::Error => "error",
        }
    }
}

/// One rule's verdict on one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub rule: String,
    pub kind: RuleKind,
    pub action: Action,
    pub result: Result_,
    /// What failed (the rule's message with its variables substituted, and Kyverno's detail),
    /// or why the rule was skipped or could not be evaluated.
    pub message: String,
    /// Where in the object a failure is (a JSON pointer; empty: the object).
    pub pointer: String,
    /// Skipped because kvet cannot evaluate it offline (a context entry from the cluster).
    pub offline: bool,
}

/// The verdicts of a policy's rules that apply to the object.
pub fn apply(policy: &Policy, request: &Request) -> Vec<Verdict> {
    if policy.policy_kind == PolicyKind::NotEvaluated {
        return Vec::new();
    }
    let namespace = request
        .object
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !policy.scope_includes(namespace, kind_of(request.object)) {
        return Vec::new();
    }
    let operation = request.operation();
    let target = Target::new(request.object, request.namespace_labels.as_ref(), operation);
    let mut out = Vec::new();
    for rule in &policy.rules {
        if matches!(rule.kind, RuleKind::NotEvaluated(_)) {
            continue;
        }
        let verdict = if rule.kind == RuleKind::ValidatingPolicy {
            let constraints = rule.body.get("matchConstraints").unwrap_or(&Value::Null);
            if !matching::constraints_match(constraints, &target) {
                continue;
            }
            validating_policy(rule, request)
        } else {
            if !matching::matches(&rule.body, &target) {
                continue;
            }
            if matching::excluded(&rule.body, &target, true) {
                if !matching::excluded(&rule.body, &target, false) {
                    let mut skipped = Outcome::skip(
                        "its exclude block selects namespaces by label, and the labels of this object's namespace are not in the input",
                    );
                    skipped.offline = true;
                    out.push(skipped.verdict(rule));
                }
                continue;
            }
            evaluate_rule(rule, request)
        };
        out.push(verdict);
    }
    out
}

fn kind_of(object: &Value) -> &str {
    object
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The verdict of a rule, before its name and kind are added.
struct Outcome {
    result: Result_,
    message: String,
    pointer: String,
    offline: bool,
    /// The message is the rule's, substituted already (in a foreach, where `element` is
    /// known).
    explained: bool,
}

impl Outcome {
    fn pass() -> Outcome {
        Outcome::new(Result_::Pass, String::new(), String::new())
    }

    fn new(result: Result_, message: String, pointer: String) -> Outcome {
        Outcome {
            result,
            message,
            pointer,
            offline: false,
            explained: false,
        }
    }

    fn skip(message: impl Into<String>) -> Outcome {
        Outcome::new(Result_::Skip, message.into(), String::new())
    }

    fn error(message: impl Into<String>) -> Outcome {
        Outcome::new(Result_::Error, message.into(), String::new())
    }

    fn verdict(self, rule: &Rule) -> Verdict {
        Verdict {
            rule: rule.name.clone(),
            kind: rule.kind,
            action: rule.action,
            result: self.result,
            message: self.message,
            pointer: self.pointer,
            offline: self.offline,
        }
    }
}

/// Kyverno's admission request for the object.
fn admission_request(object: &Value, operation: &str) -> Value {
    let metadata = object.get("metadata");
    let field = |key: &str| {
        metadata
            .and_then(|m| m.get(key))
            .cloned()
            .unwrap_or(json!(""))
    };
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    json!({
        "operation": operation,
        "object": object,
        // Kyverno's CLI has no previous state: an UPDATE it is told of compares the object
        // with itself.
        "oldObject": if operation == "UPDATE" { object.clone() } else { Value::Null },
        "name": field("name"),
        "namespace": field("namespace"),
        "kind": {"group": group, "version": version, "kind": object.get("kind").cloned().unwrap_or(json!(""))},
        "userInfo": {"username": "", "groups": []},
        "roles": [],
        "clusterRoles": [],
        "dryRun": false
    })
}

/// Kyverno's JSON context for a rule: the request, `images`, and the values a test sets (a
/// dotted name sets a nested field).
fn context_data(request: &Request, operation: &str) -> Value {
    let mut data = json!({
        "request": admission_request(request.object, operation),
        "images": super::images::images(request.object),
        "serviceAccountName": "",
        "serviceAccountNamespace": "",
    });
    for (name, value) in &request.values {
        set_path(&mut data, name, value.clone());
    }
    data
}

fn is_empty_list(value: &Value) -> bool {
    value.as_array().is_some_and(Vec::is_empty)
}

/// Sets `a.b.c` in `data`, making the maps on the way.
fn set_path(data: &mut Value, path: &str, value: Value) {
    let mut at = data;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if !at.is_object() {
            *at = json!({});
        }
        let Some(fields) = at.as_object_mut() else {
            return;
        };
        if parts.peek().is_none() {
            fields.insert(part.to_owned(), value);
            return;
        }
        at = fields.entry(part.to_owned()).or_insert_with(|| json!({}));
    }
}

fn validating_policy(rule: &Rule, request: &Request) -> Verdict {
    let outcome = match request.cel() {
        Ok(bound) => cel_outcome(cel::evaluate(
            &CelRule::of_validating_policy(&rule.body),
            bound,
        )),
        Err(reason) => Outcome::error(reason),
    };
    outcome.verdict(rule)
}

fn cel_outcome(outcome: cel::Outcome) -> Outcome {
    match outcome {
        cel::Outcome::Pass => Outcome::pass(),
        cel::Outcome::Fail { message, pointer } => Outcome::new(Result_::Fail, message, pointer),
        cel::Outcome::Skip { reason } => Outcome::skip(reason),
        cel::Outcome::Error { reason } => Outcome::error(reason),
    }
}

fn evaluate_rule(rule: &Rule, request: &Request) -> Verdict {
    // The shared context serves a rule that adds nothing to it (no context entries, no
    // foreach elements).
    let context = rule.body.get("context").filter(|c| !is_empty_list(c));
    let mut owned = None;
    if context.is_some() || rule.kind == RuleKind::Foreach {
        let mut data = request.data().clone();
        if let Err(outcome) = load_context(context, &mut data, &request.values) {
            return outcome.verdict(rule);
        }
        owned = Some(data);
    }
    let mut data = owned.map_or(
        std::borrow::Cow::Borrowed(request.data()),
        std::borrow::Cow::Owned,
    );
    if let Some(preconditions) = rule.body.get("preconditions")
        && let Some(outcome) = preconditions_fail(preconditions, &data)
    {
        return outcome.verdict(rule);
    }
    let validate = rule.validate();
    let outcome = match rule.kind {
        RuleKind::Pattern | RuleKind::AnyPattern => patterns(validate, request.object, &data, ""),
        RuleKind::Deny => deny(validate, &data, None),
        RuleKind::Foreach => {
            let scope = Scope {
                rule,
                resource: request.object,
                values: &request.values,
                elements_left: std::cell::Cell::new(MAX_FOREACH_ELEMENTS),
            };
            foreach_all(&scope, validate.get("foreach"), data.to_mut(), 0)
        }
        RuleKind::Cel => match request.cel() {
            Ok(bound) => {
                let block = validate.get("cel").unwrap_or(&Value::Null);
                cel_outcome(cel::evaluate(
                    &CelRule::of_validate_cel(&rule.body, block),
                    bound,
                ))
            }
            Err(reason) => Outcome::error(reason),
        },
        RuleKind::PodSecurity => pod_security(
            validate.get("podSecurity").unwrap_or(&Value::Null),
            request.object,
        ),
        RuleKind::ValidatingPolicy | RuleKind::NotEvaluated(_) => Outcome::pass(),
    };
    let outcome = match outcome.result {
        Result_::Fail if !outcome.explained => Outcome {
            message: failure_message(rule, &data, &outcome.message),
            ..outcome
        },
        _ => outcome,
    };
    outcome.verdict(rule)
}

/// The rule's message with its variables substituted, and Kyverno's detail: for a pattern,
/// `validation error: <message>. rule <rule> failed at path <path>`.
fn failure_message(rule: &Rule, data: &Value, detail: &str) -> String {
    let message = rule
        .message()
        .map(|m| match variables::substitute_str(m, data) {
            Ok(Value::String(text)) => text,
            Ok(other) => other.to_string(),
            Err(_) => m.to_owned(),
        })
        .unwrap_or_default();
    let message = message.trim();
    if let Some(path) = detail.strip_prefix("failed at path ") {
        return pattern::rule_failure_message(&rule.name, message, path);
    }
    match (message.is_empty(), detail.is_empty()) {
        (_, true) => message.to_owned(),
        (true, false) => detail.to_owned(),
        (false, false) => format!("{message} ({detail})"),
    }
}

/// Adds the rule's context entries to `data`: a test's value of that name, or a `variable`
/// entry evaluated; an entry that needs the cluster (configMap, apiCall, imageRegistry,
/// globalReference) skips the rule.
fn load_context(
    entries: Option<&Value>,
    data: &mut Value,
    values: &Map<String, Value>,
) -> Result<(), Outcome> {
    for entry in entries.and_then(Value::as_array).into_iter().flatten() {
        let Some(name) = entry.get("name").and_then(Value::as_str) else {
            continue;
        };
        if let Some(value) = values.get(name) {
            set_path(data, name, value.clone());
            continue;
        }
        // `imageData.configData.config.Env: …` in a test's values sets part of the entry
        // (already in the context).
        let prefix = format!("{name}.");
        if values.keys().any(|k| k.starts_with(&prefix)) {
            continue;
        }
        if let Some(variable) = entry.get("variable") {
            let value = context_variable(variable, data)
                .map_err(|e| Outcome::error(format!("context entry `{name}`: {e}")))?;
            set_path(data, name, value);
            continue;
        }
        let source = ["configMap", "apiCall", "imageRegistry", "globalReference"]
            .into_iter()
            .find(|k| entry.get(*k).is_some())
            .unwrap_or("an unknown source");
        return Err(Outcome {
            offline: true,
            ..Outcome::skip(format!(
                "context entry `{name}` reads {source} from the cluster, which kvet cannot do offline"
            ))
        });
    }
    Ok(())
}

/// A `variable` context entry: its `value` (substituted), or `jmesPath` on the context (or on
/// the value), else its `default`.
fn context_variable(variable: &Value, data: &Value) -> Result<Value, String> {
    let value = match variable.get("value") {
        Some(value) => Some(variables::substitute(value, data).map_err(|e| e.to_string())?),
        None => None,
    };
    let mut result = match variable.get("jmesPath").and_then(Value::as_str) {
        Some(path) => {
            let path = match variables::substitute_str(path, data).map_err(|e| e.to_string())? {
                Value::String(s) => s,
                other => other.to_string(),
            };
            let on = value.as_ref().unwrap_or(data);
            super::jmes::search(&path, on).map_err(|e| e.to_string())?
        }
        None => value.unwrap_or(Value::Null),
    };
    if result.is_null()
        && let Some(default) = variable.get("default")
    {
        result = variables::substitute(default, data).map_err(|e| e.to_string())?;
    }
    Ok(result)
}

/// `Some` (skip, or error) when the preconditions do not hold.
fn preconditions_fail(preconditions: &Value, data: &Value) -> Option<Outcome> {
    match conditions::evaluate(preconditions, data) {
        Ok(verdict) if verdict.holds => None,
        Ok(verdict) => {
            let why = if verdict.messages.is_empty() {
                "preconditions not met".to_owned()
            } else {
                format!("preconditions not met: {}", verdict.messages.join("; "))
            };
            Some(Outcome::skip(why))
        }
        Err(e) => Some(Outcome::error(format!("preconditions: {e}"))),
    }
}

/// A pattern or anyPattern (of the rule, or of a foreach at `base`) on `resource`. A
/// failure's message is Kyverno's detail: where the pattern failed.
fn patterns(block: &Value, resource: &Value, data: &Value, base: &str) -> Outcome {
    if let Some(pattern) = block.get("pattern") {
        let pattern = match variables::substitute(pattern, data) {
            Ok(pattern) => pattern,
            Err(e) => return Outcome::error(format!("pattern: {e}")),
        };
        return match pattern::match_pattern(resource, &pattern) {
            Ok(()) => Outcome::pass(),
            Err(mismatch) => match mismatch.kind {
                pattern::MismatchKind::Fail => Outcome::new(
                    Result_::Fail,
                    format!("failed at path {}", mismatch.kyverno_path),
                    format!("{base}{}", mismatch.pointer),
                ),
                pattern::MismatchKind::Skip => Outcome::skip(mismatch.message),
                pattern::MismatchKind::Error => {
                    Outcome::error(format!("pattern: {}", mismatch.message))
                }
            },
        };
    }
    let any = block.get("anyPattern").unwrap_or(&Value::Null);
    let outcome = match variables::substitute(any, data) {
        Ok(Value::Array(list)) => pattern::validate_any(resource, &list),
        Ok(_) => return Outcome::error("anyPattern is not a list"),
        Err(e) => return Outcome::error(format!("anyPattern: {e}")),
    };
    match outcome {
        pattern::Outcome::Pass => Outcome::pass(),
        pattern::Outcome::Fail { path, detail } => {
            let detail = detail.strip_prefix("validation error: ").unwrap_or(&detail);
            Outcome::new(Result_::Fail, detail.to_owned(), format!("{base}{path}"))
        }
        pattern::Outcome::Skip { detail, .. } => Outcome::skip(detail),
    }
}

/// `podSecurity`: the Pod Security Standards' level (and version), less the rule's exclusions;
/// at the first field that breaks them, naming every control broken.
fn pod_security(block: &Value, object: &Value) -> Outcome {
    match super::pod_security::evaluate(block, object) {
        Ok(violations) => match violations.first() {
            None => Outcome::pass(),
            Some(first) => {
                let level = block
                    .get("level")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let version = block
                    .get("version")
                    .and_then(Value::as_str)
                    .unwrap_or("latest");
                let broken: Vec<String> = violations
                    .iter()
                    .map(|v| format!("{}: {}", v.control, v.message))
                    .collect();
                Outcome::new(
                    Result_::Fail,
                    format!(
                        "violates PodSecurity \"{level}:{version}\": {}",
                        broken.join("; ")
                    ),
                    first.pointer.clone(),
                )
            }
        },
        Err(reason) => Outcome::error(format!("podSecurity: {reason}")),
    }
}

/// `deny.conditions`: the rule fails when they hold; at the foreach element `element`, else at
/// the one field of the object the conditions read.
fn deny(block: &Value, data: &Value, element: Option<&str>) -> Outcome {
    let conditions = block
        .get("deny")
        .and_then(|d| d.get("conditions"))
        .unwrap_or(&Value::Null);
    match conditions::evaluate(conditions, data) {
        Ok(verdict) if verdict.holds => {
            let pointer = match element {
                Some(element) => element.to_owned(),
                None => condition_pointer(conditions).unwrap_or_default(),
            };
            Outcome::new(Result_::Fail, verdict.messages.join("; "), pointer)
        }
        Ok(_) => Outcome::pass(),
        Err(e) => Outcome::error(format!("deny conditions: {e}")),
    }
}

/// Where denied conditions point: the one field of the object their keys read, when every key
/// is a plain path to it (`{{ request.object.spec.type }}`, with or without a literal default:
/// `|| 'ClusterIP'`) or a shorter path leading to it.
fn condition_pointer(conditions: &Value) -> Option<String> {
    let lists = match conditions {
        Value::Array(list) => vec![list],
        Value::Object(blocks) => ["any", "all"]
            .iter()
            .filter_map(|k| blocks.get(*k).and_then(Value::as_array))
            .collect(),
        _ => return None,
    };
    let mut paths = Vec::new();
    for condition in lists.into_iter().flatten() {
        let key = condition.get("key")?.as_str()?.trim();
        let expression = key.strip_prefix("{{")?.strip_suffix("}}")?.trim();
        let path = match expression.split_once("||") {
            Some((path, default)) if is_literal(default.trim()) => path,
            _ => expression,
        };
        paths.push(path_pointer(path, "request.object")?);
    }
    let longest = paths.iter().max_by_key(|p| p.len())?;
    paths
        .iter()
        .all(|p| longest.starts_with(p.as_str()))
        .then(|| longest.clone())
}

/// A JMESPath literal: `'text'`, `` `json` ``, `"text"` (a quoted field, as Kyverno's
/// policies write empty defaults), or a number.
fn is_literal(text: &str) -> bool {
    let quoted = |q: char| text.len() >= 2 && text.starts_with(q) && text.ends_with(q);
    quoted('\'') || quoted('`') || quoted('"') || text.parse::<f64>().is_ok()
}

/// How deep foreach loops may nest (Kyverno's policies nest two or three).
const MAX_FOREACH_DEPTH: usize = 8;

/// Every foreach declaration of a block: the first failure or error decides; all skipped is
/// skipped.
/// What every level of a foreach reads: the rule, the object, and the values a test sets.
struct Scope<'a> {
    rule: &'a Rule,
    resource: &'a Value,
    values: &'a Map<String, Value>,
    /// How many more elements the rule's loops may validate: each one reads the whole
    /// context, so loops over huge lists (or nested loops) would take quadratic time.
    elements_left: std::cell::Cell<usize>,
}

/// Elements a rule's foreach loops validate at most, nested loops together (a Pod has a
/// handful of containers; a rule that loops over pairs of them, a few hundred).
const MAX_FOREACH_ELEMENTS: usize = 1024;

fn foreach_all(
    scope: &Scope,
    declarations: Option<&Value>,
    data: &mut Value,
    depth: usize,
) -> Outcome {
    if depth >= MAX_FOREACH_DEPTH {
        return Outcome::error("foreach nested too deep");
    }
    let mut applied = false;
    let mut offline = None;
    for declaration in declarations.and_then(Value::as_array).into_iter().flatten() {
        let outcome = foreach(scope, declaration, data, depth);
        match outcome.result {
            Result_::Pass => applied = true,
            Result_::Skip if outcome.offline => offline = offline.or(Some(outcome)),
            Result_::Skip => {}
            Result_::Fail | Result_::Error => return outcome,
        }
    }
    nothing_failed(applied, offline)
}

/// When no element failed: pass if one was validated, else skipped (saying so when what was
/// skipped needs the cluster).
fn nothing_failed(applied: bool, offline: Option<Outcome>) -> Outcome {
    match (applied, offline) {
        (true, _) => Outcome::pass(),
        (false, Some(offline)) => offline,
        (false, None) => Outcome::skip("rule skipped: no element to validate"),
    }
}

/// One foreach declaration: its list, then for each element its context, preconditions and
/// validation (pattern, anyPattern, deny, nested foreach).
fn foreach(scope: &Scope, declaration: &Value, data: &mut Value, depth: usize) -> Outcome {
    let Some(list) = declaration.get("list").and_then(Value::as_str) else {
        return Outcome::error("foreach without a list");
    };
    let list_expr = match variables::substitute_str(list, data) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(e) => return Outcome::error(format!("foreach list: {e}")),
    };
    let elements = match super::jmes::search(list_expr.trim(), data) {
        Ok(Value::Array(items)) => items,
        Ok(Value::Null) => Vec::new(),
        Ok(other) => vec![other],
        Err(e) => return Outcome::error(format!("foreach list `{list}`: {e}")),
    };
    let base = list_pointer(&list_expr);
    let saved: Vec<(String, Option<Value>)> = [
        "element",
        "elementIndex",
        &format!("element{depth}"),
        &format!("elementIndex{depth}"),
    ]
    .iter()
    .map(|k| ((*k).to_owned(), data.get(*k).cloned()))
    .collect();
    let mut applied = false;
    let mut offline = None;
    let mut result = None;
    for (index, element) in elements.iter().enumerate() {
        let Some(left) = scope.elements_left.get().checked_sub(1) else {
            result = Some(Outcome::error(format!(
                "foreach validates more than {MAX_FOREACH_ELEMENTS} elements: not evaluated"
            )));
            break;
        };
        scope.elements_left.set(left);
        let element_base = base.as_ref().map(|b| format!("{b}/{index}"));
        set_path(data, "element", element.clone());
        set_path(data, "elementIndex", json!(index));
        set_path(data, &format!("element{depth}"), element.clone());
        set_path(data, &format!("elementIndex{depth}"), json!(index));
        let outcome = foreach_element(
            scope,
            declaration,
            element,
            element_base.as_deref(),
            data,
            depth,
        );
        match outcome.result {
            Result_::Pass => applied = true,
            Result_::Skip if outcome.offline => offline = offline.or(Some(outcome)),
            Result_::Skip => {}
            Result_::Fail | Result_::Error => {
                // The message names the element: substituted while it is `element`.
                let mut outcome = outcome;
                if outcome.result == Result_::Fail && !outcome.explained {
                    outcome.message = failure_message(scope.rule, data, &outcome.message);
                    outcome.explained = true;
                }
                result = Some(outcome);
                break;
            }
        }
    }
    for (key, value) in saved {
        if let Some(fields) = data.as_object_mut() {
            match value {
                Some(v) => fields.insert(key, v),
                None => fields.remove(&key),
            };
        }
    }
    match result {
        Some(outcome) => outcome,
        None => nothing_failed(applied, offline),
    }
}

fn foreach_element(
    scope: &Scope,
    declaration: &Value,
    element: &Value,
    element_base: Option<&str>,
    data: &mut Value,
    depth: usize,
) -> Outcome {
    if let Err(outcome) = load_context(declaration.get("context"), data, scope.values) {
        return outcome;
    }
    if let Some(preconditions) = declaration.get("preconditions")
        && let Some(outcome) = preconditions_fail(preconditions, data)
    {
        return outcome;
    }
    let at = element_base.unwrap_or("");
    if declaration.get("pattern").is_some() || declaration.get("anyPattern").is_some() {
        // The pattern applies to the element unless `elementScope: false` says the object.
        let on_element = declaration
            .get("elementScope")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        return if on_element {
            patterns(declaration, element, data, at)
        } else {
            patterns(declaration, scope.resource, data, "")
        };
    }
    if declaration.get("deny").is_some() {
        return deny(declaration, data, element_base);
    }
    if let Some(nested) = declaration.get("foreach") {
        return foreach_all(scope, Some(nested), data, depth + 1);
    }
    Outcome::error("foreach without pattern, anyPattern, deny or foreach")
}

/// The JSON pointer of a foreach list that is a plain path into the object
/// (`request.object.spec.containers[]`), or `None`.
fn list_pointer(list: &str) -> Option<String> {
    let path = list.trim().strip_suffix("[]").unwrap_or(list.trim());
    path_pointer(path, "request.object")
}

/// The JSON pointer of a plain JMESPath path below `root` (`request.object.spec.type` with
/// root `request.object`: `/spec/type`; quoted fields allowed), or `None`.
fn path_pointer(path: &str, root: &str) -> Option<String> {
    let mut rest = path.trim().strip_prefix(root)?;
    let mut pointer = String::new();
    while !rest.is_empty() {
        rest = rest.strip_prefix('.')?;
        let (field, after) = match rest.strip_prefix('"') {
            Some(quoted) => {
                let end = quoted.find('"')?;
                (&quoted[..end], &quoted[end + 1..])
            }
            None => {
                let end = rest.find('.').unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        let plain = field
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-/.".contains(c));
        if field.is_empty() || !plain {
            return None;
        }
        pointer.push('/');
        pointer.push_str(&crate::load::spans::escape_pointer_token(field));
        rest = after;
    }
    Some(pointer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreach_lists_that_are_paths_have_pointers() {
        assert_eq!(
            list_pointer("request.object.spec.containers[]").as_deref(),
            Some("/spec/containers")
        );
        assert_eq!(
            list_pointer("request.object.spec.containers").as_deref(),
            Some("/spec/containers")
        );
        assert_eq!(
            list_pointer("request.object.spec.[containers, initContainers][]"),
            None
        );
        assert_eq!(list_pointer("element.ports"), None);
    }

    #[test]
    fn denied_conditions_point_at_the_one_field_they_read() {
        let conditions = json!({"any": [
            {"key": "{{ request.object.spec.type }}", "operator": "Equals", "value": "LoadBalancer"},
            {"key": "{{request.object.spec}}", "operator": "Equals", "value": {}}
        ]});
        assert_eq!(
            condition_pointer(&conditions).as_deref(),
            Some("/spec/type")
        );
        let labels = json!([{"key": "{{ request.object.metadata.labels.\"app.kubernetes.io/name\" }}", "operator": "Equals", "value": ""}]);
        assert_eq!(
            condition_pointer(&labels).as_deref(),
            Some("/metadata/labels/app.kubernetes.io~1name")
        );
        let defaulted = json!([{"key": "{{ request.object.spec.type || 'ClusterIP' }}"}]);
        assert_eq!(condition_pointer(&defaulted).as_deref(), Some("/spec/type"));
        let computed = json!([{"key": "{{ length(request.object.spec.ports) }}"}]);
        assert_eq!(condition_pointer(&computed), None);
        let two = json!({"any": [{"key": "{{ request.object.spec.a }}"}, {"key": "{{ request.object.spec.b }}"}]});
        assert_eq!(condition_pointer(&two), None);
    }

    #[test]
    fn dotted_values_set_nested_fields() {
        let mut data = json!({"request": {"operation": "CREATE"}});
        set_path(&mut data, "request.operation", json!("UPDATE"));
        set_path(&mut data, "existing", json!(1));
        assert_eq!(
            data,
            json!({"request": {"operation": "UPDATE"}, "existing": 1})
        );
    }
}
