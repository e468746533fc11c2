//! Kyverno `conditions` blocks (preconditions, `deny.conditions`) and their
//! operators, mirroring `pkg/engine/variables/evaluate.go` and
//! `pkg/engine/variables/operator/*.go`.
//!
//! Keys and values are substituted lazily, one condition at a time
//! (`Evaluate` calls `SubstituteAllInPreconditions` per condition), so an
//! `any` block that already holds does not resolve its later conditions.
//! Operator names match case-insensitively, as `CreateOperatorHandler` does.

use crate::kyverno::scalar::{parse_duration, wildcard_match};
use crate::kyverno::variables::{VarError, substitute};
use crate::schema::cel_k8s::quantity::Quantity;
use regex::Regex;
use serde_json::Value;
use std::cmp::Ordering;
use std::fmt;
use std::sync::LazyLock;

/// `InRangeRegex` from `pkg/engine/operator/operator.go`.
static IN_RANGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)-([-|\+]?\d+(?:\.\d+)?[A-Za-z]*)$")
        .unwrap_or_else(|_| unreachable!())
});

/// Outcome of a `conditions` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub holds: bool,
    /// For a failed block, the messages of the failing conditions; for a block
    /// that holds, those of the conditions that made it hold (non-empty only,
    /// unsubstituted, as `evaluate.go` returns them).
    pub messages: Vec<String>,
}

/// An operator Kyverno does not know.
#[derive(Debug, Clone, PartialEq)]
pub enum ConditionError {
    UnknownOperator(String),
}

impl fmt::Display for ConditionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConditionError::UnknownOperator(op) => write!(f, "operator {op:?} not supported"),
        }
    }
}

impl std::error::Error for ConditionError {}

/// Evaluates a `conditions` block: `{any, all}` or the legacy list (all must hold).
pub fn evaluate(conditions: &Value, data: &Value) -> Result<Verdict, VarError> {
    match conditions {
        Value::Null => Ok(Verdict {
            holds: true,
            messages: Vec::new(),
        }),
        Value::Object(block) => evaluate_any_all(block.get("any"), block.get("all"), data),
        Value::Array(list) => evaluate_list(list, data),
        other => Err(invalid(format!(
            "conditions must be a map or a list, got {other}"
        ))),
    }
}

fn evaluate_any_all(
    any: Option<&Value>,
    all: Option<&Value>,
    data: &Value,
) -> Result<Verdict, VarError> {
    let mut true_msgs = Vec::new();
    let mut false_msgs = Vec::new();
    let mut any_holds = true;
    if let Some(any) = any.filter(|v| !v.is_null()) {
        any_holds = false;
        for condition in as_list(any)? {
            let (holds, message) = evaluate_one(condition, data)?;
            if holds {
                any_holds = true;
                true_msgs.push(message);
                break;
            }
            false_msgs.push(message);
        }
    }
    // The all block runs even when any failed, as in evaluate.go.
    let mut all_holds = true;
    if let Some(all) = all.filter(|v| !v.is_null()) {
        for condition in as_list(all)? {
            let (holds, message) = evaluate_one(condition, data)?;
            if !holds {
                all_holds = false;
                false_msgs.push(message);
                break;
            }
            true_msgs.push(message);
        }
    }
    let holds = any_holds && all_holds;
    let messages = if holds { true_msgs } else { false_msgs };
    Ok(Verdict {
        holds,
        messages: non_empty(messages),
    })
}

fn evaluate_list(list: &[Value], data: &Value) -> Result<Verdict, VarError> {
    let mut true_msgs = Vec::new();
    for condition in list {
        let (holds, message) = evaluate_one(condition, data)?;
        if !holds {
            return Ok(Verdict {
                holds: false,
                messages: non_empty(vec![message]),
            });
        }
        true_msgs.push(message);
    }
    Ok(Verdict {
        holds: true,
        messages: non_empty(true_msgs),
    })
}

fn as_list(value: &Value) -> Result<&[Value], VarError> {
    value
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| invalid(format!("expected a list of conditions, got {value}")))
}

fn non_empty(messages: Vec<String>) -> Vec<String> {
    messages.into_iter().filter(|m| !m.is_empty()).collect()
}

fn invalid(reason: String) -> VarError {
    VarError::InvalidCondition { reason }
}

