//! Kyverno's `validate.pattern` / `validate.anyPattern` matching, as Kyverno's engine does it
//! (`pkg/engine/validate/validate.go`, `pkg/engine/anchor/{anchor,handlers,anchormap,error}.go`,
//! `pkg/engine/pattern/pattern.go`, `pkg/engine/operator/operator.go`,
//! `pkg/engine/wildcards/wildcards.go`).
//!
//! A pattern is walked against the resource: maps key by key (anchored keys first, then keys
//! whose values hold anchors), lists element by element, scalars through [`value_matches`].
//! Errors carry a kind, because Kyverno decides pass / fail / skip from it: a failed
//! conditional `(key)` or global `<(key)` anchor skips (a list element, or the rule when it
//! reaches the top), a present negation `X(key)` fails, anything else fails.
//!
//! Like Kyverno, a missing key and a `null` value are the same thing (Go's `nil`), pattern
//! numbers are float64 (Kyverno decodes patterns with `encoding/json`) and resource integers
//! are int64 (Kubernetes' unstructured decoder).

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::scalar::{
    contains_wildcard, go_format_float, go_format_float_upper_e, go_format_value, go_parse_float,
    go_type_name, parse_duration_nanos, wildcard_match,
};
use crate::schema::cel_k8s::quantity::Quantity;

/// Verdict of a pattern on a resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// Did not match. `path` is an RFC 6901 JSON pointer into the resource ("/spec/containers/0/image") of the deepest node where the pattern failed: the field whose value is wrong; for a required field that is missing, the pointer of that missing field (its parent exists). `detail`: Kyverno's wording, e.g. "validation error: ... failed at path /spec/containers/0/image/" — give the Kyverno-style path string too (Kyverno ends paths with '/').
    Fail {
        path: String,
        detail: String,
    },
    /// A conditional anchor `(key)` or a global anchor `<(key)` did not hold: Kyverno reports the rule as skipped for this resource.
    Skip {
        path: String,
        detail: String,
    },
}

/// How Kyverno's `validatePatterns` reports a pattern that did not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MismatchKind {
    /// `RuleStatusFail`.
    Fail,
    /// `RuleStatusSkip`: a conditional or global anchor did not hold.
    Skip,
    /// `RuleStatusError`: Kyverno's `PatternError` has an empty path (an anchor key of the
    /// pattern is absent from the resource, or a list pattern is longer than the list).
    Error,
}

/// Everything Kyverno knows about a pattern that did not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    pub kind: MismatchKind,
    /// RFC 6901 pointer of the deepest resource node where matching failed.
    pub pointer: String,
    /// Kyverno's `PatternError.Path` (`/spec/containers/0/image/`); empty for skips and errors.
    pub kyverno_path: String,
    /// Kyverno's error text (`resource value 'x' does not match 'y' at path /a/`).
    pub message: String,
}

pub fn validate(resource: &Value, pattern: &Value) -> Outcome {
    match match_pattern(resource, pattern) {
        Ok(()) => Outcome::Pass,
        Err(mismatch) => mismatch_outcome(mismatch),
    }
}

/// anyPattern: pass if any pattern passes; if none passes: skip when every pattern was skipped, else fail (report the failure of the first failing pattern, and a detail naming all like Kyverno's "validation rule 'x' anyPattern[0] failed at path ... anyPattern[1] failed ...").
pub fn validate_any(resource: &Value, patterns: &[Value]) -> Outcome {
    let mut skipped = Vec::new();
    let mut failed = Vec::new();
    for (index, pattern) in patterns.iter().enumerate() {
        match match_pattern(resource, pattern) {
            Ok(()) => return Outcome::Pass,
            Err(mismatch) if mismatch.kind == MismatchKind::Skip => skipped.push((index, mismatch)),
            Err(mismatch) => failed.push((index, mismatch)),
        }
    }
    if let Some((_, first)) = failed.first() {
        let parts: Vec<String> = failed
            .iter()
            .map(|(index, mismatch)| any_pattern_failure(*index, mismatch))
            .collect();
        return Outcome::Fail {
            path: first.pointer.clone(),
            detail: format!("validation error: {}", parts.join(" ")),
        };
    }
    match skipped.first() {
        Some((_, first)) => {
            let parts: Vec<String> = skipped
                .iter()
                .map(|(index, mismatch)| {
                    format!("anyPattern[{index}] skipped: {}", mismatch.message)
                })
                .collect();
            Outcome::Skip {
                path: first.pointer.clone(),
                detail: parts.join(" "),
            }
        }
        None => Outcome::Pass,
    }
}

/// Kyverno's `MatchPattern`: `Ok` when the resource matches, else how and where it did not.
pub fn match_pattern(resource: &Value, pattern: &Value) -> Result<(), Mismatch> {
    let mut walk = Walk::default();
    let Err(error) = walk.element(resource, pattern, &Location::root()) else {
        return Ok(());
    };
    let (kind, kyverno_path) = if error.kind.is_skip() {
        (MismatchKind::Skip, String::new())
    } else if error.kind == ErrorKind::Negation {
        (MismatchKind::Fail, error.kyverno_path)
    } else if walk.anchor_keys_missing() || error.kyverno_path.is_empty() {
        (MismatchKind::Error, String::new())
    } else {
        (MismatchKind::Fail, error.kyverno_path)
    };
    Err(Mismatch {
        kind,
        pointer: error.pointer,
        kyverno_path,
        message: error.message,
    })
}

/// Kyverno's `buildErrorMessage` for a failed rule (before variables in `message` are
/// substituted): `validation error: <message>. rule <name> failed at path <path>`.
pub fn rule_failure_message(rule_name: &str, message: &str, kyverno_path: &str) -> String {
    if message.is_empty() {
        return format!("validation error: rule {rule_name} failed at path {kyverno_path}");
    }
    let period = if message.ends_with('.') { "" } else { "." };
    format!("validation error: {message}{period} rule {rule_name} failed at path {kyverno_path}")
}

/// Whether a scalar value matches a scalar pattern (used also by other modules)
pub fn value_matches(value: &Value, pattern: &Value) -> bool {
    match pattern {
        Value::Bool(expected) => value.as_bool() == Some(*expected),
        Value::Number(number) => number
            .as_f64()
            .is_some_and(|expected| float_pattern_matches(value, expected)),
        Value::Null => nil_pattern_matches(value),
        Value::Object(_) => value.is_object(),
        Value::String(text) => string_pattern_matches(value, text),
        Value::Array(_) => false,
    }
}

fn mismatch_outcome(mismatch: Mismatch) -> Outcome {
    match mismatch.kind {
        MismatchKind::Skip => Outcome::Skip {
            path: mismatch.pointer,
            detail: mismatch.message,
        },
        MismatchKind::Fail => Outcome::Fail {
            detail: format!(
                "validation error: {} failed at path {}",
                mismatch.message, mismatch.kyverno_path
            ),
            path: mismatch.pointer,
        },
        MismatchKind::Error => Outcome::Fail {
            detail: format!("validation error: execution error: {}", mismatch.message),
            path: mismatch.pointer,
        },
    }
}

