# Where workload objects keep their pods' containers and volumes, for the rules that look at
# them. Not a rule: it has no METADATA and reports nothing.
package kvet.lib.workload

import rego.v1

# The path of the pod spec in each kind that has one (argoproj.io Rollouts included).
pod_spec_paths := {
	"Pod": ["spec"],
	"PodTemplate": ["template", "spec"],
	"Deployment": ["spec", "template", "spec"],
	"StatefulSet": ["spec", "template", "spec"],
	"DaemonSet": ["spec", "template", "spec"],
	"ReplicaSet": ["spec", "template", "spec"],
	"ReplicationController": ["spec", "template", "spec"],
	"Job": ["spec", "template", "spec"],
	"Rollout": ["spec", "template", "spec"],
	"CronJob": ["spec", "jobTemplate", "spec", "template", "spec"],
}

# Every container of the object's pod spec: {"path": [...], "container": {...}}.
containers contains {"path": array.concat(base, [field, i]), "container": container} if {
	base := pod_spec_paths[input.kind]
	spec := object.get(input, base, {})
	some field in ["initContainers", "containers", "ephemeralContainers"]
	some i, container in spec[field]
}

# Every volume of the object's pod spec: {"path": [...], "volume": {...}}.
volumes contains {"path": array.concat(base, ["volumes", i]), "volume": volume} if {
	base := pod_spec_paths[input.kind]
	spec := object.get(input, base, {})
	some i, volume in spec.volumes
}
