//! Schemas of custom resources, straight from their `CustomResourceDefinition`s (in the input
//! or under `--crds`): each served version's `openAPIV3Schema`, turned into a JSON schema that
//! validates the way the API server does.

use serde_json::{Map, Value, json};

use crate::load::object::Object;
use crate::load::yaml::{self, Entry, Node};

/// The schema of one custom resource version.
#[derive(Debug, Clone)]
pub struct CrdSchema {
    pub api_version: String,
    pub kind: String,
    /// A JSON schema (draft 2020-12) whose `metadata` refers to `ObjectMeta` at `meta_ref`;
    /// `null` for a version that is not served.
    pub schema: Value,
    /// The other versions of the kind the CRD serves, when this one is not served
    /// (`served: false`): the API server refuses its objects.
    pub not_served: Option<Vec<String>>,
    /// For a version marked `deprecated: true`: the CRD's `deprecationWarning`, or "" when it
    /// gives none.
    pub deprecation: Option<String>,
    /// The line of the `openAPIV3Schema` key the schema is read from (`None` for a version
    /// that is not served): where [`super::crd_files`] finds it again.
    pub schema_line: Option<u32>,
}

/// The schemas a `CustomResourceDefinition` object declares; empty for any other object.
/// `meta_ref` is the `$ref` of Kubernetes' `ObjectMeta`, which the API server applies to every
/// custom resource's `metadata`. Only versions `wanted(api_version, kind)` are converted (one
/// already known need not be: the first definition wins).
pub fn schemas_of(
    object: &Object,
    meta_ref: &str,
    wanted: impl Fn(&str, &str) -> bool,
) -> Vec<CrdSchema> {
    declared(object, wanted, |schema| root_schema(schema, meta_ref))
}

/// As [`schemas_of`], without converting the schemas (each is `null`): what versions a CRD
/// declares, served or not, deprecated or not, for an index whose schemas are read later.
pub fn versions_of(object: &Object, wanted: impl Fn(&str, &str) -> bool) -> Vec<CrdSchema> {
    declared(object, wanted, |_| Value::Null)
}

/// The versions `wanted` that a CRD declares, with `schema` made of each served one's
/// `openAPIV3Schema`.
fn declared(
    object: &Object,
    wanted: impl Fn(&str, &str) -> bool,
    schema: impl Fn(&Node) -> Value,
) -> Vec<CrdSchema> {
    if object.id.kind != "CustomResourceDefinition"
        || !object.id.api_version.starts_with("apiextensions.k8s.io/")
    {
        return Vec::new();
    }
    let Some(spec) = object.root.get("spec") else {
        return Vec::new();
    };
    let (Some(group), Some(kind)) = (
        text(spec.get("group")),
        text(spec.get("names").and_then(|n| n.get("kind"))),
    ) else {
        return Vec::new();
    };
    // apiextensions.k8s.io/v1beta1 had one schema for every version.
    let shared = open_api(spec.get("validation"));
    let version_schema = |name: &str, (line, written): (u32, &Node)| {
        let api_version = format!("{group}/{name}");
        wanted(&api_version, kind).then(|| CrdSchema {
            api_version,
            kind: kind.to_owned(),
            schema: schema(written),
            not_served: None,
            deprecation: None,
            schema_line: Some(line),
        })
    };
    let mut out = Vec::new();
    let versions = spec.get("versions").and_then(Node::as_seq).unwrap_or(&[]);
    let is_served = |version: &Node| flag(version, "served") != Some(false);
    let served: Vec<String> = versions
        .iter()
        .filter(|v| is_served(v))
        .filter_map(|v| text(v.get("name")))
        .map(|name| format!("{group}/{name}"))
        .collect();
    for version in versions {
        let Some(name) = text(version.get("name")) else {
            continue;
        };
        if !is_served(version) {
            let api_version = format!("{group}/{name}");
            if wanted(&api_version, kind) {
                out.push(Some(CrdSchema {
                    api_version,
                    kind: kind.to_owned(),
                    schema: Value::Null,
                    not_served: Some(served.clone()),
                    deprecation: None,
                    schema_line: None,
                }));
            }
            continue;
        }
        if let Some(schema) = open_api(version.get("schema")).or(shared) {
            let mut found = version_schema(name, schema);
            if let Some(found) = &mut found
                && flag(version, "deprecated") == Some(true)
            {
                let warning = text(version.get("deprecationWarning")).unwrap_or_default();
                found.deprecation = Some(warning.to_owned());
            }
            out.push(found);
        }
    }
    if out.is_empty()
        && let (Some(name), Some(schema)) = (text(spec.get("version")), shared)
    {
        out.push(version_schema(name, schema));
    }
    out.into_iter().flatten().collect()
}

