//! Patches checked as what they are: a strategic-merge patch is a partial object, validated
//! against its target kind's schema without `required` (types, enums and unknown fields stay
//! strict; `$patch` and the other directives are understood); a JSON 6902 patch is a list of
//! RFC 6902 operations, each well formed and with a `path` that exists in the target kind's
//! schema. Per-object rules never run on a patch alone: they run on the rendered result.

use serde_json::{Map, Value as Json, json};

use super::kustomization::{PatchFormat, Target};
use crate::diag::Finding;
use crate::load::object::ObjectRef;
use crate::load::spans::Span;
use crate::load::yaml::{Node, Value};
use crate::rules::Context;
use crate::schema::{store, validate};

/// A finding in a patch's text.
#[derive(Debug, Clone)]
pub struct PatchFinding {
    pub span: Span,
    pub finding: Finding,
    /// The object a strategic-merge patch names.
    pub object: Option<ObjectRef>,
}

/// Checks a patch's text (a file, or an inline `patch:`), returning findings on its own lines.
pub fn check(
    text: &str,
    format: PatchFormat,
    target: Option<&Target>,
    context: &Context,
) -> Vec<PatchFinding> {
    let parsed = crate::load::yaml::parse(text);
    let mut out = Vec::new();
    for document in &parsed.documents {
        let root = &document.root;
        let is_operations = match format {
            PatchFormat::Json6902 => true,
            PatchFormat::StrategicMerge => false,
            PatchFormat::Either => matches!(root.value, Value::Seq(_)),
        };
        if root.is_null() {
            continue;
        }
        if is_operations {
            operations(root, target, context, &mut out);
        } else {
            strategic_merge(root, target, context, &mut out);
        }
    }
    out
}

fn strategic_merge(
    root: &Node,
    target: Option<&Target>,
    context: &Context,
    out: &mut Vec<PatchFinding>,
) {
    let field = |k: &str| root.get(k).and_then(Node::as_str).map(str::to_owned);
    let Some(kind) = field("kind").or_else(|| target.and_then(|t| t.kind.clone())) else {
        return;
    };
    let api_version =
        field("apiVersion").or_else(|| target.and_then(|t| api_version_of(t, &kind, context)));
    let metadata = root.get("metadata");
    let object = api_version.clone().map(|api_version| ObjectRef {
        api_version,
        kind: kind.clone(),
        namespace: metadata
            .and_then(|m| m.get("namespace"))
            .and_then(Node::as_str)
            .map(str::to_owned),
        name: metadata
            .and_then(|m| m.get("name"))
            .and_then(Node::as_str)
            .map(str::to_owned),
    });
    let mut instance = root.to_json();
    let mut directives = Vec::new();
    strip_directives(&mut instance, "", &mut directives);
    for (pointer, message) in directives {
        push(out, root, Finding::new(pointer, message), object.clone());
    }
    let Some(api_version) = api_version else {
        return;
    };
    let Some(schema) = partial_schema(context, &api_version, &kind) else {
        return;
    };
    for finding in validate::findings(&schema, &instance) {
        push(out, root, finding, object.clone());
    }
}

fn push(out: &mut Vec<PatchFinding>, root: &Node, finding: Finding, object: Option<ObjectRef>) {
    let span = root.locate_at(&finding.pointer, finding.at_key).span;
    out.push(PatchFinding {
        span,
        finding,
        object,
    });
}

/// Removes the strategic-merge directives from a patch, reporting malformed ones.
fn strip_directives(value: &mut Json, pointer: &str, problems: &mut Vec<(String, String)>) {
    match value {
        Json::Object(fields) => {
            let keys: Vec<String> = fields.keys().cloned().collect();
            for key in keys {
                let at = format!(
                    "{pointer}/{}",
                    crate::load::spans::escape_pointer_token(&key)
                );
                if key == "$patch" {
                    let ok = fields[&key]
                        .as_str()
                        .is_some_and(|v| matches!(v, "delete" | "replace" | "merge"));
                    if !ok {
                        problems
                            .push((at, "`$patch` must be `delete`, `replace` or `merge`".into()));
                    }
                    fields.remove(&key);
                } else if key == "$retainKeys"
                    || key.starts_with("$setElementOrder/")
                    || key.starts_with("$deleteFromPrimitiveList/")
                {
                    if !fields[&key].is_array() {
                        problems.push((at, format!("`{key}` must be a list")));
                    }
                    fields.remove(&key);
                } else if key.starts_with('$') {
                    problems.push((at, format!("unknown strategic-merge directive `{key}`")));
                    fields.remove(&key);
                } else if let Some(child) = fields.get_mut(&key) {
                    strip_directives(child, &at, problems);
                }
            }
        }
        Json::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                strip_directives(item, &format!("{pointer}/{i}"), problems);
            }
        }
        _ => {}
    }
}

const OPS: &[&str] = &["add", "remove", "replace", "move", "copy", "test"];

