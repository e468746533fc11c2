//! JSON schemas of Kubernetes objects: the embedded Kubernetes API schemas, by version.

pub mod builtin;
pub mod catalog;
pub mod cel;
mod cel_bind;
mod cel_cost;
pub mod cel_k8s;
pub mod crd;
pub mod crd_files;
pub mod defs;
pub mod descriptions;
pub mod location;
pub mod served;
mod shared;
pub mod store;
pub mod validate;
