# Where workload objects keep their pods, for the rules that look at them. Not a rule: it has no
# METADATA and reports nothing. Paths are lists of keys and indexes, as results' `path` takes.
package kvet.lib.workload

import rego.v1

# The path of the pod template (metadata + spec) in each kind that has one; a Pod is its own.
# argoproj.io Rollouts included (a Rollout with workloadRef has no template: nothing is found).
template_paths := {
	"Pod": [],
	"PodTemplate": ["template"],
	"Deployment": ["spec", "template"],
	"StatefulSet": ["spec", "template"],
	"DaemonSet": ["spec", "template"],
	"ReplicaSet": ["spec", "template"],
	"ReplicationController": ["spec", "template"],
	"Job": ["spec", "template"],
	"Rollout": ["spec", "template"],
	"CronJob": ["spec", "jobTemplate", "spec", "template"],
}

# The kinds that run pods.
kinds := {kind | some kind, _ in template_paths}

# The path of the pod spec in each kind that has one.
pod_spec_paths := {kind: array.concat(path, ["spec"]) | some kind, path in template_paths}

# The object's pod spec with its path: {"path": [...], "spec": {...}}; undefined for objects
# that run no pods.
pod := {"path": path, "spec": spec} if {
	path := pod_spec_paths[input.kind]
	spec := object.get(input, path, null)
	is_object(spec)
}

# The labels of the object's pods (of the template; a Pod's own), {} when it has none.
pod_labels := object.get(input, array.concat(template_paths[input.kind], ["metadata", "labels"]), {})

# Every container of the object's pod spec: {"path": [...], "container": {...}, "field":
# "initContainers" | "containers" | "ephemeralContainers"}.
containers contains {"path": array.concat(pod.path, [field, i]), "container": container, "field": field, "name": container_name(container, field, i)} if {
	some field in ["initContainers", "containers", "ephemeralContainers"]
	some i, container in list(object.get(pod.spec, field, []))
	# One that is not a mapping is the schema rule's to report.
	is_object(container)
}

# How a finding names a container: its name, else where it is (`containers[2]`), so that a
# container without a name (the API server refuses it, and says so) still gets every finding.
container_name(container, _, _) := container.name if is_string(container.name)

container_name(container, field, i) := sprintf("%s[%d]", [field, i]) if not is_string(container.name)

# Every volume of the object's pod spec: {"path": [...], "volume": {...}}.
volumes contains {"path": array.concat(pod.path, ["volumes", i]), "volume": volume} if {
	some i, volume in list(object.get(pod.spec, "volumes", []))
}

# A list as written, or [] for anything else (`volumes: null`, a string): malformed fields are
# the schema rule's business, not a reason for a policy to fail.
list(x) := x if is_array(x)

list(x) := [] if not is_array(x)

# The capabilities the Pod Security Standards' baseline profile lets a container add: adding
# any other is what dangerous-capabilities reports and what pod-security's baseline forbids.
baseline_capabilities := {
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}