/// One entry of Kyverno's anyPattern failure message.
fn any_pattern_failure(index: usize, mismatch: &Mismatch) -> String {
    if mismatch.kyverno_path.is_empty() {
        format!("anyPattern[{index}] failed: {}", mismatch.message)
    } else {
        format!(
            "anyPattern[{index}] failed at path {}",
            mismatch.kyverno_path
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Tree walk (validate.go, handlers.go)
// ---------------------------------------------------------------------------------------------

static NULL: Value = Value::Null;

/// The anchor kinds of `anchor.go`; `(key)` is a condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AnchorKind {
    Condition,
    Global,
    Negation,
    AddIfNotPresent,
    Equality,
    Existence,
}

impl AnchorKind {
    fn modifier(self) -> &'static str {
        match self {
            AnchorKind::Condition => "",
            AnchorKind::Global => "<",
            AnchorKind::Negation => "X",
            AnchorKind::AddIfNotPresent => "+",
            AnchorKind::Equality => "=",
            AnchorKind::Existence => "^",
        }
    }
}

/// Kyverno's `anchor.Parse`: `(k)`, `<(k)`, `X(k)`, `+(k)`, `=(k)`, `^(k)`. Like Kyverno it
/// only checks the first and last characters.
fn parse_anchor(key: &str) -> Option<(AnchorKind, &str)> {
    if key.len() < 2 || !key.ends_with(')') {
        return None;
    }
    let (kind, start) = match key.as_bytes().first()? {
        b'(' => (AnchorKind::Condition, 1),
        b'<' => (AnchorKind::Global, 2),
        b'X' => (AnchorKind::Negation, 2),
        b'+' => (AnchorKind::AddIfNotPresent, 2),
        b'=' => (AnchorKind::Equality, 2),
        b'^' => (AnchorKind::Existence, 2),
        _ => return None,
    };
    let inner = key.get(start..key.len() - 1)?;
    (!inner.is_empty()).then_some((kind, inner))
}

fn anchor_kind(key: &str) -> Option<AnchorKind> {
    parse_anchor(key).map(|(kind, _)| kind)
}

/// Anchors `validateMap` evaluates in its first phase (`GetAnchorsResourcesFromMap`).
fn is_first_phase_anchor(key: &str) -> bool {
    matches!(
        anchor_kind(key),
        Some(
            AnchorKind::Condition
                | AnchorKind::Existence
                | AnchorKind::Equality
                | AnchorKind::Negation
        )
    )
}

/// Kyverno's `hasNestedAnchors`: whether a pattern value holds any validate anchor.
fn has_nested_anchors(pattern: &Value) -> bool {
    match pattern {
        Value::Object(map) => map.iter().any(|(key, value)| {
            (is_first_phase_anchor(key) || anchor_kind(key) == Some(AnchorKind::Global))
                || has_nested_anchors(value)
        }),
        Value::Array(items) => items.iter().any(has_nested_anchors),
        _ => false,
    }
}

/// Why a subtree did not match; `is_skip` and the negation check mirror `error.go`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ErrorKind {
    Plain,
    Conditional,
    Global,
    Negation,
    /// A list whose elements were all skipped (validate.go's `PatternError{Skip: true}`).
    SkippedList,
}

impl ErrorKind {
    fn is_skip(self) -> bool {
        matches!(
            self,
            ErrorKind::Conditional | ErrorKind::Global | ErrorKind::SkippedList
        )
    }
}

#[derive(Debug, Clone)]
struct WalkError {
    kind: ErrorKind,
    message: String,
    /// The path Kyverno returns next to the error.
    kyverno_path: String,
    pointer: String,
}

type WalkResult = Result<(), WalkError>;

/// A node's position: Kyverno's path (`/spec/containers/0/`) and the JSON pointer.
#[derive(Debug, Clone)]
struct Location {
    kyverno: String,
    pointer: String,
}

impl Location {
    fn root() -> Location {
        Location {
            kyverno: "/".to_string(),
            pointer: String::new(),
        }
    }

    fn child(&self, key: &str) -> Location {
        Location {
            kyverno: format!("{}{key}/", self.kyverno),
            pointer: format!(
                "{}/{}",
                self.pointer,
                key.replace('~', "~0").replace('/', "~1")
            ),
        }
    }

    fn index(&self, index: usize) -> Location {
        self.child(&index.to_string())
    }

    fn error(&self, kind: ErrorKind, message: String) -> WalkError {
        WalkError {
            kind,
            message,
            kyverno_path: self.kyverno.clone(),
            pointer: self.pointer.clone(),
        }
    }
}

/// State shared by one `MatchPattern` call: Kyverno's `AnchorMap`, which records for every
/// condition, existence and negation anchor of the pattern whether its key was ever present.
#[derive(Default)]
struct Walk {
    anchor_seen: BTreeMap<String, bool>,
}

impl Walk {
    /// `AnchorMap.KeysAreMissing`: a condition or existence anchor whose key never appeared.
    fn anchor_keys_missing(&self) -> bool {
        self.anchor_seen
            .iter()
            .any(|(key, seen)| !seen && anchor_kind(key) != Some(AnchorKind::Negation))
    }

    /// `AnchorMap.CheckAnchorInResource`.
    fn record_anchor_keys(&mut self, pattern: &Map<String, Value>, resource: &Map<String, Value>) {
        for key in pattern.keys() {
            let Some((kind, name)) = parse_anchor(key) else {
                continue;
            };
            if !matches!(
                kind,
                AnchorKind::Condition | AnchorKind::Existence | AnchorKind::Negation
            ) {
                continue;
            }
            let seen = self.anchor_seen.entry(key.clone()).or_insert(false);
            *seen = *seen || resource.contains_key(name);
        }
    }

    /// `validateResourceElement`.
    fn element(&mut self, resource: &Value, pattern: &Value, at: &Location) -> WalkResult {
        match pattern {
            Value::Object(pattern_map) => match resource {
                Value::Object(resource_map) => {
                    self.record_anchor_keys(pattern_map, resource_map);
                    self.map(resource_map, pattern_map, at)
                }
                _ => Err(at.error(
                    ErrorKind::Plain,
                    format!(
                        "pattern and resource have different structures. Path: {}. Expected map[string]interface {{}}, found {}",
                        at.kyverno,
                        go_type_name(resource)
                    ),
                )),
            },
            Value::Array(pattern_items) => match resource {
                Value::Array(resource_items) => self.array(resource_items, pattern_items, at),
                _ => Err(at.error(
                    ErrorKind::Plain,
                    format!(
                        "validation rule failed at path {}, resource does not satisfy the expected overlay pattern",
                        at.kyverno
                    ),
                )),
            },
            _ => scalar_element(resource, pattern, at),
        }
    }

