//! The Kubernetes API schemas embedded in kvet, one compressed document per minor version
//! (see `schemas/README.md`). A version is decompressed and indexed the first time it is asked
//! for, and shared from then on; its definitions are parsed as kinds need them.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::OnceLock;

use serde_json::Value;

use super::defs::Definitions;

/// `(minor version, zstd-compressed schema document)`, oldest first.
const EMBEDDED: &[(&str, &[u8])] = include!("../../schemas/kubernetes/index.rs");

/// Parsed versions, in the order of [`EMBEDDED`].
static PARSED: [OnceLock<Result<KubernetesSchemas, String>>; EMBEDDED_COUNT] =
    [const { OnceLock::new() }; EMBEDDED_COUNT];
const EMBEDDED_COUNT: usize = EMBEDDED.len();

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum BuiltinError {
    #[error("unknown Kubernetes version \"{asked}\"")]
    #[diagnostic(help("kvet has the schemas of Kubernetes {}", versions().join(", ")))]
    UnknownVersion { asked: String },
    #[error("the embedded schemas of Kubernetes {version} are damaged: {message}")]
    #[diagnostic(help("this is a bug in the kvet build; please report it"))]
    Damaged { version: String, message: String },
}

/// The schemas of one Kubernetes minor version.
#[derive(Debug)]
pub struct KubernetesSchemas {
    pub version: &'static str,
    /// The document, `{"$defs": {...}, "kinds": {...}}`, unparsed. Validators refer into `$defs`.
    definitions: Definitions,
    /// apiVersion → kind → definition name: what this version serves.
    pub kinds: BTreeMap<String, BTreeMap<String, String>>,
}

impl KubernetesSchemas {
    /// Name of the definition (in `$defs`) of an apiVersion and kind this version serves.
    pub fn definition(&self, api_version: &str, kind: &str) -> Option<&str> {
        self.kinds.get(api_version)?.get(kind).map(String::as_str)
    }

    /// `{"$defs": {...}}` with a definition and those it refers to: a document that validates
    /// as the whole one does, for that definition.
    pub fn document_for(&self, definition: &str) -> Result<Value, String> {
        self.definitions.closure(definition)
    }
}

/// Every embedded version, oldest first (`1.25`, …).
pub fn versions() -> Vec<&'static str> {
    EMBEDDED.iter().map(|(v, _)| *v).collect()
}

/// The newest embedded version: the default target.
pub fn latest() -> &'static str {
    EMBEDDED.last().map_or("", |(v, _)| v)
}

/// The embedded version a user's `--kubernetes-version` names (`1.29`, `1.29.3`, `v1.29`).
pub fn resolve_version(version: &str) -> Result<&'static str, BuiltinError> {
    Ok(EMBEDDED[embedded_index(version)?].0)
}

fn embedded_index(version: &str) -> Result<usize, BuiltinError> {
    let minor = normalize_version(version);
    EMBEDDED
        .iter()
        .position(|(v, _)| *v == minor)
        .ok_or_else(|| BuiltinError::UnknownVersion {
            asked: version.to_owned(),
        })
}

/// The schemas of a version (`1.29`, or `1.29.3`, or `v1.29`).
pub fn schemas(version: &str) -> Result<&'static KubernetesSchemas, BuiltinError> {
    let i = embedded_index(version)?;
    let (name, bytes) = EMBEDDED[i];
    PARSED[i]
        .get_or_init(|| parse(name, bytes))
        .as_ref()
        .map_err(|message| BuiltinError::Damaged {
            version: name.to_owned(),
            message: message.clone(),
        })
}

/// Whether `kind` is a kind of Kubernetes itself (in the newest embedded version): a document
/// of such a kind is a manifest even when it lacks its apiVersion.
pub fn is_kubernetes_kind(kind: &str) -> bool {
    schemas(latest()).is_ok_and(|s| s.kinds.values().any(|kinds| kinds.contains_key(kind)))
}

/// `v1.29.3` → `1.29`.
fn normalize_version(version: &str) -> String {
    let v = version.trim().trim_start_matches('v');
    let mut parts = v.split('.');
    match (parts.next(), parts.next()) {
        (Some(major), Some(minor)) => format!("{major}.{minor}"),
        _ => v.to_owned(),
    }
}

/// The bytes of an embedded zstd frame.
pub(super) fn decompress(compressed: &[u8]) -> Result<Vec<u8>, String> {
    let mut decoder =
        ruzstd::decoding::StreamingDecoder::new(compressed).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    decoder.read_to_end(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

fn parse(version: &'static str, compressed: &[u8]) -> Result<KubernetesSchemas, String> {
    let json = decompress(compressed)?;
    let definitions = Definitions::new(json)?;
    let kinds = definitions.member("kinds")?.unwrap_or_default();
    Ok(KubernetesSchemas {
        version,
        definitions,
        kinds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_version_decompresses_and_serves_the_core_kinds() {
        assert_eq!(versions().first(), Some(&"1.25"));
        for v in versions() {
            let s = schemas(v).unwrap();
            assert_eq!(s.version, v);
            let deployment = s.definition("apps/v1", "Deployment").unwrap();
            let document = s.document_for(deployment).unwrap();
            assert!(
                document["$defs"][deployment].is_object(),
                "{v}: {deployment}"
            );
            let meta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
            assert!(document["$defs"][meta].is_object(), "{v}: {meta}");
            assert!(s.definition("v1", "ConfigMap").is_some(), "{v}");
        }
    }

    #[test]
    fn versions_know_what_they_no_longer_serve() {
        // policy/v1beta1 PodDisruptionBudget was removed in 1.25; autoscaling/v2beta2 in 1.26.
        assert!(
            schemas("1.25")
                .unwrap()
                .definition("policy/v1beta1", "PodDisruptionBudget")
                .is_none()
        );
        assert!(
            schemas("1.25")
                .unwrap()
                .definition("autoscaling/v2beta2", "HorizontalPodAutoscaler")
                .is_some()
        );
        assert!(
            schemas("1.26")
                .unwrap()
                .definition("autoscaling/v2beta2", "HorizontalPodAutoscaler")
                .is_none()
        );
    }

    #[test]
    fn versions_are_matched_by_minor() {
        assert_eq!(schemas("v1.29.3").unwrap().version, "1.29");
        assert_eq!(latest(), *versions().last().unwrap());
        let err = schemas("1.12").unwrap_err();
        assert!(matches!(err, BuiltinError::UnknownVersion { .. }));
    }
}
