package kvet.rules.image_tag_latest_test

import data.kvet.rules.image_tag_latest
import rego.v1

pod(containers) := {"apiVersion": "v1", "kind": "Pod", "spec": {"containers": containers}}

test_latest_tag_fires if {
	results := image_tag_latest.deny with input as pod([{"name": "web", "image": "nginx:latest"}])
	some r in results
	r.path == ["spec", "containers", 0, "image"]
	contains(r.msg, "latest tag moves")
}

test_missing_tag_fires if {
	some r in image_tag_latest.deny with input as pod([{"name": "a", "image": "nginx:1.27"}, {"name": "b", "image": "registry:5000/team/app"}])
	r.path == ["spec", "containers", 1, "image"]
	contains(r.msg, "without a tag")
}

test_pinned_images_are_silent if {
	count(image_tag_latest.deny) == 0 with input as pod([
		{"name": "a", "image": "nginx:1.27.2"},
		{"name": "b", "image": "nginx@sha256:0123456789abcdef"},
		{"name": "c", "image": "ghcr.io/org/app:latest@sha256:0123456789abcdef"},
		{"name": "d", "image": "registry:5000/app:v2"},
		{"name": "e", "image": "$(IMAGE)"},
		{"name": "f", "image": "{{ .Values.image }}"},
	])
}

test_init_containers_of_deployments_are_checked if {
	some r in image_tag_latest.deny with input as {"kind": "Deployment", "spec": {"template": {"spec": {"initContainers": [{"name": "init", "image": "busybox"}], "containers": []}}}}
	r.path == ["spec", "template", "spec", "initContainers", 0, "image"]
}

test_objects_without_pods_are_silent if {
	count(image_tag_latest.deny) == 0 with input as {"kind": "ConfigMap", "data": {"image": "nginx"}}
}
