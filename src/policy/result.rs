//! What a rule returns → kvet's results: conftest's shapes (a string, `{"msg": ...}`, a set or
//! array of them, `true`) plus kvet's fields: `path` (where the finding is), `level`.

use regorus::Value;

use crate::diag::Level;

/// One result of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyResult {
    pub message: String,
    /// JSON pointer into the object; empty for the object itself.
    pub pointer: String,
    /// A level the result asks for instead of the rule's default (`"level": "error"`).
    pub level: Option<Level>,
    /// For a whole-stream policy: the index of the object in `input.objects`.
    pub object: Option<usize>,
    /// For a whole-stream policy: another object the finding refers to (the first of two
    /// copies), by index; kvet writes where it is in place of `{related}` in the message, or
    /// adds `(first at file:line)`.
    pub related: Option<usize>,
    /// The result's other fields, kept for the JSON output (conftest's `metadata`).
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The results of a rule's value; an error for a value conftest would not accept either.
pub fn results(value: &Value) -> Result<Vec<PolicyResult>, String> {
    match value {
        Value::Undefined | Value::Null | Value::Bool(false) => Ok(Vec::new()),
        Value::Set(items) => items.iter().map(one).collect(),
        Value::Array(items) => items.iter().map(one).collect(),
        single => Ok(vec![one(single)?]),
    }
}

fn one(value: &Value) -> Result<PolicyResult, String> {
    let plain = |message: String| PolicyResult {
        message,
        pointer: String::new(),
        level: None,
        object: None,
        related: None,
        metadata: None,
    };
    match value {
        Value::String(s) => Ok(plain(s.to_string())),
        Value::Bool(true) => Ok(plain("the policy denied this object".into())),
        Value::Object(fields) => {
            let mut result = plain(String::new());
            let mut metadata = serde_json::Map::new();
            for (key, field) in fields.iter() {
                let key = key
                    .as_string()
                    .map_err(|_| "a result key is not a string")?;
                match key.as_ref() {
                    "msg" => {
                        result.message = field
                            .as_string()
                            .map_err(|_| "`msg` must be a string")?
                            .to_string();
                    }
                    "path" => result.pointer = pointer(field)?,
                    "object" | "related" => {
                        let index = field
                            .as_u64()
                            .map_err(|_| "`object` and `related` must be indexes")?;
                        let slot = if key.as_ref() == "object" {
                            &mut result.object
                        } else {
                            &mut result.related
                        };
                        *slot = Some(index as usize);
                    }
                    "level" => {
                        let level = field.as_string().map_err(|_| "`level` must be a string")?;
                        result.level = Some(level.parse()?);
                    }
                    other => {
                        let json = field.to_json_str().map_err(|e| e.to_string())?;
                        let json = serde_json::from_str(&json).map_err(|e| e.to_string())?;
                        metadata.insert(other.to_owned(), json);
                    }
                }
            }
            if result.message.is_empty() {
                return Err("a result object has no `msg`".into());
            }
            result.metadata = (!metadata.is_empty()).then_some(metadata);
            Ok(result)
        }
        other => Err(format!(
            "a result must be a string or an object with `msg`, not {}",
            other.to_json_str().unwrap_or_default()
        )),
    }
}

/// A result's `path`: a JSON pointer (`/spec/containers/0/image`) or a list of keys and
/// indexes (`["spec", "containers", 0, "image"]`).
fn pointer(path: &Value) -> Result<String, String> {
    match path {
        Value::String(s) if s.is_empty() || s.starts_with('/') => Ok(s.to_string()),
        Value::Array(parts) => {
            let mut out = String::new();
            for part in parts.iter() {
                out.push('/');
                match part {
                    Value::String(s) => out.push_str(&s.replace('~', "~0").replace('/', "~1")),
                    Value::Number(_) => {
                        out.push_str(&part.to_json_str().map_err(|e| e.to_string())?)
                    }
                    _ => return Err("`path` items must be keys or indexes".into()),
                }
            }
            Ok(out)
        }
        _ => Err(
            "`path` must be a JSON pointer (\"/spec/...\") or a list of keys and indexes".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(json: &str) -> Value {
        Value::from_json_str(json).unwrap()
    }

    #[test]
    fn conftest_shapes_and_kvet_fields() {
        let r = results(&value(r#"["plain", {"msg": "with path", "path": ["spec", "a/b", 0], "level": "warning", "ticket": "OPS-1"}]"#)).unwrap();
        assert_eq!(r[0].message, "plain");
        assert_eq!(r[0].pointer, "");
        assert_eq!(r[1].pointer, "/spec/a~1b/0");
        assert_eq!(r[1].level, Some(Level::Warning));
        assert_eq!(r[1].metadata.as_ref().unwrap()["ticket"], "OPS-1");
        assert_eq!(
            results(&value(r#"{"msg": "x", "path": "/spec"}"#)).unwrap()[0].pointer,
            "/spec"
        );
        assert!(results(&Value::Undefined).unwrap().is_empty());
        assert_eq!(results(&Value::from(true)).unwrap().len(), 1);
    }

    #[test]
    fn malformed_results_are_errors() {
        assert!(results(&value(r#"[{"path": "/spec"}]"#)).is_err());
        assert!(results(&value(r#"[{"msg": "x", "path": "spec.a"}]"#)).is_err());
        assert!(results(&value(r#"[{"msg": "x", "level": "fatal"}]"#)).is_err());
        assert!(results(&value("[3]")).is_err());
    }
}
