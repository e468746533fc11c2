use super::{Check, declare_rule};

declare_rule! {
    /// ## What it checks
    /// Says once per run how many charts were not rendered because `helm` is not installed;
    /// and, on the `dependencies` entry of `Chart.yaml`, that a chart was not rendered because
    /// a dependency is not in its `charts/` folder (`helm dependency build` would download it;
    /// kvet fetches nothing). What those charts render is then not checked.
    ///
    /// ## Why
    /// What Argo CD applies is the rendered chart; a passing run should not hide that it was
    /// never looked at.
    ///
    /// ## How to fix
    /// Install Helm 3 or later where kvet runs; run `helm dependency build CHART` before kvet
    /// (or vendor the dependency); or set `render: false` in `.kvet.yaml` (`--no-render`) to say
    /// that checking files alone is intended.
    ///
    /// ## Example
    /// ```yaml
    /// dependencies:
    ///   - name: redis          # not in charts/: the chart is not rendered
    ///     version: 19.x
    ///     repository: oci://registry-1.docker.io/bitnamicharts
    /// ```
    id: "helm-not-rendered",
    category: "helm",
    level: Info,
    kinds: &[],
    summary: "charts were not rendered: no helm, or dependencies not vendored",
    check: Check::Loader,
}