/// Substitutes one condition's key and value, then applies its operator.
fn evaluate_one(condition: &Value, data: &Value) -> Result<(bool, String), VarError> {
    let Some(fields) = condition.as_object() else {
        return Err(invalid(format!("condition must be a map, got {condition}")));
    };
    let operator = fields.get("operator").and_then(Value::as_str).unwrap_or("");
    let key = substitute(fields.get("key").unwrap_or(&Value::Null), data)?;
    let value = substitute(fields.get("value").unwrap_or(&Value::Null), data)?;
    let message = fields
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let holds = check(&key, operator, &value).map_err(|e| invalid(e.to_string()))?;
    Ok((holds, message))
}

#[derive(Clone, Copy, PartialEq)]
enum Cmp {
    Gt,
    Ge,
    Lt,
    Le,
}

/// Applies one operator to already-substituted `key` and `value`.
pub fn check(key: &Value, operator: &str, value: &Value) -> Result<bool, ConditionError> {
    let result = match operator.to_ascii_lowercase().as_str() {
        "equal" | "equals" => equals(key, value),
        "notequal" | "notequals" => not_equals(key, value),
        "in" => in_op(key, value, false),
        "notin" => in_op(key, value, true),
        "anyin" => any_in(key, value, false),
        "anynotin" => any_in(key, value, true),
        "allin" => all_in(key, value, false),
        "allnotin" => all_in(key, value, true),
        "greaterthan" => numeric(key, value, Cmp::Gt),
        "greaterthanorequals" => numeric(key, value, Cmp::Ge),
        "lessthan" => numeric(key, value, Cmp::Lt),
        "lessthanorequals" => numeric(key, value, Cmp::Le),
        "durationgreaterthan" => duration_op(key, value, Cmp::Gt),
        "durationgreaterthanorequals" => duration_op(key, value, Cmp::Ge),
        "durationlessthan" => duration_op(key, value, Cmp::Lt),
        "durationlessthanorequals" => duration_op(key, value, Cmp::Le),
        _ => return Err(ConditionError::UnknownOperator(operator.to_string())),
    };
    Ok(result)
}

// ---- Equals / NotEquals (equal.go, notequal.go) ----

fn equals(key: &Value, value: &Value) -> bool {
    match key {
        Value::Bool(k) => value.as_bool() == Some(*k),
        Value::Number(_) => number_equals(as_f64(key), value).unwrap_or(false),
        Value::String(k) => string_equals(k, value).unwrap_or(false),
        Value::Object(_) => value.is_object() && key == value,
        Value::Array(_) => value.is_array() && key == value,
        Value::Null => false,
    }
}

fn not_equals(key: &Value, value: &Value) -> bool {
    match key {
        Value::Bool(k) => value.as_bool() != Some(*k),
        Value::Number(_) => number_equals(as_f64(key), value).is_none_or(|eq| !eq),
        // A quantity key against an unparsable string is false both ways.
        Value::String(k) => match string_equals(k, value) {
            Some(eq) => !eq,
            None => !is_quantity_mismatch(k, value),
        },
        Value::Object(_) | Value::Array(_) => key != value,
        Value::Null => false,
    }
}

/// `Some(eq)` when comparable; `None` on a type or parse mismatch.
fn number_equals(key: f64, value: &Value) -> Option<bool> {
    match value {
        Value::Number(_) => Some(as_f64(value) == key),
        Value::String(s) => go_parse_float(s).map(|v| v == key),
        _ => None,
    }
}

fn string_equals(key: &str, value: &Value) -> Option<bool> {
    if let Some((k, v)) = durations(&Value::String(key.to_string()), value) {
        return Some(k == v);
    }
    if let (Some(kq), Value::String(v)) = (Quantity::parse(key), value) {
        return Quantity::parse(v).map(|vq| kq.compare(&vq) == Ordering::Equal);
    }
    value.as_str().map(|v| wildcard_match(v, key))
}

fn is_quantity_mismatch(key: &str, value: &Value) -> bool {
    Quantity::parse(key).is_some() && value.as_str().is_some_and(|v| Quantity::parse(v).is_none())
}

// ---- Numeric operators (numeric.go) ----

fn numeric(key: &Value, value: &Value, op: Cmp) -> bool {
    match key {
        Value::Number(_) => numeric_float(as_f64(key), value, op),
        Value::String(k) => numeric_string(k, value, op),
        _ => false,
    }
}

fn numeric_float(key: f64, value: &Value, op: Cmp) -> bool {
    match value {
        Value::Number(_) => compare(key, as_f64(value), op),
        Value::String(s) => {
            if let Some((k, v)) = durations(&Value::from(key), value) {
                return compare(k, v, op);
            }
            go_parse_float(s).is_some_and(|v| compare(key, v, op))
        }
        _ => false,
    }
}