    /// `validateMap`: anchors first (sorted by key), then the other keys, those holding
    /// anchors (and global anchors) ahead of plain ones.
    fn map(
        &mut self,
        resource: &Map<String, Value>,
        pattern: &Map<String, Value>,
        at: &Location,
    ) -> WalkResult {
        let pattern = expand_metadata_wildcards(pattern, resource);
        let mut anchors: Vec<&String> = Vec::new();
        let mut front: Vec<&String> = Vec::new();
        let mut back: Vec<&String> = Vec::new();
        for (key, value) in pattern.iter() {
            if is_first_phase_anchor(key) {
                anchors.push(key);
            } else if anchor_kind(key) == Some(AnchorKind::Global) || has_nested_anchors(value) {
                front.push(key);
            } else {
                back.push(key);
            }
        }
        anchors.sort();
        // Kyverno's order within `front` follows Go map iteration; globals go first here.
        front.sort_by_key(|key| (anchor_kind(key) != Some(AnchorKind::Global), *key));
        back.sort();
        for key in anchors.into_iter().chain(front).chain(back) {
            let value = pattern.get(key.as_str()).unwrap_or(&NULL);
            self.key(key, value, resource, at)?;
        }
        Ok(())
    }

    /// `CreateElementHandler(...).Handle(...)`.
    fn key(
        &mut self,
        key: &str,
        pattern: &Value,
        resource: &Map<String, Value>,
        at: &Location,
    ) -> WalkResult {
        match parse_anchor(key) {
            Some((AnchorKind::Condition, name)) => self.condition(name, pattern, resource, at),
            Some((AnchorKind::Global, name)) => self.global(name, pattern, resource, at),
            Some((AnchorKind::Existence, name)) => self.existence(name, pattern, resource, at),
            Some((AnchorKind::Equality, name)) => match resource.get(name) {
                Some(value) => self.element(value, pattern, &at.child(name)),
                None => Ok(()),
            },
            Some((AnchorKind::Negation, name)) => negation(name, resource, at),
            // `+(key)` has no validate handler: Kyverno looks the literal key up.
            Some((AnchorKind::AddIfNotPresent, _)) | None => {
                self.plain_key(key, pattern, resource, at)
            }
        }
    }

    /// `defaultHandler`: `"*"` only requires a non-null value; other patterns recurse.
    fn plain_key(
        &mut self,
        key: &str,
        pattern: &Value,
        resource: &Map<String, Value>,
        at: &Location,
    ) -> WalkResult {
        let value = resource.get(key).unwrap_or(&NULL);
        let field = at.child(key);
        if pattern.as_str() == Some("*") {
            if value.is_null() {
                return Err(WalkError {
                    kind: ErrorKind::Plain,
                    message: format!("{}/{key} not found", at.kyverno),
                    kyverno_path: at.kyverno.clone(),
                    pointer: field.pointer,
                });
            }
            return Ok(());
        }
        self.element(value, pattern, &field)
    }

    /// `conditionAnchorHandler`: a missing key or a mismatch skips.
    fn condition(
        &mut self,
        name: &str,
        pattern: &Value,
        resource: &Map<String, Value>,
        at: &Location,
    ) -> WalkResult {
        let field = at.child(name);
        let Some(value) = resource.get(name) else {
            return Err(field.error(
                ErrorKind::Conditional,
                "conditional anchor mismatch: conditional anchor key doesn't exist in the resource"
                    .to_string(),
            ));
        };
        self.element(value, pattern, &field)
            .map_err(|inner| WalkError {
                kind: ErrorKind::Conditional,
                message: format!("conditional anchor mismatch: {}", inner.message),
                ..inner
            })
    }

    /// `globalAnchorHandler`: a present key that does not match skips the whole rule.
    fn global(
        &mut self,
        name: &str,
        pattern: &Value,
        resource: &Map<String, Value>,
        at: &Location,
    ) -> WalkResult {
        let Some(value) = resource.get(name) else {
            return Ok(());
        };
        self.element(value, pattern, &at.child(name))
            .map_err(|inner| WalkError {
                kind: ErrorKind::Global,
                message: format!("global anchor mismatch: {}", inner.message),
                ..inner
            })
    }

