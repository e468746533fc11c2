# The same package in Rego v0, as older conftest policies are written.
package main

violation[msg] {
	input.kind == "Service"
	input.spec.type == "NodePort"
	msg := sprintf("Service %s is a NodePort", [input.metadata.name])
}
