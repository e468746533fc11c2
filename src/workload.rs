//! Where pod specs live in the kinds that carry them, and the containers inside.

use crate::load::object::Object;
use crate::load::yaml::Node;

/// A kind that runs pods, and where it keeps their template (metadata + spec).
pub struct WorkloadKind {
    pub kind: &'static str,
    /// API groups of the kind (`""` for the core group).
    pub groups: &'static [&'static str],
    /// Keys of the pod template in the object; empty for a Pod, which is its own.
    pub template: &'static [&'static str],
}

/// Every kind kvet knows to run pods: the one table read by the Rust rules ([`pod_spec`]) and,
/// through [`rego_table`], by the policies' library (`data.kvet.lib.workload`).
pub const WORKLOAD_KINDS: &[WorkloadKind] = &[
    workload("Pod", &[""], &[]),
    workload("PodTemplate", &[""], &["template"]),
    workload("ReplicationController", &[""], &["spec", "template"]),
    workload("Deployment", &["apps", "extensions"], &["spec", "template"]),
    workload("StatefulSet", &["apps"], &["spec", "template"]),
    workload("DaemonSet", &["apps", "extensions"], &["spec", "template"]),
    workload("ReplicaSet", &["apps", "extensions"], &["spec", "template"]),
    workload("Job", &["batch"], &["spec", "template"]),
    workload(
        "CronJob",
        &["batch"],
        &["spec", "jobTemplate", "spec", "template"],
    ),
    workload("Rollout", &["argoproj.io"], &["spec", "template"]),
    // OpenShift; OpenShift 3 also served it in the core group (`apiVersion: v1`).
    workload(
        "DeploymentConfig",
        &["apps.openshift.io", ""],
        &["spec", "template"],
    ),
    // KEDA: `jobTargetRef` is a Job's spec.
    workload(
        "ScaledJob",
        &["keda.sh"],
        &["spec", "jobTargetRef", "template"],
    ),
];

const fn workload(
    kind: &'static str,
    groups: &'static [&'static str],
    template: &'static [&'static str],
) -> WorkloadKind {
    WorkloadKind {
        kind,
        groups,
        template,
    }
}

/// Where a kind keeps its pod template (empty for a Pod), by kind name.
pub fn template_path(kind: &str) -> Option<&'static [&'static str]> {
    WORKLOAD_KINDS
        .iter()
        .find(|w| w.kind == kind)
        .map(|w| w.template)
}

/// The kinds of [`WORKLOAD_KINDS`], for rules' `kinds` (and `kinds: [workloads]` in a policy's
/// METADATA).
pub const KINDS: [&str; WORKLOAD_KINDS.len()] = {
    let mut kinds = [""; WORKLOAD_KINDS.len()];
    let mut i = 0;
    while i < kinds.len() {
        kinds[i] = WORKLOAD_KINDS[i].kind;
        i += 1;
    }
    kinds
};

/// The row of [`WORKLOAD_KINDS`] an object of API group `group` and kind `kind` is, if any.
fn row_of(group: &str, kind: &str) -> Option<usize> {
    WORKLOAD_KINDS
        .iter()
        .position(|w| w.kind == kind && w.groups.contains(&group))
}

/// The JSON pointer of the pod spec of each row of [`WORKLOAD_KINDS`]
/// (`/spec/template/spec`), built once: rules ask for it on every object.
fn spec_pointer(row: usize) -> &'static str {
    static POINTERS: std::sync::LazyLock<Vec<String>> = std::sync::LazyLock::new(|| {
        WORKLOAD_KINDS
            .iter()
            .map(|w| {
                w.template
                    .iter()
                    .chain(&["spec"])
                    .map(|k| format!("/{k}"))
                    .collect()
            })
            .collect()
    });
    &POINTERS[row]
}

/// [`WORKLOAD_KINDS`] as a Rego module, `data.kvet.lib.workload_kinds.templates`: `{kind:
/// {"groups": [...], "path": [...]}}`. Every policy engine has it.
pub fn rego_table() -> String {
    let rows: Vec<String> = WORKLOAD_KINDS
        .iter()
        .map(|w| {
            format!(
                "\t{:?}: {{\"groups\": {}, \"path\": {}}},",
                w.kind,
                rego_strings(w.groups),
                rego_strings(w.template)
            )
        })
        .collect();
    format!(
        "# Generated from kvet's table of workload kinds (src/workload.rs).\npackage kvet.lib.workload_kinds\n\ntemplates := {{\n{}\n}}\n",
        rows.join("\n")
    )
}

fn rego_strings(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("{s:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

/// A pod spec inside an object.
pub struct PodSpec<'a> {
    /// JSON pointer of the pod spec in the object (`/spec/template/spec`).
    pub pointer: &'static str,
    pub node: &'a Node,
}

/// A container (regular, init or ephemeral) of a pod spec.
pub struct Container<'a> {
    /// JSON pointer of the container in the object.
    pub pointer: String,
    pub node: &'a Node,
}

/// The lists of containers a pod spec has, in the order Kubernetes validates them.
pub const CONTAINER_LISTS: &[&str] = &["initContainers", "containers", "ephemeralContainers"];

/// The pod spec of a pod-bearing object, if it has one.
pub fn pod_spec(object: &Object) -> Option<PodSpec<'_>> {
    let pointer = spec_pointer(row_of(object.id.group(), &object.id.kind)?);
    let node = object.root.pointer(pointer)?;
    node.as_map()?;
    Some(PodSpec { pointer, node })
}

impl<'a> PodSpec<'a> {
    /// Every container of the pod, init containers first.
    pub fn containers(&self) -> impl Iterator<Item = Container<'a>> + '_ {
        CONTAINER_LISTS.iter().flat_map(move |list| {
            let items = self
                .node
                .get(list)
                .and_then(Node::as_seq)
                .unwrap_or_default();
            items.iter().enumerate().map(move |(i, node)| Container {
                pointer: format!("{}/{list}/{i}", self.pointer),
                node,
            })
        })
    }

    /// Items of a list field of the pod spec (`volumes`), with their pointers.
    pub fn list(&self, field: &str) -> impl Iterator<Item = (String, &'a Node)> + '_ {
        list_items(self.node, self.pointer, field)
    }
}

impl<'a> Container<'a> {
    /// Items of a list field of the container (`env`, `ports`, `volumeMounts`).
    pub fn list(&self, field: &str) -> impl Iterator<Item = (String, &'a Node)> + '_ {
        list_items(self.node, &self.pointer, field)
    }

    pub fn name(&self) -> Option<&'a str> {
        self.node.get("name").and_then(Node::as_str)
    }

    /// How a finding names the container: its name, else where it is (`containers[2]`), as
    /// the policies' `workload.container_name` does.
    pub fn shown_name(&self) -> String {
        match self.name() {
            Some(name) => name.to_owned(),
            None => {
                let mut parts = self.pointer.rsplit('/');
                let (i, list) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                format!("{list}[{i}]")
            }
        }
    }
}

fn list_items<'a>(
    node: &'a Node,
    base: &str,
    field: &str,
) -> impl Iterator<Item = (String, &'a Node)> + use<'a> {
    let base = format!("{base}/{field}");
    node.get(field)
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(move |(i, n)| (format!("{base}/{i}"), n))
}
