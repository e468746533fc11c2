use super::{Check, Context, declare_rule, report_repeats};
use crate::diag::Finding;
use crate::load::object::Object;
use crate::workload::pod_spec;

declare_rule! {
    /// ## What it checks
    /// Two containers of one pod with the same `name`, counting init and ephemeral containers.
    ///
    /// ## Why
    /// Container names must be unique across all containers of a pod; the API server rejects the
    /// object. Sidecars injected by a chart helper and added again in values cause it.
    ///
    /// ## How to fix
    /// Give each container its own name.
    ///
    /// ## Example
    /// ```yaml
    /// initContainers:
    ///   - name: app
    /// containers:
    ///   - name: app     # duplicate-container-name
    /// ```
    id: "duplicate-container-name",
    category: "workload",
    level: Error,
    kinds: &crate::workload::KINDS,
    summary: "two containers of a pod have the same name",
    check: Check::Object(check),
}

fn check(object: &Object, _: &Context, out: &mut Vec<Finding>) {
    let Some(pod) = pod_spec(object) else { return };
    let names = pod.containers().filter_map(|c| {
        let node = c.node.get("name")?;
        Some((
            format!("{}/name", c.pointer),
            node.scalar_text()?,
            node.span,
        ))
    });
    report_repeats(
        names,
        |pointer, name, first| {
            Finding::new(
                pointer,
                format!(
                    "container name \"{name}\" is used twice in the pod (first at line {})",
                    first.start.line
                ),
            )
            .with_help("container names must be unique across containers, initContainers and ephemeralContainers")
        },
        out,
    );
}
