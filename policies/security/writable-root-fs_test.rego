package kvet.rules.writable_root_fs_test

import data.kvet.rules.writable_root_fs
import rego.v1

pod(spec) := {"apiVersion": "v1", "kind": "Pod", "spec": spec}

read_only(name) := {"name": name, "image": "app:1", "securityContext": {"readOnlyRootFilesystem": true}}

test_missing_fires_at_the_container if {
	results := writable_root_fs.deny with input as pod({"containers": [read_only("a"), {"name": "web", "image": "web:1"}]})
	count(results) == 1
	some r in results
	not r.level
	r.path == ["spec", "containers", 1]
	contains(r.msg, `container "web" can write to its image's file system`)
}

test_false_fires_at_the_field if {
	some r in writable_root_fs.deny with input as pod({"containers": [{"name": "web", "image": "web:1", "securityContext": {"readOnlyRootFilesystem": false}}]})
	r.path == ["spec", "containers", 0, "securityContext", "readOnlyRootFilesystem"]
}

test_init_containers_count_ephemeral_ones_do_not if {
	results := writable_root_fs.deny with input as {"kind": "Job", "spec": {"template": {"spec": {
		"initContainers": [{"name": "init", "image": "init:1"}],
		"containers": [read_only("job")],
		"ephemeralContainers": [{"name": "debug", "image": "busybox:1.36"}],
	}}}}
	{r.path | some r in results} == {["spec", "template", "spec", "initContainers", 0]}
}

test_read_only_is_silent if {
	count(writable_root_fs.deny) == 0 with input as pod({"initContainers": [read_only("init")], "containers": [read_only("web")]})
}

test_windows_pods_are_silent if {
	every spec in [
		{"os": {"name": "windows"}, "containers": [{"name": "iis", "image": "iis:1"}]},
		{"nodeSelector": {"kubernetes.io/os": "windows"}, "containers": [{"name": "iis", "image": "iis:1"}]},
	] {
		count(writable_root_fs.deny) == 0 with input as pod(spec)
	}
}

test_objects_without_pods_are_silent if {
	count(writable_root_fs.deny) == 0 with input as {"kind": "ConfigMap", "data": {}}
}
