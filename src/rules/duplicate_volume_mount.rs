use super::{Check, Context, declare_rule, field_of_items, report_repeats};
use crate::diag::Finding;
use crate::load::object::Object;
use crate::workload::pod_spec;

declare_rule! {
    /// ## What it checks
    /// Two `volumeMounts` of one container with the same `mountPath`.
    ///
    /// ## Why
    /// The API server rejects the pod (`volumeMounts[1].mountPath: Invalid value: must be
    /// unique`). Helm charts produce it when a mount is added both by a helper template and by
    /// `extraVolumeMounts` in the values.
    ///
    /// ## How to fix
    /// Keep one mount per path; use `subPath` and distinct paths to mount several files of one
    /// volume.
    ///
    /// ## Example
    /// ```yaml
    /// volumeMounts:
    ///   - name: config
    ///     mountPath: /etc/app
    ///   - name: extra
    ///     mountPath: /etc/app   # duplicate-volume-mount
    /// ```
    id: "duplicate-volume-mount",
    category: "workload",
    level: Error,
    kinds: &crate::workload::KINDS,
    summary: "two volume mounts of a container use the same mountPath",
    check: Check::Object(check),
}

fn check(object: &Object, _: &Context, out: &mut Vec<Finding>) {
    let Some(pod) = pod_spec(object) else { return };
    for container in pod.containers() {
        let name = container.shown_name();
        report_repeats(
            field_of_items(container.list("volumeMounts"), "mountPath"),
            |pointer, path, first| {
                Finding::new(
                    pointer,
                    format!(
                        "container \"{name}\" mounts two volumes at \"{path}\" (first at line {})",
                        first.start.line
                    ),
                )
                .with_help("each mountPath must be unique within a container; remove or move one of the mounts")
            },
            out,
        );
    }
}