/// Where and why a CustomResourceDefinition gives its custom resources no schema: a served
/// version whose `openAPIV3Schema` is there but not a mapping (a string, a list). `None` for
/// other objects and usable CRDs.
pub fn unusable(object: &Object) -> Option<(String, String)> {
    if object.id.kind != "CustomResourceDefinition"
        || !object.id.api_version.starts_with("apiextensions.k8s.io/")
    {
        return None;
    }
    let spec = object.root.get("spec")?;
    let versions = spec.get("versions").and_then(Node::as_seq).unwrap_or(&[]);
    for (i, version) in versions.iter().enumerate() {
        let written = version.get("schema").and_then(|s| s.get("openAPIV3Schema"));
        if written.is_some_and(|s| s.as_map().is_none()) {
            let name = text(version.get("name")).unwrap_or("?");
            return Some((
                format!("/spec/versions/{i}/schema/openAPIV3Schema"),
                format!(
                    "the openAPIV3Schema of version {name} is not a mapping: its custom resources are not validated"
                ),
            ));
        }
    }
    None
}

/// A boolean field of a mapping, when it is written as one.
fn flag(node: &Node, key: &str) -> Option<bool> {
    match node.get(key).map(|n| &n.value) {
        Some(yaml::Value::Bool(b)) => Some(*b),
        _ => None,
    }
}

fn text(node: Option<&Node>) -> Option<&str> {
    node.and_then(Node::as_str)
}

/// The `openAPIV3Schema` mapping under `holder`, with the line of its key.
fn open_api(holder: Option<&Node>) -> Option<(u32, &Node)> {
    let entry = holder?
        .as_map()?
        .iter()
        .find(|e| e.key == "openAPIV3Schema")?;
    entry
        .value
        .as_map()
        .map(|_| (entry.key_span.start.line, &entry.value))
}

