//! Kyverno variable substitution (`{{ expr }}`), mirroring
//! `pkg/engine/variables/vars.go` (`substituteVariablesIfAny`) and
//! `pkg/engine/jsonutils/traverse.go`.
//!
//! Behaviour kept from Kyverno:
//! - every string leaf *and* map key is substituted; a string that is exactly
//!   one `{{expr}}` takes the result's JSON type, embedded results are rendered
//!   (strings raw, everything else JSON-encoded, `null` as `null`);
//! - the innermost `{{ }}` is resolved first and the string is rescanned until
//!   no variable is left, so `{{ f('{{x}}') }}` works;
//! - `\{{ ... }}` is kept literally (the backslash is dropped at the end);
//! - `{{@}}` is the value at the same path in `request.object` (or `target`
//!   when the context has one);
//! - on a DELETE request `request.object` is read as `request.oldObject`;
//! - a path to a missing key is an error (Kyverno's go-jmespath fork raises
//!   `NotFoundError`), also in preconditions and deny conditions.

use crate::kyverno::jmes::{self, JmesError};
use regex::Regex;
use serde_json::{Map, Value};
use std::fmt;
use std::sync::LazyLock;

/// `RegexVariables` from `pkg/engine/variables/regex/vars.go`.
static VARIABLES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(^|[^\\])(\{\{(?:\{[^{}]*\}|[^{}])*\}\})").unwrap_or_else(|_| unreachable!())
});

/// `RegexEscpVariables`: an escaped `\{{ ... }}`.
static ESCAPED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\\\{\{(\{[^{}]*\}|[^{}])*\}\}").unwrap_or_else(|_| unreachable!())
});

/// Rescans of one string before giving up (Kyverno would loop forever).
const MAX_PASSES: usize = 64;
/// Depth of substituted values that are traversed again, as Kyverno does.
const MAX_DEPTH: usize = 64;

/// Why a substitution failed; Kyverno turns each of these into a rule error.
#[derive(Debug, Clone, PartialEq)]
pub enum VarError {
    /// A variable resolved to a missing key (Kyverno: `Unknown key ... in path`).
    NotFound { variable: String },
    /// The JMESPath expression did not compile or failed at run time.
    Jmes(JmesError),
    /// A map key substituted to something that is not a string.
    KeyNotString { key: String },
    /// A string kept producing new variables (self-referencing data).
    Unbounded { text: String },
    /// A `conditions` block is malformed or names an unknown operator.
    InvalidCondition { reason: String },
}

impl fmt::Display for VarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VarError::NotFound { variable } => write!(f, "variable {variable} not resolved"),
            VarError::Jmes(e) => write!(f, "{e}"),
            VarError::KeyNotString { key } => {
                write!(
                    f,
                    "expected string after substituting variables in key \"{key}\""
                )
            }
            VarError::Unbounded { text } => {
                write!(f, "variable substitution does not end in {text:?}")
            }
            VarError::InvalidCondition { reason } => write!(f, "invalid condition: {reason}"),
        }
    }
}

impl std::error::Error for VarError {}

/// Substitutes every `{{ expr }}` in the strings and map keys of `value`,
/// evaluating each expression with [`jmes::search`] on `data`.
pub fn substitute(value: &Value, data: &Value) -> Result<Value, VarError> {
    let mut path = Vec::new();
    traverse(value, data, &mut path, 0)
}

/// Substitutes one string (as a leaf at the root of a document).
pub fn substitute_str(text: &str, data: &Value) -> Result<Value, VarError> {
    substitute_leaf(text, data, &[])
}

/// Evaluates one variable body (`request.object.x`) as Kyverno's context does.
pub fn resolve(expression: &str, data: &Value) -> Result<Value, VarError> {
    let expression = expression.trim();
    match jmes::search(expression, data) {
        Ok(Value::Null) if missing_key(expression, data) => Err(VarError::NotFound {
            variable: expression.to_string(),
        }),
        Ok(value) => Ok(value),
        Err(e) if e.reason.contains("Unknown key") => Err(VarError::NotFound {
            variable: expression.to_string(),
        }),
        Err(e) => Err(VarError::Jmes(e)),
    }
}

