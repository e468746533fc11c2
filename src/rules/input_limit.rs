use super::{Check, declare_rule};

declare_rule! {
    /// ## What it checks
    /// Input that kvet refuses to expand because it would cost unbounded time or memory: alias
    /// expansion beyond a million nodes ("billion laughs"), collections nested more than 200
    /// levels deep, files over 64 MiB.
    ///
    /// ## Why
    /// No real manifest comes near these limits; a document that does is a mistake or an attack
    /// on the tools that read it (the API server has similar limits).
    ///
    /// ## How to fix
    /// Write the values out instead of nesting aliases; split very large files.
    ///
    /// ## Example
    /// ```yaml
    /// a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
    /// b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
    /// # ... nine levels later: input-limit
    /// ```
    id: "input-limit",
    category: "yaml",
    level: Error,
    kinds: &[],
    summary: "the input exceeds kvet's limits on alias expansion, nesting depth or file size",
    check: Check::Loader,
}
