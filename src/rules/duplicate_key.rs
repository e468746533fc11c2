use super::{Check, declare_rule};

declare_rule! {
    /// ## What it checks
    /// A key written twice in the same YAML mapping. Reported at the second key.
    ///
    /// ## Why
    /// YAML forbids it. `kubectl apply` keeps the last value without a word, while strict
    /// decoders (the API server's field validation, `kubectl --validate=strict`, Argo CD's diff)
    /// reject the object — so the manifest behaves differently depending on the tool. It is the
    /// typical result of a Helm template that renders a block twice, e.g. `resources:` from both
    /// a default and the values.
    ///
    /// ## How to fix
    /// Remove one of the two keys (the last one is the value Kubernetes will see).
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   replicas: 2
    ///   replicas: 3    # duplicate-key
    /// ```
    id: "duplicate-key",
    category: "yaml",
    level: Error,
    kinds: &[],
    summary: "a key appears twice in the same mapping",
    check: Check::Loader,
}
