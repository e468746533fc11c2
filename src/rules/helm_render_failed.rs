use super::{Check, declare_rule};

declare_rule! {
    /// ## What it checks
    /// Every chart of the input (a folder with a `Chart.yaml` that no other chart vendors), and
    /// every release the config's `charts` or `--helm` asks for, is rendered with
    /// `helm template`, as Argo CD renders it. A render that fails is reported with helm's
    /// message where it points: the template's line and column for a template error (a nil
    /// value, `required`, `fail`, a parse error); for a template whose output is not YAML — a
    /// `{{-` that glues `kind:` onto the `apiVersion:` line — the template line that writes the
    /// start of the invalid line (found in the output of `helm template --debug`); an invalid
    /// `Chart.yaml` on its first line. The rest of the repository is still checked.
    ///
    /// ## Why
    /// A chart that does not render is a release that does not sync; helm says so only when
    /// someone runs it.
    ///
    /// ## How to fix
    /// Fix the template where the finding points; `helm template CHART --debug` shows what it
    /// renders.
    ///
    /// ## Example
    /// ```yaml
    /// apiVersion: v1
    /// {{- if .Values.enabled -}}   # the trim on both sides renders `apiVersion: v1kind: ConfigMap`
    /// kind: ConfigMap
    /// {{- end }}
    /// ```
    id: "helm-render-failed",
    category: "helm",
    level: Error,
    kinds: &[],
    summary: "a chart does not render",
    check: Check::Loader,
}
