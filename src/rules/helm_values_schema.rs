use super::{Check, declare_rule};

declare_rule! {
    /// ## What it checks
    /// The values of every release kvet renders — the chart's `values.yaml`, the release's
    /// values files and `--set` pairs, merged as helm merges them — against the chart's
    /// `values.schema.json`, as helm checks them before it renders. Each error is reported in
    /// the values file that set the value last, on its line (on the mapping that lacks a
    /// required key); the release is then not rendered, as helm would not render it.
    ///
    /// ## Why
    /// helm refuses a release whose values break the chart's schema: the sync fails. The
    /// values file is where the mistake is, not the template.
    ///
    /// ## How to fix
    /// Give the value the type, format or choice the schema asks for, or the key it requires.
    ///
    /// ## Example
    /// ```yaml
    /// # values-staging.yaml, for a schema where replicas is an integer
    /// replicas: "3"    # helm-values-schema: expected integer, got string
    /// ```
    id: "helm-values-schema",
    category: "helm",
    level: Error,
    kinds: &[],
    summary: "a release's values do not match its chart's values.schema.json",
    check: Check::Loader,
}
