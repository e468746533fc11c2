//! The definitions of a schema document (`{"$defs": {...}, ...}`), found by a scan of its text
//! and parsed only when a kind needs them.
//!
//! A version's document is 400 kB of JSON whose parsing, and indexing by the validator's
//! registry, took a sixth of a one-file run; a kind needs an eighth of it (a Deployment, 121
//! of 862 definitions).

use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

use serde_json::{Map, Value};

/// Where `$ref`s into the document point: `#/$defs/<name>`.
const DEFS_REF: &str = "#/$defs/";

/// A document's text and where each of its top-level members and definitions is in it.
#[derive(Debug)]
pub struct Definitions {
    text: Vec<u8>,
    /// Top-level member → its value's bytes.
    members: HashMap<String, Range<usize>>,
    /// Definition name → its value's bytes.
    defs: HashMap<String, Range<usize>>,
}

impl Definitions {
    /// Indexes a document; an error when it is not a JSON object (with a `$defs` object, if any).
    pub fn new(text: Vec<u8>) -> Result<Definitions, String> {
        let start = skip_whitespace(&text, 0);
        let (members, _) = object_members(&text, start)?;
        let defs = match members.get("$defs") {
            Some(range) => object_members(&text, range.start)?.0,
            None => HashMap::new(),
        };
        Ok(Definitions {
            text,
            members,
            defs,
        })
    }

    /// A top-level member, parsed.
    pub fn member<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<Option<T>, String> {
        self.members
            .get(name)
            .map(|range| serde_json::from_slice(&self.text[range.clone()]))
            .transpose()
            .map_err(|e| format!("{name}: {e}"))
    }

    /// `{"$defs": {...}}` with `root` and every definition it refers to, directly or not: a
    /// document in which `root`'s `$ref`s resolve as in the whole one.
    pub fn closure(&self, root: &str) -> Result<Value, String> {
        let mut defs = Map::new();
        let mut pending = vec![root.to_owned()];
        while let Some(name) = pending.pop() {
            if defs.contains_key(&name) {
                continue;
            }
            let range = self
                .defs
                .get(&name)
                .ok_or_else(|| format!("no definition {name:?}"))?;
            let value: Value = serde_json::from_slice(&self.text[range.clone()])
                .map_err(|e| format!("definition {name}: {e}"))?;
            let mut refs = BTreeSet::new();
            local_refs(&value, &mut refs);
            pending.extend(refs.into_iter().filter(|r| !defs.contains_key(r)));
            defs.insert(name, value);
        }
        let mut document = Map::new();
        document.insert("$defs".to_owned(), Value::Object(defs));
        Ok(Value::Object(document))
    }
}

