package kvet.rules.required_secret_labels_test

import data.kvet.rules.required_secret_labels
import rego.v1

options := {"labels": ["app.kubernetes.io/name", "secrets.example.com/sync", "team.example.com/"]}

secret(labels) := {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "registry-pull", "labels": labels}}

only(results) := r if {
	count(results) == 1
	some r in results
}

test_missing_labels_and_prefixes_are_named_at_the_labels if {
	r := only(required_secret_labels.deny) with input as secret({"app.kubernetes.io/name": "shop"})
		with data.kvet.options.required_secret_labels as options
	r.path == ["metadata", "labels"]
	contains(r.msg, `Secret "registry-pull" lacks the labels secrets.example.com/sync, team.example.com/* (a prefix)`)
	not r.level
}

test_one_missing_label_is_singular if {
	r := only(required_secret_labels.deny) with input as secret({"app.kubernetes.io/name": "shop", "team.example.com/owner": "payments"})
		with data.kvet.options.required_secret_labels as options
	contains(r.msg, "lacks the label secrets.example.com/sync that")
}

test_a_secret_without_labels_is_reported_at_its_metadata if {
	r := only(required_secret_labels.deny) with input as {"kind": "Secret", "metadata": {"name": "x"}}
		with data.kvet.options.required_secret_labels as options
	r.path == ["metadata"]
}

test_a_secret_with_every_label_is_silent if {
	count(required_secret_labels.deny) == 0 with input as secret({"app.kubernetes.io/name": "shop", "secrets.example.com/sync": "true", "team.example.com/owner": "payments"})
		with data.kvet.options.required_secret_labels as options
}

test_silent_until_configured_and_for_service_account_tokens if {
	count(required_secret_labels.deny) == 0 with input as secret({})
	count(required_secret_labels.deny) == 0 with input as secret({}) with data.kvet.options as {}
	count(required_secret_labels.deny) == 0 with input as object.union(secret({}), {"type": "kubernetes.io/service-account-token"})
		with data.kvet.options.required_secret_labels as options
}
