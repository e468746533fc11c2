package kvet.rules.host_path_mount_test

import data.kvet.rules.host_path_mount
import rego.v1

deployment(volumes) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:1"}], "volumes": volumes}}},
}

test_home_folder_is_an_error if {
	results := host_path_mount.deny with input as deployment([{"name": "src", "hostPath": {"path": "/Users/alice/src"}}])
	some r in results
	r.level == "error"
	r.path == ["spec", "template", "spec", "volumes", 0, "hostPath", "path"]
	count(results) == 1
}

test_windows_and_linux_home_folders_are_errors if {
	every path in ["C:\\Users\\bob", "/home/bob/data", "/root", "~/data"] {
		some r in host_path_mount.deny with input as deployment([{"name": "v", "hostPath": {"path": path}}])
		r.level == "error"
	}
}

test_other_host_paths_are_warnings if {
	results := host_path_mount.deny with input as {"kind": "Pod", "spec": {"volumes": [
		{"name": "cfg", "configMap": {"name": "c"}},
		{"name": "logs", "hostPath": {"path": "/var/log"}},
	]}}
	count(results) == 1
	some r in results
	not r.level
	r.path == ["spec", "volumes", 1, "hostPath", "path"]
}

test_no_host_path_is_silent if {
	count(host_path_mount.deny) == 0 with input as deployment([{"name": "data", "emptyDir": {}}])
}

test_cronjob_volumes_are_checked if {
	some r in host_path_mount.deny with input as {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {"volumes": [{"name": "h", "hostPath": {"path": "/home/ci"}}]}}}}}}
	r.path == ["spec", "jobTemplate", "spec", "template", "spec", "volumes", 0, "hostPath", "path"]
}

test_null_and_malformed_lists_are_silent if {
	count(host_path_mount.deny) == 0 with input as {"kind": "Pod", "spec": {"volumes": null, "containers": "x"}}
}
