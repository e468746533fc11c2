package kvet.rules.host_namespaces_test

import data.kvet.rules.host_namespaces
import rego.v1

daemonset(spec) := {"apiVersion": "apps/v1", "kind": "DaemonSet", "spec": {"template": {"spec": spec}}}

test_each_field_is_one_finding if {
	results := host_namespaces.deny with input as daemonset({
		"hostNetwork": true,
		"hostPID": true,
		"hostIPC": true,
		"containers": [{"name": "agent", "image": "agent:1"}],
	})
	count(results) == 3
	{r.path | some r in results} == {
		["spec", "template", "spec", "hostNetwork"],
		["spec", "template", "spec", "hostPID"],
		["spec", "template", "spec", "hostIPC"],
	}
	every r in results {
		not r.level
	}
}

test_messages_name_the_field if {
	some r in host_namespaces.deny with input as {"kind": "Pod", "spec": {"hostPID": true, "containers": []}}
	r.path == ["spec", "hostPID"]
	contains(r.msg, "sees the node's processes")
	contains(r.msg, "remove hostPID: true")
}

test_false_or_missing_is_silent if {
	count(host_namespaces.deny) == 0 with input as daemonset({
		"hostNetwork": false,
		"hostIPC": false,
		"containers": [{"name": "agent", "image": "agent:1", "ports": [{"containerPort": 9100, "hostPort": 9100}]}],
	})
}

test_objects_without_pods_are_silent if {
	count(host_namespaces.deny) == 0 with input as {"kind": "ConfigMap", "data": {"hostNetwork": "true"}}
}
