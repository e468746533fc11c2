package kvet.rules.argocd_sync_policy_test

import data.kvet.rules.argocd_sync_policy
import rego.v1

app(name, destination, sync_policy) := {
	"apiVersion": "argoproj.io/v1alpha1",
	"kind": "Application",
	"metadata": {"name": name, "namespace": "argocd"},
	"spec": {"project": "default", "destination": destination, "syncPolicy": sync_policy},
}

namespace(name) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}

in_cluster(ns) := {"server": "https://kubernetes.default.svc", "namespace": ns}

test_automated_without_prune_and_self_heal_is_reported if {
	results := argocd_sync_policy.deny with input as {"objects": [
		namespace("shop"),
		app("shop", in_cluster("shop"), {"automated": {}}),
	]}
	count(results) == 1
	some r in results
	r.object == 1
	r.path == ["spec", "syncPolicy", "automated"]
	not r.level
	contains(r.msg, `"shop" syncs automatically without stating prune and selfHeal`)
}

test_each_missing_field_is_named if {
	some r1 in argocd_sync_policy.deny with input as {"objects": [app("a", {}, {"automated": {"selfHeal": true}})]}
	contains(r1.msg, "without stating prune:")
	some r2 in argocd_sync_policy.deny with input as {"objects": [app("b", {}, {"automated": {"prune": true}})]}
	contains(r2.msg, "without stating selfHeal:")
}

test_stated_fields_even_false_are_silent if {
	count(argocd_sync_policy.deny) == 0 with input as {"objects": [app("a", {}, {"automated": {"prune": false, "selfHeal": false}})]}
}

test_manual_sync_is_silent if {
	count(argocd_sync_policy.deny) == 0 with input as {"objects": [
		app("a", {}, {"syncOptions": ["ServerSideApply=true"]}),
		app("b", {}, {"automated": {"enabled": false}}),
		app("c", {}, {"automated": null}),
	]}
}

test_missing_namespace_is_reported_at_the_destination if {
	results := argocd_sync_policy.deny with input as {"objects": [
		namespace("other"),
		app("shop", in_cluster("shop"), {"syncOptions": ["ServerSideApply=true"]}),
	]}
	count(results) == 1
	some r in results
	r.object == 1
	r.path == ["spec", "destination", "namespace"]
	contains(r.msg, `namespace "shop"`)
	contains(r.msg, "CreateNamespace=true")
}

test_existing_or_created_namespaces_are_silent if {
	count(argocd_sync_policy.deny) == 0 with input as {"objects": [
		namespace("shop"),
		app("shop", in_cluster("shop"), {}),
		app("payments", in_cluster("payments"), {"syncOptions": ["CreateNamespace=true"]}),
		app("payments-db", in_cluster("payments"), {}),
		app("dns", in_cluster("kube-system"), {}),
		app("self", in_cluster("argocd"), {}),
		app("crds", {"server": "https://kubernetes.default.svc"}, {}),
		app("templated", in_cluster("{{ .namespace }}"), {}),
		app("terraform", in_cluster("${namespace}"), {}),
	]}
}

test_application_without_namespace_is_taken_to_live_in_argocd if {
	bare := {"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "root"}, "spec": {"destination": in_cluster("argocd")}}
	count(argocd_sync_policy.deny) == 0 with input as {"objects": [bare]}
	results := argocd_sync_policy.deny with input as {"objects": [object.union(bare, {"metadata": {"namespace": "gitops"}})]}
	count(results) == 1
}

test_other_groups_are_silent if {
	count(argocd_sync_policy.deny) == 0 with input as {"objects": [{"apiVersion": "app.k8s.io/v1beta1", "kind": "Application", "metadata": {"name": "x"}, "spec": {"destination": in_cluster("shop")}}]}
}
