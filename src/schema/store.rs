//! Compiled validators, one per (Kubernetes version, apiVersion, kind), built the first time an
//! object of that kind is seen and shared by every thread from then on.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Registry, Validator};
use serde_json::{Value, json};

use super::builtin::{self, KubernetesSchemas};

/// Where a version's document is registered, for `$ref`s into its `$defs`. Never fetched.
fn document_uri(version: &str) -> String {
    format!("https://schemas.kvet.invalid/kubernetes/{version}.json")
}

/// A compiled validator and the schema document its errors' schema paths point into (for
/// error messages).
pub struct KindSchema {
    pub validator: Validator,
    pub document: SchemaDocument,
    /// Whether the schema has CEL rules (`x-kubernetes-validations`): most have none, and their
    /// objects need no CEL pass.
    pub has_cel_rules: bool,
}

pub enum SchemaDocument {
    /// The part of a Kubernetes version's document a built-in kind uses.
    Builtin(Arc<Value>),
    /// A custom resource's schema: converted from its CRD, or read from a schema location.
    Custom(Arc<Value>),
}

impl KindSchema {
    /// A custom resource's validator and schema.
    pub fn custom(validator: Validator, schema: Arc<Value>) -> KindSchema {
        let mut rules = Vec::new();
        super::cel::rules_of(&schema, &mut rules);
        KindSchema {
            validator,
            document: SchemaDocument::Custom(schema),
            has_cel_rules: !rules.is_empty(),
        }
    }

    pub fn document(&self) -> &Value {
        match &self.document {
            SchemaDocument::Builtin(d) => d,
            SchemaDocument::Custom(d) => d,
        }
    }
}

/// `$ref` of Kubernetes' `ObjectMeta` in a version's document: custom resources' `metadata`.
pub fn object_meta_ref(version: &str) -> String {
    format!("{}#/$defs/{OBJECT_META}", document_uri(version))
}

/// Custom resource schemas (from CRDs), compiled on first use.
#[derive(Default)]
pub struct CrdStore {
    kinds: HashMap<(String, String), CrdEntry>,
    /// Versions a CRD declares but does not serve, with those it serves.
    not_served: HashMap<(String, String), Vec<String>>,
    /// The deprecation warnings of versions marked `deprecated: true`.
    deprecated: HashMap<(String, String), String>,
}

struct CrdEntry {
    schema: CrdSource,
    compiled: OnceLock<Result<Arc<KindSchema>, String>>,
    /// Without `required`, for patches.
    partial: OnceLock<Result<Arc<KindSchema>, String>>,
}

/// Where a custom resource version's schema comes from.
enum CrdSource {
    /// Converted, kept as its JSON text until an object of the version is met (a CRD of the
    /// input): the text is a fraction of the tree's size, so that the input's CRDs, most of
    /// them unused, cost little memory (the converted trees were three quarters of a
    /// load-only run's peak on ../shared/corpus/real).
    Serialized {
        json: Box<[u8]>,
        tree: OnceLock<Result<Arc<Value>, String>>,
    },
    /// A CRD of `--crds`, indexed from the skeleton of its file (see [`super::crd_files`]):
    /// its schema is read from the file and converted when an object of the version is met,
    /// so CRDs given but unused cost neither time nor memory.
    InFile {
        path: Arc<Path>,
        /// Where the CRD starts in the file.
        line: u32,
        /// Where the version's `openAPIV3Schema` key is.
        schema_line: Option<u32>,
        tree: OnceLock<Result<Arc<Value>, String>>,
    },
}

/// A custom resource version with its schema as JSON text (see [`CrdStore::add_serialized`]).
#[derive(Clone)]
pub struct SerializedCrd {
    crd: super::crd::CrdSchema,
    json: Box<[u8]>,
}

impl From<super::crd::CrdSchema> for SerializedCrd {
    /// Serializes the schema (where the CRD was read, on that thread), leaving `null` in its
    /// place: the tree is freed before the next CRD is read.
    fn from(mut crd: super::crd::CrdSchema) -> Self {
        let schema = std::mem::take(&mut crd.schema);
        let json = serde_json::to_vec(&schema)
            .unwrap_or_default()
            .into_boxed_slice();
        SerializedCrd { crd, json }
    }
}

