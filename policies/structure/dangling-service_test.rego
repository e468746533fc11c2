package kvet.rules.dangling_service_test

import data.kvet.rules.dangling_service
import rego.v1

meta(name, ns) := object.union({"name": name}, namespaced(ns))

namespaced(ns) := {"namespace": ns} if ns != ""

namespaced("") := {}

service(name, ns, selector) := {"apiVersion": "v1", "kind": "Service", "metadata": meta(name, ns), "spec": {"selector": selector, "ports": [{"port": 80}]}}

deployment(name, ns, labels) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": meta(name, ns),
	"spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "app", "image": "app:1.0.0"}]}}},
}

test_a_selector_no_pod_matches_is_reported if {
	results := dangling_service.deny with input as {"objects": [
		deployment("web", "shop", {"app.kubernetes.io/name": "web", "tier": "frontend"}),
		service("web", "shop", {"app.kubernetes.io/name": "web"}),
		service("frontend", "shop", {"app.kubernetes.io/name": "frontend", "tier": "frontend"}),
		# Shares no key with the namespace's pods: pods installed from elsewhere, not judged.
		service("cache", "shop", {"app": "redis"}),
	]}
	count(results) == 1
	some r in results
	r.object == 2
	r.related == 0
	r.path == ["spec", "selector"]
	contains(r.msg, `Service "frontend" selects app.kubernetes.io/name=frontend, tier=frontend, but no pod of the input in namespace "shop"`)
	endswith(r.msg, `the closest pods, of Deployment "web" ({related}), have app.kubernetes.io/name=web, tier=frontend`)
	not r.level
}

test_the_same_keys_with_other_values_are_a_near_miss if {
	results := dangling_service.deny with input as {"objects": [
		deployment("api", "shop", {"app": "api"}),
		deployment("web", "shop", {"app": "web", "version": "v2"}),
		deployment("frontend", "staging", {"app": "web-frontend"}),
		service("web-frontend", "shop", {"app": "web-frontend"}),
	]}
	some r in results
	r.object == 3
	r.related == 1
	endswith(r.msg, `the closest pods, of Deployment "web" ({related}), have app=web`)
}

test_other_values_count_only_beside_the_service if {
	objects := [
		deployment("demo", "", {"app": "demo"}),
		service("redis", "", {"app": "redis"}),
	]
	count(dangling_service.deny) == 1 with input as {"objects": objects, "folders": [0, 0]}
	count(dangling_service.deny) == 0 with input as {"objects": objects, "folders": [0, 1]}
}

test_the_closest_pods_carry_most_pairs_then_keys_then_alike_values if {
	results := dangling_service.deny with input as {"objects": [
		deployment("one-key", "shop", {"app": "frontend"}),
		deployment("both-keys", "shop", {"app": "api", "tier": "x"}),
		deployment("a-pair", "shop", {"app": "nothing-alike", "tier": "web", "team": "z"}),
		service("web", "shop", {"app": "web-frontend", "tier": "web", "team": "a"}),
		service("api", "shop", {"app": "apis", "tier": "y"}),
		service("front", "shop", {"app": "frontend-v2", "tier": "z"}),
		service("frontend", "", {"app": "frontend", "missing": 1}),
	]}
	{[r.object, r.related] | some r in results} == {[3, 2], [4, 1], [5, 1], [6, 0]}
	some r in results
	r.object == 6
	endswith(r.msg, `have app=frontend, no missing`)
}

test_every_pair_must_match_the_same_pods if {
	results := dangling_service.deny with input as {"objects": [
		deployment("web", "shop", {"app": "web", "tier": "frontend"}),
		deployment("api", "shop", {"app": "api", "tier": "backend"}),
		service("web", "shop", {"app": "web", "tier": "backend"}),
		service("api", "shop", {"app": "api", "tier": "backend"}),
	]}
	{r.object | some r in results} == {2}
}

test_pods_of_another_namespace_do_not_count if {
	results := dangling_service.deny with input as {"objects": [
		deployment("web", "shop", {"app": "web"}),
		deployment("web", "staging", {"app": "web-staging", "tier": "web"}),
		service("web", "staging", {"app": "web", "tier": "web"}),
	]}
	some r in results
	r.object == 2
}

test_objects_without_namespace_match_any if {
	count(dangling_service.deny) == 0 with input as {"objects": [
		deployment("web", "", {"app": "web"}),
		deployment("api", "shop", {"app": "api"}),
		service("web", "shop", {"app": "web"}),
		service("api", "", {"app": "api"}),
	]}
}

test_a_service_without_namespace_is_judged_against_every_pod if {
	results := dangling_service.deny with input as {"objects": [
		deployment("api", "shop", {"app": "api", "tier": "backend"}),
		service("web", "", {"app": "web", "tier": "backend"}),
	]}
	some r in results
	r.object == 1
	not contains(r.msg, "namespace")
}

