use super::{Check, declare_rule};

declare_rule! {
    /// ## What it checks
    /// A file kvet was asked to check but could not read as text: missing, unreadable
    /// (permissions), a symbolic link loop, binary content, or text that is not UTF-8.
    ///
    /// ## Why
    /// A manifest that cannot be read cannot be checked, and a CI gate must not pass silently
    /// because of it.
    ///
    /// ## How to fix
    /// Fix the path or permissions, save the file as UTF-8, or exclude it with `--exclude`.
    ///
    /// ## Example
    /// ```text
    /// kvet check deploy/missing.yaml    # unreadable-file: no such file or directory
    /// ```
    id: "unreadable-file",
    category: "input",
    level: Error,
    kinds: &[],
    summary: "a file could not be read as UTF-8 text",
    check: Check::Loader,
}
