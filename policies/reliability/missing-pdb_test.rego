package kvet.rules.missing_pdb_test

import data.kvet.rules.missing_pdb
import rego.v1

# Argo Rollouts are argoproj.io's; the other workloads of these tests, apps/v1.
api_version("Rollout") := "argoproj.io/v1alpha1"

api_version(kind) := "apps/v1" if kind != "Rollout"

workload(kind, name, ns, replicas, labels) := {
	"apiVersion": api_version(kind),
	"kind": kind,
	"metadata": {"name": name, "namespace": ns},
	"spec": {"replicas": replicas, "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c"}]}}},
}

pdb(ns, selector) := {
	"apiVersion": "policy/v1",
	"kind": "PodDisruptionBudget",
	"metadata": {"name": "budget", "namespace": ns},
	"spec": {"maxUnavailable": 1, "selector": selector},
}

web := {"app": "web", "tier": "frontend"}

test_a_replicated_workload_without_a_pdb_is_reported if {
	results := missing_pdb.deny with input as {"objects": [
		pdb("shop", {"matchLabels": {"app": "api"}}),
		workload("Deployment", "web", "shop", 3, web),
	]}
	count(results) == 1
	some r in results
	r.object == 1
	r.path == ["spec", "replicas"]
	not r.level
	contains(r.msg, `Deployment "web" runs 3 replicas but no PodDisruptionBudget selects its pods (app=web, tier=frontend)`)
}

test_it_fires_without_any_pdb_in_the_input if {
	results := missing_pdb.deny with input as {"objects": [
		workload("StatefulSet", "db", "shop", 2, {}),
		workload("Rollout", "web", "shop", 4, web),
	]}
	{r.object | some r in results} == {0, 1}
	some r in results
	contains(r.msg, `StatefulSet "db" runs 2 replicas but no PodDisruptionBudget selects its pods (no labels)`)
}

test_match_labels_subset_covers if {
	count(missing_pdb.deny) == 0 with input as {"objects": [
		workload("Deployment", "web", "shop", 3, web),
		pdb("shop", {"matchLabels": {"app": "web"}}),
	]}
}

test_match_labels_must_all_match if {
	count(missing_pdb.deny) == 1 with input as {"objects": [
		workload("Deployment", "web", "shop", 3, web),
		pdb("shop", {"matchLabels": {"app": "web", "tier": "backend"}}),
	]}
}

test_match_expressions if {
	covering := [
		{"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]},
		{"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["backend"]}]},
		{"matchExpressions": [{"key": "track", "operator": "NotIn", "values": ["canary"]}]},
		{"matchExpressions": [{"key": "tier", "operator": "Exists"}]},
		{"matchExpressions": [{"key": "track", "operator": "DoesNotExist"}]},
		{"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend"]}]},
	]
	every selector in covering {
		count(missing_pdb.deny) == 0 with input as {"objects": [workload("Deployment", "web", "shop", 3, web), pdb("shop", selector)]}
	}
	missing := [
		{"matchExpressions": [{"key": "app", "operator": "In", "values": ["api"]}]},
		{"matchExpressions": [{"key": "track", "operator": "In", "values": ["stable"]}]},
		{"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["frontend"]}]},
		{"matchExpressions": [{"key": "track", "operator": "Exists"}]},
		{"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]},
		{"matchExpressions": [{"key": "app", "operator": "Gt", "values": ["1"]}]},
		{"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["backend"]}]},
	]
	every selector in missing {
		count(missing_pdb.deny) == 1 with input as {"objects": [workload("Deployment", "web", "shop", 3, web), pdb("shop", selector)]}
	}
}

test_empty_selector_selects_all_in_v1_and_none_in_v1beta1 if {
	count(missing_pdb.deny) == 0 with input as {"objects": [workload("Deployment", "web", "shop", 3, web), pdb("shop", {})]}
	beta := object.union(pdb("shop", {}), {"apiVersion": "policy/v1beta1"})
	count(missing_pdb.deny) == 1 with input as {"objects": [workload("Deployment", "web", "shop", 3, web), beta]}
	beta_with_labels := object.union(pdb("shop", {"matchLabels": {"app": "web"}}), {"apiVersion": "policy/v1beta1"})
	count(missing_pdb.deny) == 0 with input as {"objects": [workload("Deployment", "web", "shop", 3, web), beta_with_labels]}
}

test_a_pdb_without_selector_selects_nothing if {
	no_selector := {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "b", "namespace": "shop"}, "spec": {"maxUnavailable": 1}}
	count(missing_pdb.deny) == 1 with input as {"objects": [workload("Deployment", "web", "shop", 3, web), no_selector]}
}

test_namespaces if {
	# A PDB of another namespace does not cover.
	count(missing_pdb.deny) == 1 with input as {"objects": [workload("Deployment", "web", "shop", 3, web), pdb("other", {"matchLabels": {"app": "web"}})]}

	# A missing namespace on either side matches any.
	no_ns_pdb := {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "b"}, "spec": {"selector": {"matchLabels": {"app": "web"}}}}
	count(missing_pdb.deny) == 0 with input as {"objects": [workload("Deployment", "web", "shop", 3, web), no_ns_pdb]}
	no_ns_workload := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 3, "template": {"metadata": {"labels": web}}}}
	count(missing_pdb.deny) == 0 with input as {"objects": [no_ns_workload, pdb("shop", {"matchLabels": {"app": "web"}})]}
	count(missing_pdb.deny) == 1 with input as {"objects": [no_ns_workload, pdb("shop", {"matchLabels": {"app": "api"}})]}
}

test_one_missing_or_odd_replicas_are_silent if {
	no_replicas := {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": {"metadata": {"labels": web}}}}
	count(missing_pdb.deny) == 0 with input as {"objects": [
		workload("Deployment", "one", "shop", 1, web),
		workload("Deployment", "zero", "shop", 0, web),
		workload("Deployment", "templated", "shop", "{{ .Values.replicas }}", web),
		no_replicas,
	]}
}

test_a_rollout_with_a_workload_ref_is_silent if {
	ref := {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "web"}, "spec": {"replicas": 3, "workloadRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}}}
	count(missing_pdb.deny) == 0 with input as {"objects": [ref]}
}
