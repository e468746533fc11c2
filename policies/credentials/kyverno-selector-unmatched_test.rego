package kvet.rules.kyverno_selector_unmatched_test

import data.kvet.rules.kyverno_selector_unmatched
import rego.v1

cluster_policy(resources) := {
	"apiVersion": "kyverno.io/v1",
	"kind": "ClusterPolicy",
	"metadata": {"name": "sync-registry"},
	"spec": {"rules": [{"name": "sync", "match": {"any": [{"resources": resources}]}}]},
}

sync := {"secrets.example.com/sync": "true"}

secret(name, namespace, labels) := {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace, "labels": labels}}

platform_only := {"kinds": ["Secret"], "namespaces": ["platform"], "selector": {"matchLabels": sync}}

only(results) := r if {
	count(results) == 1
	some r in results
}

test_a_labelled_object_outside_the_namespaces_is_reported_at_its_namespace if {
	r := only(kyverno_selector_unmatched.deny) with input as {"objects": [
		cluster_policy(platform_only),
		secret("ghcr-pull", "platform", sync),
		secret("ghcr-pull", "shop", sync),
		secret("db", "shop", {}),
	]}
	r.object == 2
	r.related == 0
	r.path == ["metadata", "namespace"]
	contains(r.msg, `Secret "ghcr-pull" has the labels (secrets.example.com/sync=true) that rule "sync" of ClusterPolicy "sync-registry" selects, but the rule only covers namespaces platform, not "shop"`)
	not r.level
}

test_a_selector_that_matches_nothing_is_reported_at_the_selector if {
	r := only(kyverno_selector_unmatched.deny) with input as {"objects": [
		cluster_policy(platform_only),
		secret("ghcr-pull", "platform", {"secrets.example.com/sync": "yes"}),
	]}
	r.object == 0
	not r.related
	r.path == ["spec", "rules", 0, "match", "any", 0, "resources", "selector"]
	contains(r.msg, `rule "sync" selects Secret labelled secrets.example.com/sync=true in namespaces platform, but no Secret of the input carries those labels (Secret "ghcr-pull" in "platform" does not)`)
}

test_rules_without_a_selector_or_a_namespace_restriction_are_silent if {
	count(kyverno_selector_unmatched.deny) == 0 with input as {"objects": [
		cluster_policy({"kinds": ["Secret"], "selector": {"matchLabels": sync}}),
		cluster_policy({"kinds": ["Secret"], "namespaces": ["platform"]}),
		secret("a", "shop", sync),
		secret("b", "platform", {}),
	]}
}

test_objects_are_silent_without_a_namespace_or_when_another_rule_covers_them if {
	other := object.union(cluster_policy({"kinds": ["v1/Secret"], "namespaces": ["shop", "team-*"], "selector": {"matchLabels": sync}}), {"metadata": {"name": "sync-shop"}})
	count(kyverno_selector_unmatched.deny) == 0 with input as {"objects": [
		cluster_policy(platform_only),
		other,
		secret("a", "shop", sync),
		secret("b", "team-blog", sync),
		json.remove(secret("c", "x", sync), ["metadata/namespace"]),
		secret("d", "platform", sync),
	]}
}

test_a_namespaced_policy_only_reaches_its_namespace if {
	policy := object.union(cluster_policy(platform_only), {"kind": "Policy", "metadata": {"namespace": "platform"}})
	count(kyverno_selector_unmatched.deny) == 0 with input as {"objects": [policy, secret("a", "shop", sync), secret("b", "platform", sync)]}
	r := only(kyverno_selector_unmatched.deny) with input as {"objects": [
		object.union(cluster_policy(platform_only), {"kind": "Policy", "metadata": {"namespace": "shop"}}),
		secret("a", "shop", sync),
	]}
	contains(r.msg, `rule "sync" of Policy "sync-registry"`)
}

test_namespace_selectors_use_the_input_namespaces if {
	resources := {"kinds": ["Secret"], "namespaceSelector": {"matchLabels": {"team": "platform"}}, "selector": {"matchLabels": sync}}
	namespaces := [
		{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "platform", "labels": {"team": "platform"}}},
		{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"team": "shop"}}},
	]
	r := only(kyverno_selector_unmatched.deny) with input as {"objects": array.concat([cluster_policy(resources)], array.concat(namespaces, [
		secret("a", "platform", sync),
		secret("b", "shop", sync),
		secret("c", "unknown", sync),
	]))}
	r.object == 4
	contains(r.msg, "only covers namespaces labelled team=platform")
	duplicate := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "platform", "labels": {"team": "other"}}}
	s := only(kyverno_selector_unmatched.deny) with input as {"objects": array.concat([cluster_policy(resources)], array.concat(namespaces, [duplicate, secret("a", "platform", {})]))}
	contains(s.msg, `(Secret "a" in "platform" does not)`)
}