impl CrdSource {
    fn schema(&self, version: &str, api_version: &str, kind: &str) -> Result<Arc<Value>, String> {
        match self {
            CrdSource::Serialized { json, tree } => tree
                .get_or_init(|| {
                    serde_json::from_slice(json)
                        .map(Arc::new)
                        .map_err(|e| e.to_string())
                })
                .clone(),
            CrdSource::InFile {
                path,
                line,
                schema_line,
                tree,
            } => tree
                .get_or_init(|| {
                    let meta_ref = object_meta_ref(version);
                    let at = super::crd_files::SchemaAt {
                        path,
                        line: *line,
                        schema_line: *schema_line,
                    };
                    super::crd_files::read_schema(at, api_version, kind, &meta_ref).map(Arc::new)
                })
                .clone(),
        }
    }
}

impl CrdStore {
    /// Registers a custom resource version whose schema is kept as JSON text until an object
    /// of it is met (the CRDs of the input). The first definition of an apiVersion/kind wins.
    pub fn add_serialized(&mut self, crd: SerializedCrd) {
        let schema = CrdSource::Serialized {
            json: crd.json,
            tree: OnceLock::new(),
        };
        self.insert(crd.crd, schema);
    }

    /// Registers a custom resource version of a CRD that starts on `line` of the file at
    /// `path`, whose schema is read from it when an object of the version is met (the CRDs
    /// of `--crds`: many, most of them unused). `crd`'s own schema is not kept.
    pub fn add_in_file(&mut self, crd: super::crd::CrdSchema, path: Arc<Path>, line: u32) {
        let schema = CrdSource::InFile {
            path,
            line,
            schema_line: crd.schema_line,
            tree: OnceLock::new(),
        };
        self.insert(crd, schema);
    }

    fn insert(&mut self, crd: super::crd::CrdSchema, schema: CrdSource) {
        let key = (crd.api_version, crd.kind);
        if self.kinds.contains_key(&key) || self.not_served.contains_key(&key) {
            return;
        }
        if let Some(served) = crd.not_served {
            self.not_served.insert(key, served);
            return;
        }
        if let Some(warning) = crd.deprecation {
            self.deprecated.insert(key.clone(), warning);
        }
        self.kinds.entry(key).or_insert_with(|| CrdEntry {
            schema,
            compiled: OnceLock::new(),
            partial: OnceLock::new(),
        });
    }

    /// Whether a CRD declares the version, served or not.
    pub fn contains(&self, api_version: &str, kind: &str) -> bool {
        let key = (api_version.to_owned(), kind.to_owned());
        self.kinds.contains_key(&key) || self.not_served.contains_key(&key)
    }

    /// For a version its CRD declares `served: false`: the versions it serves.
    pub fn not_served(&self, api_version: &str, kind: &str) -> Option<&[String]> {
        let key = (api_version.to_owned(), kind.to_owned());
        self.not_served.get(&key).map(Vec::as_slice)
    }

    /// For a version its CRD marks `deprecated: true`: the warning the API server gives.
    pub fn deprecation(&self, api_version: &str, kind: &str) -> Option<&str> {
        let key = (api_version.to_owned(), kind.to_owned());
        self.deprecated.get(&key).map(String::as_str)
    }

    /// The validator of a custom resource, `None` when no CRD defines it; an error when the
    /// CRD's schema cannot be compiled.
    pub fn get(
        &self,
        version: &'static str,
        api_version: &str,
        kind: &str,
    ) -> Option<Result<Arc<KindSchema>, String>> {
        self.compiled(version, api_version, kind, false)
    }

    /// The validator of a custom resource's patches: its schema without `required`.
    pub fn get_partial(
        &self,
        version: &'static str,
        api_version: &str,
        kind: &str,
    ) -> Option<Result<Arc<KindSchema>, String>> {
        self.compiled(version, api_version, kind, true)
    }

    fn compiled(
        &self,
        version: &'static str,
        api_version: &str,
        kind: &str,
        partial: bool,
    ) -> Option<Result<Arc<KindSchema>, String>> {
        let entry = self.kinds.get(&(api_version.to_owned(), kind.to_owned()))?;
        let schema = || entry.schema.schema(version, api_version, kind);
        let slot = if partial {
            &entry.partial
        } else {
            &entry.compiled
        };
        let compiled = slot.get_or_init(|| {
            let mut schema = schema()?;
            if partial {
                strip_required(Arc::make_mut(&mut schema));
            }
            compile_crd(version, schema)
        });
        Some(compiled.clone())
    }

