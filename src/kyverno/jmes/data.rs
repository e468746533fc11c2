//! Structured-data functions: `label_match`, `lookup`, `items`,
//! `object_from_lists`, `parse_json`, `parse_yaml`, plus `is_external_url`
//! and `x509_decode`.

use std::net::IpAddr;

use serde_json::{Map, Value};

use super::types::{array, object, object_or_array, string, string_or_number};
use super::{
    FnDef, arg_str, arg_type_error, def, generic_error, iface_to_string, int_number,
    normalize_numbers,
};
use crate::load::yaml::first_root;

pub(super) fn functions() -> Vec<FnDef> {
    vec![
        def("label_match", vec![object(), object()], label_match),
        def(
            "lookup",
            vec![object_or_array(), string_or_number()],
            lookup,
        ),
        def("items", vec![object_or_array(), string(), string()], items),
        def(
            "object_from_lists",
            vec![array(), array()],
            object_from_lists,
        ),
        def("parse_json", vec![string()], parse_json),
        def("parse_yaml", vec![string()], parse_yaml),
        def("is_external_url", vec![string()], is_external_url),
        def("x509_decode", vec![string()], x509_decode),
    ]
}

fn label_match(args: &[Value]) -> Result<Value, String> {
    let labels = args.first().and_then(Value::as_object);
    let target = args.get(1).and_then(Value::as_object);
    let (Some(labels), Some(target)) = (labels, target) else {
        return Err(arg_type_error("label_match", 0, "Object"));
    };
    Ok(Value::Bool(
        labels.iter().all(|(k, v)| target.get(k) == Some(v)),
    ))
}

fn lookup(args: &[Value]) -> Result<Value, String> {
    match (args.first(), args.get(1)) {
        (Some(Value::Object(map)), Some(Value::String(key))) => {
            Ok(map.get(key).cloned().unwrap_or(Value::Null))
        }
        (Some(Value::Object(_)), _) => {
            Err(generic_error("lookup", "argument #2 is not of type String"))
        }
        (Some(Value::Array(items)), Some(Value::Number(n))) => {
            let index = int_number(n.as_f64().unwrap_or(f64::NAN))
                .map_err(|e| format!("JMESPath function 'lookup': argument #2: {e}"))?;
            let found = usize::try_from(index).ok().and_then(|i| items.get(i));
            Ok(found.cloned().unwrap_or(Value::Null))
        }
        (Some(Value::Array(_)), _) => {
            Err(generic_error("lookup", "argument #2 is not of type Number"))
        }
        _ => Err(arg_type_error("lookup", 1, "Object or Array")),
    }
}

fn items(args: &[Value]) -> Result<Value, String> {
    let key_name = arg_str("items", args, 1)?;
    let value_name = arg_str("items", args, 2)?;
    let pair = |k: Value, v: &Value| {
        let mut entry = Map::new();
        entry.insert(key_name.to_owned(), k);
        entry.insert(value_name.to_owned(), v.clone());
        Value::Object(entry)
    };
    match args.first() {
        Some(Value::Object(map)) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let out = keys
                .into_iter()
                .filter_map(|k| map.get(k).map(|v| pair(Value::String(k.clone()), v)))
                .collect();
            Ok(Value::Array(out))
        }
        Some(Value::Array(list)) => Ok(Value::Array(
            list.iter()
                .enumerate()
                .map(|(i, v)| pair(Value::from(i), v))
                .collect(),
        )),
        _ => Err(arg_type_error("items", 1, "Object or Array")),
    }
}

fn object_from_lists(args: &[Value]) -> Result<Value, String> {
    let keys = args.first().and_then(Value::as_array);
    let values = args.get(1).and_then(Value::as_array);
    let (Some(keys), Some(values)) = (keys, values) else {
        return Err(arg_type_error("object_from_lists", 1, "Array"));
    };
    let mut out = Map::new();
    for (i, key) in keys.iter().enumerate() {
        let key = iface_to_string(key)
            .ok_or_else(|| arg_type_error("object_from_lists", 1, "StringArray"))?;
        out.insert(key, values.get(i).cloned().unwrap_or(Value::Null));
    }
    Ok(Value::Object(out))
}

fn parse_json(args: &[Value]) -> Result<Value, String> {
    let input = arg_str("parse_json", args, 0)?;
    serde_json::from_str::<Value>(input)
        .map(normalize_numbers)
        .map_err(|e| e.to_string())
}

fn parse_yaml(args: &[Value]) -> Result<Value, String> {
    let input = arg_str("parse_yaml", args, 0)?;
    // An empty document is `null` in sigs.k8s.io/yaml.
    if input.trim().is_empty() {
        return Ok(Value::Null);
    }
    first_root(input)
        .map(|node| normalize_numbers(node.to_json()))
        .ok_or_else(|| generic_error("parse_yaml", "invalid YAML document"))
}

/// Kyverno resolves host names through DNS; a linter must not, so only IP
/// literals and `localhost` are decided and other hosts are an error.
fn is_external_url(args: &[Value]) -> Result<Value, String> {
    let url = arg_str("is_external_url", args, 0)?;
    let host = url_hostname(url);
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(Value::Bool(false));
    }
    match host.parse::<IpAddr>() {
        Ok(ip) => Ok(Value::Bool(!(is_loopback(&ip) || is_private(&ip)))),
        Err(_) => Err(generic_error(
            "is_external_url",
            &format!("cannot resolve host \"{host}\" without DNS (kvet evaluates offline)"),
        )),
    }
}

/// Go's `url.Parse(s).Hostname()` for the common `scheme://[user@]host[:port]/...` form.
fn url_hostname(url: &str) -> &str {
    let Some((_, after_scheme)) = url.split_once("//") else {
        return "";
    };
    let authority = after_scheme.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(bracketed) = host_port.strip_prefix('[') {
        return bracketed.split(']').next().unwrap_or("");
    }
    host_port.split(':').next().unwrap_or("")
}

fn is_loopback(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// Go's `IP.IsPrivate`: RFC 1918 and RFC 4193 (fc00::/7).
fn is_private(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private(),
        IpAddr::V6(v6) => {
            v6.to_ipv4_mapped().is_some_and(|v4| v4.is_private())
                || (v6.segments()[0] & 0xfe00) == 0xfc00
        }
    }
}

/// Kyverno returns Go's `x509.Certificate` struct as JSON (dozens of fields,
/// raw DER blobs, RSA keys only). Reproducing that shape faithfully needs an
/// X.509 stack kvet does not carry, and a partial object would silently
/// change policy outcomes, so the function reports that it is unsupported.
fn x509_decode(_args: &[Value]) -> Result<Value, String> {
    Err(generic_error(
        "x509_decode",
        "not supported by kvet's offline evaluator; certificate checks need a live Kyverno",
    ))
}
