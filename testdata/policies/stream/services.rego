# METADATA
# title: a user's whole-input rule
# custom:
#   kinds: [Service, Deployment]
#   scope: stream
package main

import rego.v1

# The pod labels of every Deployment in the input, once.
pod_labels := [labels | some o in input.objects; o.kind == "Deployment"; labels := object.get(o, ["spec", "template", "metadata", "labels"], {})]

deny contains {"msg": sprintf("Service %s selects no Deployment of the input", [s.metadata.name]), "object": i, "path": "/spec/selector"} if {
	some i, s in input.objects
	s.kind == "Service"
	not selects_some(s.spec.selector)
}

selects_some(selector) if {
	some labels in pod_labels
	every key, value in selector {
		labels[key] == value
	}
}