test_silent_without_workloads_in_the_namespace if {
	count(dangling_service.deny) == 0 with input as {"objects": [
		deployment("web", "shop", {"app": "web"}),
		deployment("tools", "", {"app": "tools"}),
		service("ingress-nginx", "ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"}),
	]}
	count(dangling_service.deny) == 0 with input as {"objects": [service("web", "", {"app": "web"})]}
}

test_services_without_selector_are_silent if {
	count(dangling_service.deny) == 0 with input as {"objects": [
		deployment("web", "shop", {"app": "web"}),
		{"apiVersion": "v1", "kind": "Service", "metadata": meta("db", "shop"), "spec": {"type": "ExternalName", "externalName": "db.example.com"}},
		service("manual", "shop", {}),
	]}
}

test_runtime_labels_match_any_value if {
	count(dangling_service.deny) == 0 with input as {"objects": [
		{"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta("redis", "shop"), "spec": {"serviceName": "redis", "selector": {"matchLabels": {"app": "redis"}}, "template": {"metadata": {"labels": {"app": "redis"}}, "spec": {"containers": [{"name": "redis", "image": "redis:7.2"}]}}}},
		service("redis-0", "shop", {"app": "redis", "statefulset.kubernetes.io/pod-name": "redis-0"}),
		service("pods", "shop", {"statefulset.kubernetes.io/pod-name": "other-0"}),
	]}
}

test_rollout_experiment_pods_are_selectable if {
	rollout := {"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": meta("web", "shop"), "spec": {
		"template": {"metadata": {"labels": {"app": "web", "tier": "frontend"}}},
		"strategy": {"canary": {"steps": [{"setWeight": 20}, {"experiment": {"templates": [{"name": "preview", "specRef": "canary", "metadata": {"labels": {"app": "web-preview"}}}]}}]}},
	}}
	results := dangling_service.deny with input as {"objects": [
		rollout,
		service("web", "shop", {"app": "web"}),
		service("web-preview", "shop", {"app": "web-preview", "tier": "frontend"}),
		service("web-canary", "shop", {"app": "web-canary", "tier": "frontend"}),
	]}
	{r.object | some r in results} == {3}
}

test_prometheus_operator_pods_are_selectable if {
	count(dangling_service.deny) == 0 with input as {"objects": [
		deployment("grafana", "monitoring", {"app.kubernetes.io/name": "grafana"}),
		{"apiVersion": "monitoring.coreos.com/v1", "kind": "Prometheus", "metadata": meta("k8s", "monitoring"), "spec": {"podMetadata": {"labels": {"app.kubernetes.io/part-of": "kube-prometheus"}}}},
		{"apiVersion": "monitoring.coreos.com/v1", "kind": "Alertmanager", "metadata": meta("main", "monitoring"), "spec": {}},
		{"apiVersion": "monitoring.coreos.com/v1", "kind": "ThanosRuler", "metadata": meta("rules", "monitoring"), "spec": {}},
		service("prometheus-k8s", "monitoring", {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "k8s", "app.kubernetes.io/part-of": "kube-prometheus"}),
		service("alertmanager-main", "monitoring", {"alertmanager": "main", "app.kubernetes.io/name": "alertmanager"}),
		service("thanos-ruler", "monitoring", {"thanos-ruler": "rules"}),
	]}
}

test_cloudnative_pg_pods_are_selectable if {
	results := dangling_service.deny with input as {"objects": [
		{"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": meta("pg", "shop"), "spec": {"inheritedMetadata": {"labels": {"team": "shop"}}}},
		{"apiVersion": "postgresql.cnpg.io/v1", "kind": "Pooler", "metadata": meta("pg-pooler", "shop"), "spec": {"cluster": {"name": "pg"}, "template": {"metadata": {"labels": {"tier": "db"}}}}},
		service("pg-primary-lb", "shop", {"cnpg.io/cluster": "pg", "cnpg.io/instanceRole": "primary", "team": "shop"}),
		service("pg-pooler-lb", "shop", {"cnpg.io/poolerName": "pg-pooler", "tier": "db"}),
		service("pg-typo", "shop", {"cnpg.io/cluster": "pgx", "role": "primary"}),
	]}
	{r.object | some r in results} == {4}
}

test_resources_of_other_groups_run_no_known_pods if {
	results := dangling_service.deny with input as {"objects": [
		deployment("web", "shop", {"app": "web"}),
		{"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster", "metadata": meta("pg", "shop"), "spec": {}},
		service("pg", "shop", {"cnpg.io/cluster": "pg", "app": "web"}),
	]}
	count(results) == 1
}
