package kvet.rules.kargo_credentials_test

import data.kvet.rules.kargo_credentials
import rego.v1

project(name) := {"apiVersion": "kargo.akuity.io/v1alpha1", "kind": "Project", "metadata": {"name": name}}

secret(namespace, labels, string_data) := {
	"apiVersion": "v1",
	"kind": "Secret",
	"metadata": {"name": "repo", "namespace": namespace, "labels": labels},
	"stringData": string_data,
}

git := {"kargo.akuity.io/cred-type": "git"}

creds := {"repoURL": "https://github.com/example/shop-gitops.git", "username": "kargo", "password": "${GITHUB_PAT}"}

only(results) := r if {
	count(results) == 1
	some r in results
}

test_a_correct_secret_in_a_project_namespace_is_silent if {
	count(kargo_credentials.deny) == 0 with input as {"objects": [project("shop"), secret("shop", git, creds)]}
	count(kargo_credentials.deny) == 0 with input as {"objects": [secret("shop", {"kargo.akuity.io/cred-type": "generic"}, {"token": "${T}"})]}
	count(kargo_credentials.deny) == 0 with input as {"objects": [secret("shop", git, {"repoURL": "^https://github.com/example/.*$", "repoURLIsRegex": "true", "sshPrivateKey": "${KEY}"})]}
}

test_credentials_without_the_label_are_reported_at_the_labels if {
	r := only(kargo_credentials.deny) with input as {"objects": [project("shop"), secret("shop", {"app": "shop"}, creds)]}
	r.object == 1
	r.path == ["metadata", "labels"]
	endswith(r.msg, `Secret "repo" holds repository credentials in Project namespace "shop" but has no kargo.akuity.io/cred-type label: Kargo will not use it`)
}

test_argo_cd_style_credentials_in_a_project_namespace_are_reported if {
	r := only(kargo_credentials.deny) with input as {"objects": [project("shop"), secret("shop", {}, {"type": "git", "url": "https://github.com/example/shop.git", "password": "${PAT}"})]}
	contains(r.msg, "has no kargo.akuity.io/cred-type label: Kargo will not use it; Kargo also reads the URL from repoURL, not url")
}

test_credentials_without_labels_are_reported_at_the_metadata if {
	s := json.remove(secret("shop", {}, {"repoURL": "git@github.com:example/shop.git", "sshPrivateKey": "${KEY}"}), ["metadata/labels"])
	r := only(kargo_credentials.deny) with input as {"objects": [s, project("shop")]}
	r.object == 0
	r.path == ["metadata"]
}

test_secrets_outside_project_namespaces_need_the_label_to_be_credentials if {
	count(kargo_credentials.deny) == 0 with input as {"objects": [project("shop"), secret("db", {}, creds)]}
}

test_the_old_label_is_reported if {
	r := only(kargo_credentials.deny) with input as {"objects": [secret("shop", {"kargo.akuity.io/secret-type": "repository"}, {"type": "git", "url": "https://github.com/example/shop.git"})]}
	r.path == ["metadata", "labels", "kargo.akuity.io/secret-type"]
	contains(r.msg, "before v1")
}

test_an_unknown_type_is_reported_at_the_label if {
	r := only(kargo_credentials.deny) with input as {"objects": [secret("shop", {"kargo.akuity.io/cred-type": "github"}, creds)]}
	r.path == ["metadata", "labels", "kargo.akuity.io/cred-type"]
	contains(r.msg, `"github", which Kargo does not know`)
	count(kargo_credentials.deny) == 0 with input as {"objects": [secret("shop", {"kargo.akuity.io/cred-type": "{{ .Values.credType }}"}, creds)]}
}

test_a_missing_repo_url_is_reported_at_the_values if {
	r := only(kargo_credentials.deny) with input as {"objects": [secret("shop", {"kargo.akuity.io/cred-type": "image"}, {"username": "kargo", "password": "${P}"})]}
	r.path == ["stringData"]
	contains(r.msg, `image credentials Secret "repo" has no repoURL`)
	d := json.remove(secret("shop", git, {}), ["stringData"])
	s := only(kargo_credentials.deny) with input as {"objects": [object.union(d, {"data": {"username": "a2FyZ28="}})]}
	s.path == ["data"]
}

test_a_secret_without_values_needs_no_repo_url if {
	count(kargo_credentials.deny) == 0 with input as {"objects": [json.remove(secret("shop", git, {}), ["stringData"])]}
	kargo_credentials.values_path({}) == []
}

test_a_secret_outside_the_projects_is_reported_at_its_namespace if {
	r := only(kargo_credentials.deny) with input as {"objects": [project("shop"), project("blog"), secret("shop-ci", git, creds)]}
	r.object == 2
	r.path == ["metadata", "namespace"]
	contains(r.msg, `is in namespace "shop-ci", which is not the namespace of a Kargo Project of the input (blog, shop)`)
}

test_shared_namespaces_unknown_namespaces_and_inputs_without_projects_are_silent if {
	count(kargo_credentials.deny) == 0 with input as {"objects": [project("shop"), secret("kargo-shared-resources", git, creds)]}
	count(kargo_credentials.deny) == 0 with input as {"objects": [project("shop"), json.remove(secret("x", git, creds), ["metadata/namespace"])]}
	count(kargo_credentials.deny) == 0 with input as {"objects": [secret("shop-ci", git, creds)]}
	rancher := {"apiVersion": "management.cattle.io/v3", "kind": "Project", "metadata": {"name": "p-123"}}
	count(kargo_credentials.deny) == 0 with input as {"objects": [rancher, secret("shop-ci", git, creds)]}
}
