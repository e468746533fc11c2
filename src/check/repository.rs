//! Files that are not manifests: kustomizations and patches, each checked for what it is (see
//! `repo::check` and `repo::patch`).

use std::path::Path;
use std::sync::Arc;

use super::{FileResult, level_of};
use crate::diag::Diagnostic;
use crate::diag::suppress;
use crate::load;
use crate::load::yaml::{IssueKind, Parsed};
use crate::repo::kustomization::{Kustomization, Offset, PatchFormat, Target};
use crate::repo::{self, PatchUse};
use crate::rules::{self, Context};
use crate::source::Source;

/// Whether a file's one document declares itself a kustomization (`kustomize.config.k8s.io`),
/// whatever its name.
pub(super) fn declares_kustomization(loaded: &load::Loaded) -> bool {
    loaded.objects.len() == 1
        && repo::kustomization::declares_kustomization(&loaded.objects[0].root)
}

/// YAML problems of a file that is not a manifest: every one counts (a duplicate key in a
/// kustomization is as wrong as in an object).
fn yaml_diagnostics(parsed: &Parsed, file: &str, result: &FileResult) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for issue in parsed.issues.iter().cloned() {
        let rule = match issue.kind {
            IssueKind::Syntax | IssueKind::InvalidMerge | IssueKind::NotJsonNumber => {
                &rules::YAML_SYNTAX
            }
            IssueKind::Limit => &rules::INPUT_LIMIT,
            IssueKind::DuplicateKey => &rules::DUPLICATE_KEY,
        };
        if let Some(level) = level_of(rule, &result.settings) {
            let mut d = Diagnostic::new(rule.meta.id, level, file, issue.span, issue.message);
            d.help = issue.help;
            d.pointer = issue.pointer;
            out.push(d);
        }
    }
    out
}

pub(super) fn check_kustomization(
    source: &Source,
    text: &str,
    context: &Context,
    mut result: FileResult,
    keep_source: bool,
) -> FileResult {
    let file = &source.name;
    let (parsed, mut diagnostics) = read_yaml(source, text, &mut result);
    if let Some(document) = parsed.documents.into_iter().next() {
        let identity = repo::identity(&source.config_path);
        let dir = identity.parent().unwrap_or(Path::new("")).to_path_buf();
        let k = Kustomization::read(source.config_path.clone(), dir, document.root);
        // Patches written inline are checked as patch files are, on their lines here.
        if let Some(level) = level_of(&rules::SCHEMA, &result.settings) {
            for patch in &k.patches {
                let Some(node) = patch.inline.as_ref().and_then(|p| k.root.pointer(p)) else {
                    continue;
                };
                let Some(inline) = node.as_str() else {
                    continue;
                };
                let offset = Offset::of(text, node);
                diagnostics.extend(patch_diagnostics(
                    inline,
                    (patch.format, patch.target.as_ref()),
                    context,
                    (file, offset),
                    level,
                ));
            }
        }
        for found in repo::check::check(&k) {
            let Some(level) = level_of(found.rule, &result.settings) else {
                continue;
            };
            let finding = found.finding;
            let mut d =
                Diagnostic::new(found.rule.meta.id, level, file, found.span, finding.message);
            d.help = finding.help;
            d.pointer = Some(finding.pointer);
            diagnostics.push(d);
        }
    }
    finish(result, diagnostics, text, keep_source)
}

pub(super) fn check_patch(
    source: &Source,
    text: &str,
    patch: &Arc<PatchUse>,
    context: &Context,
    mut result: FileResult,
    keep_source: bool,
) -> FileResult {
    let file = &source.name;
    let (_, mut diagnostics) = read_yaml(source, text, &mut result);
    if let Some(level) = level_of(&rules::SCHEMA, &result.settings) {
        diagnostics.extend(patch_diagnostics(
            text,
            (patch.format, patch.target.as_ref()),
            context,
            (file, Offset::None),
            level,
        ));
    }
    finish(result, diagnostics, text, keep_source)
}

/// A patch's findings as `schema` diagnostics in `file`, where `offset` puts its text (the
/// pointer is kept for a patch file; an inline patch's would point into its own text).
fn patch_diagnostics(
    text: &str,
    (format, target): (PatchFormat, Option<&Target>),
    context: &Context,
    (file, offset): (&str, Offset),
    level: crate::diag::Level,
) -> Vec<Diagnostic> {
    repo::patch::check(text, format, target, context)
        .into_iter()
        .map(|found| {
            let finding = found.finding;
            let span = offset.apply(found.span);
            let mut d = Diagnostic::new(rules::SCHEMA.meta.id, level, file, span, finding.message);
            d.help = finding.help;
            d.pointer = (offset == Offset::None).then_some(finding.pointer);
            d.object = found.object;
            d
        })
        .collect()
}

/// Data a kustomization reads: YAML that must parse (when it is YAML), nothing more.
pub(super) fn check_data(
    source: &Source,
    text: &str,
    result: FileResult,
    keep_source: bool,
) -> FileResult {
    let diagnostics = yaml_diagnostics(&crate::load::yaml::parse(text), &source.name, &result);
    finish(result, diagnostics, text, keep_source)
}

/// The `# kvet:ignore` comments of a kustomization or patch file.
/// A kustomization's or patch's text, parsed once: its YAML problems, and its `# kvet:ignore`
/// comments as the file's suppressions.
fn read_yaml(source: &Source, text: &str, result: &mut FileResult) -> (Parsed, Vec<Diagnostic>) {
    let parsed = crate::load::yaml::parse(text);
    let diagnostics = yaml_diagnostics(&parsed, &source.name, result);
    result.suppressions = comment_suppressions(&source.name, text, &parsed);
    (parsed, diagnostics)
}

fn comment_suppressions(file: &str, text: &str, parsed: &Parsed) -> Vec<suppress::Suppression> {
    suppress::in_comments_of_nodes(file, text, parsed.documents.iter().map(|d| &d.root))
}

fn finish(
    mut result: FileResult,
    diagnostics: Vec<Diagnostic>,
    text: &str,
    keep_source: bool,
) -> FileResult {
    if keep_source && !diagnostics.is_empty() {
        result.text = Some(Arc::from(text));
    }
    result.diagnostics = diagnostics;
    result
}
