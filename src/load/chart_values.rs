//! A release's values checked against its chart's `values.schema.json`, as helm checks them
//! before it renders: the chart's `values.yaml`, then each values file, then `--set` pairs,
//! merged the way helm merges them; each error is placed in the values file that set the value
//! last (the chart's `values.yaml` when none did), on the value's line.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::render::{HelmRelease, Located};
use super::spans::Span;
use super::yaml::Node;
use crate::schema::store::KindSchema;
use crate::schema::validate;

/// The schema errors of the release's values; empty when the chart has no schema (or one that
/// does not compile, which helm reports itself).
pub fn check(release: &HelmRelease) -> Vec<Located> {
    let schema_file = release.chart.join("values.schema.json");
    let Some(schema) = release
        .buffers
        .read_text(&schema_file)
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
    else {
        return Vec::new();
    };
    let Ok(validator) = jsonschema::options().build(&schema) else {
        return Vec::new();
    };
    let schema = KindSchema::custom(validator, Arc::new(schema));
    let files: Vec<(PathBuf, Node)> = std::iter::once(release.chart.join("values.yaml"))
        .chain(release.values.iter().cloned())
        .filter_map(|file| Some((file.clone(), read_values(&file, &release.buffers)?)))
        .collect();
    let mut values = Value::Object(serde_json::Map::new());
    for (_, root) in &files {
        merge(&mut values, root.to_json());
    }
    for pair in &release.set {
        set(&mut values, pair, false);
    }
    for pair in &release.set_string {
        set(&mut values, pair, true);
    }
    validate::findings(&schema, &values)
        .into_iter()
        .map(|finding| {
            let (file, span) = place(&files, &finding.pointer, finding.at_key)
                .unwrap_or_else(|| (release.chart.join("values.yaml"), Span::FIRST_CHAR));
            let mut message = format!(
                "the values of {} do not match the chart's values.schema.json: {}",
                release.stream_name(),
                finding.message
            );
            let pairs = release.set.iter().chain(&release.set_string);
            if let Some(pair) = pairs.rev().find(|p| set_pointer(p) == finding.pointer) {
                message.push_str(&format!(" (`{pair}` is set for the release)"));
            }
            Located {
                file,
                span,
                message,
            }
        })
        .collect()
}

fn read_values(file: &Path, buffers: &crate::load::buffers::Buffers) -> Option<Node> {
    let text = buffers.read_text(file).ok()?;
    let parsed = super::yaml::parse(&text);
    Some(parsed.documents.into_iter().next()?.root)
}

/// Helm's merge of values: mappings key by key, anything else replaced; `null` removes a key.
fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                if value.is_null() {
                    into.remove(&key);
                    continue;
                }
                match into.get_mut(&key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge(existing, value);
                    }
                    _ => {
                        into.insert(key, value);
                    }
                }
            }
        }
        (into, from) => *into = from,
    }
}

/// A `--set a.b=c` pair applied to the values (`--set-string` keeps `c` a string). Pairs with
/// list indexes or escapes are left out: what they set is not checked here.
fn set(values: &mut Value, pair: &str, string: bool) {
    let Some((key, raw)) = pair.split_once('=') else {
        return;
    };
    if key.contains(['[', '\\']) || raw.contains(',') {
        return;
    }
    // As helm's strvals types them: `true`/`false`/`null` in any case, `0`, and integers that
    // do not start with 0 (`0123` stays a string); `null` removes the key.
    let value = if string {
        Value::String(raw.to_owned())
    } else if raw.eq_ignore_ascii_case("true") || raw.eq_ignore_ascii_case("false") {
        Value::Bool(raw.eq_ignore_ascii_case("true"))
    } else if raw.eq_ignore_ascii_case("null") {
        Value::Null
    } else if raw == "0" {
        Value::from(0)
    } else {
        raw.parse::<i64>()
            .ok()
            .filter(|_| !raw.starts_with('0'))
            .map_or_else(|| Value::String(raw.to_owned()), Value::from)
    };
    let mut at = values;
    let mut keys = key.split('.').peekable();
    while let Some(part) = keys.next() {
        let Value::Object(map) = at else { return };
        if keys.peek().is_none() {
            match value {
                Value::Null => map.remove(part),
                value => map.insert(part.to_owned(), value),
            };
            return;
        }
        at = map
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
}

/// The JSON pointer a `--set` pair sets: `/a/b` for `a.b=c`.
fn set_pointer(pair: &str) -> String {
    let key = pair.split_once('=').map_or(pair, |(key, _)| key);
    key.split('.').map(|k| format!("/{k}")).collect()
}

/// The file and span of the value at `pointer`: in the last file that writes it, else the last
/// that writes its nearest ancestor.
fn place(files: &[(PathBuf, Node)], pointer: &str, at_key: bool) -> Option<(PathBuf, Span)> {
    let mut at = pointer;
    loop {
        if let Some((file, root)) = files.iter().rev().find(|(_, root)| root.locate(at).exact) {
            let key = at_key && at == pointer;
            return Some((file.clone(), root.locate_at(at, key).span));
        }
        at = at.rsplit_once('/')?.0;
        if at.is_empty() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_merge_as_helm_merges_them() {
        let mut values = serde_json::json!({"image": {"tag": "1", "repo": "r"}, "gone": 1});
        merge(
            &mut values,
            serde_json::json!({"image": {"tag": "2"}, "gone": null}),
        );
        set(&mut values, "image.pullPolicy=Always", false);
        set(&mut values, "replicas=3", false);
        set(&mut values, "port=8080", true);
        set(&mut values, "zip=0123", false);
        set(&mut values, "image.repo=null", false);
        set(&mut values, "debug=TRUE", false);
        assert_eq!(
            values,
            serde_json::json!({"image": {"tag": "2", "pullPolicy": "Always"}, "replicas": 3, "port": "8080", "zip": "0123", "debug": true})
        );
    }
}