fn traverse(
    value: &Value,
    data: &Value,
    path: &mut Vec<String>,
    depth: usize,
) -> Result<Value, VarError> {
    match value {
        Value::String(text) => {
            let out = substitute_leaf(text, data, path)?;
            // Kyverno traverses whatever the action returned, maps included.
            match &out {
                Value::Object(_) | Value::Array(_) if depth < MAX_DEPTH => {
                    traverse(&out, data, path, depth + 1)
                }
                Value::Object(_) | Value::Array(_) => {
                    Err(VarError::Unbounded { text: text.clone() })
                }
                _ => Ok(out),
            }
        }
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (index, item) in items.iter().enumerate() {
                path.push(index.to_string());
                let result = traverse(item, data, path, depth);
                path.pop();
                out.push(result?);
            }
            Ok(Value::Array(out))
        }
        Value::Object(map) => traverse_object(map, data, path, depth),
        other => Ok(other.clone()),
    }
}

fn traverse_object(
    map: &Map<String, Value>,
    data: &Value,
    path: &mut Vec<String>,
    depth: usize,
) -> Result<Value, VarError> {
    let mut out = Map::new();
    for (key, item) in map {
        let new_key = match substitute_leaf(key, data, path)? {
            Value::String(s) => s,
            // A key resolving to null keeps its original text, as in traverse.go.
            Value::Null => key.clone(),
            _ => return Err(VarError::KeyNotString { key: key.clone() }),
        };
        path.push(key.clone());
        let result = traverse(item, data, path, depth);
        path.pop();
        out.insert(new_key, result?);
    }
    Ok(Value::Object(out))
}

/// `substituteVariablesIfAny` for one string leaf at `path`.
fn substitute_leaf(text: &str, data: &Value, path: &[String]) -> Result<Value, VarError> {
    let delete = is_delete_request(data);
    let mut value = text.to_string();
    let mut passes = 0;
    while VARIABLES.is_match(&value) {
        passes += 1;
        if passes > MAX_PASSES {
            return Err(VarError::Unbounded {
                text: text.to_string(),
            });
        }
        let original = value.clone();
        for found in VARIABLES.captures_iter(&original) {
            let prefix = found.get(1).map_or("", |m| m.as_str());
            let var = found.get(2).map_or("", |m| m.as_str());
            let variable = variable_text(var, path, data, delete);
            let resolved = resolve(&variable, data)?;
            if original == var {
                return Ok(resolved);
            }
            // Kyverno replaces within the pass's original text; later passes finish the rest.
            let rendered = format!("{prefix}{}", render(&resolved));
            value = original.replacen(&format!("{prefix}{var}"), &rendered, 1);
        }
    }
    Ok(Value::String(unescape(&value)))
}

/// Turns a `{{ ... }}` match into the JMESPath to evaluate.
fn variable_text(var: &str, path: &[String], data: &Value, delete: bool) -> String {
    let mut variable = var.replace("{{", "").replace("}}", "").trim().to_string();
    if variable == "@" {
        variable = at_path(path, data);
    }
    if delete {
        variable = variable.replace("request.object", "request.oldObject");
    }
    variable
}

/// JMESPath of the current element: `target` (or `request.object`) plus `path`.
fn at_path(path: &[String], data: &Value) -> String {
    let prefix = if data.get("target").is_some() {
        "target"
    } else {
        "request.object"
    };
    let mut out = prefix.to_string();
    for segment in path {
        out.push_str(&jmespath_segment(segment));
    }
    out
}

/// One pointer segment as `jsonpointer.Pointer.JMESPath` writes it.
fn jmespath_segment(segment: &str) -> String {
    if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
        return format!("[{segment}]");
    }
    let mut chars = segment.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c == '(' || c == '_' || c.is_ascii_alphabetic());
    if first_ok
        && segment
            .chars()
            .all(|c| c == ')' || c == '(' || c == '_' || c.is_ascii_alphanumeric())
    {
        return format!(".{segment}");
    }
    format!(".{}", Value::String(segment.to_string()))
}

fn is_delete_request(data: &Value) -> bool {
    data.pointer("/request/operation").and_then(Value::as_str) == Some("DELETE")
}

/// Embedded rendering: strings raw, everything else as Go's `json.Marshal`.
fn render(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => go_json_number(n),
        other => other.to_string(),
    }
}

/// Go's `encoding/json` float formatting (`1e+21`, `1e-7`).
fn go_json_number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let Some(f) = n.as_f64() else {
        return n.to_string();
    };
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        return format!("{f}");
    }
    let text = format!("{f:e}");
    match text.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
        _ => text,
    }
}

/// Drops the backslash of every escaped `\{{ ... }}`.
fn unescape(text: &str) -> String {
    ESCAPED
        .replace_all(text, |caps: &regex::Captures| {
            caps.get(0).map_or(String::new(), |m| {
                m.as_str().get(1..).unwrap_or("").to_string()
            })
        })
        .into_owned()
}

