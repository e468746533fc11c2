package kvet.rules.deployment_single_replica_test

import data.kvet.rules.deployment_single_replica
import rego.v1

workload(kind, spec) := {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": "web"}, "spec": spec}

test_one_replica_is_reported_at_replicas if {
	every kind in ["Deployment", "StatefulSet", "ReplicaSet", "Rollout"] {
		results := deployment_single_replica.deny with input as workload(kind, {"replicas": 1})
		count(results) == 1
		some r in results
		r.path == ["spec", "replicas"]
		not r.level
		contains(r.msg, sprintf("%s \"web\" runs a single replica", [kind]))
	}
}

test_a_rolling_update_deployment_is_reported if {
	some r in deployment_single_replica.deny with input as workload("Deployment", {"replicas": 1, "strategy": {"type": "RollingUpdate"}})
	r.path == ["spec", "replicas"]
}

test_missing_zero_and_more_replicas_are_silent if {
	count(deployment_single_replica.deny) == 0 with input as workload("Deployment", {"selector": {}})
	count(deployment_single_replica.deny) == 0 with input as workload("Deployment", {"replicas": 0})
	count(deployment_single_replica.deny) == 0 with input as workload("StatefulSet", {"replicas": 3})
	count(deployment_single_replica.deny) == 0 with input as workload("Rollout", {"replicas": "1"})
}

test_a_recreate_deployment_is_a_deliberate_singleton if {
	count(deployment_single_replica.deny) == 0 with input as workload("Deployment", {"replicas": 1, "strategy": {"type": "Recreate"}})
}
