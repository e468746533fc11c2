use super::{Check, declare_rule};

declare_rule! {
    /// ## What it checks
    /// Says once per run how many kustomizations could not be rendered because neither
    /// `kustomize` nor `kubectl` is installed; and, on the `helmCharts` entry, that a
    /// kustomization was not rendered because it uses a Helm chart that is not in the
    /// repository (kustomize would download it into the repository; kvet writes and fetches
    /// nothing). Their files are then checked one by one; what the overlays produce is not
    /// checked.
    ///
    /// ## Why
    /// What Argo CD applies is the rendered overlay; without the tool kvet can check the files
    /// but not the result, and a passing run should not hide that.
    ///
    /// ## How to fix
    /// Install `kustomize` or `kubectl` where kvet runs, or set `render: false` in
    /// `.kvet.yaml` (or pass `--no-render`) to say that checking files alone is intended.
    /// Vendor a remote chart under the chart home (`helm pull --untar -d charts`).
    ///
    /// ## Example
    /// ```text
    /// overlays/prod/kustomization.yaml:1:1: info[kustomize-not-rendered] 2 kustomizations were not rendered: neither kustomize nor kubectl is on the PATH
    /// ```
    id: "kustomize-not-rendered",
    category: "kustomize",
    level: Info,
    kinds: &["Kustomization"],
    summary: "kustomizations were not rendered: no kustomize or kubectl",
    check: Check::Loader,
}