    /// `existenceHandler`: every map of the pattern list must match some element.
    fn existence(
        &mut self,
        name: &str,
        pattern: &Value,
        resource: &Map<String, Value>,
        at: &Location,
    ) -> WalkResult {
        let Some(value) = resource.get(name) else {
            return Ok(());
        };
        let field = at.child(name);
        let Value::Array(resource_items) = value else {
            return Err(field.error(
                ErrorKind::Plain,
                format!(
                    "invalid resource type {}: Existence ^ () anchor can be used only on list/array type resource",
                    go_type_name(value)
                ),
            ));
        };
        let Value::Array(pattern_items) = pattern else {
            return Err(field.error(
                ErrorKind::Plain,
                format!(
                    "invalid pattern type {}: Pattern has to be of list to compare against resource",
                    pattern_type_name(pattern)
                ),
            ));
        };
        for pattern_item in pattern_items {
            if !pattern_item.is_object() {
                return Err(field.error(
                    ErrorKind::Plain,
                    format!(
                        "invalid pattern type {}: Pattern has to be of type map to compare against items in resource",
                        pattern_type_name(pattern)
                    ),
                ));
            }
            let found = resource_items.iter().enumerate().any(|(index, item)| {
                self.element(item, pattern_item, &field.index(index))
                    .is_ok()
            });
            if !found {
                return Err(field.error(
                    ErrorKind::Plain,
                    format!(
                        "existence anchor validation failed at path {}",
                        field.kyverno
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `validateArray`: the first pattern element decides how the list is matched.
    fn array(&mut self, resource: &[Value], pattern: &[Value], at: &Location) -> WalkResult {
        let Some(first) = pattern.first() else {
            return Err(at.error(ErrorKind::Plain, "pattern Array empty".to_string()));
        };
        match first {
            // Only the first map applies, to every element.
            Value::Object(_) => self.each_element(resource.iter().map(|item| (item, first)), at),
            Value::Array(_) => {
                if resource.len() < pattern.len() {
                    return Err(WalkError {
                        kind: ErrorKind::Plain,
                        message: format!(
                            "validate Array failed, array length mismatch, resource Array len is {} and pattern Array len is {}",
                            resource.len(),
                            pattern.len()
                        ),
                        kyverno_path: String::new(),
                        pointer: at.pointer.clone(),
                    });
                }
                self.each_element(resource.iter().zip(pattern), at)
            }
            // A scalar first element applies to every element of the list.
            _ => scalar_list(resource, first, at),
        }
    }

    /// `validateArrayOfMaps` and the element-wise branch of `validateArray`: skipped elements
    /// do not count; the list is skipped when every element was.
    fn each_element<'a>(
        &mut self,
        pairs: impl Iterator<Item = (&'a Value, &'a Value)>,
        at: &Location,
    ) -> WalkResult {
        let mut applied = 0usize;
        let mut skipped: Vec<WalkError> = Vec::new();
        for (index, (item, pattern)) in pairs.enumerate() {
            match self.element(item, pattern, &at.index(index)) {
                Ok(()) => applied += 1,
                Err(error) if error.kind.is_skip() => skipped.push(error),
                Err(error) => return Err(error),
            }
        }
        match skipped.first() {
            Some(first) if applied == 0 => {
                let messages: Vec<&str> = skipped.iter().map(|e| e.message.as_str()).collect();
                Err(WalkError {
                    kind: ErrorKind::SkippedList,
                    message: messages.join("; "),
                    kyverno_path: at.kyverno.clone(),
                    pointer: first.pointer.clone(),
                })
            }
            _ => Ok(()),
        }
    }
}

/// `negationHandler`: the key must be absent; the pattern value is ignored.
fn negation(name: &str, resource: &Map<String, Value>, at: &Location) -> WalkResult {
    if !resource.contains_key(name) {
        return Ok(());
    }
    let field = at.child(name);
    let message = format!(
        "negation anchor matched in resource: {} is not allowed",
        field.kyverno
    );
    Err(field.error(ErrorKind::Negation, message))
}

/// The scalar branch of `validateResourceElement`: a list resource must match element-wise.
fn scalar_element(resource: &Value, pattern: &Value, at: &Location) -> WalkResult {
    if let Value::Array(items) = resource {
        return scalar_list(items, pattern, at);
    }
    if value_matches(resource, pattern) {
        return Ok(());
    }
    Err(at.error(ErrorKind::Plain, scalar_mismatch(resource, pattern, at)))
}

fn scalar_list(items: &[Value], pattern: &Value, at: &Location) -> WalkResult {
    match items.iter().position(|item| !value_matches(item, pattern)) {
        None => Ok(()),
        Some(index) => {
            let whole = Value::Array(items.to_vec());
            Err(WalkError {
                kind: ErrorKind::Plain,
                message: scalar_mismatch(&whole, pattern, at),
                kyverno_path: at.kyverno.clone(),
                pointer: at.index(index).pointer,
            })
        }
    }
}

fn scalar_mismatch(resource: &Value, pattern: &Value, at: &Location) -> String {
    format!(
        "resource value '{}' does not match '{}' at path {}",
        go_format_value(resource),
        pattern_display(pattern),
        at.kyverno
    )
}

/// `%v` of a pattern value: Kyverno decodes pattern numbers as float64.
fn pattern_display(pattern: &Value) -> String {
    match pattern {
        Value::Number(number) => go_format_float(number.as_f64().unwrap_or(0.0)),
        other => go_format_value(other),
    }
}

/// `%T` of a pattern value (numbers are float64).
fn pattern_type_name(pattern: &Value) -> &'static str {
    match pattern {
        Value::Number(_) => "float64",
        other => go_type_name(other),
    }
}

// ---------------------------------------------------------------------------------------------
// Metadata wildcards (wildcards.go ExpandInMetadata)
// ---------------------------------------------------------------------------------------------

/// Kyverno's `ExpandInMetadata`: in `metadata.labels` / `metadata.annotations` of the pattern,
/// a key with `*` or `?` is replaced by the first resource key it matches (anchors kept).
fn expand_metadata_wildcards<'a>(
    pattern: &'a Map<String, Value>,
    resource: &Map<String, Value>,
) -> Cow<'a, Map<String, Value>> {
    let Some((metadata_key, Value::Object(pattern_metadata))) = tagged_entry(pattern, "metadata")
    else {
        return Cow::Borrowed(pattern);
    };
    let Some(Value::Object(resource_metadata)) = resource.get("metadata") else {
        return Cow::Borrowed(pattern);
    };
    let mut metadata = pattern_metadata.clone();
    let mut changed = false;
    for tag in ["labels", "annotations"] {
        if let Some((key, expanded)) = expand_tag(tag, &pattern_metadata, resource_metadata) {
            metadata.insert(key, Value::Object(expanded));
            changed = true;
        }
    }
    if !changed {
        return Cow::Borrowed(pattern);
    }
    let mut expanded = pattern.clone();
    expanded.insert(metadata_key, Value::Object(metadata));
    Cow::Owned(expanded)
}

/// Kyverno's `getPatternValue`: the entry for `tag`, plain or anchored.
fn tagged_entry(map: &Map<String, Value>, tag: &str) -> Option<(String, Value)> {
    if let Some(value) = map.get(tag) {
        return Some((tag.to_string(), value.clone()));
    }
    map.iter()
        .find(|(key, _)| parse_anchor(key).is_some_and(|(_, name)| name == tag))
        .map(|(key, value)| (key.clone(), value.clone()))
}

/// Kyverno's `getValueAsStringMap`: the entry for `tag` when it is a map of strings.
fn string_map(map: &Map<String, Value>, tag: &str) -> Option<(String, Map<String, Value>)> {
    let (key, value) = tagged_entry(map, tag)?;
    let Value::Object(entries) = value else {
        return None;
    };
    entries
        .values()
        .all(Value::is_string)
        .then_some((key, entries))
}

fn expand_tag(
    tag: &str,
    pattern_metadata: &Map<String, Value>,
    resource_metadata: &Map<String, Value>,
) -> Option<(String, Map<String, Value>)> {
    let (pattern_key, pattern_entries) = string_map(pattern_metadata, tag)?;
    let (_, resource_entries) = string_map(resource_metadata, tag)?;
    let mut expanded = Map::new();
    for (key, value) in pattern_entries {
        let new_key = if contains_wildcard(&key) {
            expand_wildcard_key(&key, &resource_entries)
        } else {
            key
        };
        expanded.insert(new_key, value);
    }
    Some((pattern_key, expanded))
}

fn expand_wildcard_key(key: &str, resource_entries: &Map<String, Value>) -> String {
    let (kind, name) = match parse_anchor(key) {
        Some((kind, name)) => (Some(kind), name),
        None => (None, key),
    };
    let matched = resource_entries
        .keys()
        .find(|candidate| wildcard_match(name, candidate))
        .map_or(name, String::as_str);
    match kind {
        Some(kind) => format!("{}({matched})", kind.modifier()),
        None => matched.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Scalars (pattern.go, operator.go)
// ---------------------------------------------------------------------------------------------

/// `validateFloatPattern`: integers must equal a whole pattern, strings are parsed as floats.
fn float_pattern_matches(value: &Value, expected: f64) -> bool {
    match value {
        Value::Number(number) => match number.as_i64() {
            Some(int) => expected.fract() == 0.0 && expected as i64 == int,
            None => number.as_f64() == Some(expected),
        },
        Value::String(text) => go_parse_float(text) == Some(expected),
        _ => false,
    }
}

/// `validateNilPattern`: zero values match `null`.
fn nil_pattern_matches(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(number) => number.as_f64() == Some(0.0),
        Value::String(text) => text.is_empty(),
        Value::Array(_) | Value::Object(_) => false,
    }
}

/// `validateStringPatterns`: `|` alternatives of `&` conjunctions of operator conditions.
fn string_pattern_matches(value: &Value, pattern: &str) -> bool {
    if value.as_str() == Some(pattern) {
        return true;
    }
    pattern.split('|').any(|alternative| {
        alternative
            .trim_matches(' ')
            .split('&')
            .all(|condition| condition_matches(value, condition.trim_matches(' ')))
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operator {
    Equal,
    NotEqual,
    More,
    Less,
    MoreEqual,
    LessEqual,
    InRange,
    NotInRange,
}

impl Operator {
    fn prefix_len(self) -> usize {
        match self {
            Operator::Equal | Operator::InRange | Operator::NotInRange => 0,
            Operator::NotEqual | Operator::More | Operator::Less => 1,
            Operator::MoreEqual | Operator::LessEqual => 2,
        }
    }

    fn accepts(self, ordering: Ordering) -> bool {
        match self {
            Operator::Equal => ordering.is_eq(),
            Operator::NotEqual => ordering.is_ne(),
            Operator::More => ordering.is_gt(),
            Operator::Less => ordering.is_lt(),
            Operator::MoreEqual => ordering.is_ge(),
            Operator::LessEqual => ordering.is_le(),
            Operator::InRange | Operator::NotInRange => false,
        }
    }
}

/// Go's `\d` is ASCII; the ranges are `operator.InRangeRegex` / `NotInRangeRegex`.
static IN_RANGE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^([-|+]?[0-9]+(?:\.[0-9]+)?[A-Za-z]*)-([-|+]?[0-9]+(?:\.[0-9]+)?[A-Za-z]*)$").ok()
});
static NOT_IN_RANGE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^([-|+]?[0-9]+(?:\.[0-9]+)?[A-Za-z]*)!-([-|+]?[0-9]+(?:\.[0-9]+)?[A-Za-z]*)$").ok()
});

/// The two endpoints of a range pattern.
fn range_endpoints<'a>(
    regex: &LazyLock<Option<Regex>>,
    pattern: &'a str,
) -> Option<(&'a str, &'a str)> {
    let captures = regex.as_ref()?.captures(pattern)?;
    Some((captures.get(1)?.as_str(), captures.get(2)?.as_str()))
}

/// `GetOperatorFromStringPattern`.
fn operator_of(pattern: &str) -> Operator {
    if pattern.len() < 2 {
        return Operator::Equal;
    }
    if pattern.starts_with(">=") {
        Operator::MoreEqual
    } else if pattern.starts_with("<=") {
        Operator::LessEqual
    } else if pattern.starts_with('>') {
        Operator::More
    } else if pattern.starts_with('<') {
        Operator::Less
    } else if pattern.starts_with('!') {
        Operator::NotEqual
    } else if range_endpoints(&NOT_IN_RANGE, pattern).is_some() {
        Operator::NotInRange
    } else if range_endpoints(&IN_RANGE, pattern).is_some() {
        Operator::InRange
    } else {
        Operator::Equal
    }
}

/// `validateStringPattern`: ranges expand to two comparisons; other operators compare the
/// operand as a duration, else a quantity, else a wildcard string.
fn condition_matches(value: &Value, condition: &str) -> bool {
    match operator_of(condition) {
        Operator::InRange => range_endpoints(&IN_RANGE, condition).is_some_and(|(low, high)| {
            condition_matches(value, &format!(">= {low}"))
                && condition_matches(value, &format!("<= {high}"))
        }),
        Operator::NotInRange => {
            range_endpoints(&NOT_IN_RANGE, condition).is_some_and(|(low, high)| {
                condition_matches(value, &format!("< {low}"))
                    || condition_matches(value, &format!("> {high}"))
            })
        }
        operator => {
            let operand = condition.get(operator.prefix_len()..).unwrap_or("").trim();
            compare_durations(value, operand, operator)
                .or_else(|| compare_quantities(value, operand, operator))
                .unwrap_or_else(|| compare_strings(value, operand, operator))
        }
    }
}

/// Kyverno's `convertNumberToString`: `nil` is "0", float64 prints with `%f`.
fn number_text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::Null => Some(Cow::Borrowed("0")),
        Value::String(text) => Some(Cow::Borrowed(text)),
        Value::Number(number) => Some(Cow::Owned(match number.as_i64() {
            Some(int) => int.to_string(),
            None => format!("{:.6}", number.as_f64().unwrap_or(0.0)),
        })),
        Value::Bool(_) | Value::Array(_) | Value::Object(_) => None,
    }
}