fn operations(
    root: &Node,
    target: Option<&Target>,
    context: &Context,
    out: &mut Vec<PatchFinding>,
) {
    let Some(items) = root.as_seq() else {
        let finding = Finding::new("", "a JSON 6902 patch must be a list of operations");
        push(out, root, finding, None);
        return;
    };
    let schema = target.and_then(|t| {
        let kind = t.kind.clone()?;
        let api_version = api_version_of(t, &kind, context)?;
        partial_schema(context, &api_version, &kind)
    });
    for (i, item) in items.iter().enumerate() {
        let at = format!("/{i}");
        let Some(entries) = item.as_map() else {
            push(
                out,
                root,
                Finding::new(at, "an operation must be a mapping with `op` and `path`"),
                None,
            );
            continue;
        };
        for e in entries
            .iter()
            .filter(|e| !matches!(e.key.as_str(), "op" | "path" | "value" | "from"))
        {
            let finding = Finding::new(
                format!("{at}/{}", e.key),
                format!("unknown field \"{}\" in a JSON patch operation", e.key),
            )
            .at_key();
            push(out, root, finding, None);
        }
        let op = item.get("op").and_then(Node::as_str);
        let Some(op) = op.filter(|o| OPS.contains(o)) else {
            let message = match item.get("op") {
                Some(_) => format!("`op` must be one of {}", OPS.join(", ")),
                None => "missing required field \"op\"".to_owned(),
            };
            let pointer = if item.get("op").is_some() {
                format!("{at}/op")
            } else {
                at.clone()
            };
            push(out, root, Finding::new(pointer, message), None);
            continue;
        };
        let mut paths = vec![("path", true)];
        if matches!(op, "move" | "copy") {
            paths.push(("from", false));
        }
        for (field, has_value) in paths {
            let Some(node) = item.get(field) else {
                push(
                    out,
                    root,
                    Finding::new(at.clone(), format!("`{op}` needs `{field}`")),
                    None,
                );
                continue;
            };
            let Some(path) = node.as_str().filter(|p| p.is_empty() || p.starts_with('/')) else {
                let finding = Finding::new(
                    format!("{at}/{field}"),
                    format!("`{field}` must be a JSON pointer (`/spec/replicas`)"),
                );
                push(out, root, finding, None);
                continue;
            };
            let value =
                (has_value && matches!(op, "add" | "replace" | "test")).then(|| item.get("value"));
            if let Some(None) = value {
                push(
                    out,
                    root,
                    Finding::new(at.clone(), format!("`{op}` needs `value`")),
                    None,
                );
                continue;
            }
            if let Some(schema) = &schema {
                for (pointer, finding) in path_findings(schema, path, value.flatten()) {
                    let pointer = match pointer {
                        Place::Path => format!("{at}/{field}"),
                        Place::Value(inner) => format!("{at}/value{inner}"),
                    };
                    let mut finding = finding;
                    finding.pointer = pointer;
                    finding.at_key = false;
                    push(out, root, finding, None);
                }
            }
        }
    }
}

/// Where a finding about an operation belongs.
#[derive(Debug, PartialEq)]
enum Place {
    /// The `path` (or `from`): the pointer names a field the schema lacks.
    Path,
    /// Inside the `value`, at this pointer relative to it.
    Value(String),
}

/// Validates an operation's path (and value) by validating the smallest object that has the
/// value at the path.
fn path_findings(
    schema: &store::KindSchema,
    path: &str,
    value: Option<&Node>,
) -> Vec<(Place, Finding)> {
    let tokens: Vec<String> = path
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect();
    // A numeric token indexes a list, unless the schema has a mapping there (`/data/1`).
    let mut as_key: Vec<bool> = tokens.iter().map(|t| !is_index(t)).collect();
    loop {
        let (at, instance) = smallest_instance(&tokens, &as_key, value);
        let findings = validate::findings(schema, &instance);
        let not_a_list = tokens.iter().enumerate().position(|(i, _)| {
            !as_key[i]
                && tokens[i] != "-"
                && findings.iter().any(|f| {
                    f.pointer == pointer_of(&tokens[..i], &as_key)
                        && f.message.contains("expected object")
                })
        });
        if let Some(i) = not_a_list {
            as_key[i] = true;
            continue;
        }
        let mut out = Vec::new();
        for finding in findings {
            let p = finding.pointer.clone();
            let inside_path = p.len() < at.len() && at.starts_with(&format!("{p}/"))
                || p.is_empty() && !at.is_empty();
            if inside_path || finding.at_key && p == at {
                out.push((Place::Path, finding));
            } else if value.is_some() && (p == at || p.starts_with(&format!("{at}/"))) {
                out.push((Place::Value(p[at.len()..].to_owned()), finding));
            }
        }
        return out;
    }
}

/// The pointer of the smallest object that has the value at the path (lists hold one item
/// where the path indexes them), and that object.
fn smallest_instance(tokens: &[String], as_key: &[bool], value: Option<&Node>) -> (String, Json) {
    let mut instance = value.map_or(Json::Null, Node::to_json);
    for (token, key) in tokens.iter().zip(as_key).rev() {
        instance = if *key {
            let mut map = Map::new();
            map.insert(token.clone(), instance);
            Json::Object(map)
        } else {
            Json::Array(vec![instance])
        };
    }
    if tokens.is_empty() {
        instance = json!({});
    }
    (pointer_of(tokens, as_key), instance)
}

