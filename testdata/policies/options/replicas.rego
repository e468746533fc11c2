# Reads its limit from the config: `rules: {main.deny: {max_replicas: N}}`.
package main

import rego.v1

max_replicas := object.get(data.kvet.options, ["main.deny", "max_replicas"], 10)

deny contains {"msg": sprintf("%d replicas, more than %d", [input.spec.replicas, max_replicas]), "path": "/spec/replicas"} if {
	input.spec.replicas > max_replicas
}
