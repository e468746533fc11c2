//! Checking one file: the loader's problems, then every per-object rule and policy, placed
//! at their lines; custom resources whose CRD came later; and the rule levels a file gets.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;

use crate::config::{Config, Setting};
use crate::diag::suppress::{self, Suppression};
use crate::diag::{Diagnostic, Finding, Level};
use crate::load::object::Object;
use crate::load::yaml::IssueKind;
use crate::rules::{self, Check, Context, ObjectSummary, RULES, Rule};
use crate::source::{Role, Source, read_text};
use crate::{load, policy, schema};

pub mod cache;
pub(crate) mod kyverno;
mod repository;
mod stream;

pub(crate) use stream::{StreamObject, run_stream_rules, stream_policy_diagnostics};

type ObjectCheck = fn(&Object, &Context, &mut Vec<Finding>);

/// What checking one file produced.
#[derive(Clone)]
pub(crate) struct FileResult {
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// CRDs the file defines, their schemas as JSON text.
    pub(crate) crds: Vec<schema::store::SerializedCrd>,
    /// Objects (by position) that are custom resources whose CRD was not known yet.
    pub(crate) pending: Vec<usize>,
    /// Objects (by position) whole-stream policies look at, as policy input.
    pub(crate) stream_inputs: Vec<StreamObject>,
    /// The annotations and comments that suppress findings in the file.
    pub(crate) suppressions: Vec<Suppression>,
    /// The file's Kyverno policies and Namespaces, as JSON: the policies are applied to every
    /// object of the input, the Namespaces' labels select objects.
    pub(crate) kyverno: Vec<serde_json::Value>,
    pub(crate) summaries: Vec<ObjectSummary>,
    /// The text, kept when there are diagnostics to show snippets of.
    pub(crate) text: Option<Arc<str>>,
    pub(crate) objects: usize,
    pub(crate) skipped: bool,
    pub(crate) settings: HashMap<String, Setting>,
    /// The hash of the file's text when a cache keeps results (zero otherwise): what depends
    /// on the file is kept with it.
    pub(crate) text_hash: [u64; 2],
}

/// Checks a file with the run's config, context and policies (`with`), or takes what the last
/// run found in it from `cache` when its text, role and settings are unchanged.
pub(crate) fn check_file(
    source: &Source,
    with: (&Config, &Context, &policy::Policies),
    keep_source: bool,
    cache: Option<&cache::CheckCache>,
) -> FileResult {
    let (config, context, policies) = with;
    let settings = config.settings_for(&source.config_path);
    let mut result = FileResult {
        diagnostics: Vec::new(),
        crds: Vec::new(),
        pending: Vec::new(),
        stream_inputs: Vec::new(),
        kyverno: Vec::new(),
        suppressions: Vec::new(),
        summaries: Vec::new(),
        text: None,
        objects: 0,
        skipped: false,
        settings,
        text_hash: [0; 2],
    };
    // A chart's template (a file, or an editor's buffer of one) is Go template text, not YAML:
    // what its chart renders is checked.
    if load::helm::is_chart_template(&source.config_path) {
        result.skipped = true;
        return result;
    }
    // A Chainsaw or kuttl test's expected objects are partial by design: compared with the
    // cluster, never applied.
    if load::test_assertion::is_test_assertion(&source.config_path) {
        result.skipped = true;
        return result;
    }
    let text = match read_text(source) {
        Ok(text) => text,
        Err((rule, at, message)) => {
            if let Some(level) = level_of(rule, &result.settings) {
                let d = Diagnostic::new(rule.meta.id, level, &source.name, at, message);
                result.diagnostics.push(d);
            }
            return result;
        }
    };

    let key = cache.map(|_| cache::Key::of(source, &text));
    if let Some(kept) = cache.zip(key.as_ref()).and_then(|(c, k)| c.get(k)) {
        return kept;
    }
    let (mut result, alone) = check_text(source, text, (context, policies), result, keep_source);
    if let Some(key) = &key {
        result.text_hash = key.text();
    }
    if let Some((cache, key)) = cache.zip(key).filter(|_| alone) {
        cache.put(key, source, &result);
    }
    result
}

