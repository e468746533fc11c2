use super::{Check, declare_rule};

declare_rule! {
    /// ## What it checks
    /// Nothing itself: it reports a policy rule (built-in or from `--policy`) that failed while
    /// it was evaluated on an object — a runtime error such as a type error in a builtin call,
    /// a conflict between rule values, or kvet's limits on one rule's evaluation on one object
    /// (steps of work and memory, counted so that the verdict never depends on how busy the
    /// machine is; see README) — and a
    /// result kvet cannot read (an object without `msg`, a `path` that is not a JSON pointer or
    /// a list of keys). The other rules and objects are still evaluated.
    ///
    /// ## Why
    /// A policy that errors on an object has not checked it: reporting that is the only way a
    /// CI gate does not pass silently.
    ///
    /// ## How to fix
    /// Fix the policy the message names (`kvet test` runs its unit tests), or guard the rule
    /// against the object shape that breaks it.
    ///
    /// ## Example
    /// ```text
    /// deploy.yaml:1:1: error[policy-error] main.deny failed on Deployment web:
    ///   policy.rego:5:8: error: `count` expects a collection, got a number
    /// ```
    id: "policy-error",
    category: "policy",
    level: Error,
    kinds: &[],
    summary: "a policy failed on an object instead of checking it",
    check: Check::Loader,
}
