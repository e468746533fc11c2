package kvet.rules.missing_probes_test

import data.kvet.rules.missing_probes
import rego.v1

probe := {"httpGet": {"path": "/healthz", "port": 8080}}

# Argo Rollouts are argoproj.io's; the other workloads of these tests, apps/v1.
api_version("Rollout") := "argoproj.io/v1alpha1"

api_version(kind) := "apps/v1" if kind != "Rollout"

workload(kind, pod_spec) := {
	"apiVersion": api_version(kind),
	"kind": kind,
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": pod_spec}},
}

test_no_probes_is_a_warning_and_an_info if {
	results := missing_probes.deny with input as workload("Deployment", {"containers": [{"name": "web", "image": "web:1"}]})
	count(results) == 2
	some readiness in results
	contains(readiness.msg, `container "web" has no readinessProbe`)
	not readiness.level
	readiness.path == ["spec", "template", "spec", "containers", 0]
	some liveness in results
	contains(liveness.msg, `container "web" has no livenessProbe`)
	liveness.level == "info"
	liveness.path == ["spec", "template", "spec", "containers", 0]
}

test_only_liveness_missing if {
	results := missing_probes.deny with input as workload("StatefulSet", {"containers": [{"name": "db", "readinessProbe": probe}]})
	count(results) == 1
	some r in results
	r.level == "info"
	contains(r.msg, "livenessProbe")
}

test_both_probes_is_silent if {
	every kind in ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Rollout"] {
		count(missing_probes.deny) == 0 with input as workload(kind, {"containers": [{"name": "web", "readinessProbe": probe, "livenessProbe": probe}]})
	}
}

test_sidecars_of_a_probed_pod_need_no_readiness if {
	results := missing_probes.deny with input as workload("Deployment", {"containers": [
		{"name": "web", "readinessProbe": probe, "livenessProbe": probe},
		{"name": "reloader", "livenessProbe": probe},
	]})
	count(results) == 0
}

test_every_container_of_an_unprobed_pod_is_reported if {
	results := missing_probes.deny with input as workload("Rollout", {"containers": [
		{"name": "web", "livenessProbe": probe},
		{"name": "proxy", "livenessProbe": probe},
	]})
	{r.path | some r in results} == {["spec", "template", "spec", "containers", 0], ["spec", "template", "spec", "containers", 1]}
}

test_init_and_ephemeral_containers_are_ignored if {
	count(missing_probes.deny) == 0 with input as workload("Deployment", {
		"initContainers": [{"name": "migrate"}],
		"containers": [{"name": "web", "readinessProbe": probe, "livenessProbe": probe}],
		"ephemeralContainers": [{"name": "debug"}],
	})
}

test_jobs_and_cronjobs_are_ignored if {
	count(missing_probes.deny) == 0 with input as {"kind": "Job", "spec": {"template": {"spec": {"containers": [{"name": "j"}]}}}}
	count(missing_probes.deny) == 0 with input as {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "j"}]}}}}}}
}

test_pods_of_jobs_and_run_to_completion_pods_are_ignored if {
	containers := [{"name": "task", "ports": [{"containerPort": 80}]}]
	count(missing_probes.deny) == 0 with input as {"kind": "Pod", "metadata": {"name": "p", "ownerReferences": [{"kind": "Job", "name": "j"}]}, "spec": {"containers": containers}}
	count(missing_probes.deny) == 0 with input as {"kind": "Pod", "metadata": {"name": "p", "labels": {"batch.kubernetes.io/job-name": "j"}}, "spec": {"containers": containers}}
	count(missing_probes.deny) == 0 with input as {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"restartPolicy": "Never", "containers": containers}}
	count(missing_probes.deny) == 0 with input as {"kind": "Pod", "metadata": {"name": "p"}, "spec": {"restartPolicy": "OnFailure", "containers": containers}}
}

test_a_bare_pod_needs_readiness_only_where_it_serves if {
	results := missing_probes.deny with input as {"kind": "Pod", "metadata": {"name": "p", "ownerReferences": [{"kind": "ReplicaSet", "name": "rs"}]}, "spec": {"containers": [
		{"name": "web", "ports": [{"containerPort": 80}], "livenessProbe": probe},
		{"name": "worker", "livenessProbe": probe},
	]}}
	count(results) == 1
	some r in results
	not r.level
	r.path == ["spec", "containers", 0]
	contains(r.msg, `container "web" serves ports but has no readinessProbe`)
}

test_a_daemonset_needs_readiness_only_where_it_serves_and_at_info if {
	results := missing_probes.deny with input as workload("DaemonSet", {"containers": [
		{"name": "agent", "livenessProbe": probe},
		{"name": "metrics", "ports": [{"containerPort": 9100}], "livenessProbe": probe},
	]})
	count(results) == 1
	some r in results
	r.level == "info"
	r.path == ["spec", "template", "spec", "containers", 1]
	contains(r.msg, `container "metrics" serves ports but has no readinessProbe`)
}

test_a_rollout_with_a_workload_ref_is_silent if {
	count(missing_probes.deny) == 0 with input as {"kind": "Rollout", "spec": {"workloadRef": {"kind": "Deployment", "name": "web"}}}
}
