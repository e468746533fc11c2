//! Compiled validators, one per (Kubernetes version, apiVersion, kind), built the first time an
//! object of that kind is seen and shared by every thread from then on.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use jsonschema::{Registry, Resource, Validator};
use serde_json::{Value, json};

use super::builtin::{self, KubernetesSchemas};

/// Where a version's document is registered, for `$ref`s into its `$defs`. Never fetched.
fn document_uri(version: &str) -> String {
    format!("https://schemas.kvet.invalid/kubernetes/{version}.json")
}

/// A compiled validator and the schemas it came from (for error messages).
pub struct KindSchema {
    pub validator: Validator,
    pub schemas: &'static KubernetesSchemas,
}

type Slot = Arc<OnceLock<Option<Arc<KindSchema>>>>;

struct VersionStore {
    registry: Registry<'static>,
    schemas: &'static KubernetesSchemas,
    kinds: Mutex<HashMap<(String, String), Slot>>,
}

/// The validator of a built-in kind in a Kubernetes version; `None` when that version does not
/// serve the kind (a custom resource, a removed API) or it cannot be built.
pub fn builtin_kind(
    version: &'static str,
    api_version: &str,
    kind: &str,
) -> Option<Arc<KindSchema>> {
    let store = version_store(version)?;
    store.schemas.definition(api_version, kind)?;
    let slot = {
        let mut kinds = store.kinds.lock().unwrap_or_else(|e| e.into_inner());
        kinds
            .entry((api_version.to_owned(), kind.to_owned()))
            .or_default()
            .clone()
    };
    // Compiled outside the lock: other kinds compile in parallel.
    slot.get_or_init(|| compile(store, version, api_version, kind).map(Arc::new))
        .clone()
}

fn version_store(version: &'static str) -> Option<&'static VersionStore> {
    static STORES: Mutex<Vec<(&'static str, &'static VersionStore)>> = Mutex::new(Vec::new());
    let mut stores = STORES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, store)) = stores.iter().find(|(v, _)| *v == version) {
        return Some(store);
    }
    let schemas = builtin::schemas(version).ok()?;
    let registry = Registry::new()
        .add(
            document_uri(version),
            Resource::from_contents(schemas.document.clone()),
        )
        .ok()?
        .prepare()
        .ok()?;
    // One per embedded version at most, for the life of the process.
    let store: &'static VersionStore = Box::leak(Box::new(VersionStore {
        registry,
        schemas,
        kinds: Mutex::new(HashMap::new()),
    }));
    stores.push((version, store));
    Some(store)
}

fn compile(
    store: &'static VersionStore,
    version: &str,
    api_version: &str,
    kind: &str,
) -> Option<KindSchema> {
    let definition = store.schemas.definition(api_version, kind)?;
    let schema: Value = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$ref": format!("{}#/$defs/{definition}", document_uri(version)),
    });
    let validator = jsonschema::options()
        .with_registry(&store.registry)
        .build(&schema)
        .ok()?;
    Some(KindSchema {
        validator,
        schemas: store.schemas,
    })
}
