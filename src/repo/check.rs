//! A kustomization file checked as what it is: against the Kustomization schema (embedded from
//! SchemaStore, see `schemas/kustomization/README.md`), for files and folders it names that do
//! not exist, and for fields kustomize deprecates.

use std::sync::{Arc, OnceLock};

use super::kustomization::{Kustomization, file_in, is_remote};
use crate::diag::Finding;
use crate::load::spans::Span;
use crate::rules::{self, Rule};
use crate::schema::store::KindSchema;
use crate::schema::validate;

const SCHEMA: &str = include_str!("../../schemas/kustomization/kustomization.json");

/// Deprecated fields and what replaces them.
const DEPRECATED: &[(&str, &str)] = &[
    ("bases", "resources"),
    ("commonLabels", "labels"),
    ("helmChartInflationGenerator", "helmCharts"),
    ("imageTags", "images"),
    ("patchesJson6902", "patches"),
    ("patchesStrategicMerge", "patches"),
    ("vars", "replacements"),
];

/// A finding on a kustomization file.
pub struct KustomizationFinding {
    pub rule: &'static Rule,
    pub span: Span,
    pub finding: Finding,
}

/// The Kustomization schema, compiled once.
fn schema() -> Option<&'static KindSchema> {
    static COMPILED: OnceLock<Option<KindSchema>> = OnceLock::new();
    COMPILED
        .get_or_init(|| {
            let document: serde_json::Value = serde_json::from_str(SCHEMA).ok()?;
            let validator = jsonschema::options().build(&document).ok()?;
            Some(KindSchema::custom(validator, Arc::new(document)))
        })
        .as_ref()
}

pub fn check(k: &Kustomization) -> Vec<KustomizationFinding> {
    let mut out = Vec::new();
    let root = &k.root;
    let mut push = |rule: &'static Rule, finding: Finding| {
        let span = root.locate_at(&finding.pointer, finding.at_key).span;
        out.push(KustomizationFinding {
            rule,
            span,
            finding,
        });
    };
    if let Some(schema) = schema() {
        for finding in validate::findings(schema, &root.to_json()) {
            push(&rules::SCHEMA, finding);
        }
    }
    for (field, instead) in DEPRECATED {
        if root.get(field).is_some() {
            let message = format!("`{field}` is deprecated: use `{instead}`");
            push(
                &rules::KUSTOMIZE_DEPRECATED_FIELD,
                Finding::new(format!("/{field}"), message).at_key(),
            );
        }
    }
    for key in ["configMapGenerator", "secretGenerator"] {
        let generators = root.get(key).and_then(|n| n.as_seq()).unwrap_or_default();
        for (i, generator) in generators.iter().enumerate() {
            if generator.get("env").is_some() {
                let message = "a generator's `env` is deprecated: use `envs`";
                let finding = Finding::new(format!("/{key}/{i}/env"), message).at_key();
                push(&rules::KUSTOMIZE_DEPRECATED_FIELD, finding);
            }
        }
    }
    for r in k.resources.iter().chain(&k.components).chain(&k.plugins) {
        if let Some(message) = missing_reference(k, &r.value) {
            push(
                &rules::KUSTOMIZE_MISSING_FILE,
                Finding::new(&r.pointer, message),
            );
        }
    }
    for f in &k.files {
        let Some(path) = k.resolve(&f.value) else {
            continue;
        };
        if !path.is_file() {
            let message = if path.is_dir() {
                format!("`{}` is a folder, not a file", f.value)
            } else {
                format!("`{}` does not exist", f.value)
            };
            push(
                &rules::KUSTOMIZE_MISSING_FILE,
                Finding::new(&f.pointer, message),
            );
        }
    }
    out
}

/// Why a `resources`/`components` entry cannot be read, if it cannot.
fn missing_reference(k: &Kustomization, reference: &str) -> Option<String> {
    if is_remote(reference) {
        return None;
    }
    let path = k.resolve(reference)?;
    if path.is_file() {
        return None;
    }
    if path.is_dir() {
        return file_in(&path)
            .is_none()
            .then(|| format!("folder `{reference}` has no kustomization.yaml"));
    }
    Some(format!("`{reference}` does not exist"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_text(dir: &std::path::Path, text: &str) -> Vec<(String, u32, u32)> {
        let root = crate::load::yaml::first_root(text).unwrap();
        let k = Kustomization::read(dir.join("kustomization.yaml"), dir.to_path_buf(), root);
        check(&k)
            .into_iter()
            .map(|f| {
                (
                    f.rule.meta.id.to_owned(),
                    f.span.start.line,
                    f.span.start.col,
                )
            })
            .collect()
    }

    #[test]
    fn the_embedded_schema_compiles() {
        assert!(schema().is_some());
    }

    #[test]
    fn missing_files_deprecated_fields_and_unknown_fields_are_found_on_their_lines() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("app.yaml"), "").unwrap();
        std::fs::create_dir(dir.path().join("empty")).unwrap();
        let found = check_text(
            dir.path(),
            "resources:\n- app.yaml\n- gone.yaml\n- empty\n- https://example.com/x.yaml\ncommonLabels: {a: b}\nimages:\n- name: x\n  newtag: y\nconfigMapGenerator:\n- name: c\n  env: c.env\n",
        );
        assert_eq!(
            found,
            [
                ("schema".to_owned(), 9, 3),
                ("kustomize-deprecated-field".into(), 6, 1),
                ("kustomize-deprecated-field".into(), 12, 3),
                ("kustomize-missing-file".into(), 3, 3),
                ("kustomize-missing-file".into(), 4, 3),
                ("kustomize-missing-file".into(), 12, 8),
            ]
        );
    }
}
