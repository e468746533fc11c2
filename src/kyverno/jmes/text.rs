//! String, regex and encoding functions (Kyverno `functions.go`).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use regex::Regex;
use serde_json::Value;

use super::types::{any, number, string, string_or_number};
use super::{FnDef, arg_f64, arg_str, arg_type_error, def, generic_error, iface_to_string};
use crate::kyverno::scalar::wildcard_match;

mod random;
mod sha256;

pub(super) fn functions() -> Vec<FnDef> {
    vec![
        def("compare", vec![string(), string()], compare),
        def("equal_fold", vec![string(), string()], equal_fold),
        def(
            "replace",
            vec![string(), string(), string(), number()],
            replace,
        ),
        def(
            "replace_all",
            vec![string(), string(), string()],
            replace_all,
        ),
        def("to_upper", vec![string()], to_upper),
        def("to_lower", vec![string()], to_lower),
        def("trim", vec![string(), string()], trim),
        def("trim_prefix", vec![string(), string()], trim_prefix),
        def("split", vec![string(), string()], split),
        def(
            "regex_replace_all",
            vec![string(), string_or_number(), string_or_number()],
            regex_replace_all,
        ),
        def(
            "regex_replace_all_literal",
            vec![string(), string_or_number(), string_or_number()],
            regex_replace_all_literal,
        ),
        def(
            "regex_match",
            vec![string(), string_or_number()],
            regex_match,
        ),
        def(
            "pattern_match",
            vec![string(), string_or_number()],
            pattern_match,
        ),
        def("to_boolean", vec![string()], to_boolean),
        def("base64_decode", vec![string()], base64_decode),
        def("base64_encode", vec![string()], base64_encode),
        def("path_canonicalize", vec![string()], path_canonicalize),
        def("truncate", vec![string(), number()], truncate),
        def("semver_compare", vec![string(), string()], semver_compare),
        def("sha256", vec![string()], sha256_hex),
        def("random", vec![string()], random::random),
        def("to_string", vec![any()], to_string),
    ]
}

fn two<'a>(name: &str, args: &'a [Value]) -> Result<(&'a str, &'a str), String> {
    Ok((arg_str(name, args, 0)?, arg_str(name, args, 1)?))
}

fn compare(args: &[Value]) -> Result<Value, String> {
    let (a, b) = two("compare", args)?;
    Ok(Value::from(a.cmp(b) as i8))
}

fn equal_fold(args: &[Value]) -> Result<Value, String> {
    let (a, b) = two("equal_fold", args)?;
    let fold = |s: &str| s.chars().flat_map(char::to_lowercase).collect::<String>();
    Ok(Value::Bool(fold(a) == fold(b)))
}

fn replace(args: &[Value]) -> Result<Value, String> {
    let (s, old) = two("replace", args)?;
    let new = arg_str("replace", args, 2)?;
    let n = arg_f64("replace", args, 3)?;
    // Go's strings.Replace: n < 0 means "all"; the count is truncated to int.
    let out = if n < 0.0 {
        s.replace(old, new)
    } else {
        s.replacen(old, new, n as usize)
    };
    Ok(Value::String(out))
}

fn replace_all(args: &[Value]) -> Result<Value, String> {
    let (s, old) = two("replace_all", args)?;
    let new = arg_str("replace_all", args, 2)?;
    Ok(Value::String(s.replace(old, new)))
}

fn to_upper(args: &[Value]) -> Result<Value, String> {
    Ok(Value::String(arg_str("to_upper", args, 0)?.to_uppercase()))
}

fn to_lower(args: &[Value]) -> Result<Value, String> {
    Ok(Value::String(arg_str("to_lower", args, 0)?.to_lowercase()))
}

fn trim(args: &[Value]) -> Result<Value, String> {
    let (s, cutset) = two("trim", args)?;
    Ok(Value::String(
        s.trim_matches(|c| cutset.contains(c)).to_owned(),
    ))
}

fn trim_prefix(args: &[Value]) -> Result<Value, String> {
    let (s, prefix) = two("trim_prefix", args)?;
    Ok(Value::String(
        s.strip_prefix(prefix).unwrap_or(s).to_owned(),
    ))
}

fn split(args: &[Value]) -> Result<Value, String> {
    let (s, sep) = two("split", args)?;
    // Go splits an empty separator into single characters, without empty ends.
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        s.split(sep).map(|p| Value::String(p.to_owned())).collect()
    };
    Ok(Value::Array(parts))
}

