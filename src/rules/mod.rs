//! The built-in Rust rules: one file each, its doc comment is its documentation.
//!
//! A rule is data: its [`RuleMeta`] and how it checks. Loader rules have no check of their
//! own: the loader produces their diagnostics, and the rule file holds their id, level and docs.

use crate::diag::{Finding, Level};
use crate::load::object::{Object, ObjectRef};
use crate::load::spans::Span;

mod deprecated_api;
mod duplicate_container_name;
mod duplicate_env;
mod duplicate_key;
mod duplicate_object;
mod duplicate_port;
mod duplicate_volume;
mod duplicate_volume_mount;
mod helm_not_rendered;
mod helm_render_failed;
mod helm_values_schema;
mod input_limit;
mod kustomize_deprecated_field;
mod kustomize_missing_file;
mod kustomize_not_rendered;
mod kustomize_render_failed;
mod missing_type_meta;
mod plaintext_credential;
mod policy_error;
mod removed_api;
mod render_warning;
mod schema;
mod unknown_schema;
mod unreadable_file;
mod unused_suppression;
mod yaml_syntax;

pub use deprecated_api::{RULE as DEPRECATED_API, named_instead};
pub use duplicate_key::RULE as DUPLICATE_KEY;
pub use helm_not_rendered::RULE as HELM_NOT_RENDERED;
pub use helm_render_failed::RULE as HELM_RENDER_FAILED;
pub use helm_values_schema::RULE as HELM_VALUES_SCHEMA;
pub use input_limit::RULE as INPUT_LIMIT;
pub use kustomize_deprecated_field::RULE as KUSTOMIZE_DEPRECATED_FIELD;
pub use kustomize_missing_file::RULE as KUSTOMIZE_MISSING_FILE;
pub use kustomize_not_rendered::RULE as KUSTOMIZE_NOT_RENDERED;
pub use kustomize_render_failed::RULE as KUSTOMIZE_RENDER_FAILED;
pub use missing_type_meta::RULE as MISSING_TYPE_META;
pub use policy_error::RULE as POLICY_ERROR;
pub use removed_api::RULE as REMOVED_API;
pub use render_warning::RULE as RENDER_WARNING;
pub use schema::RULE as SCHEMA;
pub use unknown_schema::RULE as UNKNOWN_SCHEMA;
pub use unreadable_file::RULE as UNREADABLE_FILE;
pub use unused_suppression::RULE as UNUSED_SUPPRESSION;
pub use yaml_syntax::RULE as YAML_SYNTAX;

/// Everything kvet knows about a rule, whatever it is written in.
#[derive(Debug)]
pub struct RuleMeta {
    /// Kebab-case name of the problem, unique, never reused.
    pub id: &'static str,
    pub category: &'static str,
    pub default_level: Level,
    /// Kinds the rule looks at; empty for every kind.
    pub kinds: &'static [&'static str],
    pub summary: &'static str,
    /// Markdown: What it checks / Why / How to fix / Example.
    pub docs: &'static str,
}

/// An object as whole-stream rules see it: identity and where its name is written.
#[derive(Debug, Clone)]
pub struct ObjectSummary {
    pub id: ObjectRef,
    pub file: std::sync::Arc<str>,
    /// The folder of the file, canonical: objects of one folder are applied together.
    pub folder: std::sync::Arc<std::path::Path>,
    pub name_span: Span,
    pub source_template: Option<String>,
}

/// A finding of a whole-stream rule, on one of the summaries it was given.
#[derive(Debug, Clone)]
pub struct StreamFinding {
    pub object: usize,
    pub span: Span,
    pub finding: Finding,
}

/// What rules may know beyond the object.
#[derive(Clone, Copy)]
pub struct Context<'a> {
    /// The Kubernetes minor version checked against (`1.37`).
    pub kubernetes_version: &'static str,
    /// Custom resource schemas from the CRDs under `--crds` and, once they are all read,
    /// those in the input.
    pub crds: &'a crate::schema::store::CrdStore,
    /// False while the input is still being read: a custom resource whose CRD is not known
    /// yet is left for later (the engine checks it again when every CRD is known).
    pub crds_complete: bool,
    /// Whether the embedded CRD catalog validates the custom resources no CRD defines
    /// (`--no-catalog` turns it off).
    pub catalog: bool,
    /// Schemas from `--schema-location` folders, for kinds with neither.
    pub locations: &'a crate::schema::location::SchemaLocations,
}

impl Context<'_> {
    /// A custom resource no schema is known for yet: no CRD read so far, no schema location.
    pub fn lacks_schema(&self, api_version: &str, kind: &str) -> bool {
        crate::schema::store::is_custom(api_version, kind, self.kubernetes_version)
            && !self.crds.contains(api_version, kind)
            && self.catalog_project(api_version, kind).is_none()
            && self.locations.get(api_version, kind).is_none()
    }

    /// The catalog project whose schema validates a custom resource no CRD defines. None
    /// while the input is still being read: a CRD of the input, which wins, may come later.
    pub fn catalog_project(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Option<&'static crate::schema::catalog::Project> {
        (self.catalog && self.crds_complete && !self.crds.contains(api_version, kind))
            .then(|| crate::schema::catalog::project_of(api_version, kind))
            .flatten()
    }

    /// For a custom resource version its CRD declares `served: false`: the versions the CRD
    /// serves, and the catalog project the CRD is from (`None`: the input or `--crds`).
    pub fn not_served(&self, api_version: &str, kind: &str) -> Option<(Vec<String>, CrdOrigin)> {
        if let Some(serves) = self.crds.not_served(api_version, kind) {
            return Some((serves.to_vec(), None));
        }
        let project = self.catalog_project(api_version, kind)?;
        let serves = crate::schema::catalog::not_served(api_version, kind)?;
        Some((
            serves.iter().map(|s| s.to_string()).collect(),
            Some(project),
        ))
    }

    /// For a custom resource version its CRD marks `deprecated: true`: the CRD's warning ("" if
    /// it gives none), and the catalog project the CRD is from.
    pub fn crd_deprecation(&self, api_version: &str, kind: &str) -> Option<(&str, CrdOrigin)> {
        if let Some(warning) = self.crds.deprecation(api_version, kind) {
            return Some((warning, None));
        }
        let project = self.catalog_project(api_version, kind)?;
        Some((
            crate::schema::catalog::deprecation(api_version, kind)?,
            Some(project),
        ))
    }
}

