//! JMESPath evaluation the way Kyverno does it: the `jmespath` crate plus
//! Kyverno's custom functions (`pkg/engine/jmespath` in the Kyverno repo).
//!
//! Behaviour notes (Kyverno runs `kyverno/go-jmespath`, a fork of go-jmespath):
//! - Go decodes every JSON number as `float64`; results that are integral are
//!   returned here as JSON integers (`length(x)` → `3`, `add(\`1\`, \`2\`)` → `3`).
//! - `to_string` follows Go's `json.Marshal`: integral floats print without
//!   `.0` and `<`, `>`, `&`, U+2028, U+2029 are `\u`-escaped.
//! - `contains` works on strings (substring) and arrays (element equality),
//!   as in both implementations; backtick literals must be valid JSON and raw
//!   `'...'` strings only unescape `\'`, as in go-jmespath.
//! - Functions called after a dot (`foo.keys(@)`, `path.contains(@, 'x')`) are
//!   sub-expressions evaluated against the left side, as in the spec.
//!
//! Deviations from Kyverno (documented per function in the submodules):
//! `time_now` reports UTC, `random` supports a regex subset, `x509_decode` is
//! not supported offline, `is_external_url` does not resolve host names, and
//! `base64_decode` replaces invalid UTF-8 with U+FFFD.

mod arith;
mod data;
mod semver_range;
mod text;
mod time;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};

use jmespath::functions::{ArgumentType, CustomFunction, Signature};
use jmespath::{Context, ErrorReason, Expression, JmespathError, Rcvar, Runtime, Variable};
use serde_json::Value;

pub use arith::quantity_to_f64;

/// Error from compiling or evaluating a JMESPath expression.
#[derive(Debug, Clone, PartialEq)]
pub struct JmesError {
    pub expression: String,
    pub reason: String,
}

impl fmt::Display for JmesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JMESPath `{}`: {}", self.expression, self.reason)
    }
}

impl std::error::Error for JmesError {}

/// Upper bound on cached compiled expressions; expressions come from user
/// policies, so the cache is cleared rather than allowed to grow unbounded.
const CACHE_LIMIT: usize = 4096;

type Cache = Mutex<HashMap<String, Arc<Expression<'static>>>>;

/// Bounds on an expression: Kyverno's policies write a few hundred bytes (the longest in its
/// library is 502) with a few dozen operators.
const MAX_EXPRESSION_BYTES: usize = 16 * 1024;
const MAX_OPERATORS: usize = 256;

/// How many tokens outside quoted literals the parser and the interpreter may recurse on:
/// brackets, `!`, `.`, `|`, `&`, `*`, `@`, comparisons. An expression with more than a few
/// hundred (4,000 `!`, 7,000 `.a`) would exhaust the stack, which no catch can recover from.
fn operators(expression: &str) -> usize {
    let mut count = 0;
    let mut quote = None;
    let mut escaped = false;
    for c in expression.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '`' | '"' => quote = Some(c),
                '(' | '[' | '{' | '!' | '.' | '|' | '&' | '*' | '@' | '<' | '>' | '=' => count += 1,
                _ => {}
            },
        }
    }
    count
}

/// Evaluates a JMESPath expression on `data` with Kyverno's functions.
/// Compiled expressions are cached; safe to call from many threads.
pub fn search(expression: &str, data: &Value) -> Result<Value, JmesError> {
    // The parser recurses: an expression (from a policy, or from an object through `{{ }}`)
    // that nests deeper than any real one is refused before it can exhaust the stack.
    if expression.len() > MAX_EXPRESSION_BYTES || operators(expression) > MAX_OPERATORS {
        return Err(JmesError {
            expression: expression.chars().take(80).collect(),
            reason: "the expression is longer or more nested than kvet evaluates".to_owned(),
        });
    }
    let compiled = compile(expression)?;
    let result = compiled
        .search(data)
        .map_err(|e| to_error(expression, &e))?;
    variable_to_value(&result).map_err(|reason| JmesError {
        expression: expression.to_owned(),
        reason,
    })
}

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let mut rt = Runtime::new();
        rt.register_builtin_functions();
        for def in all_functions() {
            register(&mut rt, def);
        }
        rt
    })
}

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn compile(expression: &str) -> Result<Arc<Expression<'static>>, JmesError> {
    if let Some(hit) = lock_cache().get(expression) {
        return Ok(Arc::clone(hit));
    }
    // Compile outside the lock so slow parses don't serialize other threads.
    let compiled = Arc::new(
        runtime()
            .compile(expression)
            .map_err(|e| to_error(expression, &e))?,
    );
    let mut guard = lock_cache();
    if guard.len() >= CACHE_LIMIT {
        guard.clear();
    }
    guard.insert(expression.to_owned(), Arc::clone(&compiled));
    Ok(compiled)
}