fn numeric_string(key: &str, value: &Value, op: Cmp) -> bool {
    if let Some((k, v)) = durations(&Value::String(key.to_string()), value) {
        return compare(k, v, op);
    }
    if let (Some(kq), Some(vq)) = (
        Quantity::parse(key),
        value.as_str().and_then(Quantity::parse),
    ) {
        return ordering_matches(kq.compare(&vq), op);
    }
    if let Some(k) = go_parse_float(key) {
        return numeric_float(k, value, op);
    }
    match (Semver::parse(key), value.as_str().and_then(Semver::parse)) {
        (Some(k), Some(v)) => ordering_matches(k.cmp(&v), op),
        _ => false,
    }
}

fn compare(key: f64, value: f64, op: Cmp) -> bool {
    key.partial_cmp(&value)
        .is_some_and(|o| ordering_matches(o, op))
}

fn ordering_matches(ordering: Ordering, op: Cmp) -> bool {
    match op {
        Cmp::Gt => ordering == Ordering::Greater,
        Cmp::Ge => ordering != Ordering::Less,
        Cmp::Lt => ordering == Ordering::Less,
        Cmp::Le => ordering != Ordering::Greater,
    }
}

/// `parseDuration` in operator.go: at least one side is a duration string
/// (other than "0"); the other is a duration string or a number of seconds
/// (truncated to whole seconds, as `time.Duration(f) * time.Second`).
fn durations(key: &Value, value: &Value) -> Option<(f64, f64)> {
    let as_duration = |v: &Value| v.as_str().filter(|s| *s != "0").and_then(parse_duration);
    let (kd, vd) = (as_duration(key), as_duration(value));
    if kd.is_none() && vd.is_none() {
        return None;
    }
    let seconds = |v: &Value| v.is_number().then(|| as_f64(v).trunc());
    Some((kd.or_else(|| seconds(key))?, vd.or_else(|| seconds(value))?))
}

// ---- Deprecated Duration* operators (duration.go) ----

fn duration_op(key: &Value, value: &Value, op: Cmp) -> bool {
    let seconds = |v: &Value| match v {
        Value::Number(_) => Some(as_f64(v).trunc()),
        Value::String(s) => parse_duration(s),
        _ => None,
    };
    match (seconds(key), seconds(value)) {
        (Some(k), Some(v)) => compare(k, v, op),
        _ => false,
    }
}

// ---- In / NotIn (in.go, notin.go; deprecated) ----

fn in_op(key: &Value, value: &Value, negate: bool) -> bool {
    match key {
        Value::String(_) | Value::Number(_) => {
            let k = go_sprint(key);
            match key_exists_strict(&k, value) {
                Some(found) => found != negate,
                None => false,
            }
        }
        Value::Array(items) => {
            let keys: Vec<String> = items.iter().map(go_sprint).collect();
            set_in_strict(&keys, value, negate).unwrap_or(false)
        }
        _ => false,
    }
}

/// `keyExistsInArray`: `None` when the value has an unusable type.
fn key_exists_strict(key: &str, value: &Value) -> Option<bool> {
    match value {
        Value::Array(items) => Some(items.iter().map(go_sprint).any(|v| wild_either(key, &v))),
        Value::String(s) => {
            if wildcard_match(s, key) {
                return Some(true);
            }
            let list: Vec<String> = serde_json::from_str(s).ok()?;
            Some(list.iter().any(|v| v == key))
        }
        _ => None,
    }
}

/// `setExistsInArray`: exact membership, string-only value lists.
fn set_in_strict(keys: &[String], value: &Value, negate: bool) -> Option<bool> {
    let list: Vec<String> = match value {
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()?,
        Value::String(s) => {
            if keys.len() == 1 && keys.first().is_some_and(|k| k == s) {
                return Some(true);
            }
            serde_json::from_str(s).ok()?
        }
        _ => return None,
    };
    let missing = keys.iter().any(|k| !list.contains(k));
    Some(if negate { missing } else { !missing })
}

// ---- AnyIn / AnyNotIn / AllIn / AllNotIn (anyin.go, allin.go, ...) ----

fn any_in(key: &Value, value: &Value, negate: bool) -> bool {
    match key {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            key_exists(&go_sprint(key), value).is_some_and(|found| found != negate)
        }
        Value::Array(items) => {
            let keys: Vec<String> = items.iter().map(go_sprint).collect();
            set_matches(&keys, value, negate, SetMode::Any).unwrap_or(false)
        }
        _ => false,
    }
}