    /// Every apiVersion and kind defined.
    pub fn kinds(&self) -> impl Iterator<Item = (&str, &str)> {
        self.kinds.keys().map(|(a, k)| (a.as_str(), k.as_str()))
    }

    /// The apiVersions custom resources of a kind are defined in, sorted.
    pub fn api_versions(&self, kind: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .kinds
            .keys()
            .filter(|(_, k)| k == kind)
            .map(|(api_version, _)| api_version.clone())
            .collect();
        out.sort();
        out
    }
}

pub(super) fn compile_crd(
    version: &'static str,
    schema: Arc<Value>,
) -> Result<Arc<KindSchema>, String> {
    let store = version_store(version).ok_or("the Kubernetes schemas are unavailable")?;
    let registry = store.object_meta()?;
    let mut rules = Vec::new();
    super::cel::rules_of(&schema, &mut rules);
    let has_cel_rules = !rules.is_empty();
    // Repeated subschemas compiled once. Not for a schema with CEL rules: their evaluation
    // and the defaults before it walk the schema, and do not follow `$ref`s.
    let schema = match has_cel_rules {
        false => super::shared::share_repeated(&schema).map_or(schema, Arc::new),
        true => schema,
    };
    let validator = jsonschema::options()
        .with_registry(registry)
        .build(&schema)
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(KindSchema {
        validator,
        document: SchemaDocument::Custom(schema),
        has_cel_rules,
    }))
}

/// Removes every `required` keyword from a schema (a property named `required` is a schema,
/// not a list, and stays): what a patch, which sets only some fields, is validated against.
pub fn strip_required(schema: &mut Value) {
    match schema {
        Value::Object(fields) => {
            if fields.get("required").is_some_and(Value::is_array) {
                fields.remove("required");
            }
            fields.values_mut().for_each(strip_required);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_required),
        _ => {}
    }
}

type Slot = Arc<OnceLock<Option<Arc<KindSchema>>>>;

struct VersionStore {
    schemas: &'static KubernetesSchemas,
    /// By (apiVersion, kind, partial): partial validators have no `required`.
    kinds: Mutex<HashMap<(String, String, bool), Slot>>,
    /// `ObjectMeta`, which custom resources' schemas refer to; registered on first use.
    object_meta: OnceLock<Result<Registry<'static>, String>>,
}

impl VersionStore {
    fn object_meta(&self) -> Result<&Registry<'static>, String> {
        self.object_meta
            .get_or_init(|| {
                let document = self.schemas.document_for(OBJECT_META)?;
                registry(self.schemas.version, document)
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// A registry with `document` where `$ref`s to a version's document find it. Never fetches.
fn registry(version: &str, document: impl Into<Arc<Value>>) -> Result<Registry<'static>, String> {
    Registry::new()
        .add(document_uri(version), document.into())
        .and_then(|builder| builder.prepare())
        .map_err(|e| e.to_string())
}

/// The validator of a built-in kind in a Kubernetes version; `None` when that version does not
/// serve the kind (a custom resource, a removed API) or it cannot be built.
pub fn builtin_kind(
    version: &'static str,
    api_version: &str,
    kind: &str,
) -> Option<Arc<KindSchema>> {
    builtin(version, api_version, kind, false)
}

/// The validator of a built-in kind's patches: its schema without `required`.
pub fn builtin_partial(
    version: &'static str,
    api_version: &str,
    kind: &str,
) -> Option<Arc<KindSchema>> {
    builtin(version, api_version, kind, true)
}

fn builtin(
    version: &'static str,
    api_version: &str,
    kind: &str,
    partial: bool,
) -> Option<Arc<KindSchema>> {
    let store = version_store(version)?;
    store.schemas.definition(api_version, kind)?;
    let slot = {
        let mut kinds = store.kinds.lock().unwrap_or_else(|e| e.into_inner());
        kinds
            .entry((api_version.to_owned(), kind.to_owned(), partial))
            .or_default()
            .clone()
    };
    // Compiled outside the lock: other kinds compile in parallel.
    slot.get_or_init(|| compile(store, version, api_version, kind, partial).map(Arc::new))
        .clone()
}

/// Starts reading a version's embedded schemas on a rayon thread, so that decompressing and
/// indexing them overlaps with the rest of the start-up; the first validation waits for it.
pub fn prepare(version: &'static str) {
    rayon::spawn(move || {
        version_store(version);
    });
}

fn version_store(version: &'static str) -> Option<&'static VersionStore> {
    static STORES: Mutex<Vec<(&'static str, &'static VersionStore)>> = Mutex::new(Vec::new());
    let mut stores = STORES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, store)) = stores.iter().find(|(v, _)| *v == version) {
        return Some(store);
    }
    let schemas = builtin::schemas(version).ok()?;
    // One per embedded version at most, for the life of the process.
    let store: &'static VersionStore = Box::leak(Box::new(VersionStore {
        schemas,
        kinds: Mutex::new(HashMap::new()),
        object_meta: OnceLock::new(),
    }));
    stores.push((version, store));
    Some(store)
}