/// The custom resource's root: its schema (an `openAPIV3Schema` mapping), plus what every
/// object has.
pub fn root_schema(openapi: &Node, meta_ref: &str) -> Value {
    let mut schema = match convert(openapi) {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    schema.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    let properties = properties_of(&mut schema);
    properties.insert("apiVersion".into(), json!({"type": "string"}));
    properties.insert("kind".into(), json!({"type": "string"}));
    properties.insert("metadata".into(), json!({"$ref": meta_ref}));
    Value::Object(schema)
}

/// The `properties` of a schema object, made a mapping if it was missing or malformed.
fn properties_of(schema: &mut Map<String, Value>) -> &mut Map<String, Value> {
    let slot = schema.entry("properties").or_insert_with(|| json!({}));
    if !slot.is_object() {
        *slot = json!({});
    }
    match slot {
        Value::Object(map) => map,
        _ => unreachable!("just made an object"),
    }
}

/// OpenAPI v3 (structural schema, as loaded) → JSON schema, node by node, without an
/// intermediate copy of the CRD (CRDs are large, mostly descriptions, which are dropped here):
/// - `null` is accepted everywhere (the API server prunes it), and a required field with a
///   `default` is not required (defaults apply first);
/// - `x-kubernetes-int-or-string` is a string or an integer;
/// - `x-kubernetes-embedded-resource` objects carry `apiVersion`, `kind` and `metadata`;
/// - strict: an object that lists its `properties` takes no others, unless it has
///   `additionalProperties` or `x-kubernetes-preserve-unknown-fields: true`.
fn convert(node: &Node) -> Value {
    let Some(input) = node.as_map() else {
        return node.to_json();
    };
    let mut out = Map::new();
    for Entry { key, value, .. } in input {
        let converted = match key.as_str() {
            "properties" | "patternProperties" | "definitions" => match value.as_map() {
                Some(props) => Value::Object(
                    props
                        .iter()
                        .map(|p| (p.key.clone(), convert(&p.value)))
                        .collect(),
                ),
                // Malformed (`properties: []`, or left empty by a template): nothing to check.
                None => continue,
            },
            "items" | "additionalProperties" | "not" => convert(value),
            "anyOf" | "oneOf" | "allOf" => match value.as_seq() {
                Some(items) => Value::Array(items.iter().map(convert).collect()),
                None => value.to_json(),
            },
            // Annotations. (`x-kubernetes-validations` stays: schema::cel evaluates it.)
            "description" | "example" | "externalDocs" => continue,
            _ => value.to_json(),
        };
        out.insert(key.clone(), converted);
    }
    let flag = |name: &str| node.get(name).map(|v| &v.value) == Some(&yaml::Value::Bool(true));
    // OpenAPI v3.0's boolean exclusiveMinimum/Maximum modify minimum/maximum; JSON schema
    // 2020-12 gives the bound itself.
    for (exclusive, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        if let Some(Value::Bool(on)) = out.get(exclusive).cloned() {
            out.remove(exclusive);
            if on && let Some(limit) = out.remove(bound) {
                out.insert(exclusive.into(), limit);
            }
        }
    }
    if flag("x-kubernetes-int-or-string") {
        out.remove("type");
        out.insert("type".into(), json!(["integer", "string"]));
    }
    if flag("x-kubernetes-embedded-resource") {
        let properties = properties_of(&mut out);
        properties
            .entry("apiVersion")
            .or_insert(json!({"type": "string"}));
        properties
            .entry("kind")
            .or_insert(json!({"type": "string"}));
        properties
            .entry("metadata")
            .or_insert(json!({"type": "object"}));
    }
    // The API server prunes `null` from fields that are not `nullable` before validating, so
    // a null is never a type error.
    match out.get("type").cloned() {
        Some(Value::String(t)) => {
            out.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(mut types)) if !types.contains(&json!("null")) => {
            types.push(json!("null"));
            out.insert("type".into(), Value::Array(types));
        }
        _ => {}
    }
    // Defaults are applied before validation: a required field with a default is never missing.
    if let (Some(Value::Array(required)), Some(properties)) =
        (out.get("required"), node.get("properties"))
    {
        let still: Vec<Value> = required
            .iter()
            .filter(|r| {
                r.as_str()
                    .and_then(|name| properties.get(name))
                    .is_none_or(|p| p.get("default").is_none())
            })
            .cloned()
            .collect();
        out.insert("required".into(), Value::Array(still));
    }
    let is_object = out.get("type").is_some_and(|t| {
        t == "object"
            || t.as_array()
                .is_some_and(|a| a.iter().any(|t| t == "object"))
    });
    if is_object
        && out.contains_key("properties")
        && !out.contains_key("additionalProperties")
        && !flag("x-kubernetes-preserve-unknown-fields")
    {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON as kvet loads it (JSON is YAML).
    fn node(json: Value) -> Node {
        let parsed = yaml::parse(&json.to_string());
        parsed
            .documents
            .into_iter()
            .next()
            .expect("one document")
            .root
    }

    #[test]
    fn structural_schemas_become_strict_json_schemas() {
        let openapi = json!({
            "type": "object",
            "properties": {
                "replicas": {"type": "integer", "nullable": true},
                "port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"a": {"type": "string"}}},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "description": {"type": "string", "description": "a field called description"}
            }
        });
        let s = convert(&node(openapi));
        assert_eq!(s["additionalProperties"], json!(false));
        assert_eq!(
            s["properties"]["replicas"]["type"],
            json!(["integer", "null"])
        );
        assert_eq!(
            s["properties"]["port"]["type"],
            json!(["integer", "string", "null"])
        );
        assert!(
            s["properties"]["config"]
                .get("additionalProperties")
                .is_none()
        );
        assert_eq!(
            s["properties"]["labels"]["additionalProperties"],
            json!({"type": ["string", "null"]})
        );
        assert_eq!(
            s["properties"]["description"],
            json!({"type": ["string", "null"]})
        );
    }

    #[test]
    fn defaulted_fields_are_not_required() {
        let openapi = json!({
            "type": "object",
            "required": ["interval", "repo"],
            "properties": {"interval": {"type": "string", "default": "5m"}, "repo": {"type": "string"}}
        });
        assert_eq!(convert(&node(openapi))["required"], json!(["repo"]));
    }

    #[test]
    fn malformed_properties_and_boolean_exclusive_bounds_are_handled() {
        let s = root_schema(&node(json!({"type": "object", "properties": []})), "#/meta");
        assert!(s["properties"]["metadata"].is_object());
        let n = convert(&node(
            json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true}),
        ));
        assert_eq!(n["exclusiveMinimum"], json!(0));
        assert!(n.get("minimum").is_none());
        let e = convert(&node(
            json!({"type": "object", "x-kubernetes-embedded-resource": true, "properties": null}),
        ));
        assert!(e["properties"]["kind"].is_object());
    }
}
