# Two values for one complete rule: a runtime error on Deployments only.
package main

import rego.v1

replicas := input.spec.replicas if input.kind == "Deployment"

replicas := 1 if input.kind == "Deployment"

deny contains "replicas are set" if replicas > 0
