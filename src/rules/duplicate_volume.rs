use super::{Check, Context, declare_rule, field_of_items, report_repeats};
use crate::diag::Finding;
use crate::load::object::Object;
use crate::workload::pod_spec;

declare_rule! {
    /// ## What it checks
    /// Two entries of a pod's `volumes` with the same `name`.
    ///
    /// ## Why
    /// The API server rejects the object (`spec.volumes[1].name: Duplicate value`), so the sync
    /// or rollout fails. It usually comes from a Helm template that adds a volume both in a
    /// helper and in the chart's values, or from a Kustomize patch that appends instead of merging.
    ///
    /// ## How to fix
    /// Keep one definition of the volume; rename one of them if they are really two volumes.
    ///
    /// ## Example
    /// ```yaml
    /// volumes:
    ///   - name: config
    ///     configMap: {name: app}
    ///   - name: config        # duplicate-volume
    ///     emptyDir: {}
    /// ```
    id: "duplicate-volume",
    category: "workload",
    level: Error,
    kinds: &crate::workload::KINDS,
    summary: "two volumes of a pod have the same name",
    check: Check::Object(check),
}

fn check(object: &Object, _: &Context, out: &mut Vec<Finding>) {
    let Some(pod) = pod_spec(object) else { return };
    report_repeats(
        field_of_items(pod.list("volumes"), "name"),
        |pointer, name, first| {
            Finding::new(
                pointer,
                format!(
                    "volume \"{name}\" is defined twice (first at line {})",
                    first.start.line
                ),
            )
            .with_help("keep one definition of the volume, or give the second one another name")
        },
        out,
    );
}