/// The catalog project a CRD is from; `None` for a CRD of the input or `--crds`.
pub type CrdOrigin = Option<&'static crate::schema::catalog::Project>;

pub enum Check {
    /// Reported by the loader.
    Loader,
    /// Runs on each object on its own.
    Object(fn(&Object, &Context, &mut Vec<Finding>)),
    /// Runs once over every object of the input.
    Stream(fn(&[ObjectSummary], &mut Vec<StreamFinding>)),
}

pub struct Rule {
    pub meta: RuleMeta,
    pub check: Check,
}

/// Every built-in Rust rule, in id order.
pub static RULES: &[&Rule] = &[
    &deprecated_api::RULE,
    &duplicate_container_name::RULE,
    &duplicate_env::RULE,
    &duplicate_key::RULE,
    &duplicate_object::RULE,
    &duplicate_port::RULE,
    &duplicate_volume::RULE,
    &duplicate_volume_mount::RULE,
    &helm_not_rendered::RULE,
    &helm_render_failed::RULE,
    &helm_values_schema::RULE,
    &input_limit::RULE,
    &kustomize_deprecated_field::RULE,
    &kustomize_missing_file::RULE,
    &kustomize_not_rendered::RULE,
    &kustomize_render_failed::RULE,
    &missing_type_meta::RULE,
    &plaintext_credential::RULE,
    &policy_error::RULE,
    &removed_api::RULE,
    &render_warning::RULE,
    &schema::RULE,
    &unknown_schema::RULE,
    &unreadable_file::RULE,
    &unused_suppression::RULE,
    &yaml_syntax::RULE,
];

pub fn find(id: &str) -> Option<&'static Rule> {
    RULES.iter().copied().find(|r| r.meta.id == id)
}

/// Every rule kvet has, Rust rules and built-in policies, in id order: what `kvet rules`,
/// `kvet explain` and the config read.
pub fn registry() -> &'static [&'static RuleMeta] {
    static REGISTRY: std::sync::OnceLock<Vec<&'static RuleMeta>> = std::sync::OnceLock::new();
    REGISTRY.get_or_init(|| {
        let rust = RULES.iter().map(|r| &r.meta);
        let rego = crate::policy::builtin::policies().iter().map(|p| &p.meta);
        let mut all: Vec<&'static RuleMeta> = rust.chain(rego).collect();
        all.sort_by_key(|m| m.id);
        all
    })
}

/// Whether a built-in rule looks at the whole input at once (objects of several files): an
/// editor's check of one buffer alone cannot tell what it finds.
pub fn is_whole_input(id: &str) -> bool {
    let rust = RULES
        .iter()
        .any(|r| r.meta.id == id && matches!(r.check, Check::Stream(_)));
    rust || crate::policy::builtin::policies()
        .iter()
        .any(|p| p.meta.id == id && p.scope == crate::policy::Scope::Stream)
}

/// A rule of the registry by id.
pub fn meta(id: &str) -> Option<&'static RuleMeta> {
    registry().iter().copied().find(|m| m.id == id)
}

/// Declares a rule's `RULE` static; the doc comment above it becomes its docs.
macro_rules! declare_rule {
    (
        $(#[doc = $doc:literal])*
        id: $id:literal,
        category: $category:literal,
        level: $level:ident,
        kinds: $kinds:expr,
        summary: $summary:literal,
        check: $check:expr $(,)?
    ) => {
        pub static RULE: $crate::rules::Rule = $crate::rules::Rule {
            meta: $crate::rules::RuleMeta {
                id: $id,
                category: $category,
                default_level: $crate::diag::Level::$level,
                kinds: $kinds,
                summary: $summary,
                docs: concat!($($doc, "\n"),*),
            },
            check: $check,
        };
    };
}
pub(crate) use declare_rule;

/// Reports every repeat of a key among `items`: `key` picks the key of an item (and the pointer
/// suffix it lives at), `report` words the finding for a repeat given the first occurrence.
pub(crate) fn report_repeats<K: Eq + std::hash::Hash>(
    items: impl IntoIterator<Item = (String, K, Span)>,
    mut report: impl FnMut(&str, &K, Span) -> Finding,
    out: &mut Vec<Finding>,
) {
    let mut seen: std::collections::HashMap<K, Span> = std::collections::HashMap::new();
    for (pointer, key, span) in items {
        match seen.get(&key) {
            Some(first) => out.push(report(&pointer, &key, *first).related_to(*first)),
            None => {
                seen.insert(key, span);
            }
        }
    }
}

/// `(pointer of item/field, scalar text, span)` of a scalar field of each item that has it.
pub(crate) fn field_of_items<'a>(
    items: impl IntoIterator<Item = (String, &'a crate::load::yaml::Node)>,
    field: &str,
) -> Vec<(String, String, Span)> {
    items
        .into_iter()
        .filter_map(|(pointer, item)| {
            let value = item.get(field)?;
            let text = value.scalar_text()?;
            Some((format!("{pointer}/{field}"), text, value.span))
        })
        .collect()
}