/// [`check_file`] once the file's text is read; with whether what it found depends on the
/// file alone (not so for a kustomization, whose listed files may come and go, nor for the
/// repository's other files).
fn check_text(
    source: &Source,
    text: String,
    with: (&Context, &policy::Policies),
    result: FileResult,
    keep_source: bool,
) -> (FileResult, bool) {
    let (context, policies) = with;
    let loaded = load::load_text(&text);
    let checked = match &source.role {
        Role::Patch(patch) => {
            repository::check_patch(source, &text, patch, context, result, keep_source)
        }
        Role::Kustomization => {
            repository::check_kustomization(source, &text, context, result, keep_source)
        }
        Role::Data => repository::check_data(source, &text, result, keep_source),
        _ if repository::declares_kustomization(&loaded) => {
            repository::check_kustomization(source, &text, context, result, keep_source)
        }
        _ => {
            return (
                check_objects(
                    source,
                    text,
                    loaded,
                    (context, policies),
                    result,
                    keep_source,
                ),
                true,
            );
        }
    };
    (checked, false)
}

/// [`check_text`] for a file of objects.
fn check_objects(
    source: &Source,
    text: String,
    loaded: load::Loaded,
    with: (&Context, &policy::Policies),
    mut result: FileResult,
    keep_source: bool,
) -> FileResult {
    let (context, policies) = with;
    // A file a render reads: the rules run on what the render made of its objects.
    let rendered = matches!(source.role, Role::Manifest { rendered: true });
    let kubernetes = loaded.is_kubernetes();
    let file = &source.name;
    let mut diagnostics = loader_diagnostics(&loaded, file, &result.settings);
    let (found, stream_inputs) = object_diagnostics(
        &loaded.objects,
        (file, &text),
        context,
        (!rendered).then_some(policies),
        &result.settings,
    );
    diagnostics.extend(found);
    result.stream_inputs = stream_inputs;
    // A render's objects carry the annotations of their files: those suppress, not these.
    if !matches!(source.role, Role::Rendered) {
        result.suppressions = suppress::in_comments(file, &text, &loaded.objects);
        for object in &loaded.objects {
            result
                .suppressions
                .extend(suppress::in_annotations(file, object));
        }
    }

    if !rendered {
        result.kyverno = kyverno::policies_and_namespaces(&loaded.objects);
    }
    let shared_file: Arc<str> = Arc::from(file.as_str());
    result.summaries = loaded
        .objects
        .iter()
        .filter(|_| !rendered)
        .map(|o| ObjectSummary {
            id: o.id.clone(),
            file: shared_file.clone(),
            folder: source.folder.clone(),
            name_span: o.root.locate("/metadata/name").span,
            source_template: o.source_template.clone(),
        })
        .collect();
    let meta_ref = schema::store::object_meta_ref(context.kubernetes_version);
    for (i, o) in loaded.objects.iter().enumerate() {
        let unknown = |api_version: &str, kind: &str| !context.crds.contains(api_version, kind);
        let defined = schema::crd::schemas_of(o, &meta_ref, unknown);
        result
            .crds
            .extend(defined.into_iter().map(schema::store::SerializedCrd::from));
        let (api_version, kind) = (&o.id.api_version, &o.id.kind);
        if context.lacks_schema(api_version, kind) {
            result.pending.push(i);
        }
    }
    result.objects = loaded.objects.len();
    result.skipped = !kubernetes && diagnostics.is_empty();
    // Stdin cannot be read again for the snippets of whole-stream rules: keep it.
    if keep_source && (!diagnostics.is_empty() || source.in_memory.is_some()) {
        result.text = Some(Arc::from(text));
    }
    result.diagnostics = diagnostics;
    result
}

/// Custom resources whose CRD was not known while their file was checked: now that every CRD
/// of the input is known, their file is read again and they are validated (or reported as
/// having no schema).
pub(crate) fn check_pending(
    source: &Source,
    pending: &[usize],
    settings: &HashMap<String, Setting>,
    context: &Context,
) -> Vec<Diagnostic> {
    let Ok(text) = read_text(source) else {
        return Vec::new();
    };
    let loaded = load::load_text(&text);
    let objects: Vec<&Object> = pending
        .iter()
        .filter_map(|&i| loaded.objects.get(i))
        .collect();
    let mut out = Vec::new();
    let mut findings = Vec::new();
    // What depends on a CRD of the input (deprecated-api: a version the CRD deprecates).
    for rule in [
        &rules::SCHEMA,
        &rules::UNKNOWN_SCHEMA,
        &rules::DEPRECATED_API,
    ] {
        let (Check::Object(check), Some(level)) = (&rule.check, level_of(rule, settings)) else {
            continue;
        };
        for object in &objects {
            check(object, context, &mut findings);
            for finding in findings.drain(..) {
                out.push(place(
                    rule.meta.id,
                    level,
                    (&source.name, &text),
                    object,
                    finding,
                ));
            }
        }
    }
    out
}

