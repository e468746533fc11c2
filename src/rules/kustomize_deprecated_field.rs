use super::{Check, declare_rule};

declare_rule! {
    /// ## What it checks
    /// Kustomization fields kustomize v5 deprecates: `commonLabels` (use `labels`),
    /// `patchesStrategicMerge` and `patchesJson6902` (use `patches`), `bases` (use
    /// `resources`), `vars` (use `replacements`), `imageTags` (use `images`),
    /// `helmChartInflationGenerator` (use `helmCharts`), and a generator's `env` (use `envs`).
    ///
    /// ## Why
    /// Deprecated fields still build today and print a warning nobody reads in CI; they will
    /// be removed in a later kustomize, which Argo CD or Flux will pick up on an upgrade.
    /// `commonLabels` also rewrites selectors, which are immutable on Deployments: adding a
    /// label later fails the sync. `labels` with `includeSelectors: false` does not.
    ///
    /// ## How to fix
    /// Move the entries to the field named in the message; `kustomize edit fix` rewrites most
    /// of them.
    ///
    /// ## Example
    /// ```yaml
    /// commonLabels:            # kustomize-deprecated-field: use `labels`
    ///   team: shop
    /// ```
    id: "kustomize-deprecated-field",
    category: "kustomize",
    level: Warning,
    kinds: &["Kustomization", "Component"],
    summary: "a kustomization uses a field kustomize deprecates",
    check: Check::Loader,
}
