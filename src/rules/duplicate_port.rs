use super::{Check, Context, declare_rule, field_of_items, report_repeats};
use crate::diag::Finding;
use crate::load::object::Object;
use crate::load::yaml::Node;
use crate::workload::pod_spec;

declare_rule! {
    /// ## What it checks
    /// Container ports of one pod that repeat: the same `containerPort` and `protocol` (with the
    /// same `hostIP` and `hostPort`) in two places of any containers of the pod, init containers
    /// included — unset fields count as their defaults (`TCP`, no host IP, `hostPort: 0`) — or
    /// the same non-empty port `name` twice in one container.
    ///
    /// ## Why
    /// A repeated port name is rejected by the API server. A repeated port definition is accepted
    /// with a warning, but strategic merge patches key `ports` by `containerPort`, so later
    /// patches and Services that target the port by name pick one of the two unpredictably.
    ///
    /// ## How to fix
    /// Declare each port once per pod; give each a distinct name.
    ///
    /// ## Example
    /// ```yaml
    /// ports:
    ///   - name: http
    ///     containerPort: 8080
    ///   - name: metrics
    ///     containerPort: 8080   # duplicate-port
    /// ```
    id: "duplicate-port",
    category: "workload",
    level: Warning,
    kinds: &crate::workload::KINDS,
    summary: "a pod declares the same container port or port name twice",
    check: Check::Object(check),
}

/// A field as Kubernetes compares it: absent, null and empty are the zero value.
fn text(port: &Node, field: &str, zero: &str) -> String {
    match port.get(field).and_then(Node::scalar_text) {
        Some(t) if !t.is_empty() && t != "null" => t,
        _ => zero.to_owned(),
    }
}

fn check(object: &Object, _: &Context, out: &mut Vec<Finding>) {
    let Some(pod) = pod_spec(object) else { return };
    // The API server compares port definitions across every container of the pod (init
    // containers included, as sidecars are), with unset fields at their defaults.
    let definitions = pod
        .containers()
        .flat_map(|c| c.list("ports").collect::<Vec<_>>())
        .filter_map(|(pointer, port)| {
            let number = port.get("containerPort")?;
            let key = (
                number.scalar_text()?,
                text(port, "protocol", "TCP"),
                text(port, "hostIP", ""),
                text(port, "hostPort", "0"),
            );
            Some((format!("{pointer}/containerPort"), key, number.span))
        });
    report_repeats(
        definitions,
        |pointer, (port, protocol, ..), first| {
            Finding::new(
                pointer,
                format!(
                    "port {port}/{protocol} is declared twice in the pod (first at line {})",
                    first.start.line
                ),
            )
            .with_help(
                "declare each container port once; Services and patches select ports by number and name",
            )
        },
        out,
    );
    for container in pod.containers() {
        let name = container.shown_name();
        // Unnamed ports (`name: ""`, as Helm often renders) are not compared.
        let named = field_of_items(container.list("ports"), "name")
            .into_iter()
            .filter(|(_, port_name, _)| !port_name.is_empty() && port_name != "null");
        report_repeats(
            named,
            |pointer, port_name, first| {
                Finding::new(
                    pointer,
                    format!(
                        "container \"{name}\" has two ports named \"{port_name}\" (first at line {})",
                        first.start.line
                    ),
                )
                .with_help("port names must be unique within a container")
            },
            out,
        );
    }
}
