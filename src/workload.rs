//! Where pod specs live in the kinds that carry them, and the containers inside.

use crate::load::object::Object;
use crate::load::yaml::Node;

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

/// Pointer of the pod spec for a kind, by API group and kind.
fn pod_spec_pointer(group: &str, kind: &str) -> Option<&'static str> {
    Some(match (group, kind) {
        ("", "Pod") => "/spec",
        ("", "PodTemplate") => "/template/spec",
        ("", "ReplicationController")
        | ("apps" | "extensions", "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet")
        | ("batch", "Job")
        | ("argoproj.io", "Rollout") => "/spec/template/spec",
        ("batch", "CronJob") => "/spec/jobTemplate/spec/template/spec",
        _ => return None,
    })
}

/// The pod spec of a pod-bearing object, if it has one.
pub fn pod_spec(object: &Object) -> Option<PodSpec<'_>> {
    let pointer = pod_spec_pointer(object.id.group(), &object.id.kind)?;
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
