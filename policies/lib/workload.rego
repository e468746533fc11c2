# Where workload objects keep their pods, for the rules that look at them. Not a rule: it has no
# METADATA and reports nothing. Paths are lists of keys and indexes, as results' `path` takes.
package kvet.lib.workload

import rego.v1

import data.kvet.lib.workload_kinds

# The kinds that run pods. Where each keeps its pods is kvet's one table (src/workload.rs), given
# to every engine as data.kvet.lib.workload_kinds: {kind: {"groups": [...], "path": [...]}}.
kinds := {kind | some kind, _ in workload_kinds.templates}

# The path of the pod template (metadata + spec) of an object that runs pods; [] for a Pod,
# which is its own; undefined for other objects (a kind of that name in another API group too).
# An argoproj.io Rollout with workloadRef has no template: nothing is found there.
template_path(o) := row.path if {
	row := workload_kinds.templates[o.kind]
	api_group(o) in row.groups
}

# Without an apiVersion the kind decides: kvet reports such a document (missing-type-meta) and
# gives rules none, but policy tests' inputs often leave it out.
template_path(o) := workload_kinds.templates[o.kind].path if not "apiVersion" in object.keys(o)

# The path of the pod spec of an object that runs pods.
pod_spec_path(o) := array.concat(template_path(o), ["spec"])

# The API group of an object ("" for the core group's `v1`).
api_group(o) := group if {
	[group, _] := split(o.apiVersion, "/")
}

api_group(o) := "" if {
	is_string(o.apiVersion)
	not contains(o.apiVersion, "/")
}

# The object's pod spec with its path: {"path": [...], "spec": {...}}; undefined for objects
# that run no pods.
pod := {"path": path, "spec": spec} if {
	path := pod_spec_path(input)
	spec := object.get(input, path, null)
	is_object(spec)
}

# The labels of the object's pods (of the template; a Pod's own), {} when it has none.
pod_labels := object.get(input, array.concat(template_path(input), ["metadata", "labels"]), {})

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