fn compile(
    store: &'static VersionStore,
    version: &str,
    api_version: &str,
    kind: &str,
    partial: bool,
) -> Option<KindSchema> {
    let definition = store.schemas.definition(api_version, kind)?;
    // Only the definitions the kind uses: parsing and registering them all cost more than
    // validating a few objects.
    let mut document = store.schemas.document_for(definition).ok()?;
    if partial {
        strip_required(&mut document);
    }
    let document = Arc::new(document);
    let registry = registry(version, Arc::clone(&document)).ok()?;
    let schema: Value = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("{}#/$defs/{definition}", document_uri(version)),
    });
    let validator = jsonschema::options()
        .with_registry(&registry)
        .build(&schema)
        .ok()?;
    Some(KindSchema {
        validator,
        document: SchemaDocument::Builtin(document),
        has_cel_rules: false,
    })
}

/// Whether an object's schema can only come from a CRD: not an API Kubernetes serves, has
/// served or will serve (those are the built-in schemas' and the API rules' business).
pub fn is_custom(api_version: &str, kind: &str, version: &'static str) -> bool {
    matches!(
        super::served::status(api_version, kind, version),
        super::served::ApiStatus::Unknown
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::crd::CrdSchema;

    fn widget(api_version: &str) -> CrdSchema {
        let version = builtin::latest();
        CrdSchema {
            api_version: api_version.to_owned(),
            kind: "Widget".to_owned(),
            schema: json!({
                "type": "object",
                "properties": {
                    "metadata": {"$ref": object_meta_ref(version)},
                    "spec": {"type": "object", "required": ["size"], "properties": {"size": {"type": "integer"}}}
                }
            }),
            not_served: None,
            deprecation: None,
            schema_line: None,
        }
    }

    /// A CRD of `--crds`, read from its file when needed, validates exactly as one of the
    /// input, kept as JSON text, whole and for patches.
    #[test]
    fn crds_read_from_their_files_validate_as_those_of_the_input() {
        let version = builtin::latest();
        let mut store = CrdStore::default();
        store.add_serialized(SerializedCrd::from(widget("example.com/v1")));
        let dir = tempfile::tempdir().unwrap();
        let path: Arc<Path> = Arc::from(dir.path().join("widgets.yaml"));
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec:\n  group: example.com\n  names: {kind: Widget}\n  versions:\n  - name: v2\n    served: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          spec:\n            type: object\n            required: [size]\n            properties: {size: {type: integer}}\n";
        std::fs::write(&path, format!("kind: ConfigMap\n---\n{crd}")).unwrap();
        let mut indexed = widget("example.com/v2");
        indexed.schema = Value::Null;
        store.add_in_file(indexed, path, 3);
        let bad = json!({"apiVersion": "x", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": "big"}});
        let partial = json!({"spec": {}});
        for api_version in ["example.com/v1", "example.com/v2"] {
            let whole = store.get(version, api_version, "Widget").unwrap().unwrap();
            assert!(!whole.validator.is_valid(&bad), "{api_version}");
            assert!(
                !whole.validator.is_valid(&partial),
                "{api_version}: size is required"
            );
            let patch = store
                .get_partial(version, api_version, "Widget")
                .unwrap()
                .unwrap();
            assert!(
                patch.validator.is_valid(&partial),
                "{api_version}: not for a patch"
            );
            assert_eq!(
                whole.document()["properties"]["spec"]["required"],
                json!(["size"])
            );
        }
        assert!(store.get(version, "example.com/v3", "Widget").is_none());
    }
}
