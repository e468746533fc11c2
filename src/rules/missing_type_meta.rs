use super::{Check, declare_rule};

declare_rule! {
    /// ## What it checks
    /// A document without `apiVersion` or `kind` in a file that holds Kubernetes objects (files
    /// with no Kubernetes object at all are skipped, so CI pipelines and Helm values files are not
    /// reported). Items of a `v1 List` are checked the same way.
    ///
    /// ## Why
    /// `kubectl apply` and Argo CD refuse such a document; usually a template rendered only part
    /// of an object, or a `---` separator cut one object in two.
    ///
    /// ## How to fix
    /// Add the missing field, or remove the stray document.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// kind: ConfigMap
    /// metadata: {name: app}
    /// ---
    /// metadata: {name: orphan}    # missing-type-meta
    /// ```
    id: "missing-type-meta",
    category: "yaml",
    level: Error,
    kinds: &[],
    summary: "a document in a Kubernetes file has no apiVersion or kind",
    check: Check::Loader,
}