/// The pointer into the smallest object of the tokens: list indexes are all 0.
fn pointer_of(tokens: &[String], as_key: &[bool]) -> String {
    tokens
        .iter()
        .zip(as_key)
        .map(|(t, key)| {
            if *key {
                format!("/{}", crate::load::spans::escape_pointer_token(t))
            } else {
                "/0".to_owned()
            }
        })
        .collect()
}

fn is_index(token: &str) -> bool {
    token == "-" || (!token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()))
}

/// The validator of a kind's patches, if kvet has its schema.
fn partial_schema(
    context: &Context,
    api_version: &str,
    kind: &str,
) -> Option<std::sync::Arc<store::KindSchema>> {
    let version = context.kubernetes_version;
    store::builtin_partial(version, api_version, kind)
        .or_else(|| context.crds.get_partial(version, api_version, kind)?.ok())
}

/// The apiVersion a patch target means: of those that serve its kind (built in, or from a
/// CRD), the one its group and version select — the newest when it names neither.
fn api_version_of(target: &Target, kind: &str, context: &Context) -> Option<String> {
    let selected = |api_version: &str| {
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        target.group.as_deref().is_none_or(|g| g == group)
            && target.version.as_deref().is_none_or(|v| v == version)
    };
    let builtin = crate::schema::builtin::schemas(context.kubernetes_version)
        .ok()
        .and_then(|schemas| {
            schemas
                .kinds
                .iter()
                .filter(|(api_version, kinds)| kinds.contains_key(kind) && selected(api_version))
                .map(|(api_version, _)| api_version.clone())
                .next_back()
        });
    builtin.or_else(|| {
        context
            .crds
            .api_versions(kind)
            .into_iter()
            .find(|a| selected(a))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::location::SchemaLocations;
    use crate::schema::store::CrdStore;

    fn run(text: &str, format: PatchFormat, target: Option<Target>) -> Vec<(u32, u32, String)> {
        let version = crate::schema::builtin::latest();
        let crds = CrdStore::default();
        let locations = SchemaLocations::new(&[], version, None).unwrap();
        let context = Context {
            kubernetes_version: version,
            crds: &crds,
            crds_complete: true,
            catalog: true,
            locations: &locations,
        };
        check(text, format, target.as_ref(), &context)
            .into_iter()
            .map(|f| (f.span.start.line, f.span.start.col, f.finding.message))
            .collect()
    }

    fn deployment() -> Option<Target> {
        Some(Target {
            kind: Some("Deployment".into()),
            ..Target::default()
        })
    }

    #[test]
    fn a_correct_strategic_merge_patch_has_no_finding() {
        let patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - name: web\n        env:\n        - {name: X, value: \"1\"}\n      - $patch: delete\n        name: sidecar\n      $setElementOrder/containers: [{name: web}]\n";
        assert_eq!(run(patch, PatchFormat::StrategicMerge, None), []);
    }

    #[test]
    fn a_misspelt_field_in_a_strategic_merge_patch_is_an_error_on_its_line() {
        let patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: three\n  template:\n    spec:\n      containers:\n      - name: web\n        imagePullPolicyy: Always\n";
        let found = run(patch, PatchFormat::Either, None);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!((found[0].0, found[0].1), (6, 13));
        assert_eq!((found[1].0, found[1].1), (11, 9));
        assert!(found[1].2.contains("imagePullPolicyy"), "{found:?}");
    }

    #[test]
    fn json_patch_paths_must_exist_in_the_target_schema() {
        let patch = "- op: add\n  path: /spec/template/spec/containers/0/volumeMounts/-\n  value: {name: data, mountPath: /data}\n- op: replace\n  path: /spec/template/spec/containers/0/imagePullPolicyy\n  value: Always\n- op: remove\n  path: /spec/replicas\n- op: add\n  path: /spec/replicas\n  value: three\n- op: frob\n  path: /spec\n";
        let found = run(patch, PatchFormat::Json6902, deployment());
        let places: Vec<(u32, u32)> = found.iter().map(|f| (f.0, f.1)).collect();
        assert_eq!(places, [(5, 9), (11, 10), (12, 7)], "{found:?}");
        assert!(found[0].2.contains("imagePullPolicyy"));
    }

    #[test]
    fn numeric_keys_of_mappings_are_keys_not_list_indexes() {
        let target = Some(Target {
            kind: Some("ConfigMap".into()),
            ..Target::default()
        });
        let patch = "- op: add\n  path: /data/1\n  value: x\n- op: add\n  path: /metadata/labels/2024\n  value: v2\n";
        assert_eq!(run(patch, PatchFormat::Json6902, target), []);
    }

    #[test]
    fn json_patch_text_in_json_is_read_too() {
        let patch =
            r#"[{"op": "add", "path": "/spec/template/spec/nodeSelectorr", "value": {"a": "b"}}]"#;
        let found = run(patch, PatchFormat::Either, deployment());
        assert_eq!(found.len(), 1, "{found:?}");
    }
}
