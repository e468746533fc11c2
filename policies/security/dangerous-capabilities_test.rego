package kvet.rules.dangerous_capabilities_test

import data.kvet.rules.dangerous_capabilities
import rego.v1

pod(containers) := {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": containers}}

adds(name, caps) := {"name": name, "image": "app:1", "securityContext": {"capabilities": {"drop": ["ALL"], "add": caps}}}

test_each_dangerous_item_is_reported if {
	results := dangerous_capabilities.deny with input as pod([adds("app", ["NET_BIND_SERVICE", "SYS_ADMIN", "CAP_NET_RAW", "all"])])
	count(results) == 3
	{r.path | some r in results} == {
		["spec", "containers", 0, "securityContext", "capabilities", "add", 1],
		["spec", "containers", 0, "securityContext", "capabilities", "add", 2],
		["spec", "containers", 0, "securityContext", "capabilities", "add", 3],
	}
	every r in results {
		not r.level
	}
}

test_message_names_container_and_capability if {
	some r in dangerous_capabilities.deny with input as pod([adds("fuse", ["cap_sys_admin"])])
	contains(r.msg, `container "fuse" adds cap_sys_admin, which is nearly root`)
}

test_init_and_ephemeral_containers_count if {
	results := dangerous_capabilities.deny with input as {"kind": "Deployment", "spec": {"template": {"spec": {
		"initContainers": [adds("istio-init", ["NET_ADMIN", "NET_RAW"])],
		"containers": [adds("web", ["NET_BIND_SERVICE"])],
		"ephemeralContainers": [adds("debug", ["ALL"])],
	}}}}
	{r.path | some r in results} == {
		["spec", "template", "spec", "initContainers", 0, "securityContext", "capabilities", "add", 0],
		["spec", "template", "spec", "initContainers", 0, "securityContext", "capabilities", "add", 1],
		["spec", "template", "spec", "ephemeralContainers", 0, "securityContext", "capabilities", "add", 0],
	}
}

test_every_capability_beyond_the_baseline_set_is_reported if {
	results := dangerous_capabilities.deny with input as pod([adds("a", ["NET_ADMIN", "cap_sys_ptrace", "SYS_TIME", "KILL"])])
	msgs := {r.msg | some r in results}
	count(msgs) == 3
	`container "a" adds NET_ADMIN, which lets it rewrite the pod's routes and firewall rules and sniff its traffic: add only the capabilities it needs` in msgs
	`container "a" adds cap_sys_ptrace, which lets it read and change the memory of processes it can see: add only the capabilities it needs` in msgs
	`container "a" adds SYS_TIME, which the Pod Security Standards' baseline profile does not allow: add only the capabilities it needs` in msgs
}

test_harmless_and_dropped_capabilities_are_silent if {
	count(dangerous_capabilities.deny) == 0 with input as pod([
		adds("a", ["NET_BIND_SERVICE", "CHOWN", "SYS_CHROOT", 42]),
		{"name": "b", "image": "b:1", "securityContext": {"capabilities": {"drop": ["ALL", "SYS_ADMIN", "NET_RAW"]}}},
		{"name": "c", "image": "c:1"},
	])
}

test_objects_without_pods_are_silent if {
	count(dangerous_capabilities.deny) == 0 with input as {"kind": "ConfigMap", "data": {"add": "SYS_ADMIN"}}
}

test_malformed_add_is_left_to_the_schema if {
	count(dangerous_capabilities.deny) == 0 with input as pod([{"name": "a", "image": "a:1", "securityContext": {"capabilities": {"add": "SYS_ADMIN"}}}])
}