/// Compiled regexes, bounded like the expression cache.
fn regex(name: &str, pattern: &str) -> Result<Regex, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Regex>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut guard = cache.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(re) = guard.get(pattern) {
        return Ok(re.clone());
    }
    let re = Regex::new(pattern).map_err(|e| generic_error(name, &e.to_string()))?;
    if guard.len() >= 1024 {
        guard.clear();
    }
    guard.insert(pattern.to_owned(), re.clone());
    Ok(re)
}

fn string_arg(name: &str, args: &[Value], index: usize) -> Result<String, String> {
    args.get(index)
        .and_then(iface_to_string)
        .ok_or_else(|| arg_type_error(name, index + 1, "String or Real"))
}

fn regex_replace_all(args: &[Value]) -> Result<Value, String> {
    regex_replace("regex_replace_all", args, false)
}

fn regex_replace_all_literal(args: &[Value]) -> Result<Value, String> {
    regex_replace("regex_replace_all_literal", args, true)
}

fn regex_replace(name: &str, args: &[Value], literal: bool) -> Result<Value, String> {
    let pattern = arg_str(name, args, 0)?;
    let src = string_arg(name, args, 1)?;
    let repl = string_arg(name, args, 2)?;
    let re = regex(name, pattern)?;
    // Go's `$1`/`${name}` expansion syntax matches the regex crate's.
    let out = if literal {
        re.replace_all(&src, regex::NoExpand(&repl)).into_owned()
    } else {
        re.replace_all(&src, repl.as_str()).into_owned()
    };
    Ok(Value::String(out))
}

fn regex_match(args: &[Value]) -> Result<Value, String> {
    let pattern = arg_str("regex_match", args, 0)?;
    let src = string_arg("regex_match", args, 1)?;
    Ok(Value::Bool(regex("regex_match", pattern)?.is_match(&src)))
}

fn pattern_match(args: &[Value]) -> Result<Value, String> {
    // Kyverno reports pattern_match argument errors under the regex_match name.
    let pattern = arg_str("regex_match", args, 0)?;
    let src = string_arg("regex_match", args, 1)?;
    Ok(Value::Bool(wildcard_match(pattern, &src)))
}

fn to_boolean(args: &[Value]) -> Result<Value, String> {
    let input = arg_str("to_boolean", args, 0)?;
    match input.to_lowercase().as_str() {
        "true" => Ok(Value::Bool(true)),
        "false" => Ok(Value::Bool(false)),
        _ => Err(generic_error(
            "to_boolean",
            &format!("lowercase argument must be 'true' or 'false' (provided: '{input}')"),
        )),
    }
}

fn base64_decode(args: &[Value]) -> Result<Value, String> {
    let input = arg_str("base64_decode", args, 0)?;
    let bytes = STANDARD.decode(input).map_err(|e| e.to_string())?;
    // Go strings may hold invalid UTF-8; JSON strings cannot.
    Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
}

fn base64_encode(args: &[Value]) -> Result<Value, String> {
    Ok(Value::String(STANDARD.encode(arg_str(
        "base64_encode",
        args,
        0,
    )?)))
}

fn path_canonicalize(args: &[Value]) -> Result<Value, String> {
    let input = arg_str("path_canonicalize", args, 0)?;
    // filepath.Join of a single element is Clean, except "" stays "".
    Ok(Value::String(if input.is_empty() {
        String::new()
    } else {
        clean_path(input)
    }))
}

/// Go's `path.Clean` for slash-separated paths.
pub(super) fn clean_path(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

fn truncate(args: &[Value]) -> Result<Value, String> {
    let s = arg_str("truncate", args, 0)?;
    let length = arg_f64("truncate", args, 1)?.max(0.0);
    // The length is truncated to an int and counts characters (runes).
    Ok(Value::String(s.chars().take(length as usize).collect()))
}

fn semver_compare(args: &[Value]) -> Result<Value, String> {
    let (version, range) = two("semver_compare", args)?;
    super::semver_range::matches(version, range).map(Value::Bool)
}

fn sha256_hex(args: &[Value]) -> Result<Value, String> {
    let digest = sha256::digest(arg_str("sha256", args, 0)?.as_bytes());
    Ok(Value::String(
        digest.iter().map(|b| format!("{b:02x}")).collect(),
    ))
}

/// go-jmespath's `to_string`: strings unchanged, anything else `json.Marshal`ed.
fn to_string(args: &[Value]) -> Result<Value, String> {
    match args.first() {
        Some(Value::String(s)) => Ok(Value::String(s.clone())),
        Some(other) => serde_json::to_string(other)
            .map(|s| Value::String(go_html_escape(&s)))
            .map_err(|e| e.to_string()),
        None => Ok(Value::Null),
    }
}

/// `json.Marshal` escapes HTML-significant characters; they only occur inside
/// JSON strings, so a textual replacement is exact.
fn go_html_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            other => out.push(other),
        }
    }
    out
}
