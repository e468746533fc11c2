package kvet.rules.automount_service_account_token_test

import data.kvet.rules.automount_service_account_token
import rego.v1

deployment(spec) := {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": {"spec": spec}}}

test_missing_fires_at_the_pod_spec if {
	results := automount_service_account_token.deny with input as deployment({"containers": [{"name": "web", "image": "web:1"}]})
	count(results) == 1
	some r in results
	not r.level
	r.path == ["spec", "template", "spec"]
	contains(r.msg, "automountServiceAccountToken: false")
}

test_a_pod_is_its_own_spec if {
	some r in automount_service_account_token.deny with input as {"kind": "Pod", "spec": {"serviceAccountName": "web", "containers": []}}
	r.path == ["spec"]
}

test_explicit_false_or_true_is_silent if {
	every value in [false, true] {
		count(automount_service_account_token.deny) == 0 with input as deployment({"automountServiceAccountToken": value, "containers": [{"name": "web", "image": "web:1"}]})
	}
}

test_objects_without_pods_are_silent if {
	count(automount_service_account_token.deny) == 0 with input as {"kind": "ServiceAccount", "metadata": {"name": "web"}}
}