/// What the loader found: YAML problems, and documents that are not objects.
fn loader_diagnostics(
    loaded: &load::Loaded,
    file: &str,
    settings: &HashMap<String, Setting>,
) -> Vec<Diagnostic> {
    let kubernetes = loaded.is_kubernetes();
    let mut diagnostics = Vec::new();
    let by_place: HashMap<(usize, Option<usize>), &Object> = if loaded.yaml_issues.is_empty() {
        HashMap::new()
    } else {
        let place = |o: &Object| (o.document, o.list_item);
        loaded.objects.iter().map(|o| (place(o), o)).collect()
    };
    for issue in &loaded.yaml_issues {
        let rule = match issue.kind {
            IssueKind::Syntax => &rules::YAML_SYNTAX,
            IssueKind::Limit => &rules::INPUT_LIMIT,
            // These matter in Kubernetes files; other YAML is not ours to judge.
            IssueKind::InvalidMerge | IssueKind::NotJsonNumber if kubernetes => &rules::YAML_SYNTAX,
            IssueKind::DuplicateKey if kubernetes => &rules::DUPLICATE_KEY,
            IssueKind::DuplicateKey | IssueKind::InvalidMerge | IssueKind::NotJsonNumber => {
                continue;
            }
        };
        let Some(level) = level_of(rule, settings) else {
            continue;
        };
        let mut d = Diagnostic::new(rule.meta.id, level, file, issue.span, issue.message.clone());
        d.help = issue.help.clone();
        if let Some(pointer) = &issue.pointer {
            match object_at(&by_place, issue.document, pointer) {
                Some((object, relative)) => {
                    d.object = Some(object.id.clone());
                    d.source_template = object.source_template.clone();
                    d.pointer = Some(relative);
                }
                None => d.pointer = Some(pointer.clone()),
            }
        }
        diagnostics.push(d);
    }
    if kubernetes && let Some(level) = level_of(&rules::MISSING_TYPE_META, settings) {
        for problem in &loaded.not_objects {
            let mut d = Diagnostic::new(
                rules::MISSING_TYPE_META.meta.id,
                level,
                file,
                problem.span,
                problem.message.to_string(),
            );
            d.pointer = Some(problem.pointer.clone());
            diagnostics.push(d);
        }
    }
    diagnostics
}

/// Every per-object rule and policy that is on, on every object, in parallel; and the objects
/// whole-stream policies look at, as policy input. An object becomes a policy value once,
/// whichever needs it.
///
/// Without `policies`, only what is true of an object on its own file is checked (its schema):
/// the object is checked as a render made it, elsewhere.
fn object_diagnostics(
    objects: &[Object],
    (file, text): (&str, &str),
    context: &Context,
    policies: Option<&policy::Policies>,
    settings: &HashMap<String, Setting>,
) -> (Vec<Diagnostic>, Vec<StreamObject>) {
    let file_alone = [rules::SCHEMA.meta.id, rules::UNKNOWN_SCHEMA.meta.id];
    let object_rules: Vec<(&Rule, ObjectCheck, Level)> = RULES
        .iter()
        .filter(|rule| policies.is_some() || file_alone.contains(&rule.meta.id))
        .filter_map(|rule| match rule.check {
            Check::Object(check) => Some((*rule, check, level_of(rule, settings)?)),
            _ => None,
        })
        .collect();
    let on = |r: &policy::PolicyRule| policy_level(r, None, settings).is_some();
    // The policies compile on other threads while the rules below run.
    if let Some(policies) = policies {
        policies.prepare(objects.iter().map(|o| o.id.kind.as_str()), on);
    }
    let per_object: Vec<(Vec<Diagnostic>, Option<StreamObject>)> = objects
        .par_iter()
        .enumerate()
        .with_min_len(8)
        .map(|(i, object)| {
            let mut out = Vec::new();
            let mut findings = Vec::new();
            for (rule, check, level) in &object_rules {
                check(object, context, &mut findings);
                for finding in findings.drain(..) {
                    out.push(place(rule.meta.id, *level, (file, text), object, finding));
                }
            }
            let input = std::cell::OnceCell::new();
            let value = || {
                input
                    .get_or_init(|| policy::input::from_node(&object.root))
                    .clone()
            };
            let Some(policies) = policies else {
                return (out, None);
            };
            let at = (file, text);
            out.extend(policy_diagnostics(object, &value, at, policies, settings));
            let kind = &object.id.kind;
            let stream = policies
                .stream_rules()
                .any(|r| r.applies_to(kind) && on(r))
                .then(|| StreamObject {
                    file: 0, // set by the caller, which knows the file's index
                    object: i,
                    kind: kind.clone(),
                    value: value(),
                    text: [0; 2], // set by the caller, from its file's
                });
            (out, stream)
        })
        .collect();
    let mut diagnostics = Vec::new();
    let mut stream_inputs = Vec::new();
    for (found, stream) in per_object {
        diagnostics.extend(found);
        stream_inputs.extend(stream);
    }
    (diagnostics, stream_inputs)
}

