use super::{Check, declare_rule};

declare_rule! {
    /// ## What it checks
    /// Every file or folder a kustomization names — `resources`, `bases`, `components`,
    /// patch files, generator `files`/`envs`, `crds`, `configurations`, `replacements`
    /// paths — exists, relative to the kustomization's folder. A folder among `resources` or
    /// `components` must hold a `kustomization.yaml`. Remote resources (URLs) are not fetched.
    ///
    /// ## Why
    /// `kustomize build` stops at the first missing file, so Argo CD shows the application as
    /// failed to generate manifests, and nothing of it syncs.
    ///
    /// ## How to fix
    /// Fix the path (it is relative to the kustomization's folder), add the file, or remove the
    /// entry.
    ///
    /// ## Example
    /// ```yaml
    /// resources:
    ///   - deployment.yaml
    ///   - servce.yaml        # kustomize-missing-file: no such file
    /// ```
    id: "kustomize-missing-file",
    category: "kustomize",
    level: Error,
    kinds: &["Kustomization", "Component"],
    summary: "a kustomization names a file or folder that does not exist",
    check: Check::Loader,
}
