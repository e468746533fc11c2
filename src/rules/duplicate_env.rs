use super::{Check, Context, declare_rule, field_of_items, report_repeats};
use crate::diag::Finding;
use crate::load::object::Object;
use crate::workload::pod_spec;

declare_rule! {
    /// ## What it checks
    /// Two entries of a container's `env` with the same `name`.
    ///
    /// ## Why
    /// Kubernetes accepts it (with a warning) and the last entry wins, so one of the two values
    /// is silently ignored — often the one someone just set in the chart's values. Server-side
    /// apply and strategic merge patches also treat `env` as a map keyed by name, so the
    /// duplicate makes later patches behave unexpectedly.
    ///
    /// ## How to fix
    /// Keep one entry per variable name.
    ///
    /// ## Example
    /// ```yaml
    /// env:
    ///   - name: LOG_LEVEL
    ///     value: info
    ///   - name: LOG_LEVEL     # duplicate-env
    ///     value: debug
    /// ```
    id: "duplicate-env",
    category: "workload",
    level: Warning,
    kinds: &crate::workload::KINDS,
    summary: "a container sets the same environment variable twice",
    check: Check::Object(check),
}

fn check(object: &Object, _: &Context, out: &mut Vec<Finding>) {
    let Some(pod) = pod_spec(object) else { return };
    for container in pod.containers() {
        let name = container.shown_name();
        report_repeats(
            field_of_items(container.list("env"), "name"),
            |pointer, var, first| {
                Finding::new(
                    pointer,
                    format!(
                        "container \"{name}\" sets environment variable \"{var}\" twice (first at line {}); only the last value is used",
                        first.start.line
                    ),
                )
                .with_help("remove one of the two entries")
            },
            out,
        );
    }
}