/// The policies' findings on one object, and a `policy-error` for each rule that failed on it.
fn policy_diagnostics(
    object: &Object,
    input: &dyn Fn() -> regorus::Value,
    file: (&str, &str),
    policies: &policy::Policies,
    settings: &HashMap<String, Setting>,
) -> Vec<Diagnostic> {
    let level = |rule: &policy::PolicyRule, asked| policy_level(rule, asked, settings);
    let mut out = Vec::new();
    for evaluation in policies.evaluate(object, input, |rule| level(rule, None).is_some()) {
        let rule = evaluation.rule;
        match evaluation.results {
            Ok(results) => {
                for result in results {
                    let Some(level) = level(rule, result.level) else {
                        continue;
                    };
                    let mut finding = Finding::new(result.pointer, result.message);
                    finding.metadata = result.metadata;
                    out.push(place(&rule.id, level, file, object, finding));
                }
            }
            Err(message) => {
                if let Some(level) = level_of(&rules::POLICY_ERROR, settings) {
                    let what = format!(
                        "{} failed on {} {}: {message}",
                        rule.id,
                        object.id.kind,
                        object.id.name.as_deref().unwrap_or("(unnamed)")
                    );
                    let finding = Finding::new("", what);
                    out.push(place(
                        rules::POLICY_ERROR.meta.id,
                        level,
                        file,
                        object,
                        finding,
                    ));
                }
            }
        }
    }
    out
}

/// A policy rule's level in a file: the config's, else the level its result asks for, else
/// its default; `None` when it is off.
pub(crate) fn policy_level(
    rule: &policy::PolicyRule,
    asked: Option<Level>,
    settings: &HashMap<String, Setting>,
) -> Option<Level> {
    match settings.get(&rule.id) {
        Some(setting) => *setting,
        None => Some(asked.unwrap_or(rule.default_level)),
    }
}

/// A rule's level for a file, `None` when it is off.
pub(crate) fn level_of(rule: &Rule, settings: &HashMap<String, Setting>) -> Option<Level> {
    match settings.get(rule.meta.id) {
        Some(setting) => *setting,
        None => Some(rule.meta.default_level),
    }
}

/// Places a finding at the line and column of its pointer; a finding on the object itself (the
/// empty pointer) at the object's first line.
pub(crate) fn place(
    rule: &str,
    level: Level,
    (file, text): (&str, &str),
    object: &Object,
    finding: Finding,
) -> Diagnostic {
    let span = if finding.pointer.is_empty() {
        let start = object.root.span.start;
        load::spans::Span { start, end: start }
    } else {
        let located = object.root.locate_at(&finding.pointer, finding.at_key);
        // On the part of a string the finding is about, when it names one.
        let part = finding
            .part
            .as_ref()
            .filter(|_| located.exact && !finding.at_key);
        part.and_then(|p| load::spans::part_of_scalar(text, located.span, &p.text, p.occurrence))
            .unwrap_or(located.span)
    };
    let mut d = Diagnostic::new(rule, level, file, span, finding.message);
    d.related = finding
        .related
        .map(|(other, span)| (other.unwrap_or_else(|| file.to_owned()), span));
    d.metadata = finding.metadata;
    d.schema_source = finding.schema_source;
    d.help = finding.help;
    d.pointer = Some(finding.pointer);
    d.object = Some(object.id.clone());
    d.source_template = object.source_template.clone();
    d
}

/// The object a document-relative pointer falls in, and the pointer relative to that object.
fn object_at<'a>(
    by_place: &HashMap<(usize, Option<usize>), &'a Object>,
    document: usize,
    pointer: &str,
) -> Option<(&'a Object, String)> {
    if let Some(object) = by_place.get(&(document, None)) {
        return Some((object, pointer.to_owned()));
    }
    // An item of a `v1 List`: `/items/3/metadata/name` is `/metadata/name` of item 3.
    let rest = pointer.strip_prefix("/items/")?;
    let (index, inner) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let object = by_place.get(&(document, Some(index.parse().ok()?)))?;
    Some((object, inner.to_owned()))
}