/// The names of the definitions a schema's `$ref`s point to.
fn local_refs(schema: &Value, out: &mut BTreeSet<String>) {
    match schema {
        Value::Object(fields) => {
            for (key, value) in fields {
                match (key.as_str(), value) {
                    ("$ref", Value::String(to)) => {
                        if let Some(name) = to.strip_prefix(DEFS_REF) {
                            out.insert(name.replace("~1", "/").replace("~0", "~"));
                        }
                    }
                    _ => local_refs(value, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| local_refs(v, out)),
        _ => {}
    }
}

/// The members of the object at `at` (its `{`): name → the bytes of its value; and the
/// position after the object.
fn object_members(
    text: &[u8],
    at: usize,
) -> Result<(HashMap<String, Range<usize>>, usize), String> {
    let error = |what: &str, at: usize| format!("{what} at byte {at}");
    if text.get(at) != Some(&b'{') {
        return Err(error("expected an object", at));
    }
    let mut members = HashMap::new();
    let mut i = skip_whitespace(text, at + 1);
    if text.get(i) == Some(&b'}') {
        return Ok((members, i + 1));
    }
    loop {
        if text.get(i) != Some(&b'"') {
            return Err(error("expected a member name", i));
        }
        let name_end = skip_string(text, i)?;
        let name = member_name(&text[i..name_end]).map_err(|e| error(&e, i))?;
        i = skip_whitespace(text, name_end);
        if text.get(i) != Some(&b':') {
            return Err(error("expected `:`", i));
        }
        let start = skip_whitespace(text, i + 1);
        let end = skip_value(text, start)?;
        members.insert(name, start..end);
        i = skip_whitespace(text, end);
        match text.get(i) {
            Some(b',') => i = skip_whitespace(text, i + 1),
            Some(b'}') => return Ok((members, i + 1)),
            _ => return Err(error("expected `,` or `}`", i)),
        }
    }
}

/// A quoted member name, unescaped.
fn member_name(quoted: &[u8]) -> Result<String, String> {
    let inner = &quoted[1..quoted.len() - 1];
    // Names without escapes (all of a Kubernetes document's) are taken as they are: faster.
    if !inner.contains(&b'\\')
        && let Ok(name) = std::str::from_utf8(inner)
    {
        return Ok(name.to_owned());
    }
    serde_json::from_slice(quoted).map_err(|e| format!("bad member name: {e}"))
}

/// The position after the value at `at`; its contents are checked when it is parsed.
fn skip_value(text: &[u8], at: usize) -> Result<usize, String> {
    match text.get(at) {
        Some(b'"') => skip_string(text, at),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut i = at;
            while let Some(&byte) = text.get(i) {
                match byte {
                    b'"' => {
                        i = skip_string(text, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            Err(format!("unclosed value at byte {at}"))
        }
        Some(_) => {
            // A number, `true`, `false` or `null`: up to the next delimiter.
            let length = text[at..]
                .iter()
                .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())
                .unwrap_or(text.len() - at);
            Ok(at + length)
        }
        None => Err(format!("expected a value at byte {at}")),
    }
}

/// The position after the string at `at` (its opening quote).
fn skip_string(text: &[u8], at: usize) -> Result<usize, String> {
    let mut i = at + 1;
    while let Some(&byte) = text.get(i) {
        match byte {
            b'\\' => i += 2,
            b'"' => return Ok(i + 1),
            _ => i += 1,
        }
    }
    Err(format!("unclosed string at byte {at}"))
}

fn skip_whitespace(text: &[u8], at: usize) -> usize {
    at + text[at.min(text.len())..]
        .iter()
        .take_while(|b| b.is_ascii_whitespace())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_closure_holds_what_its_root_refers_to_and_nothing_else() {
        let document = json!({
            "$defs": {
                "a": {"properties": {"b": {"$ref": "#/$defs/b"}, "s": {"enum": ["}\"{", "]"]}}},
                "b": {"items": [{"$ref": "#/$defs/c"}, {"$ref": "#/$defs/a"}]},
                "c": {"type": ["string", "null"], "maximum": 1.5e3},
                "d\\\"e": {"$ref": "#/$defs/c"},
                "unused": {"$ref": "#/$defs/a"}
            },
            "kinds": {"v1": {"A": "a"}}
        });
        let text = serde_json::to_vec_pretty(&document).unwrap();
        let defs = Definitions::new(text).unwrap();
        let closure = defs.closure("a").unwrap();
        let mut expected = document.clone();
        for other in ["unused", "d\\\"e"] {
            expected["$defs"].as_object_mut().unwrap().remove(other);
        }
        expected.as_object_mut().unwrap().remove("kinds");
        assert_eq!(closure, expected);
        let kinds: Option<Value> = defs.member("kinds").unwrap();
        assert_eq!(kinds, Some(document["kinds"].clone()));
        assert!(defs.closure("missing").is_err());
        let escaped = defs.closure("d\\\"e").unwrap();
        assert_eq!(escaped["$defs"].as_object().unwrap().len(), 2);
    }

    #[test]
    fn damaged_documents_are_errors() {
        for bad in [
            "",
            "[]",
            "{\"$defs\": {\"a\": {}",
            "{\"a\" 1}",
            "{\"$defs\": 3}",
        ] {
            assert!(Definitions::new(bad.as_bytes().to_vec()).is_err(), "{bad}");
        }
    }
}
