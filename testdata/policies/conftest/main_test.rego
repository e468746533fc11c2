package main

import rego.v1

test_few_replicas_are_denied if {
	some r in deny with input as {"kind": "Deployment", "metadata": {"name": "a"}, "spec": {"replicas": 1}}
		with data.limits.min_replicas as 2
	r.path == ["spec", "replicas"]
}

test_nodeport_is_a_violation if {
	count(violation) == 1 with input as {"kind": "Service", "metadata": {"name": "s"}, "spec": {"type": "NodePort"}}
}
