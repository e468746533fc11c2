package kvet.rules.external_secret_store_ref_test

import data.kvet.rules.external_secret_store_ref
import rego.v1

store(kind, name, ns) := {"apiVersion": "external-secrets.io/v1", "kind": kind, "metadata": object.union({"name": name}, namespaced(ns)), "spec": {"provider": {"fake": {}}}}

external_secret(name, ns, spec) := {"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": object.union({"name": name}, namespaced(ns)), "spec": spec}

namespaced(ns) := {"namespace": ns} if ns != ""

namespaced(ns) := {} if ns == ""

test_unknown_secret_store_in_the_namespace_is_reported if {
	results := external_secret_store_ref.deny with input as {"objects": [
		store("SecretStore", "vault-backend", "shop"),
		external_secret("db", "shop", {"secretStoreRef": {"name": "vault-backnd", "kind": "SecretStore"}}),
		external_secret("api", "shop", {"secretStoreRef": {"name": "vault-backend"}}),
	]}
	count(results) == 1
	some r in results
	r.object == 1
	r.path == ["spec", "secretStoreRef", "name"]
	contains(r.msg, `ExternalSecret "db" reads from SecretStore "vault-backnd"`)
	contains(r.msg, `namespace "shop"`)
	not r.level
}

test_kind_defaults_to_secret_store if {
	results := external_secret_store_ref.deny with input as {"objects": [
		store("ClusterSecretStore", "vault", ""),
		store("SecretStore", "local", "shop"),
		external_secret("db", "shop", {"secretStoreRef": {"name": "vault"}}),
	]}
	some r in results
	contains(r.msg, `SecretStore "vault"`)
	not contains(r.msg, "ClusterSecretStore")
}

test_unknown_cluster_secret_store_is_reported if {
	results := external_secret_store_ref.deny with input as {"objects": [
		store("ClusterSecretStore", "aws-secrets-manager", ""),
		external_secret("db", "shop", {"secretStoreRef": {"name": "aws-secret-manager", "kind": "ClusterSecretStore"}}),
		external_secret("api", "", {"secretStoreRef": {"name": "aws-secrets-manager", "kind": "ClusterSecretStore"}}),
	]}
	count(results) == 1
	some r in results
	r.object == 1
	contains(r.msg, `ClusterSecretStore "aws-secret-manager", which is not in the input`)
}

test_source_refs_of_data_and_data_from_are_checked if {
	results := external_secret_store_ref.deny with input as {"objects": [
		store("ClusterSecretStore", "vault", ""),
		external_secret("db", "shop", {
			"data": [
				{"secretKey": "a", "remoteRef": {"key": "a"}},
				{"secretKey": "b", "remoteRef": {"key": "b"}, "sourceRef": {"storeRef": {"name": "vualt", "kind": "ClusterSecretStore"}}},
			],
			"dataFrom": [
				{"sourceRef": {"generatorRef": {"apiVersion": "generators.external-secrets.io/v1alpha1", "kind": "Password", "name": "pw"}}},
				{"extract": {"key": "c"}, "sourceRef": {"storeRef": {"name": "vault", "kind": "ClusterSecretStore"}}},
				{"extract": {"key": "d"}, "sourceRef": {"storeRef": {"name": "other", "kind": "ClusterSecretStore"}}},
			],
		}),
	]}
	{r.path | some r in results} == {
		["spec", "data", 1, "sourceRef", "storeRef", "name"],
		["spec", "dataFrom", 2, "sourceRef", "storeRef", "name"],
	}
}

test_push_secret_stores_are_checked if {
	results := external_secret_store_ref.deny with input as {"objects": [
		store("SecretStore", "aws-parameterstore", "default"),
		{"apiVersion": "external-secrets.io/v1alpha1", "kind": "PushSecret", "metadata": {"name": "push", "namespace": "default"}, "spec": {"secretStoreRefs": [
			{"name": "aws-parameterstore", "kind": "SecretStore"},
			{"labelSelector": {"matchLabels": {"team": "a"}}, "kind": "SecretStore"},
			{"name": "aws-parameter-store"},
		]}},
	]}
	count(results) == 1
	some r in results
	r.path == ["spec", "secretStoreRefs", 2, "name"]
	contains(r.msg, `PushSecret "push" writes to SecretStore "aws-parameter-store"`)
	endswith(r.msg, "will not be pushed")
}

test_cluster_external_secret_matches_stores_of_any_namespace if {
	results := external_secret_store_ref.deny with input as {"objects": [
		store("SecretStore", "team-store", "team-a"),
		{"apiVersion": "external-secrets.io/v1", "kind": "ClusterExternalSecret", "metadata": {"name": "shared"}, "spec": {"externalSecretSpec": {"secretStoreRef": {"name": "team-store"}}}},
		{"apiVersion": "external-secrets.io/v1", "kind": "ClusterExternalSecret", "metadata": {"name": "typo"}, "spec": {"externalSecretSpec": {"secretStoreRef": {"name": "team-stor"}}}},
	]}
	count(results) == 1
	some r in results
	r.object == 2
	r.path == ["spec", "externalSecretSpec", "secretStoreRef", "name"]
	not contains(r.msg, "namespace")
}

test_stores_without_namespace_match_every_namespace if {
	count(external_secret_store_ref.deny) == 0 with input as {"objects": [
		store("SecretStore", "vault-backend", ""),
		external_secret("db", "shop", {"secretStoreRef": {"name": "vault-backend"}}),
	]}
}

test_silent_without_stores_of_the_kind_in_the_namespace if {
	count(external_secret_store_ref.deny) == 0 with input as {"objects": [
		store("SecretStore", "vault-backend", "payments"),
		external_secret("db", "shop", {"secretStoreRef": {"name": "vault"}}),
		external_secret("api", "shop", {"secretStoreRef": {"name": "platform", "kind": "ClusterSecretStore"}}),
		external_secret("gen", "shop", {"dataFrom": [{"sourceRef": {"generatorRef": {"kind": "Password", "name": "pw"}}}]}),
	]}
}

test_objects_of_other_groups_are_ignored if {
	count(external_secret_store_ref.deny) == 0 with input as {"objects": [
		store("SecretStore", "vault-backend", "shop"),
		{"apiVersion": "example.com/v1", "kind": "ExternalSecret", "metadata": {"name": "x", "namespace": "shop"}, "spec": {"secretStoreRef": {"name": "nope"}}},
		{"apiVersion": "example.com/v1", "kind": "SecretStore", "metadata": {"name": "nope", "namespace": "other"}},
	]}
}

test_an_object_without_namespace_sees_every_secret_store if {
	results := external_secret_store_ref.deny with input as {"objects": [
		store("SecretStore", "vault-backend", "shop"),
		external_secret("db", "", {"secretStoreRef": {"name": "vault-backend"}}),
		external_secret("api", "", {"secretStoreRef": {"name": "vault"}}),
	]}
	count(results) == 1
	some r in results
	r.object == 2
	not contains(r.msg, "namespace")
}

test_silent_without_any_secret_store if {
	count(external_secret_store_ref.deny) == 0 with input as {"objects": [
		store("ClusterSecretStore", "vault", ""),
		external_secret("db", "shop", {"secretStoreRef": {"name": "vault-backend"}}),
		external_secret("api", "", {"secretStoreRef": {"name": "vault-backend"}}),
	]}
}
