//! Schema validation of one object, and its errors as findings a person can act on:
//! `spec.replicas: expected integer, got string "three"`,
//! `unknown field "imagePullPolicyy" (did you mean "imagePullPolicy"?)`.

use jsonschema::ValidationError;
use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use super::store::KindSchema;
use crate::diag::Finding;
use crate::load::spans::escape_pointer_token;

/// Every schema error of an instance, as findings; errors of `oneOf` branches are summed up in
/// one finding, and repeats are dropped.
pub fn findings(schema: &KindSchema, instance: &Value) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for error in schema.validator.iter_errors(instance) {
        for finding in describe(schema, &error) {
            if seen.insert((finding.pointer.clone(), finding.message.clone())) {
                out.push(finding);
            }
        }
    }
    out
}

/// The instance as the API server validates a custom resource: `null` fields are pruned
/// first.
pub fn prune_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(prune_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(prune_nulls),
        _ => {}
    }
}

/// Most enum values a message lists.
const MAX_CHOICES: usize = 10;

fn describe(schema: &KindSchema, error: &ValidationError<'_>) -> Vec<Finding> {
    let pointer = error.instance_path().as_str().to_owned();
    let at = field_path(&pointer);
    let instance = error.instance();
    match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let known = known_properties(schema, error.schema_path().as_str());
            unexpected
                .iter()
                .map(|field| {
                    let field_pointer = format!("{pointer}/{}", escape_pointer_token(field));
                    let mut message = format!("unknown field \"{field}\"");
                    if let Some(close) = closest(field, &known) {
                        message.push_str(&format!(" (did you mean \"{close}\"?)"));
                    }
                    let mut finding = Finding::new(field_pointer, prefixed(&at, message)).at_key();
                    finding.help = Some(if known.is_empty() {
                        "this object takes no fields beyond those the schema lists".to_owned()
                    } else {
                        "Kubernetes rejects unknown fields in strict mode and drops them otherwise; remove or rename it".to_owned()
                    });
                    finding
                })
                .collect()
        }
        ValidationErrorKind::Type { kind } => {
            let message = format!(
                "expected {}, got {}",
                expected(kind),
                describe_value(instance)
            );
            vec![Finding::new(pointer, prefixed(&at, message))]
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let message = format!("missing required field \"{name}\"");
            vec![Finding::new(pointer, prefixed(&at, message)).at_key()]
        }
        ValidationErrorKind::Enum { options } => {
            let all: Vec<&Value> = options
                .as_array()
                .map(|o| o.iter().filter(|v| !v.is_null()).collect())
                .unwrap_or_default();
            let mut choices: Vec<String> = all
                .iter()
                .take(MAX_CHOICES)
                .map(|v| v.to_string())
                .collect();
            if all.len() > MAX_CHOICES {
                choices.push(format!("… ({} more)", all.len() - MAX_CHOICES));
            }
            let message = format!(
                "must be one of {}, got {}",
                choices.join(", "),
                describe_value(instance)
            );
            vec![Finding::new(pointer, prefixed(&at, message))]
        }
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            // int-or-string, quantity: every branch failed on its type.
            let types: Option<Vec<String>> = context
                .iter()
                .flatten()
                .map(|e| match e.kind() {
                    ValidationErrorKind::Type { kind } => Some(expected(kind)),
                    _ => None,
                })
                .collect();
            let message = match types {
                Some(types) if !types.is_empty() => {
                    format!(
                        "expected {}, got {}",
                        types.join(" or "),
                        describe_value(instance)
                    )
                }
                _ => "does not match any of the shapes the schema allows".to_owned(),
            };
            vec![Finding::new(pointer, prefixed(&at, message))]
        }
        // int-or-string and quantity accept null in both branches; null is "unset".
        ValidationErrorKind::OneOfMultipleValid { .. } if instance.is_null() => Vec::new(),
        _ => vec![Finding::new(pointer, prefixed(&at, error.to_string()))],
    }
}

/// `spec.template.spec.containers[0].image` for `/spec/template/spec/containers/0/image`.
pub(crate) fn field_path(pointer: &str) -> String {
    let mut out = String::new();
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{token}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    out
}

fn prefixed(at: &str, message: String) -> String {
    if at.is_empty() {
        message
    } else {
        format!("{at}: {message}")
    }
}

/// `integer`, `string or integer`; `null` is left out, every Kubernetes field allows it.
fn expected(kind: &TypeKind) -> String {
    let names: Vec<String> = match kind {
        TypeKind::Single(t) => vec![t.to_string()],
        TypeKind::Multiple(set) => set.iter().map(|t| t.to_string()).collect(),
    };
    let names: Vec<String> = names.into_iter().filter(|n| n != "null").collect();
    if names.is_empty() {
        "null".to_owned()
    } else {
        names.join(" or ")
    }
}

/// `string "three"`, `boolean true`, `array`, `object`.
fn describe_value(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) if n.is_i64() || n.is_u64() => format!("integer {n}"),
        Value::Number(n) => format!("number {n}"),
        Value::String(s) => {
            let shown: String = s.chars().take(40).collect();
            let more = if s.chars().count() > 40 { "…" } else { "" };
            format!("string {:?}", format!("{shown}{more}"))
        }
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "a mapping".to_owned(),
    }
}

/// The property names of the schema whose `additionalProperties` rejected a field.
fn known_properties(schema: &KindSchema, schema_path: &str) -> Vec<String> {
    let Some(parent) = schema_path.strip_suffix("/additionalProperties") else {
        return Vec::new();
    };
    schema
        .document()
        .pointer(parent)
        .and_then(|s| s.get("properties"))
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// The known name a typo most likely meant, if one is close enough.
fn closest<'a>(field: &str, known: &'a [String]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| {
            (
                strsim::damerau_levenshtein(&field.to_lowercase(), &k.to_lowercase()),
                k,
            )
        })
        .filter(|(distance, k)| *distance <= (k.len() / 3).max(1))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, k)| k.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_paths_read_like_kubectl_explain() {
        assert_eq!(
            field_path("/spec/template/spec/containers/0/image"),
            "spec.template.spec.containers[0].image"
        );
        assert_eq!(
            field_path("/metadata/labels/app.kubernetes.io~1name"),
            "metadata.labels.app.kubernetes.io/name"
        );
        assert_eq!(field_path(""), "");
    }

    #[test]
    fn typos_find_their_field() {
        let known = vec![
            "imagePullPolicy".to_owned(),
            "image".to_owned(),
            "name".to_owned(),
        ];
        assert_eq!(closest("imagePullPolicyy", &known), Some("imagePullPolicy"));
        assert_eq!(closest("imagepullpolicy", &known), Some("imagePullPolicy"));
        assert_eq!(closest("volumes", &known), None);
    }
}