fn lock_cache() -> std::sync::MutexGuard<'static, HashMap<String, Arc<Expression<'static>>>> {
    // A poisoned cache only means another thread panicked mid-insert; the map
    // itself is still consistent.
    cache().lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
fn cache_len() -> usize {
    lock_cache().len()
}

fn to_error(expression: &str, err: &JmespathError) -> JmesError {
    let reason = match &err.reason {
        ErrorReason::Parse(msg) => msg.clone(),
        ErrorReason::Runtime(rt) => rt.to_string(),
    };
    JmesError {
        expression: expression.to_owned(),
        reason,
    }
}

/// Converts a result back to JSON, turning integral floats into integers.
fn variable_to_value(var: &Variable) -> Result<Value, String> {
    if var.is_expref() {
        return Err("expression evaluated to an expression reference".to_owned());
    }
    serde_json::to_value(var)
        .map(normalize_numbers)
        .map_err(|e| e.to_string())
}

/// Go decodes all numbers as float64; integral values print as integers.
pub(crate) fn normalize_numbers(value: Value) -> Value {
    match value {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => n.as_f64().map_or(Value::Number(n), num),
        Value::Array(items) => Value::Array(items.into_iter().map(normalize_numbers).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, normalize_numbers(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Largest float whose integer part is exact (2^53).
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;

/// JSON number for an f64: integer when integral, null for NaN/infinity.
pub(crate) fn num(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() <= MAX_EXACT {
        // Exact: the value is integral and within i64 range.
        Value::from(f as i64)
    } else {
        serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
}

/// A Kyverno function: name, argument types and a handler on JSON values.
pub(crate) struct FnDef {
    pub name: &'static str,
    pub args: Vec<ArgumentType>,
    pub handler: fn(&[Value]) -> Result<Value, String>,
}

pub(crate) fn def(
    name: &'static str,
    args: Vec<ArgumentType>,
    handler: fn(&[Value]) -> Result<Value, String>,
) -> FnDef {
    FnDef {
        name,
        args,
        handler,
    }
}

fn all_functions() -> Vec<FnDef> {
    let mut defs = text::functions();
    defs.extend(arith::functions());
    defs.extend(time::functions());
    defs.extend(data::functions());
    defs
}

fn register(rt: &mut Runtime, def: FnDef) {
    let FnDef {
        name,
        args,
        handler,
    } = def;
    let call = move |params: &[Rcvar], ctx: &mut Context<'_>| -> Result<Rcvar, JmespathError> {
        let values = params
            .iter()
            .map(|p| variable_to_value(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| fn_error(ctx, name, &e))?;
        let out = handler(&values).map_err(|e| fn_error(ctx, name, &e))?;
        Variable::try_from(out).map(Rcvar::new)
    };
    let signature = Signature::new(args, None);
    rt.register_function(
        name,
        Box::new(CustomFunction::new(signature, Box::new(call))),
    );
}

fn fn_error(ctx: &Context<'_>, name: &str, msg: &str) -> JmespathError {
    // Handlers already prefix Kyverno's "JMESPath function 'x': " where Kyverno does.
    let text = if msg.starts_with("JMESPath function") {
        msg.to_owned()
    } else {
        format!("JMESPath function '{name}': {msg}")
    };
    JmespathError::from_ctx(ctx, ErrorReason::Parse(text))
}

/// Kyverno's `formatError(genericError, name, msg)`.
pub(crate) fn generic_error(name: &str, msg: &str) -> String {
    format!("JMESPath function '{name}': {msg}")
}

/// Kyverno's `invalidArgumentTypeError`.
pub(crate) fn arg_type_error(name: &str, index: usize, kind: &str) -> String {
    format!("JMESPath function '{name}': {index} argument is expected of {kind} type")
}

/// Argument `index` as a string (the signature already checked the type).
pub(crate) fn arg_str<'a>(name: &str, args: &'a [Value], index: usize) -> Result<&'a str, String> {
    args.get(index)
        .and_then(Value::as_str)
        .ok_or_else(|| arg_type_error(name, index + 1, "string"))
}

/// Argument `index` as a number.
pub(crate) fn arg_f64(name: &str, args: &[Value], index: usize) -> Result<f64, String> {
    args.get(index)
        .and_then(Value::as_f64)
        .ok_or_else(|| arg_type_error(name, index + 1, "float64"))
}

/// Kyverno's `intNumber`: the float must be an exact integer.
pub(crate) fn int_number(number: f64) -> Result<i64, String> {
    if !number.is_finite() || number.trunc() != number {
        return Err(format!("expected an integer number but got: {number}"));
    }
    // 2^63 is the first float outside Go's 64-bit int range.
    if number.abs() >= 9_223_372_036_854_775_808.0 {
        return Err(format!(
            "number is outside the range of integer numbers: {number}"
        ));
    }
    // Exact: integral and well inside i64 range.
    Ok(number as i64)
}

/// Kyverno's `ifaceToString`: strings as-is, numbers via float32 `'f'` formatting.
pub(crate) fn iface_to_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        // Go formats with bitSize 32, so precision is that of float32.
        Value::Number(n) => n.as_f64().map(|f| format!("{}", f as f32)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

pub(crate) mod types {
    //! Short constructors for argument types.
    use jmespath::functions::ArgumentType;

    pub fn string() -> ArgumentType {
        ArgumentType::String
    }
    pub fn number() -> ArgumentType {
        ArgumentType::Number
    }
    pub fn any() -> ArgumentType {
        ArgumentType::Any
    }
    pub fn array() -> ArgumentType {
        ArgumentType::Array
    }
    pub fn object() -> ArgumentType {
        ArgumentType::Object
    }
    pub fn string_or_number() -> ArgumentType {
        ArgumentType::Union(vec![string(), number()])
    }
    pub fn object_or_array() -> ArgumentType {
        ArgumentType::Union(vec![object(), array()])
    }
}
