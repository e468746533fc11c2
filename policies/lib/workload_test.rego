package kvet.lib.workload_test

import data.kvet.lib.workload
import rego.v1

cronjob := {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {
	"metadata": {"labels": {"app": "report"}},
	"spec": {
		"initContainers": [{"name": "init"}],
		"containers": [{"name": "main"}],
		"volumes": [{"name": "data", "emptyDir": {}}],
	},
}}}}}

test_the_pod_spec_of_each_kind_is_found_with_its_path if {
	workload.pod.path == ["spec", "jobTemplate", "spec", "template", "spec"] with input as cronjob
	workload.pod.path == ["spec"] with input as {"kind": "Pod", "spec": {}}
	not workload.pod with input as {"kind": "ConfigMap", "data": {}}
	not workload.pod with input as {"kind": "Rollout", "spec": {"workloadRef": {"name": "web"}}}
}

test_pods_are_found_by_api_group_and_kind if {
	workload.pod.path == ["spec"] with input as {"apiVersion": "v1", "kind": "Pod", "spec": {}}
	workload.pod.path == ["spec", "template", "spec"] with input as {"apiVersion": "apps.openshift.io/v1", "kind": "DeploymentConfig", "spec": {"template": {"spec": {}}}}
	workload.pod.path == ["spec", "jobTargetRef", "template", "spec"] with input as {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledJob", "spec": {"jobTargetRef": {"template": {"spec": {}}}}}
	not workload.pod with input as {"apiVersion": "batch.example.com/v1", "kind": "Job", "spec": {"template": {"spec": {}}}}
	not workload.pod with input as {"apiVersion": 1, "kind": "Pod", "spec": {}}
}

test_containers_carry_their_path_and_field if {
	found := {[c.field, c.container.name, c.path] | some c in workload.containers} with input as cronjob
	found == {
		["initContainers", "init", ["spec", "jobTemplate", "spec", "template", "spec", "initContainers", 0]],
		["containers", "main", ["spec", "jobTemplate", "spec", "template", "spec", "containers", 0]],
	}
}

test_volumes_and_pod_labels if {
	[v.path | some v in workload.volumes] == [["spec", "jobTemplate", "spec", "template", "spec", "volumes", 0]] with input as cronjob
	workload.pod_labels == {"app": "report"} with input as cronjob
	workload.pod_labels == {} with input as {"kind": "Pod", "metadata": {}, "spec": {}}
}

test_malformed_lists_are_empty if {
	count(workload.containers) == 0 with input as {"kind": "Pod", "spec": {"containers": null, "initContainers": "x"}}
	count(workload.volumes) == 0 with input as {"kind": "Pod", "spec": {"volumes": {"a": 1}}}
	workload.list([1]) == [1]
	workload.list("x") == []
}

test_containers_are_named_by_name_else_by_place if {
	pod := {"kind": "Pod", "spec": {
		"initContainers": [{"image": "a:1"}],
		"containers": [{"name": "web"}, {"name": null}, "not a container"],
	}}
	names := {c.name | some c in workload.containers} with input as pod
	names == {"initContainers[0]", "web", "containers[1]"}
}
