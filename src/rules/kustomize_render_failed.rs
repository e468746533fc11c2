use super::{Check, declare_rule};

declare_rule! {
    /// ## What it checks
    /// Every render root — a kustomization that no other kustomization of the input includes
    /// — is built with `kustomize build` (or `kubectl kustomize`), as Argo CD and Flux build
    /// it. A build that fails is reported on the root's `kustomization.yaml`, with the tool's
    /// message, on the entry the message names when it names one. The rest of the repository
    /// is still checked.
    ///
    /// ## Why
    /// A kustomization that does not build is an application that does not sync; it is found
    /// only when Argo CD tries.
    ///
    /// ## How to fix
    /// Run `kustomize build DIR` and fix what it says: a missing file, a patch whose target
    /// does not exist, a conflicting ID.
    ///
    /// ## Example
    /// ```yaml
    /// resources:
    ///   - ../base
    /// patches:
    ///   - path: replicas.yaml    # its target Deployment `api` is not in ../base
    /// ```
    id: "kustomize-render-failed",
    category: "kustomize",
    level: Error,
    kinds: &["Kustomization"],
    summary: "a kustomization does not build",
    check: Check::Loader,
}
