use super::{Check, declare_rule};

declare_rule! {
    /// ## What it checks
    /// Every suppression: an `ignore.kvet.dev/<rule-id>` annotation, a `# kvet:ignore` or
    /// `# kvet:ignore-file` comment, an `ignore` entry of the config. It reports one that
    /// suppresses nothing (the finding is gone, the rule is off, the rule id is misspelt), and
    /// one without a reason, which is not applied. It also reports an `overrides` entry of the
    /// config whose `files` globs match no file of the run (a folder renamed, a glob written
    /// relative to the wrong folder: globs are relative to the config's folder).
    ///
    /// Suppressions of rules that look across files (`duplicate-template`, the Kargo and Argo
    /// CD references) and config entries are judged only when the run covers the whole
    /// folder of the config: a pre-commit run on a few files cannot tell they are unused.
    ///
    /// ## Why
    /// A suppression outlives the finding it was written for; left behind, it hides the next
    /// real problem of that rule on that line or object. A reason tells the next reader
    /// whether it may go.
    ///
    /// ## How to fix
    /// Delete the suppression, or give it a reason after `--`.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     ignore.kvet.dev/image-tag-latest: "nightly test image, rebuilt on every run"
    /// spec:
    ///   volumes:
    ///     # kvet:ignore host-path-mount -- the node agent reads the host's logs
    ///     - {name: logs, hostPath: {path: /var/log}}
    /// ```
    id: "unused-suppression",
    category: "structure",
    level: Warning,
    kinds: &[],
    summary: "a suppression suppresses nothing, or gives no reason",
    check: Check::Loader,
}