/// True when `expression` is a plain field path that reaches a missing key of
/// an object, which Kyverno's go-jmespath fork reports as `NotFoundError`.
fn missing_key(expression: &str, data: &Value) -> bool {
    let Some(steps) = parse_simple_path(expression) else {
        return false;
    };
    let mut current = data;
    for step in &steps {
        match (step, current) {
            (Step::Field(name), Value::Object(map)) => match map.get(name) {
                Some(next) => current = next,
                None => return true,
            },
            (Step::Index(i), Value::Array(items)) => {
                let index = if *i < 0 { items.len() as i64 + i } else { *i };
                match usize::try_from(index).ok().and_then(|i| items.get(i)) {
                    Some(next) => current = next,
                    None => return false,
                }
            }
            _ => return false,
        }
    }
    false
}

enum Step {
    Field(String),
    Index(i64),
}

/// Parses `a.b."c.d"[0].e`; `None` for anything richer.
fn parse_simple_path(expression: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    let mut rest = expression.trim();
    let mut expect_field = true;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']')?;
            let index: i64 = after.get(..end)?.trim().parse().ok()?;
            steps.push(Step::Index(index));
            rest = after.get(end + 1..)?;
            expect_field = false;
            continue;
        }
        if !expect_field {
            rest = rest.strip_prefix('.')?;
        }
        let (name, tail) = parse_identifier(rest)?;
        steps.push(Step::Field(name));
        rest = tail;
        expect_field = false;
    }
    (!steps.is_empty()).then_some(steps)
}