test_namespaces_and_a_namespace_selector_together if {
	resources := {"kinds": ["ConfigMap"], "namespaces": ["shop-*"], "namespaceSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["prod"]}]}, "selector": {"matchLabels": {"app": "shop"}}}
	cm := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": "blog", "labels": {"app": "shop"}}}
	r := only(kyverno_selector_unmatched.deny) with input as {"objects": [cluster_policy(resources), cm]}
	contains(r.msg, `only covers namespaces shop-* labelled tier In ["prod"]`)
}

test_match_expressions_and_wildcards_select if {
	resources := {"kinds": ["Secret"], "namespaces": ["platform"], "selector": {
		"matchLabels": {"app.kubernetes.io/*": "?*"},
		"matchExpressions": [
			{"key": "tier", "operator": "In", "values": ["gold"]},
			{"key": "legacy", "operator": "NotIn", "values": ["true"]},
			{"key": "owner", "operator": "Exists"},
			{"key": "skip", "operator": "DoesNotExist"},
		],
	}}
	labels := {"app.kubernetes.io/name": "shop", "tier": "gold", "owner": "payments"}
	r := only(kyverno_selector_unmatched.deny) with input as {"objects": [cluster_policy(resources), secret("a", "shop", labels), secret("b", "shop", object.union(labels, {"skip": "1"}))]}
	r.object == 1
}

test_unevaluable_filters_are_left_out if {
	every resources in [
		{"kinds": ["Secret"], "namespaces": ["platform"], "selector": {"matchLabels": {"sync": "{{ request.object.metadata.name }}"}}},
		{"kinds": ["Secret"], "namespaces": ["platform"], "selector": {"matchExpressions": [{"key": "sync", "operator": "Gt", "values": ["1"]}]}},
		{"kinds": ["*"], "namespaces": ["platform"], "selector": {"matchLabels": sync}},
		{"kinds": ["Pod/exec"], "namespaces": ["platform"], "selector": {"matchLabels": sync}},
	] {
		count(kyverno_selector_unmatched.deny) == 0 with input as {"objects": [cluster_policy(resources), secret("a", "shop", sync), secret("b", "platform", {})]}
	}
}

test_an_unevaluable_namespace_selector_is_taken_to_match if {
	resources := {"kinds": ["Secret"], "namespaces": ["platform"], "namespaceSelector": {"matchExpressions": [{"key": "a", "operator": "Gt"}]}, "selector": {"matchLabels": sync}}
	namespace := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "platform"}}
	count(kyverno_selector_unmatched.deny) == 0 with input as {"objects": [cluster_policy(resources), namespace, secret("a", "platform", sync)]}
	count(kyverno_selector_unmatched.deny) == 0 with input as {"objects": [cluster_policy(resources), namespace, secret("b", "platform", {})]}
}

test_all_and_the_old_match_form_are_read if {
	all_policy := json.patch(cluster_policy({}), [{"op": "replace", "path": "/spec/rules/0/match", "value": {"all": [{"resources": platform_only}]}}])
	old_policy := json.patch(cluster_policy({}), [{"op": "replace", "path": "/spec/rules/0/match", "value": {"resources": platform_only}}])
	two_all := json.patch(cluster_policy({}), [{"op": "replace", "path": "/spec/rules/0/match", "value": {"all": [{"resources": platform_only}, {"resources": {"kinds": ["Secret"]}}]}}])
	a := only(kyverno_selector_unmatched.deny) with input as {"objects": [all_policy, secret("a", "platform", {})]}
	a.path == ["spec", "rules", 0, "match", "all", 0, "resources", "selector"]
	b := only(kyverno_selector_unmatched.deny) with input as {"objects": [old_policy, secret("a", "platform", {})]}
	b.path == ["spec", "rules", 0, "match", "resources", "selector"]
	count(kyverno_selector_unmatched.deny) == 0 with input as {"objects": [two_all, secret("a", "platform", {})]}
}

test_unnamed_rules_and_other_policy_apis_are_handled if {
	unnamed := json.remove(cluster_policy(platform_only), ["spec/rules/0/name"])
	r := only(kyverno_selector_unmatched.deny) with input as {"objects": [unnamed, secret("a", "platform", {})]}
	contains(r.msg, `rule "#0"`)
	other_api := object.union(cluster_policy(platform_only), {"apiVersion": "config.kio.kasten.io/v1alpha1", "kind": "Policy"})
	count(kyverno_selector_unmatched.deny) == 0 with input as {"objects": [other_api, secret("a", "platform", {})]}
}

test_malformed_policies_and_objects_do_not_fail if {
	count(kyverno_selector_unmatched.deny) == 0 with input as {"objects": [
		{"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "a"}, "spec": {"rules": "sync"}},
		{"apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "b"}, "spec": {"rules": ["sync", {"match": "any"}, {"match": {"any": "x", "all": 5}}]}},
		cluster_policy({"kinds": "Secret", "namespaces": ["platform"], "selector": {"matchLabels": sync}}),
		cluster_policy({"kinds": [5], "namespaces": ["platform"], "selector": {"matchLabels": sync}}),
		cluster_policy({"kinds": ["Secret"], "namespaces": "platform", "selector": {"matchLabels": sync}}),
		cluster_policy({"kinds": ["Secret"], "namespaces": [5], "selector": {"matchLabels": sync}}),
		cluster_policy({"kinds": ["Secret"], "namespaces": ["platform"], "selector": {"matchLabels": "sync"}}),
		cluster_policy({"kinds": ["Secret"], "namespaces": ["platform"], "selector": {"matchLabels": {"sync": "[x"}}}),
		cluster_policy({"kinds": ["Secret"], "namespaces": ["platform"], "selector": {"matchExpressions": [{"key": 5, "operator": "In", "values": "x"}]}}),
		cluster_policy({"kinds": ["Secret"], "namespaces": ["platform"], "selector": {"matchLabels": sync}, "namespaceSelector": {"matchLabels": "x"}}),
		secret("a", 5, sync),
		secret("b", "shop", "sync"),
		secret("c", "platform", [1]),
		{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": "x"}},
		{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": 5}},
	]}
}
