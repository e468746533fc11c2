//! What Kyverno's CEL reads from the cluster, offline: `resource.Get(apiVersion, resource,
//! namespace, name)`, `resource.List(apiVersion, resource, namespace)` and
//! `image.GetMetadata(reference)`, answered from the objects and image data a Kyverno CLI
//! test's `context` file gives (`kind: Context`, `spec.resources`, `spec.images`). Without
//! one (as in `kvet check`), a rule that calls them is not evaluated.

use std::cell::RefCell;
use std::sync::Arc;

use cel::common::types::STRING_TYPE;
use cel::common::value::CowVal;
use cel::{DeclarationError, Env, ExecutionError};
use serde_json::{Value, json};

use super::matching::resource_of;

/// The cluster a test describes.
#[derive(Debug, Default)]
pub struct Cluster {
    pub resources: Vec<Value>,
    pub images: Vec<Value>,
}

impl Cluster {
    /// The cluster of a `kind: Context` document.
    pub fn from_context(document: &Value) -> Cluster {
        let list = |key: &str| {
            document
                .pointer(&format!("/spec/{key}"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        Cluster {
            resources: list("resources"),
            images: list("images"),
        }
    }

    fn matching<'a>(
        &'a self,
        api_version: &'a str,
        resource: &'a str,
        namespace: &'a str,
    ) -> impl Iterator<Item = &'a Value> + 'a {
        let text = |v: &'a Value, p: &str| v.pointer(p).and_then(Value::as_str).unwrap_or_default();
        self.resources.iter().filter(move |r| {
            text(r, "/apiVersion") == api_version
                && resource_of(text(r, "/kind")) == resource
                && (namespace.is_empty() || text(r, "/metadata/namespace") == namespace)
        })
    }
}

thread_local! {
    static CLUSTER: RefCell<Option<Arc<Cluster>>> = const { RefCell::new(None) };
}

/// Runs `f` with `cluster` answering the cluster functions on this thread.
pub fn with_cluster<T>(cluster: Option<Arc<Cluster>>, f: impl FnOnce() -> T) -> T {
    let before = CLUSTER.with(|c| c.replace(cluster));
    let out = f();
    CLUSTER.with(|c| *c.borrow_mut() = before);
    out
}

/// Whether a cluster answers the cluster functions on this thread.
pub fn available() -> bool {
    CLUSTER.with(|c| c.borrow().is_some())
}

/// The names of the functions, as expressions call them.
pub const FUNCTIONS: [&str; 3] = ["resource.Get", "resource.List", "image.GetMetadata"];

/// Declares the functions in a CEL environment.
pub fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload(
        "resource.Get",
        "kyverno_resource_get",
        vec![STRING_TYPE, STRING_TYPE, STRING_TYPE, STRING_TYPE],
        get,
    )?;
    env.add_overload(
        "resource.List",
        "kyverno_resource_list",
        vec![STRING_TYPE, STRING_TYPE, STRING_TYPE],
        list,
    )?;
    env.add_overload(
        "image.GetMetadata",
        "kyverno_image_metadata",
        vec![STRING_TYPE],
        metadata,
    )?;
    Ok(())
}

fn strings<'b, 'v>(function: &str, args: &[CowVal<'b, 'v>]) -> Result<Vec<String>, ExecutionError> {
    args.iter()
        .map(|a| {
            a.downcast_ref::<cel::common::types::CelString>()
                .map(|s| s.inner().to_owned())
                .ok_or_else(|| ExecutionError::function_error(function, "takes strings"))
        })
        .collect()
}

/// Answers with the cluster of this thread.
fn answer<'b, 'v>(
    function: &str,
    find: impl FnOnce(&Cluster) -> Option<Value>,
) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let cluster = CLUSTER.with(|c| c.borrow().clone()).ok_or_else(|| {
        ExecutionError::function_error(function, "reads the cluster, which kvet cannot do offline")
    })?;
    let found = find(&cluster).ok_or_else(|| {
        ExecutionError::function_error(function, "not found in the test's context")
    })?;
    let value = cel::to_value(found)
        .map_err(|e| ExecutionError::function_error(function, e.to_string()))?;
    let boxed: Box<dyn cel::common::value::Val> = value
        .try_into()
        .map_err(|_| ExecutionError::function_error(function, "cannot be given to CEL"))?;
    Ok(CowVal::Owned(boxed))
}

fn get<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let a = strings("resource.Get", &args)?;
    let [api_version, resource, namespace, name] = a.as_slice() else {
        return Err(ExecutionError::function_error(
            "resource.Get",
            "takes 4 strings",
        ));
    };
    answer("resource.Get", |cluster| {
        cluster
            .matching(api_version, resource, namespace)
            .find(|r| r.pointer("/metadata/name").and_then(Value::as_str) == Some(name))
            .cloned()
    })
}

fn list<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let a = strings("resource.List", &args)?;
    let [api_version, resource, namespace] = a.as_slice() else {
        return Err(ExecutionError::function_error(
            "resource.List",
            "takes 3 strings",
        ));
    };
    answer("resource.List", |cluster| {
        let items: Vec<Value> = cluster
            .matching(api_version, resource, namespace)
            .cloned()
            .collect();
        Some(json!({"items": items}))
    })
}

fn metadata<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let a = strings("image.GetMetadata", &args)?;
    let [reference] = a.as_slice() else {
        return Err(ExecutionError::function_error(
            "image.GetMetadata",
            "takes a string",
        ));
    };
    answer("image.GetMetadata", |cluster| {
        cluster
            .images
            .iter()
            .find(|i| i.get("image").and_then(Value::as_str) == Some(reference))
            .cloned()
    })
}
