use super::{Check, declare_rule};

declare_rule! {
    /// ## What it checks
    /// What the tool that renders a kustomization or a chart (`kustomize build`, `kubectl
    /// kustomize`, `helm template`) warns of while it succeeds, one finding per warning, with
    /// the tool named: on the kustomization's field the warning names (`'commonLabels' is
    /// deprecated`), else on the first line of the root's `kustomization.yaml` or of the
    /// chart's `Chart.yaml`. Warnings about the machine rather than the repository (helm's
    /// `Kubernetes configuration file is group-readable`) are left out.
    ///
    /// ## Why
    /// A render that succeeds with a warning is what Argo CD and Flux see too, but their logs
    /// are where nobody reads them: a deprecated field stops working at the next major version
    /// of the tool, and a value helm could not merge (`cannot overwrite table with non table`)
    /// is silently dropped from what is deployed.
    ///
    /// ## How to fix
    /// Do what the tool says: `kustomize edit fix` for deprecated fields; for helm, give the
    /// value the type the chart's `values.yaml` has.
    ///
    /// ## Example
    /// ```yaml
    /// commonLabels:      # render-warning: kustomize: 'commonLabels' is deprecated...
    ///   app: web
    /// resources:
    ///   - deployment.yaml
    /// ```
    id: "render-warning",
    category: "kustomize",
    level: Info,
    kinds: &["Kustomization"],
    summary: "the tool that renders a kustomization or chart warned",
    check: Check::Loader,
}
