package kvet.rules.missing_resources_test

import data.kvet.rules.missing_resources
import rego.v1

full := {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}

deployment(pod_spec) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": pod_spec}},
}

test_container_without_resources_is_reported_at_the_container if {
	results := missing_resources.deny with input as deployment({"containers": [{"name": "web", "image": "web:1"}]})
	count(results) == 1
	some r in results
	r.path == ["spec", "template", "spec", "containers", 0]
	not r.level
	contains(r.msg, `container "web" has no CPU request, memory request or memory limit`)
}

test_partial_resources_are_reported_at_resources if {
	results := missing_resources.deny with input as deployment({"containers": [
		{"name": "ok", "image": "a:1", "resources": full},
		{"name": "web", "image": "web:1", "resources": {"requests": {"cpu": "100m"}}},
	]})
	count(results) == 1
	some r in results
	r.path == ["spec", "template", "spec", "containers", 1, "resources"]
	contains(r.msg, `"web" has no memory request or memory limit`)
}

test_only_the_memory_limit_missing if {
	some r in missing_resources.deny with input as deployment({"containers": [{"name": "web", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]})
	contains(r.msg, "has no memory limit: one leak can exhaust the node's memory")
}

test_only_requests_missing if {
	some r in missing_resources.deny with input as deployment({"containers": [{"name": "web", "resources": {"limits": {"memory": "1Gi"}}}]})
	contains(r.msg, "has no CPU request: the scheduler cannot reserve what it needs")
}

test_empty_values_count_as_missing if {
	some r in missing_resources.deny with input as deployment({"containers": [{"name": "web", "resources": {"requests": {"cpu": "", "memory": "1Gi"}, "limits": {"memory": null}}}]})
	contains(r.msg, "has no CPU request or memory limit: the scheduler cannot reserve what it needs and nothing bounds its memory")
}

test_init_containers_are_checked_but_not_ephemeral_ones if {
	results := missing_resources.deny with input as {"kind": "Pod", "spec": {
		"initContainers": [{"name": "migrate", "image": "m:1"}],
		"containers": [{"name": "web", "image": "w:1", "resources": full}],
		"ephemeralContainers": [{"name": "debug", "image": "busybox:1"}],
	}}
	count(results) == 1
	some r in results
	r.path == ["spec", "initContainers", 0]
}

test_no_cpu_limit_is_required if {
	count(missing_resources.deny) == 0 with input as deployment({"containers": [{"name": "web", "resources": full}]})
}

test_requests_default_to_limits if {
	count(missing_resources.deny) == 0 with input as deployment({"containers": [{"name": "web", "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}}}]})
}

test_limits_do_not_default_to_requests if {
	some r in missing_resources.deny with input as deployment({"containers": [{"name": "web", "resources": {"requests": {"cpu": "500m", "memory": "256Mi"}}}]})
	contains(r.msg, "has no memory limit:")
}

test_pod_level_resources_cover_the_containers if {
	count(missing_resources.deny) == 0 with input as deployment({
		"resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
		"containers": [{"name": "web"}, {"name": "sidecar"}],
	})
	count(missing_resources.deny) == 0 with input as deployment({
		"resources": full,
		"containers": [{"name": "web"}],
	})
}

test_cronjob_containers_are_checked if {
	some r in missing_resources.deny with input as {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "job", "resources": {}}]}}}}}}
	r.path == ["spec", "jobTemplate", "spec", "template", "spec", "containers", 0, "resources"]
}

test_objects_without_pods_are_silent if {
	count(missing_resources.deny) == 0 with input as {"kind": "ConfigMap", "data": {"resources": "none"}}
}
