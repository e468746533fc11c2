package kvet.rules.privilege_escalation_test

import data.kvet.rules.privilege_escalation
import rego.v1

pod(spec) := {"apiVersion": "v1", "kind": "Pod", "spec": spec}

container(name, security_context) := {"name": name, "image": "app:1", "securityContext": security_context}

test_missing_fires_at_the_container if {
	results := privilege_escalation.deny with input as pod({"containers": [{"name": "web", "image": "web:1"}]})
	count(results) == 1
	some r in results
	not r.level
	r.path == ["spec", "containers", 0]
	contains(r.msg, `container "web" does not set allowPrivilegeEscalation: false`)
}

test_true_fires_at_the_field if {
	results := privilege_escalation.deny with input as pod({"containers": [container("web", {"allowPrivilegeEscalation": true})]})
	count(results) == 1
	some r in results
	r.path == ["spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"]
	contains(r.msg, "set it to false")
}

test_false_is_silent if {
	count(privilege_escalation.deny) == 0 with input as {"kind": "Deployment", "spec": {"template": {"spec": {
		"initContainers": [container("init", {"allowPrivilegeEscalation": false})],
		"containers": [container("web", {"allowPrivilegeEscalation": false, "capabilities": {"add": ["NET_BIND_SERVICE"]}})],
	}}}}
}

test_init_containers_count if {
	some r in privilege_escalation.deny with input as pod({
		"initContainers": [{"name": "init", "image": "init:1"}],
		"containers": [container("web", {"allowPrivilegeEscalation": false})],
	})
	r.path == ["spec", "initContainers", 0]
}

test_privileged_implies_it if {
	results := privilege_escalation.deny with input as pod({"containers": [
		container("a", {"privileged": true}),
		container("b", {"privileged": true, "allowPrivilegeEscalation": true}),
	]})
	{r.path | some r in results} == {
		["spec", "containers", 0],
		["spec", "containers", 1, "securityContext", "allowPrivilegeEscalation"],
	}
	every r in results {
		contains(r.msg, "privileged: true always allows it")
	}
}

test_sys_admin_implies_it if {
	some r in privilege_escalation.deny with input as pod({"containers": [container("fuse", {"capabilities": {"add": ["sys_admin"]}})]})
	contains(r.msg, "the SYS_ADMIN capability always allows it")
	r.path == ["spec", "containers", 0]
}

test_sys_admin_without_prefix_and_false_is_accepted if {
	count(privilege_escalation.deny) == 0 with input as pod({"containers": [container("fuse", {"allowPrivilegeEscalation": false, "capabilities": {"add": ["SYS_ADMIN"]}})]})
}

test_rejected_pairs_are_errors if {
	results := privilege_escalation.deny with input as pod({"containers": [
		container("a", {"privileged": true, "allowPrivilegeEscalation": false}),
		container("b", {"allowPrivilegeEscalation": false, "capabilities": {"add": ["CAP_SYS_ADMIN"]}}),
	]})
	count(results) == 2
	every r in results {
		r.level == "error"
		contains(r.msg, "the API server rejects the pair")
	}
	{r.path | some r in results} == {
		["spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"],
		["spec", "containers", 1, "securityContext", "allowPrivilegeEscalation"],
	}
}

test_ephemeral_containers_only_when_true if {
	count(privilege_escalation.deny) == 0 with input as pod({
		"containers": [container("web", {"allowPrivilegeEscalation": false})],
		"ephemeralContainers": [{"name": "debug", "image": "busybox:1.36"}],
	})
	some r in privilege_escalation.deny with input as pod({
		"containers": [container("web", {"allowPrivilegeEscalation": false})],
		"ephemeralContainers": [container("debug", {"allowPrivilegeEscalation": true})],
	})
	r.path == ["spec", "ephemeralContainers", 0, "securityContext", "allowPrivilegeEscalation"]
}

test_windows_pods_are_silent if {
	every spec in [
		{"os": {"name": "windows"}, "containers": [{"name": "iis", "image": "iis:1"}]},
		{"nodeSelector": {"kubernetes.io/os": "windows"}, "containers": [{"name": "iis", "image": "iis:1"}]},
	] {
		count(privilege_escalation.deny) == 0 with input as pod(spec)
	}
}

test_objects_without_pods_are_silent if {
	count(privilege_escalation.deny) == 0 with input as {"kind": "ConfigMap", "data": {}}
}

test_malformed_add_is_left_to_the_schema if {
	some r in privilege_escalation.deny with input as pod({"containers": [container("a", {"capabilities": {"add": "SYS_ADMIN"}})]})
	contains(r.msg, "does not set allowPrivilegeEscalation: false")
}