fn parse_identifier(text: &str) -> Option<(String, &str)> {
    if text.starts_with('"') {
        let mut escaped = false;
        for (i, c) in text.char_indices().skip(1) {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    let literal = text.get(..=i)?;
                    let name: String = serde_json::from_str(literal).ok()?;
                    return Some((name, text.get(i + 1..)?));
                }
                _ => escaped = false,
            }
        }
        return None;
    }
    let end = text
        .find(|c: char| !(c == '_' || c.is_ascii_alphanumeric()))
        .unwrap_or(text.len());
    let name = text.get(..end)?;
    let first = name.chars().next()?;
    if !(first == '_' || first.is_ascii_alphabetic()) {
        return None;
    }
    Some((name.to_string(), text.get(end..)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn data() -> Value {
        json!({
            "request": {
                "operation": "CREATE",
                "object": {
                    "metadata": {"name": "temp", "labels": {"app.kubernetes.io/name": "web", "n": "1"}},
                    "spec": {"replicas": 3, "ratio": 0.5, "on": true, "nothing": null,
                             "containers": [{"name": "c1", "image": "nginx"}]}
                },
                "oldObject": {"metadata": {"name": "old"}}
            },
            "element": {"name": "c1"},
            "list": ["a", "b"]
        })
    }

    #[test]
    fn whole_string_takes_result_type() {
        let d = data();
        assert_eq!(
            substitute_str("{{request.object.spec.replicas}}", &d),
            Ok(json!(3))
        );
        assert_eq!(
            substitute_str("{{ request.object.spec.on }}", &d),
            Ok(json!(true))
        );
        assert_eq!(
            substitute_str("{{request.object.metadata.labels}}", &d).map(|v| v.is_object()),
            Ok(true)
        );
        assert_eq!(substitute_str("{{list}}", &d), Ok(json!(["a", "b"])));
    }

    #[test]
    fn embedded_results_are_rendered() {
        let d = data();
        assert_eq!(
            substitute_str("n={{request.object.spec.replicas}}", &d),
            Ok(json!("n=3"))
        );
        assert_eq!(
            substitute_str("r={{request.object.spec.ratio}}", &d),
            Ok(json!("r=0.5"))
        );
        assert_eq!(
            substitute_str("l={{list}}", &d),
            Ok(json!("l=[\"a\",\"b\"]"))
        );
        assert_eq!(
            substitute_str("x {{request.object.spec.nothing}}", &d),
            Ok(json!("x null"))
        );
        assert_eq!(
            substitute_str("{{request.object.metadata.name}}-{{element.name}}", &d),
            Ok(json!("temp-c1"))
        );
        assert_eq!(substitute_str(" {{element.name}}", &d), Ok(json!(" c1")));
    }

    #[test]
    fn quoted_keys_and_special_characters() {
        let d = data();
        let got = substitute_str(
            "{{ request.object.metadata.labels.\"app.kubernetes.io/name\" }}",
            &d,
        );
        assert_eq!(got, Ok(json!("web")));
    }

    #[test]
    fn escaped_variables_stay_literal() {
        let d = data();
        assert_eq!(
            substitute_str("\\{{request.object.metadata.name}}", &d),
            Ok(json!("{{request.object.metadata.name}}"))
        );
        assert_eq!(
            substitute_str("a \\{{x}} {{element.name}}", &d),
            Ok(json!("a {{x}} c1"))
        );
    }

    #[test]
    fn nested_variables_resolve_innermost_first() {
        let d = json!({"k": "name", "obj": {"name": "v"}, "n": "2"});
        assert_eq!(substitute_str("{{ obj.{{k}} }}", &d), Ok(json!("v")));
        assert_eq!(substitute_str("x-{{ obj.{{k}} }}", &d), Ok(json!("x-v")));
    }

    #[test]
    fn missing_key_is_not_found() {
        let d = data();
        let err = substitute_str("{{ request.object.metadata.labels.foo }}", &d);
        assert!(matches!(err, Err(VarError::NotFound { .. })));
        let err = substitute_str("msg {{ request.object.spec.missing.deeper }}", &d);
        assert!(matches!(err, Err(VarError::NotFound { .. })));
        // `|| ''` is the documented non-existence check.
        assert_eq!(
            substitute_str("{{ request.object.metadata.labels.foo || '' }}", &d),
            Ok(json!(""))
        );
        // An explicit null is a value, not a missing key.
        assert_eq!(
            substitute_str("{{ request.object.spec.nothing }}", &d),
            Ok(Value::Null)
        );
        // Out-of-range index is null in the fork too.
        assert_eq!(substitute_str("{{ list[5] }}", &d), Ok(Value::Null));
    }

    #[test]
    fn invalid_jmespath_is_an_error() {
        let err = substitute_str("{{ request.[ }}", &data());
        assert!(matches!(err, Err(VarError::Jmes(_))));
    }

    #[test]
    fn strings_without_variables_are_untouched() {
        let d = data();
        assert_eq!(
            substitute_str("plain {text}", &d),
            Ok(json!("plain {text}"))
        );
        assert_eq!(
            substitute(&json!({"a": [1, true, null]}), &d),
            Ok(json!({"a": [1, true, null]}))
        );
    }

    #[test]
    fn map_keys_are_substituted() {
        let d = data();
        let got = substitute(
            &json!({"{{element.name}}": "{{request.object.spec.replicas}}"}),
            &d,
        );
        assert_eq!(got, Ok(json!({"c1": 3})));
        let bad = substitute(&json!({"{{request.object.spec.replicas}}": 1}), &d);
        assert!(matches!(bad, Err(VarError::KeyNotString { .. })));
    }

    #[test]
    fn at_refers_to_the_same_path_in_the_resource() {
        let d = data();
        let pattern = json!({"spec": {"containers": [{"image": "{{@}}", "name": "x-{{@}}"}]}});
        let got = substitute(&pattern, &d);
        assert_eq!(
            got,
            Ok(json!({"spec": {"containers": [{"image": "nginx", "name": "x-c1"}]}}))
        );
        let nested =
            json!({"spec": {"containers": [{"image": "{{ join('/', ['r', '{{@}}']) }}"}]}});
        assert_eq!(
            substitute(&nested, &d),
            Ok(json!({"spec": {"containers": [{"image": "r/nginx"}]}}))
        );
    }

    #[test]
    fn delete_requests_read_the_old_object() {
        let mut d = data();
        if let Some(op) = d.pointer_mut("/request/operation") {
            *op = json!("DELETE");
        }
        assert_eq!(
            substitute_str("{{request.object.metadata.name}}", &d),
            Ok(json!("old"))
        );
    }

    #[test]
    fn go_json_number_formatting() {
        let n = |f: f64| {
            serde_json::Number::from_f64(f)
                .map(|n| go_json_number(&n))
                .unwrap_or_default()
        };
        assert_eq!(n(0.5), "0.5");
        assert_eq!(n(1e21), "1e+21");
        assert_eq!(n(1e-7), "1e-7");
        assert_eq!(n(123456789.0), "123456789");
    }

    #[test]
    fn simple_path_parser() {
        assert!(parse_simple_path("a.b.\"c.d\"[0].e").is_some());
        assert!(parse_simple_path("a || b").is_none());
        assert!(parse_simple_path("a[?x]").is_none());
        assert!(parse_simple_path("length(a)").is_none());
    }
}
