//! JSON schemas of Kubernetes objects: the embedded Kubernetes API schemas, by version.

pub mod builtin;
pub mod served;
