package kvet.rules.run_as_root_test

import data.kvet.rules.run_as_root
import rego.v1

deployment(pod_spec) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"spec": {"template": {"spec": pod_spec}},
}

test_nothing_set_is_a_warning if {
	results := run_as_root.deny with input as deployment({"containers": [{"name": "web", "image": "web:1"}]})
	count(results) == 1
	some r in results
	not r.level
	r.path == ["spec", "template", "spec", "containers", 0]
	contains(r.msg, `container "web" may run as root`)
	contains(r.msg, "runAsNonRoot: true")
}

test_init_containers_count if {
	results := run_as_root.deny with input as deployment({
		"securityContext": {"runAsNonRoot": false},
		"initContainers": [{"name": "init", "image": "init:1"}],
		"containers": [{"name": "web", "image": "web:1", "securityContext": {"runAsUser": 1000}}],
	})
	count(results) == 1
	some r in results
	r.path == ["spec", "template", "spec", "initContainers", 0]
}

test_pod_run_as_non_root_covers_containers if {
	count(run_as_root.deny) == 0 with input as deployment({
		"securityContext": {"runAsNonRoot": true},
		"initContainers": [{"name": "init", "image": "init:1"}],
		"containers": [{"name": "web", "image": "web:1"}],
	})
}

test_pod_run_as_user_covers_containers if {
	count(run_as_root.deny) == 0 with input as deployment({
		"securityContext": {"runAsUser": 65532},
		"containers": [{"name": "web", "image": "web:1"}],
	})
}

test_container_run_as_non_root_is_enough if {
	count(run_as_root.deny) == 0 with input as deployment({"containers": [{"name": "web", "image": "web:1", "securityContext": {"runAsNonRoot": true}}]})
}

test_container_false_overrides_pod_true if {
	results := run_as_root.deny with input as deployment({
		"securityContext": {"runAsNonRoot": true},
		"containers": [{"name": "web", "image": "web:1", "securityContext": {"runAsNonRoot": false}}],
	})
	count(results) == 1
	some r in results
	r.path == ["spec", "template", "spec", "containers", 0, "securityContext", "runAsNonRoot"]
}

test_container_run_as_user_zero_is_an_error if {
	results := run_as_root.deny with input as {"kind": "Pod", "spec": {
		"securityContext": {"runAsNonRoot": true, "runAsUser": 1000},
		"containers": [{"name": "migrate", "image": "m:1", "securityContext": {"runAsUser": 0}}],
	}}
	count(results) == 1
	some r in results
	r.level == "error"
	r.path == ["spec", "containers", 0, "securityContext", "runAsUser"]
	contains(r.msg, `container "migrate" sets runAsUser: 0`)
}

test_pod_run_as_user_zero_is_one_error if {
	results := run_as_root.deny with input as deployment({
		"securityContext": {"runAsUser": 0},
		"initContainers": [{"name": "init", "image": "i:1"}],
		"containers": [
			{"name": "web", "image": "web:1"},
			{"name": "sidecar", "image": "s:1", "securityContext": {"runAsUser": 1000}},
		],
	})
	count(results) == 1
	some r in results
	r.level == "error"
	r.path == ["spec", "template", "spec", "securityContext", "runAsUser"]
	contains(r.msg, `containers "init", "web" run as root`)
}

test_pod_run_as_user_zero_names_one_container if {
	some r in run_as_root.deny with input as {"kind": "Pod", "spec": {
		"securityContext": {"runAsUser": 0},
		"containers": [{"name": "web", "image": "web:1"}],
	}}
	contains(r.msg, `container "web" runs as root`)
}

test_pod_run_as_user_zero_overridden_everywhere_is_silent if {
	count(run_as_root.deny) == 0 with input as deployment({
		"securityContext": {"runAsUser": 0},
		"containers": [{"name": "web", "image": "web:1", "securityContext": {"runAsUser": 1000}}],
	})
}

test_ephemeral_containers_only_for_explicit_root if {
	count(run_as_root.deny) == 0 with input as {"kind": "Pod", "spec": {
		"securityContext": {"runAsNonRoot": true},
		"containers": [{"name": "web", "image": "web:1"}],
		"ephemeralContainers": [{"name": "debug", "image": "busybox:1.36", "securityContext": {"runAsNonRoot": false}}],
	}}
	some r in run_as_root.deny with input as {"kind": "Pod", "spec": {
		"securityContext": {"runAsNonRoot": true},
		"containers": [{"name": "web", "image": "web:1"}],
		"ephemeralContainers": [{"name": "debug", "image": "busybox:1.36", "securityContext": {"runAsUser": 0}}],
	}}
	r.path == ["spec", "ephemeralContainers", 0, "securityContext", "runAsUser"]
}

test_windows_and_user_namespace_pods_are_silent if {
	every spec in [
		{"os": {"name": "windows"}, "containers": [{"name": "iis", "image": "iis:1"}]},
		{"nodeSelector": {"kubernetes.io/os": "windows"}, "containers": [{"name": "iis", "image": "iis:1"}]},
		{"hostUsers": false, "securityContext": {"runAsUser": 0}, "containers": [{"name": "web", "image": "web:1"}]},
	] {
		count(run_as_root.deny) == 0 with input as deployment(spec)
	}
}

test_cronjob_containers_are_checked if {
	some r in run_as_root.deny with input as {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "backup", "image": "b:1"}]}}}}}}
	r.path == ["spec", "jobTemplate", "spec", "template", "spec", "containers", 0]
}

test_objects_without_pods_are_silent if {
	count(run_as_root.deny) == 0 with input as {"kind": "ConfigMap", "data": {"runAsUser": "0"}}
}

test_malformed_containers_do_not_fail if {
	results := run_as_root.deny with input as {"kind": "Pod", "spec": {
		"securityContext": {"runAsUser": 0},
		"containers": ["oops", {"name": "b", "image": "b:1", "securityContext": "x"}],
	}}
	some r in results
	contains(r.msg, `container "b" runs as root`)
}
