# A conftest policy in Rego v1, as a team would have it: objects as results, a data file,
# suffixed rules and exceptions.
package main

import rego.v1

deny contains {"msg": msg, "path": ["spec", "replicas"], "ticket": "OPS-12"} if {
	input.kind == "Deployment"
	input.spec.replicas < data.limits.min_replicas
	msg := sprintf("%s runs %d replicas, fewer than %d", [input.metadata.name, input.spec.replicas, data.limits.min_replicas])
}

warn_latest contains msg if {
	some container in input.spec.template.spec.containers
	endswith(container.image, ":latest")
	msg := sprintf("container %s uses a latest image", [container.name])
}

exception contains rules if {
	input.metadata.labels["policy.example.org/legacy"] == "true"
	rules := ["latest"]
}
