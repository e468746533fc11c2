package kvet.rules.image_pull_policy_always_with_digest_test

import data.kvet.rules.image_pull_policy_always_with_digest as rule
import rego.v1

digest := "ghcr.io/example/web@sha256:2d194184b067db3598771b4cf326cfe6ad5051937ba1132b8b7d4b0184e0d0a6"

pod(containers) := {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}, "spec": {"containers": containers}}

test_digest_with_always_is_reported_at_the_policy if {
	results := rule.deny with input as pod([{"name": "web", "image": digest, "imagePullPolicy": "Always"}])
	count(results) == 1
	some r in results
	r.path == ["spec", "containers", 0, "imagePullPolicy"]
	not r.level
	contains(r.msg, `container "web" pulls an image pinned by digest with imagePullPolicy Always`)
}

test_tag_and_digest_with_always_is_reported if {
	some r in rule.deny with input as pod([{"name": "web", "image": "nginx:1.27.2@sha256:2d194184b067db3598771b4cf326cfe6ad5051937ba1132b8b7d4b0184e0d0a6", "imagePullPolicy": "Always"}])
	contains(r.msg, "Always")
}

test_init_and_ephemeral_containers_are_checked if {
	results := rule.deny with input as {"kind": "Deployment", "spec": {"template": {"spec": {
		"initContainers": [{"name": "init", "image": digest, "imagePullPolicy": "Always"}],
		"containers": [{"name": "web", "image": digest}],
		"ephemeralContainers": [{"name": "debug", "image": digest, "imagePullPolicy": "Always"}],
	}}}}
	{r.path | some r in results} == {
		["spec", "template", "spec", "initContainers", 0, "imagePullPolicy"],
		["spec", "template", "spec", "ephemeralContainers", 0, "imagePullPolicy"],
	}
}

test_other_policies_and_tags_are_silent if {
	count(rule.deny) == 0 with input as pod([
		{"name": "a", "image": digest, "imagePullPolicy": "IfNotPresent"},
		{"name": "b", "image": digest},
		{"name": "c", "image": "ghcr.io/example/web:1.2.0", "imagePullPolicy": "Always"},
		{"name": "d", "image": "ghcr.io/example/web@sha256:${DIGEST}", "imagePullPolicy": "Always"},
		{"name": "e", "imagePullPolicy": "Always"},
	])
}
