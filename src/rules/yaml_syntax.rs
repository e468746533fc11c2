use super::{Check, declare_rule};

declare_rule! {
    /// ## What it checks
    /// YAML that cannot be parsed. The other documents of the same file are still checked.
    ///
    /// ## Why
    /// Nothing can apply a document that does not parse. A Helm template with a wrong whitespace
    /// trim (`{{-`) renders `apiVersion: v1kind: ConfigMap` on one line; a stray tab or a
    /// missing space after `:` breaks indentation.
    ///
    /// ## How to fix
    /// Fix the YAML at the reported line; for rendered charts, fix the template that produced it
    /// (the diagnostic names it when the document has a `# Source:` comment).
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1kind: ConfigMap    # yaml-syntax
    /// ```
    id: "yaml-syntax",
    category: "yaml",
    level: Error,
    kinds: &[],
    summary: "the YAML cannot be parsed",
    check: Check::Loader,
}
