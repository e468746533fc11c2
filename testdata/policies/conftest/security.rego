package k8s.security

import rego.v1

deny_host_network contains {"msg": "pods must not use the host network", "path": "/spec/template/spec/hostNetwork"} if {
	input.spec.template.spec.hostNetwork == true
}
