package kvet.rules.privileged_container_test

import data.kvet.rules.privileged_container
import rego.v1

pod(spec) := {"apiVersion": "v1", "kind": "Pod", "spec": spec}

test_privileged_fires if {
	results := privileged_container.deny with input as pod({"containers": [
		{"name": "web", "image": "web:1"},
		{"name": "agent", "image": "agent:1", "securityContext": {"privileged": true}},
	]})
	count(results) == 1
	some r in results
	not r.level
	r.path == ["spec", "containers", 1, "securityContext", "privileged"]
	contains(r.msg, `container "agent" is privileged`)
}

test_init_and_ephemeral_containers_count if {
	results := privileged_container.deny with input as pod({
		"initContainers": [{"name": "sysctl", "image": "busybox:1.36", "securityContext": {"privileged": true}}],
		"containers": [{"name": "web", "image": "web:1"}],
		"ephemeralContainers": [{"name": "debug", "image": "busybox:1.36", "securityContext": {"privileged": true}}],
	})
	paths := {r.path | some r in results}
	paths == {
		["spec", "initContainers", 0, "securityContext", "privileged"],
		["spec", "ephemeralContainers", 0, "securityContext", "privileged"],
	}
}

test_not_privileged_is_silent if {
	count(privileged_container.deny) == 0 with input as pod({"containers": [
		{"name": "a", "image": "a:1", "securityContext": {"privileged": false}},
		{"name": "b", "image": "b:1", "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}},
		{"name": "c", "image": "c:1"},
	]})
}

test_daemonset_containers_are_checked if {
	some r in privileged_container.deny with input as {"kind": "DaemonSet", "spec": {"template": {"spec": {"containers": [{"name": "cni", "image": "cni:1", "securityContext": {"privileged": true}}]}}}}
	r.path == ["spec", "template", "spec", "containers", 0, "securityContext", "privileged"]
}

test_objects_without_pods_are_silent if {
	count(privileged_container.deny) == 0 with input as {"kind": "Service", "spec": {"privileged": true}}
}