/// `compareDuration`: `None` when pattern or value is not a duration.
fn compare_durations(value: &Value, operand: &str, operator: Operator) -> Option<bool> {
    let expected = parse_duration_nanos(operand)?;
    let actual = parse_duration_nanos(&number_text(value)?)?;
    Some(operator.accepts(actual.cmp(&expected)))
}

/// `compareQuantity`: `None` when pattern or value is not a quantity.
fn compare_quantities(value: &Value, operand: &str, operator: Operator) -> Option<bool> {
    let expected = Quantity::parse(operand)?;
    let actual = Quantity::parse(&number_text(value)?)?;
    Some(operator.accepts(actual.compare(&expected)))
}

/// `compareString`: only equality operators apply, as wildcard matches on the value's text.
fn compare_strings(value: &Value, operand: &str, operator: Operator) -> bool {
    if !matches!(operator, Operator::Equal | Operator::NotEqual) {
        return false;
    }
    let text = match value {
        Value::String(text) => Cow::Borrowed(text.as_str()),
        Value::Bool(b) => Cow::Owned(b.to_string()),
        Value::Number(number) => Cow::Owned(match number.as_i64() {
            Some(int) => int.to_string(),
            None => go_format_float_upper_e(number.as_f64().unwrap_or(0.0)),
        }),
        Value::Null | Value::Array(_) | Value::Object(_) => return false,
    };
    wildcard_match(operand, &text) == (operator == Operator::Equal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fail_at(outcome: &Outcome) -> Option<&str> {
        match outcome {
            Outcome::Fail { path, .. } => Some(path),
            _ => None,
        }
    }

    fn is_skip(outcome: &Outcome) -> bool {
        matches!(outcome, Outcome::Skip { .. })
    }

    fn pod(containers: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": containers}})
    }

    #[test]
    fn plain_keys_must_match() {
        let resource = pod(json!([{"name": "a", "image": "nginx:latest"}]));
        let pattern = json!({"spec": {"containers": [{"image": "!*:latest"}]}});
        let outcome = validate(&resource, &pattern);
        assert_eq!(fail_at(&outcome), Some("/spec/containers/0/image"));
        let Outcome::Fail { detail, .. } = outcome else {
            return;
        };
        assert_eq!(
            detail,
            "validation error: resource value 'nginx:latest' does not match '!*:latest' at path /spec/containers/0/image/ failed at path /spec/containers/0/image/"
        );
        let good = pod(json!([{"name": "a", "image": "nginx:1.25"}]));
        assert_eq!(validate(&good, &pattern), Outcome::Pass);
    }

    #[test]
    fn missing_required_field_points_at_the_field() {
        let resource = json!({"metadata": {"name": "x"}});
        let pattern = json!({"metadata": {"labels": {"app": "?*"}}});
        assert_eq!(
            fail_at(&validate(&resource, &pattern)),
            Some("/metadata/labels")
        );
        let mismatch = match_pattern(&resource, &pattern).err();
        assert_eq!(
            mismatch.map(|m| m.kyverno_path),
            Some("/metadata/labels/".to_string())
        );
    }

    #[test]
    fn star_requires_a_non_null_value_and_reports_the_parent_path() {
        let pattern = json!({"metadata": {"labels": {"app.kubernetes.io/name": "*"}}});
        let resource = json!({"metadata": {"labels": {"other": "x"}}});
        let mismatch = match_pattern(&resource, &pattern).err();
        assert_eq!(
            mismatch,
            Some(Mismatch {
                kind: MismatchKind::Fail,
                pointer: "/metadata/labels/app.kubernetes.io~1name".to_string(),
                kyverno_path: "/metadata/labels/".to_string(),
                message: "/metadata/labels//app.kubernetes.io/name not found".to_string(),
            })
        );
        let empty = json!({"metadata": {"labels": {"app.kubernetes.io/name": ""}}});
        assert_eq!(validate(&empty, &pattern), Outcome::Pass);
        let required = json!({"metadata": {"labels": {"app.kubernetes.io/name": "?*"}}});
        assert!(fail_at(&validate(&empty, &required)).is_some());
        let null = json!({"metadata": {"labels": {"app.kubernetes.io/name": null}}});
        assert!(fail_at(&validate(&null, &pattern)).is_some());
    }

    #[test]
    fn equality_anchor_checks_only_present_keys() {
        let pattern = json!({"spec": {"=(hostNetwork)": false}});
        assert_eq!(validate(&json!({"spec": {}}), &pattern), Outcome::Pass);
        assert_eq!(
            validate(&json!({"spec": {"hostNetwork": false}}), &pattern),
            Outcome::Pass
        );
        let outcome = validate(&json!({"spec": {"hostNetwork": true}}), &pattern);
        assert_eq!(fail_at(&outcome), Some("/spec/hostNetwork"));
    }

    #[test]
    fn negation_anchor_forbids_the_key_whatever_the_value() {
        let pattern = json!({"spec": {"X(hostPath)": null}});
        assert_eq!(validate(&json!({"spec": {}}), &pattern), Outcome::Pass);
        let mismatch = match_pattern(&json!({"spec": {"hostPath": {"path": "/"}}}), &pattern).err();
        assert_eq!(
            mismatch,
            Some(Mismatch {
                kind: MismatchKind::Fail,
                pointer: "/spec/hostPath".to_string(),
                kyverno_path: "/spec/hostPath/".to_string(),
                message: "negation anchor matched in resource: /spec/hostPath/ is not allowed"
                    .to_string(),
            })
        );
    }

    #[test]
    fn existence_anchor_needs_one_matching_element_per_pattern_map() {
        let pattern = json!({"spec": {"^(containers)": [{"image": "nginx*"}, {"name": "side*"}]}});
        let both = pod(json!([{"name": "a", "image": "nginx"}, {"name": "sidecar", "image": "x"}]));
        assert_eq!(validate(&both, &pattern), Outcome::Pass);
        let no_sidecar = pod(json!([{"name": "a", "image": "nginx"}]));
        let outcome = validate(&no_sidecar, &pattern);
        assert_eq!(fail_at(&outcome), Some("/spec/containers"));
        // Absent key: nothing to check, but Kyverno reports an execution error when another
        // key fails, because the anchor's key never appeared.
        assert_eq!(validate(&json!({"spec": {}}), &pattern), Outcome::Pass);
        let other = json!({"spec": {"^(containers)": [{"image": "x"}], "a": "b"}});
        let mismatch = match_pattern(&json!({"spec": {"a": "c"}}), &other).err();
        assert_eq!(mismatch.map(|m| m.kind), Some(MismatchKind::Error));
        let not_a_list = validate(&json!({"spec": {"containers": "x"}}), &pattern);
        assert_eq!(fail_at(&not_a_list), Some("/spec/containers"));
    }

    #[test]
    fn failed_conditional_anchor_skips_the_rule() {
        let pattern = json!({"metadata": {"(name)": "prod-*"}, "spec": {"replicas": ">1"}});
        let skipped = json!({"metadata": {"name": "dev"}, "spec": {"replicas": 1}});
        let outcome = validate(&skipped, &pattern);
        assert!(is_skip(&outcome), "{outcome:?}");
        let Outcome::Skip { path, detail } = outcome else {
            return;
        };
        assert_eq!(path, "/metadata/name");
        assert!(detail.starts_with("conditional anchor mismatch: resource value 'dev'"));
        let failed = json!({"metadata": {"name": "prod-1"}, "spec": {"replicas": 1}});
        assert_eq!(
            fail_at(&validate(&failed, &pattern)),
            Some("/spec/replicas")
        );
        let passed = json!({"metadata": {"name": "prod-1"}, "spec": {"replicas": 3}});
        assert_eq!(validate(&passed, &pattern), Outcome::Pass);
    }

    #[test]
    fn missing_conditional_key_skips() {
        let pattern = json!({"spec": {"(hostNetwork)": true, "hostPort": 0}});
        assert!(is_skip(&validate(
            &json!({"spec": {"hostPort": 80}}),
            &pattern
        )));
    }

    #[test]
    fn conditional_anchors_in_list_elements_skip_only_those_elements() {
        let pattern =
            json!({"spec": {"containers": [{"(name)": "app*", "image": "registry.io/*"}]}});
        let mixed = pod(json!([
            {"name": "sidecar", "image": "docker.io/x"},
            {"name": "app", "image": "registry.io/app"}
        ]));
        assert_eq!(validate(&mixed, &pattern), Outcome::Pass);
        let bad = pod(json!([
            {"name": "sidecar", "image": "docker.io/x"},
            {"name": "app", "image": "docker.io/app"}
        ]));
        assert_eq!(
            fail_at(&validate(&bad, &pattern)),
            Some("/spec/containers/1/image")
        );
        let none_apply = pod(json!([{"name": "sidecar", "image": "docker.io/x"}]));
        assert!(is_skip(&validate(&none_apply, &pattern)));
        // An empty list has nothing to skip: it passes.
        assert_eq!(validate(&pod(json!([])), &pattern), Outcome::Pass);
    }

    #[test]
    fn anchors_are_evaluated_before_plain_keys() {
        // `a` sorts before `(z)` and would fail, but the condition is checked first.
        let pattern = json!({"a": "wrong", "(z)": "yes"});
        assert!(is_skip(&validate(
            &json!({"a": "right", "z": "no"}),
            &pattern
        )));
        // Keys whose values hold anchors go before plain keys.
        let nested = json!({"a": "wrong", "spec": {"(kind)": "x"}});
        assert!(is_skip(&validate(
            &json!({"a": "right", "spec": {"kind": "y"}}),
            &nested
        )));
    }

    #[test]
    fn global_anchor_skips_the_rule_from_anywhere() {
        let pattern = json!({"spec": {"containers": [{"<(image)": "*registry.io*", "imagePullPolicy": "Always"}]}});
        let other_registry = pod(json!([{"image": "docker.io/x", "imagePullPolicy": "Never"}]));
        assert!(is_skip(&validate(&other_registry, &pattern)));
        let wrong_policy = pod(json!([{"image": "registry.io/x", "imagePullPolicy": "Never"}]));
        assert_eq!(
            fail_at(&validate(&wrong_policy, &pattern)),
            Some("/spec/containers/0/imagePullPolicy")
        );
        let top = json!({"<(kind)": "Pod", "spec": {"x": 1}});
        let detail = match validate(&json!({"kind": "Job", "spec": {}}), &top) {
            Outcome::Skip { detail, .. } => detail,
            other => format!("{other:?}"),
        };
        assert!(detail.starts_with("global anchor mismatch: "), "{detail}");
        // An absent global key does not skip.
        assert!(fail_at(&validate(&json!({"spec": {}}), &top)).is_some());
    }

    #[test]
    fn add_if_not_present_looks_up_the_literal_key() {
        let pattern = json!({"metadata": {"+(labels)": {"a": "b"}}});
        assert!(
            fail_at(&validate(
                &json!({"metadata": {"labels": {"a": "b"}}}),
                &pattern
            ))
            .is_some()
        );
        let scalar = json!({"metadata": {"+(x)": null}});
        assert_eq!(validate(&json!({"metadata": {}}), &scalar), Outcome::Pass);
    }

    #[test]
    fn list_patterns() {
        // A scalar first element applies to every element; later elements are ignored.
        let pattern = json!({"args": ["!--privileged", "ignored"]});
        assert_eq!(
            validate(&json!({"args": ["-a", "-b"]}), &pattern),
            Outcome::Pass
        );
        let outcome = validate(&json!({"args": ["-a", "--privileged"]}), &pattern);
        assert_eq!(fail_at(&outcome), Some("/args/1"));
        // A scalar pattern against a list resource also applies element-wise.
        assert_eq!(
            validate(&json!({"args": ["x", "y"]}), &json!({"args": "?"})),
            Outcome::Pass
        );
        // Lists of lists compare position by position and need enough elements.
        let nested = json!({"m": [["a"], ["b"]]});
        assert_eq!(
            validate(&json!({"m": [["a"], ["b"], ["c"]]}), &nested),
            Outcome::Pass
        );
        let short = match_pattern(&json!({"m": [["a"]]}), &nested).err();
        assert_eq!(
            short.map(|m| (m.kind, m.pointer)),
            Some((MismatchKind::Error, "/m".to_string()))
        );
        // An empty pattern list never matches; a missing list fails at its pointer.
        assert!(fail_at(&validate(&json!({"m": []}), &json!({"m": []}))).is_some());
        let missing = validate(
            &json!({"spec": {}}),
            &json!({"spec": {"containers": [{"name": "*"}]}}),
        );
        assert_eq!(fail_at(&missing), Some("/spec/containers"));
    }

    #[test]
    fn map_pattern_needs_a_map() {
        let mismatch = match_pattern(&json!({"spec": "x"}), &json!({"spec": {"a": 1}})).err();
        assert_eq!(
            mismatch.map(|m| m.message),
            Some("pattern and resource have different structures. Path: /spec/. Expected map[string]interface {}, found string".to_string())
        );
    }

    #[test]
    fn metadata_wildcard_keys_expand_to_resource_keys() {
        let pattern = json!({"metadata": {"=(annotations)": {"=(container.apparmor.security.beta.kubernetes.io/*)": "runtime/default | localhost/*"}}});
        let good = json!({"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/app": "localhost/p"}}});
        assert_eq!(validate(&good, &pattern), Outcome::Pass);
        let bad = json!({"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/app": "unconfined"}}});
        assert_eq!(
            fail_at(&validate(&bad, &pattern)),
            Some("/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1app")
        );
        let required = json!({"metadata": {"labels": {"app.kubernetes.io/*": "?*"}}});
        let labelled = json!({"metadata": {"labels": {"app.kubernetes.io/name": "x"}}});
        assert_eq!(validate(&labelled, &required), Outcome::Pass);
        let unlabelled = json!({"metadata": {"labels": {"team": "x"}}});
        assert!(fail_at(&validate(&unlabelled, &required)).is_some());
        let forbidden = json!({"metadata": {"=(annotations)": {"X(fluxcd.io/*)": "*?"}}});
        let flux = json!({"metadata": {"annotations": {"fluxcd.io/automated": "true"}}});
        assert!(fail_at(&validate(&flux, &forbidden)).is_some());
        assert_eq!(
            validate(
                &json!({"metadata": {"annotations": {"a": "b"}}}),
                &forbidden
            ),
            Outcome::Pass
        );
    }

    #[test]
    fn any_pattern_passes_skips_and_fails_like_kyverno() {
        let patterns = [
            json!({"spec": {"source": {"path": "?*", "X(chart)": null}}}),
            json!({"spec": {"source": {"X(path)": null, "chart": "?*"}}}),
        ];
        assert_eq!(
            validate_any(&json!({"spec": {"source": {"chart": "c"}}}), &patterns),
            Outcome::Pass
        );
        let both = json!({"spec": {"source": {"chart": "c", "path": "p"}}});
        assert_eq!(
            validate_any(&both, &patterns),
            Outcome::Fail {
                path: "/spec/source/chart".to_string(),
                detail: "validation error: anyPattern[0] failed at path /spec/source/chart/ anyPattern[1] failed at path /spec/source/path/".to_string(),
            }
        );
        let conditional = [json!({"(kind)": "Pod"}), json!({"(kind)": "Job"})];
        let outcome = validate_any(&json!({"kind": "Service"}), &conditional);
        assert!(is_skip(&outcome));
        let mixed = [json!({"(kind)": "Pod"}), json!({"kind": "Job"})];
        assert_eq!(
            fail_at(&validate_any(&json!({"kind": "Service"}), &mixed)),
            Some("/kind")
        );
        assert_eq!(validate_any(&json!({}), &[]), Outcome::Pass);
    }

    #[test]
    fn rule_failure_message_matches_kyverno() {
        assert_eq!(
            rule_failure_message("r", "", "/a/"),
            "validation error: rule r failed at path /a/"
        );
        assert_eq!(
            rule_failure_message("r", "Images must be pinned", "/a/"),
            "validation error: Images must be pinned. rule r failed at path /a/"
        );
        assert_eq!(
            rule_failure_message("r", "Done.", "/a/"),
            "validation error: Done. rule r failed at path /a/"
        );
    }

    #[test]
    fn scalar_number_patterns() {
        assert!(value_matches(&json!(80), &json!(80)));
        assert!(value_matches(&json!(80.0), &json!(80)));
        assert!(value_matches(&json!("80"), &json!(80)));
        assert!(value_matches(&json!("80.0"), &json!(80)));
        assert!(value_matches(&json!("8e1"), &json!(80)));
        assert!(!value_matches(&json!(80), &json!(80.5)));
        assert!(value_matches(&json!(80.5), &json!(80.5)));
        assert!(!value_matches(&json!("eighty"), &json!(80)));
        assert!(!value_matches(&json!(true), &json!(1)));
        assert!(!value_matches(&Value::Null, &json!(0)));
    }

    #[test]
    fn scalar_bool_and_null_patterns() {
        assert!(value_matches(&json!(true), &json!(true)));
        assert!(!value_matches(&json!("true"), &json!(true)));
        assert!(value_matches(&json!(true), &json!("true")));
        assert!(value_matches(&json!(false), &json!("false")));
        assert!(!value_matches(&json!(false), &json!("true")));
        for zero in [json!(null), json!(0), json!(0.0), json!(""), json!(false)] {
            assert!(value_matches(&zero, &Value::Null), "{zero}");
        }
        for other in [json!(1), json!("x"), json!(true), json!({}), json!([])] {
            assert!(!value_matches(&other, &Value::Null), "{other}");
        }
        assert!(value_matches(&json!({"a": 1}), &json!({})));
        assert!(!value_matches(&json!("x"), &json!({})));
        assert!(!value_matches(&json!([1]), &json!([1])));
    }

    #[test]
    fn string_wildcards_and_logic() {
        assert!(value_matches(&json!("anything"), &json!("*")));
        assert!(value_matches(&json!(""), &json!("*")));
        assert!(value_matches(&json!(5), &json!("*")));
        assert!(!value_matches(&Value::Null, &json!("*")));
        assert!(!value_matches(&json!(""), &json!("?*")));
        assert!(value_matches(
            &json!("eu.foo.io/app"),
            &json!("eu.foo.io/* | bar.io/*")
        ));
        assert!(value_matches(
            &json!("bar.io/app"),
            &json!("eu.foo.io/* | bar.io/*")
        ));
        assert!(!value_matches(
            &json!("docker.io/app"),
            &json!("eu.foo.io/* | bar.io/*")
        ));
        assert!(!value_matches(&json!("a=1"), &json!("!*+* & !*=*")));
        assert!(value_matches(&json!("plain"), &json!("!*+* & !*=*")));
        assert!(value_matches(&json!("x"), &json!("!y")));
        assert!(!value_matches(&json!("y"), &json!("!y")));
        assert!(value_matches(&json!(""), &json!("")));
        assert!(!value_matches(&Value::Null, &json!("")));
        // A one-character operator alone is a literal.
        assert!(value_matches(&json!("!"), &json!("!")));
        // A float value is matched as Go prints it with 'E'.
        assert!(value_matches(&json!(1.5), &json!("1.5E+00")));
        // Ordering operators do not apply to plain strings.
        assert!(!value_matches(&json!("b"), &json!(">a")));
    }

    #[test]
    fn numeric_and_quantity_comparisons() {
        assert!(value_matches(&json!(2), &json!(">1")));
        assert!(value_matches(&json!("2"), &json!(">1")));
        assert!(!value_matches(&json!(1), &json!(">1")));
        assert!(value_matches(&json!(1), &json!(">=1")));
        assert!(value_matches(&json!(0.5), &json!("<1")));
        assert!(value_matches(&json!("1024Mi"), &json!("1Gi")));
        assert!(value_matches(&json!("500m"), &json!("<1")));
        assert!(value_matches(&json!("2Gi"), &json!(">= 1Gi")));
        assert!(!value_matches(&json!("512Mi"), &json!(">=1Gi")));
        assert!(value_matches(&json!(3), &json!("!2")));
        assert!(value_matches(&json!("1.0"), &json!("1")));
        // Kyverno reads a missing value as "0".
        assert!(value_matches(&Value::Null, &json!("<5")));
        assert!(!value_matches(&Value::Null, &json!(">0")));
        assert!(!value_matches(&json!(true), &json!(">0")));
    }

    #[test]
    fn ranges() {
        assert!(value_matches(&json!(5), &json!("1-10")));
        assert!(value_matches(&json!(1), &json!("1-10")));
        assert!(!value_matches(&json!(11), &json!("1-10")));
        assert!(value_matches(&json!("1.5Gi"), &json!("1Gi-2Gi")));
        assert!(value_matches(&json!(11), &json!("1!-10")));
        assert!(!value_matches(&json!(5), &json!("1!-10")));
        assert!(value_matches(&json!(-5), &json!("-10--1")));
        // `!1-10` is a negated literal, not a range.
        assert!(value_matches(&json!(5), &json!("!1-10")));
        assert!(!value_matches(&json!("1-10"), &json!("!1-10")));
    }

    #[test]
    fn durations_compare_as_durations() {
        assert!(value_matches(&json!("1h"), &json!("60m")));
        assert!(value_matches(&json!("90m"), &json!(">1h")));
        assert!(!value_matches(&json!("30m"), &json!(">1h")));
        assert!(value_matches(&json!("30m"), &json!("<=1h")));
        assert!(value_matches(&json!(0), &json!("0")));
        assert!(value_matches(&json!("45s"), &json!("30s-1m")));
    }

    #[test]
    fn real_policy_require_requests_limits() {
        let pattern = json!({"spec": {
            "containers": [{"resources": {"requests": {"memory": "?*", "cpu": "?*"}, "limits": {"memory": "?*"}}}],
            "=(initContainers)": [{"resources": {"requests": {"memory": "?*", "cpu": "?*"}, "limits": {"memory": "?*"}}}]
        }});
        let good = pod(
            json!([{"name": "a", "image": "x", "resources": {"requests": {"memory": "64Mi", "cpu": "250m"}, "limits": {"memory": "128Mi"}}}]),
        );
        assert_eq!(validate(&good, &pattern), Outcome::Pass);
        let bad = pod(
            json!([{"name": "a", "image": "x", "resources": {"requests": {"memory": "64Mi"}, "limits": {"memory": "128Mi"}}}]),
        );
        assert_eq!(
            fail_at(&validate(&bad, &pattern)),
            Some("/spec/containers/0/resources/requests/cpu")
        );
    }

    #[test]
    fn real_policy_forbid_cpu_limits() {
        let pattern = json!({"spec": {"containers": [{"(name)": "*", "=(resources)": {"=(limits)": {"X(cpu)": null}}}]}});
        let bad =
            pod(json!([{"name": "a", "resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]));
        assert_eq!(
            fail_at(&validate(&bad, &pattern)),
            Some("/spec/containers/0/resources/limits/cpu")
        );
        let good = pod(json!([{"name": "a", "resources": {"limits": {"memory": "1Gi"}}}]));
        assert_eq!(validate(&good, &pattern), Outcome::Pass);
    }

    #[test]
    fn real_policy_disallow_host_namespaces() {
        let pattern = json!({"spec": {"=(hostPID)": "false", "=(hostIPC)": "false", "=(hostNetwork)": "false"}});
        assert_eq!(
            validate(&json!({"spec": {"hostNetwork": false}}), &pattern),
            Outcome::Pass
        );
        assert_eq!(
            fail_at(&validate(&json!({"spec": {"hostIPC": true}}), &pattern)),
            Some("/spec/hostIPC")
        );
    }
}