fn all_in(key: &Value, value: &Value, negate: bool) -> bool {
    match key {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            key_exists(&go_sprint(key), value).is_some_and(|found| found != negate)
        }
        Value::Array(items) => {
            let keys: Vec<String> = items.iter().map(go_sprint).collect();
            set_matches(&keys, value, negate, SetMode::All).unwrap_or(false)
        }
        _ => false,
    }
}

/// `anyKeyExistsInArray`: `None` when the value has an unusable type.
fn key_exists(key: &str, value: &Value) -> Option<bool> {
    match value {
        Value::Array(items) => Some(items.iter().map(go_sprint).any(|v| wild_either(key, &v))),
        Value::String(s) => {
            if wildcard_match(s, key) {
                return Some(true);
            }
            if let Some((lo, hi)) = range_bounds(s) {
                return Some(in_range(key, lo, hi));
            }
            Some(string_list(s)?.iter().any(|v| v == key))
        }
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum SetMode {
    Any,
    All,
}

/// `anySetExistsInArray` / `allSetExistsInArray`.
fn set_matches(keys: &[String], value: &Value, negate: bool, mode: SetMode) -> Option<bool> {
    let list: Vec<String> = match value {
        Value::Array(items) => items.iter().map(go_sprint).collect(),
        Value::Number(_) if matches!(mode, SetMode::Any) => vec![go_sprint(value)],
        Value::String(s) => {
            if keys.len() == 1 && keys.first().is_some_and(|k| k == s) {
                return Some(!(negate && matches!(mode, SetMode::Any)));
            }
            if let Some((lo, hi)) = range_bounds(s) {
                let inside = keys.iter().filter(|k| in_range(k, lo, hi)).count();
                return Some(range_verdict(inside, keys.len(), negate, mode));
            }
            string_list(s)?
        }
        _ => return None,
    };
    let found = keys
        .iter()
        .filter(|k| list.iter().any(|v| wild_either(k, v)))
        .count();
    Some(range_verdict(found, keys.len(), negate, mode))
}

/// Combines how many keys matched into the operator's verdict.
fn range_verdict(found: usize, total: usize, negate: bool, mode: SetMode) -> bool {
    match (mode, negate) {
        (SetMode::Any, false) => found > 0,
        (SetMode::Any, true) => found < total,
        (SetMode::All, false) => found == total,
        (SetMode::All, true) => found == 0,
    }
}

/// A JSON array of strings, or the string itself when it is not JSON.
fn string_list(text: &str) -> Option<Vec<String>> {
    if serde_json::from_str::<Value>(text).is_ok() {
        serde_json::from_str(text).ok()
    } else {
        Some(vec![text.to_string()])
    }
}

fn wild_either(key: &str, value: &str) -> bool {
    wildcard_match(value, key) || wildcard_match(key, value)
}

fn range_bounds(text: &str) -> Option<(&str, &str)> {
    let caps = IN_RANGE.captures(text)?;
    Some((caps.get(1)?.as_str(), caps.get(2)?.as_str()))
}

/// `pattern.Validate(key, "lo-hi")`: quantity comparison of both endpoints.
fn in_range(key: &str, lo: &str, hi: &str) -> bool {
    match (
        Quantity::parse(key),
        Quantity::parse(lo),
        Quantity::parse(hi),
    ) {
        (Some(k), Some(l), Some(h)) => {
            k.compare(&l) != Ordering::Less && k.compare(&h) != Ordering::Greater
        }
        _ => false,
    }
}

// ---- helpers ----

fn as_f64(value: &Value) -> f64 {
    value.as_f64().unwrap_or(f64::NAN)
}

/// Go's `strconv.ParseFloat` for the decimal forms policies use.
fn go_parse_float(text: &str) -> Option<f64> {
    let t = text.strip_prefix(['+', '-']).unwrap_or(text);
    let ok = t.eq_ignore_ascii_case("inf")
        || t.eq_ignore_ascii_case("infinity")
        || t.eq_ignore_ascii_case("nan")
        || (!t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-')));
    if ok { text.parse().ok() } else { None }
}

/// Go's `fmt.Sprint` for JSON values (floats as `%v`: `1e+06`, `1.5`).
pub(crate) fn go_sprint(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(_) => go_float(as_f64(value)),
        Value::Bool(b) => b.to_string(),
        Value::Null => "<nil>".to_string(),
        other => other.to_string(),
    }
}

/// Go's `%v` for float64 (`strconv.FormatFloat(f, 'g', -1, 64)`).
fn go_float(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "NaN".into()
        } else if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if f == 0.0 {
        return "0".into();
    }
    let sci = format!("{f:e}");
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    // Shortest digits; exponent form when exp < -4 || exp >= 6 (Go's eprec for shortest).
    if (-4..6).contains(&exp) {
        return format!("{f}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// A strict semantic version (blang/semver `Parse`).
#[derive(Debug, PartialEq, Eq)]
struct Semver {
    core: [u64; 3],
    pre: Vec<String>,
}

impl Semver {
    fn parse(text: &str) -> Option<Semver> {
        let text = text.split_once('+').map_or(text, |(v, _)| v);
        let (core, pre) = match text.split_once('-') {
            Some((c, p)) => (c, p.split('.').map(str::to_string).collect::<Vec<_>>()),
            None => (text, Vec::new()),
        };
        if pre
            .iter()
            .any(|p| p.is_empty() || !p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        {
            return None;
        }
        let parts: Vec<&str> = core.split('.').collect();
        let [a, b, c] = parts.as_slice() else {
            return None;
        };
        let num = |p: &str| {
            let ok = !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (p == "0" || !p.starts_with('0'));
            if ok { p.parse::<u64>().ok() } else { None }
        };
        Some(Semver {
            core: [num(a)?, num(b)?, num(c)?],
            pre,
        })
    }
}

impl PartialOrd for Semver {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Semver {
    fn cmp(&self, other: &Self) -> Ordering {
        self.core
            .cmp(&other.core)
            .then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => compare_pre(&self.pre, &other.pre),
            })
    }
}

fn compare_pre(a: &[String], b: &[String]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let ord = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(i), Ok(j)) => i.cmp(&j),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            (Err(_), Err(_)) => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.len().cmp(&b.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// (key, operator, value, expected), ported from Kyverno's evaluate_test.go.
    fn table() -> Vec<(Value, &'static str, Value, bool)> {
        vec![
            // Equals
            (json!("string"), "Equals", json!("string"), true),
            (json!(1), "Equals", json!(1), true),
            (json!(1.0), "Equals", json!(1.0), true),
            (json!(true), "Equals", json!(true), true),
            (json!(false), "Equals", json!(false), true),
            (json!("1024"), "Equals", json!("1Ki"), true),
            (json!("1Ki"), "Equals", json!("1024"), true),
            (json!("1Gi"), "Equals", json!("1024Mi"), true),
            (json!("1h"), "Equals", json!("60m"), true),
            (json!({"foo": "bar"}), "Equals", json!({"foo": "bar"}), true),
            (json!(["foo", "bar"]), "Equals", json!(["foo", "bar"]), true),
            (
                json!([{"foo": "bar"}]),
                "Equals",
                json!([{"foo": "bar"}]),
                true,
            ),
            (json!("string"), "Equals", json!("not string"), false),
            (json!(1), "Equals", json!(2), false),
            (json!(true), "Equals", json!(false), false),
            (json!("1Gi"), "Equals", json!("10Gi"), false),
            (json!("1h"), "Equals", json!("30m"), false),
            (json!("string"), "Equals", json!(1), false),
            (json!(1), "Equals", json!("2"), false),
            (json!(1.0), "Equals", json!("2.0"), false),
            (json!(true), "Equals", json!("false"), false),
            (
                json!({"foo": "bar"}),
                "Equals",
                json!({"bar": "foo"}),
                false,
            ),
            (
                json!(["foo", "bar"]),
                "Equals",
                json!(["bar", "foo"]),
                false,
            ),
            (json!("1h"), "Equals", json!(3600), true),
            (json!("2h"), "Equals", json!(3600), false),
            (json!("nginx:1.2"), "Equals", json!("nginx:*"), true),
            (json!("nginx"), "Equals", json!("ngi?x"), true),
            // NotEquals
            (json!("string"), "NotEquals", json!("string"), false),
            (json!(1), "NotEquals", json!(1), false),
            (json!(true), "NotEquals", json!(false), true),
            (json!("10Gi"), "NotEquals", json!("1024Mi"), true),
            (json!("1h"), "NotEquals", json!("60m"), false),
            (
                json!({"foo": "bar"}),
                "NotEquals",
                json!({"foo": "bar"}),
                false,
            ),
            (json!("string"), "NotEquals", json!("not string"), true),
            (json!(1.0), "NotEquals", json!(2.0), true),
            (json!("string"), "NotEquals", json!(1), true),
            (json!(1), "NotEquals", json!("2"), true),
            (json!(true), "NotEquals", json!("false"), true),
            (
                json!(["foo", "bar"]),
                "NotEquals",
                json!(["bar", "foo"]),
                true,
            ),
            (json!("1h"), "NotEquals", json!(3600), false),
            (json!("2h"), "NotEquals", json!(3600), true),
            // GreaterThan
            (json!(10), "GreaterThan", json!(1), true),
            (json!(1.5), "GreaterThan", json!(1), true),
            (json!(1), "GreaterThan", json!(1), false),
            (json!("10Gi"), "GreaterThan", json!("1Gi"), true),
            (json!("1Gi"), "GreaterThan", json!("1Mi"), true),
            (json!("10Mi"), "GreaterThan", json!("10Mi"), false),
            (json!("10h"), "GreaterThan", json!("1h"), true),
            (json!("1h"), "GreaterThan", json!("30m"), true),
            (json!("10"), "GreaterThan", json!(1), true),
            (json!(100), "GreaterThan", json!("10"), true),
            (json!("100"), "GreaterThan", json!("10"), true),
            (json!("1"), "GreaterThan", json!("10"), false),
            (json!("1h"), "GreaterThan", json!(3600), false),
            (json!("2h"), "GreaterThan", json!(3600), true),
            (json!(3600), "GreaterThan", json!("1h"), false),
            (json!(3600), "GreaterThan", json!("30m"), true),
            (json!(-5), "GreaterThan", json!(-10), true),
            (json!("1.10.0"), "GreaterThan", json!("1.9.0"), true),
            (json!("1.0.0-rc.1"), "GreaterThan", json!("1.0.0"), false),
            // LessThan
            (json!(1), "LessThan", json!(10), true),
            (json!(1.0), "LessThan", json!(1.5), true),
            (json!("1Mi"), "LessThan", json!("1Gi"), true),
            (json!("1h"), "LessThan", json!("30m"), false),
            (json!("1"), "LessThan", json!(10), true),
            (json!(1), "LessThan", json!("10"), true),
            (json!("30m"), "LessThan", json!(3600), true),
            (json!(3600), "LessThan", json!("30m"), false),
            (json!(-5), "LessThan", json!(1), true),
            // GreaterThanOrEquals / LessThanOrEquals
            (json!(1), "GreaterThanOrEquals", json!(1), true),
            (json!("1Gi"), "GreaterThanOrEquals", json!("1Gi"), true),
            (json!("1h"), "GreaterThanOrEquals", json!(3600), true),
            (json!("1"), "GreaterThanOrEquals", json!(10), false),
            (json!("1h"), "LessThanOrEquals", json!(3600), true),
            (json!("2h"), "LessThanOrEquals", json!(3600), false),
            (json!("10"), "LessThanOrEquals", json!("10"), true),
            (json!(10), "LessThanOrEquals", json!(1), false),
            // Duration* (deprecated)
            (json!("2h"), "DurationGreaterThan", json!("1h"), true),
            (
                json!("1h"),
                "DurationGreaterThanOrEquals",
                json!(3600),
                true,
            ),
            (json!(10), "DurationLessThan", json!("1m"), true),
            (json!("1h"), "DurationLessThanOrEquals", json!("59m"), false),
            (json!("abc"), "DurationLessThan", json!("1m"), false),
            // In / NotIn
            (json!(1), "In", json!([1, 2, 3]), true),
            (json!(1.5), "In", json!([1, 1.5, 2, 3]), true),
            (json!("1"), "In", json!(["1", "2", "3"]), true),
            (
                json!(["1.1.1.1", "2.2.2.2"]),
                "In",
                json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]),
                true,
            ),
            (json!(5), "In", json!([1, 2, 3]), false),
            (json!("5"), "In", json!(["1", "2", "3"]), false),
            (
                json!(["1.1.1.1", "4.4.4.4"]),
                "In",
                json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]),
                false,
            ),
            (json!("a"), "In", json!("[\"a\", \"b\"]"), true),
            (json!(1), "NotIn", json!([1, 2, 3]), false),
            (json!("5"), "NotIn", json!(["1", "2", "3"]), true),
            (
                json!(["1.1.1.1", "2.2.2.2"]),
                "NotIn",
                json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]),
                false,
            ),
            (
                json!(["1.1.1.1", "4.4.4.4"]),
                "NotIn",
                json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]),
                true,
            ),
            // AnyIn
            (
                json!(["1.1.1.1", "5.5.5.5"]),
                "AnyIn",
                json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]),
                true,
            ),
            (
                json!(["4.4.4.4", "5.5.5.5"]),
                "AnyIn",
                json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]),
                false,
            ),
            (json!([1, 2]), "AnyIn", json!([1, 2, 3, 4]), true),
            (json!([5]), "AnyIn", json!([1, 2, 3, 4]), false),
            (json!(["ab"]), "AnyIn", json!(["a*"]), true),
            (json!(["a*"]), "AnyIn", json!(["ab"]), true),
            (json!("5"), "AnyIn", json!("1-10"), true),
            (json!([5, 11]), "AnyIn", json!("1-10"), true),
            (json!([11, 12]), "AnyIn", json!("1-10"), false),
            (json!("x"), "AnyIn", json!("x"), true),
            (json!(["2Gi"]), "AnyIn", json!("1Gi-3Gi"), true),
            // AllIn
            (
                json!(["1.1.1.1", "2.2.2.2"]),
                "AllIn",
                json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]),
                true,
            ),
            (
                json!(["1.1.1.1", "5.5.5.5"]),
                "AllIn",
                json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]),
                false,
            ),
            (
                json!(["1.1.1.1", "5.5.5.5"]),
                "AllIn",
                json!(["1.1.1.1"]),
                false,
            ),
            (json!([1, 2]), "AllIn", json!([1, 2, 3, 4]), true),
            (json!([1, 5]), "AllIn", json!([1, 2, 3, 4]), false),
            (json!([1, 5]), "AllIn", json!("1-10"), true),
            (json!([1, 15]), "AllIn", json!("1-10"), false),
            // AllNotIn
            (json!(1), "AllNotIn", json!([1, 2, 3]), false),
            (json!(1.5), "AllNotIn", json!([1, 1.5, 2, 3]), false),
            (json!(5), "AllNotIn", json!([1, 2, 3]), true),
            (json!("5"), "AllNotIn", json!(["1", "2", "3"]), true),
            (
                json!(["1.1.1.1", "4.4.4.4"]),
                "AllNotIn",
                json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]),
                false,
            ),
            (
                json!(["5.5.5.5", "4.4.4.4"]),
                "AllNotIn",
                json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]),
                true,
            ),
            (json!([11, 12]), "AllNotIn", json!("1-10"), true),
            // AnyNotIn
            (json!(1), "AnyNotIn", json!([1, 2, 3]), false),
            (json!(5.5), "AnyNotIn", json!([1, 1.5, 2, 3]), true),
            (
                json!(["1.1.1.1", "2.2.2.2"]),
                "AnyNotIn",
                json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]),
                false,
            ),
            (
                json!(["1.1.1.1", "4.4.4.4"]),
                "AnyNotIn",
                json!(["1.1.1.1", "2.2.2.2", "3.3.3.3"]),
                true,
            ),
            (json!([5, 11]), "AnyNotIn", json!("1-10"), true),
            (json!([5, 6]), "AnyNotIn", json!("1-10"), false),
            // Type mismatches and nulls
            (Value::Null, "Equals", Value::Null, false),
            (Value::Null, "NotEquals", json!("x"), false),
            (json!({"a": 1}), "AnyIn", json!(["a"]), false),
            (json!(true), "GreaterThan", json!(1), false),
        ]
    }

    #[test]
    fn kyverno_operator_table() {
        for (key, op, value, expected) in table() {
            assert_eq!(check(&key, op, &value), Ok(expected), "{key} {op} {value}");
        }
    }

    #[test]
    fn operator_names_are_case_insensitive_and_checked() {
        assert_eq!(check(&json!("a"), "equals", &json!("a")), Ok(true));
        assert_eq!(check(&json!("a"), "Equal", &json!("a")), Ok(true));
        assert_eq!(check(&json!("a"), "NotEqual", &json!("a")), Ok(false));
        assert!(check(&json!("a"), "Matches", &json!("a")).is_err());
    }

    #[test]
    fn go_float_formatting() {
        assert_eq!(go_sprint(&json!(1)), "1");
        assert_eq!(go_sprint(&json!(1.5)), "1.5");
        assert_eq!(go_sprint(&json!(1_000_000)), "1e+06");
        assert_eq!(go_sprint(&json!(123456)), "123456");
        assert_eq!(go_sprint(&json!(0.00001)), "1e-05");
    }

    fn pod() -> Value {
        json!({"request": {"operation": "CREATE", "object": {
            "metadata": {"name": "p", "labels": {"app": "web"}},
            "spec": {"type": "NodePort", "containers": [{"name": "c", "livenessProbe": {}}]}}},
            "element": {"name": "c", "livenessProbe": {}}})
    }

    #[test]
    fn any_all_blocks() {
        let d = pod();
        let holds = |c: Value| evaluate(&c, &d).map(|v| v.holds);
        let eq = |k: &str, v: &str| json!({"key": k, "operator": "Equals", "value": v});
        assert_eq!(holds(json!({})), Ok(true));
        assert_eq!(holds(json!({"any": []})), Ok(false));
        assert_eq!(holds(json!({"all": []})), Ok(true));
        assert_eq!(
            holds(json!({"any": [eq("{{request.object.spec.type}}", "NodePort")]})),
            Ok(true)
        );
        assert_eq!(
            holds(json!({"any": [eq("a", "b"), eq("a", "a")]})),
            Ok(true)
        );
        assert_eq!(
            holds(json!({"all": [eq("a", "a"), eq("a", "b")]})),
            Ok(false)
        );
        assert_eq!(
            holds(json!({"any": [eq("a", "a")], "all": [eq("a", "b")]})),
            Ok(false)
        );
        assert_eq!(holds(json!([eq("a", "a"), eq("b", "b")])), Ok(true));
        assert_eq!(holds(json!([eq("a", "a"), eq("b", "c")])), Ok(false));
    }

    #[test]
    fn messages_of_deciding_conditions() {
        let d = pod();
        let c = json!({"any": [
            {"key": "a", "operator": "Equals", "value": "b", "message": "first"},
            {"key": "a", "operator": "Equals", "value": "c", "message": "second"}]});
        let v = evaluate(&c, &d);
        assert_eq!(
            v,
            Ok(Verdict {
                holds: false,
                messages: vec!["first".into(), "second".into()]
            })
        );
        let c = json!({"all": [{"key": "a", "operator": "Equals", "value": "a", "message": "ok"}]});
        assert_eq!(
            evaluate(&c, &d).map(|v| v.messages),
            Ok(vec!["ok".to_string()])
        );
    }

    #[test]
    fn missing_variables_error_but_any_short_circuits() {
        let d = pod();
        let missing = json!({"key": "{{request.object.metadata.labels.foo}}", "operator": "Equals", "value": "x"});
        let ok = json!({"key": "a", "operator": "Equals", "value": "a"});
        assert!(matches!(
            evaluate(&json!({"all": [missing.clone()]}), &d),
            Err(VarError::NotFound { .. })
        ));
        assert_eq!(
            evaluate(&json!({"any": [ok, missing]}), &d).map(|v| v.holds),
            Ok(true)
        );
        let guarded = json!({"all": [{"key": "{{request.object.metadata.labels.foo || ''}}", "operator": "Equals", "value": ""}]});
        assert_eq!(evaluate(&guarded, &d).map(|v| v.holds), Ok(true));
    }

    #[test]
    fn unknown_operator_is_an_invalid_condition() {
        let c = json!({"all": [{"key": "a", "operator": "Bogus", "value": "a"}]});
        assert!(matches!(
            evaluate(&c, &pod()),
            Err(VarError::InvalidCondition { .. })
        ));
    }

    /// best-practices/require-probes: deny when a container lacks every probe.
    #[test]
    fn corpus_require_probes_deny() {
        let deny = json!({"all": [
            {"key": "livenessProbe", "operator": "AllNotIn", "value": "{{ element.keys(@)[] }}"},
            {"key": "startupProbe", "operator": "AllNotIn", "value": "{{ element.keys(@)[] }}"},
            {"key": "readinessProbe", "operator": "AllNotIn", "value": "{{ element.keys(@)[] }}"}]});
        assert_eq!(evaluate(&deny, &pod()).map(|v| v.holds), Ok(false));
        let mut bare = pod();
        bare["element"] = json!({"name": "c", "image": "nginx"});
        assert_eq!(evaluate(&deny, &bare).map(|v| v.holds), Ok(true));
    }

    /// The Kyverno docs' NodePort precondition.
    #[test]
    fn corpus_nodeport_precondition() {
        let pre = json!({"all": [{"key": "{{ request.object.spec.type }}", "operator": "Equals", "value": "NodePort"}]});
        assert_eq!(evaluate(&pre, &pod()).map(|v| v.holds), Ok(true));
        let deny = json!({"any": [{"key": "{{ request.operation || 'BACKGROUND' }}", "operator": "AnyIn", "value": ["CREATE", "UPDATE"]}]});
        assert_eq!(evaluate(&deny, &pod()).map(|v| v.holds), Ok(true));
    }
}
