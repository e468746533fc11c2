package kvet.rules.cnpg_reference_test

import data.kvet.rules.cnpg_reference
import rego.v1

cluster(name, ns) := {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": object.union({"name": name}, namespaced(ns)), "spec": {"instances": 3}}

namespaced(ns) := {"namespace": ns} if ns != ""

namespaced(ns) := {} if ns == ""

deployment(ns, container, pod) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": object.union({"name": "orders"}, namespaced(ns)),
	"spec": {"template": {"spec": object.union({"containers": [object.union({"name": "api", "image": "orders:1.4.2"}, container)]}, pod)}},
}

secret_env(name) := {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": name, "key": "password"}}}

host_env(value) := {"name": "DB_HOST", "value": value}

env := ["spec", "template", "spec", "containers", 0, "env"]

test_a_typo_of_a_cluster_name_is_reported if {
	results := cnpg_reference.deny with input as {"objects": [
		cluster("orders-db", "shop"),
		deployment("shop", {"env": [secret_env("order-db-app")]}, {}),
	]}
	count(results) == 1
	some r in results
	r.object == 1
	r.path == array.concat(env, [0, "valueFrom", "secretKeyRef", "name"])
	contains(r.msg, `secret "order-db-app" is CloudNativePG's name for Cluster "order-db", but the input has no such Cluster`)
	contains(r.msg, `namespace "shop"`)
	contains(r.msg, `did you mean "orders-db-app"?`)
	not r.level
}

test_typos_in_env_from_volumes_and_hosts_are_reported if {
	results := cnpg_reference.deny with input as {"objects": [
		cluster("orders-db", "shop"),
		deployment("shop", {
			"env": [host_env("postgresql://app@ordres-db-rw.shop.svc:5432/app")],
			"envFrom": [{"secretRef": {"name": "orders-bd-superuser"}}],
		}, {"volumes": [
			{"name": "ca", "secret": {"secretName": "order-db-ca"}},
			{"name": "certs", "projected": {"sources": [{"configMap": {"name": "x"}}, {"secret": {"name": "orders-db2-replication"}}]}},
		]}),
	]}
	{r.path | some r in results} == {
		array.concat(env, [0, "value"]),
		["spec", "template", "spec", "containers", 0, "envFrom", 0, "secretRef", "name"],
		["spec", "template", "spec", "volumes", 0, "secret", "secretName"],
		["spec", "template", "spec", "volumes", 1, "projected", "sources", 1, "secret", "name"],
	}
}

test_a_service_of_another_cluster_in_a_workload_using_a_cluster_is_reported if {
	results := cnpg_reference.deny with input as {"objects": [
		cluster("orders-db", "shop"),
		cluster("billing", "shop"),
		deployment("shop", {"env": [secret_env("orders-db-app"), host_env("pg-rw")]}, {}),
	]}
	count(results) == 1
	some r in results
	r.path == array.concat(env, [1, "value"])
	contains(r.msg, `service "pg-rw"`)
	contains(r.msg, `the Clusters here are "billing", "orders-db"`)
}

test_matching_names_are_silent if {
	count(cnpg_reference.deny) == 0 with input as {"objects": [
		cluster("orders-db", "shop"),
		deployment("shop", {"env": [
			secret_env("orders-db-app"),
			host_env("orders-db-rw"),
			host_env("jdbc:postgresql://orders-db-ro.shop.svc.cluster.local:5432/app"),
			host_env("orders-db-r.shop"),
		]}, {"volumes": [{"name": "ca", "secret": {"secretName": "orders-db-ca"}}]}),
	]}
}

test_names_that_only_end_like_cnpg_ones_are_silent if {
	count(cnpg_reference.deny) == 0 with input as {"objects": [
		cluster("orders-db", "shop"),
		deployment("shop", {
			"env": [
				secret_env("orders-db-app"),
				secret_env("github-app"),
				secret_env("shop-db-app"),
				host_env("--mount-ro"),
				host_env("file-ro.txt.bak"),
				host_env("db-ro.example.com"),
			],
			"envFrom": [{"configMapRef": {"name": "orders-db-ro"}}],
		}, {"volumes": [{"name": "ca", "secret": {"secretName": "internal-ca"}}, {"name": "tmp", "emptyDir": {}}]}),
	]}
}

test_a_workload_not_using_a_cluster_is_only_reported_for_slips if {
	count(cnpg_reference.deny) == 0 with input as {"objects": [
		cluster("orders-db", "shop"),
		cluster("billing-db", "shop"),
		deployment("shop", {"env": [host_env("redis-rw"), secret_env("payments-superuser")]}, {}),
	]}
}

# A chart hard-codes the names while the Cluster is named after the release.
test_a_word_of_a_cluster_name_is_reported if {
	results := cnpg_reference.deny with input as {"objects": [
		cluster("shop-postgres", "shop"),
		cluster("shop-cache-db", "shop"),
		deployment("shop", {"env": [
			host_env("postgres-rw"),
			{"name": "CONNECTION", "value": "postgresql://app@cache-ro:5432/app"},
			{"name": "MODE", "value": "postgres-ro"},
		]}, {"volumes": [{"name": "ca", "secret": {"secretName": "postgres-ca"}}]}),
	]}
	{r.msg | some r in results} == {
		`service "postgres-rw" is CloudNativePG's name for Cluster "postgres", but the input has no such Cluster in namespace "shop": did you mean "shop-postgres-rw"?`,
		`service "cache-ro" is CloudNativePG's name for Cluster "cache", but the input has no such Cluster in namespace "shop": did you mean "shop-cache-db-ro"?`,
		`secret "postgres-ca" is CloudNativePG's name for Cluster "postgres", but the input has no such Cluster in namespace "shop": did you mean "shop-postgres-ca"?`,
	}
}

test_a_namespace_with_one_cluster_is_what_cnpg_only_names_mean if {
	results := cnpg_reference.deny with input as {"objects": [
		cluster("orders-db", "shop"),
		deployment("shop", {"env": [
			host_env("redis-rw"),
			secret_env("payments-superuser"),
			# Other secrets end with -app and -ca too.
			secret_env("github-app"),
			secret_env("internal-ca"),
		]}, {}),
	]}
	{r.msg | some r in results} == {
		`service "redis-rw" is CloudNativePG's name for Cluster "redis", but the input has no such Cluster in namespace "shop": did you mean "orders-db-rw"?`,
		`secret "payments-superuser" is CloudNativePG's name for Cluster "payments", but the input has no such Cluster in namespace "shop": did you mean "orders-db-superuser"?`,
	}
}

test_short_cluster_names_are_not_guessed_at if {
	count(cnpg_reference.deny) == 0 with input as {"objects": [
		cluster("pg", "shop"),
		deployment("shop", {"env": [secret_env("pgx-app")]}, {}),
	]}
}

test_silent_without_a_cluster_in_the_namespace if {
	count(cnpg_reference.deny) == 0 with input as {"objects": [
		cluster("orders-db", "billing"),
		{"apiVersion": "cluster.x-k8s.io/v1beta1", "kind": "Cluster", "metadata": {"name": "orders-db", "namespace": "shop"}},
		deployment("shop", {"env": [secret_env("order-db-app")]}, {}),
	]}
}

test_a_host_in_another_namespace_is_looked_up_there if {
	results := cnpg_reference.deny with input as {"objects": [
		cluster("orders-db", "data"),
		cluster("cache-db", "shop"),
		deployment("shop", {"env": [host_env("orders-db-rw.data.svc"), host_env("order-db-rw.data")]}, {}),
	]}
	count(results) == 1
	some r in results
	r.path == array.concat(env, [1, "value"])
	contains(r.msg, `namespace "data"`)
}

test_objects_without_namespace_match_any if {
	results := cnpg_reference.deny with input as {"objects": [
		cluster("orders-db", "data"),
		cluster("analytics", ""),
		deployment("", {"env": [secret_env("order-db-app")]}, {}),
		deployment("shop", {"env": [secret_env("analytic-app")]}, {}),
	]}
	{r.object | some r in results} == {2, 3}
	some r in results
	r.object == 2
	not contains(r.msg, "namespace")
}

test_cronjob_init_containers_are_checked if {
	results := cnpg_reference.deny with input as {"objects": [
		cluster("orders-db", "shop"),
		{"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "backup", "namespace": "shop"}, "spec": {"jobTemplate": {"spec": {"template": {"spec": {
			"initContainers": [{"name": "wait", "image": "busybox:1.36", "env": [host_env("orders-db-rw")]}],
			"containers": [{"name": "dump", "image": "postgres:16", "env": [secret_env("orders-db-superusr"), secret_env("ordersdb-superuser")]}],
		}}}}}},
	]}
	count(results) == 1
	some r in results
	r.path == ["spec", "jobTemplate", "spec", "template", "spec", "containers", 0, "env", 1, "valueFrom", "secretKeyRef", "name"]
}

test_a_long_list_of_clusters_is_not_printed if {
	results := cnpg_reference.deny with input as {"objects": [
		cluster("a1", "shop"), cluster("a2", "shop"), cluster("a3", "shop"),
		cluster("a4", "shop"), cluster("a5", "shop"), cluster("a6", "shop"),
		deployment("shop", {"env": [secret_env("a1-app"), host_env("zz-rw")]}, {}),
	]}
	some r in results
	endswith(r.msg, `Cluster "zz", but the input has no such Cluster in namespace "shop"`)
}

test_a_short_cluster_name_is_still_checked_through_the_workloads_other_uses if {
	results := cnpg_reference.deny with input as {"objects": [
		cluster("pg", ""),
		deployment("shop", {"env": [secret_env("pg-app"), host_env("pgx-rw")]}, {}),
	]}
	count(results) == 1
	some r in results
	contains(r.msg, `service "pgx-rw"`)
	contains(r.msg, `did you mean "pg-rw"?`)
}

test_words_that_only_look_like_services_are_silent if {
	count(cnpg_reference.deny) == 0 with input as {"objects": [
		cluster("orders-db", "shop"),
		deployment("shop", {"env": [
			host_env("orders-db-rw"),
			{"name": "LOCALES", "value": "en-us,ro-ro,fr-fr"},
			{"name": "MODE", "value": "cache-rw"},
			{"name": "FEEDBACK", "value": "sheet-ro"},
		]}, {}),
	]}
}

test_a_service_in_a_namespaced_host_is_checked_whatever_the_variable if {
	results := cnpg_reference.deny with input as {"objects": [
		cluster("orders-db", "shop"),
		deployment("shop", {"env": [
			host_env("orders-db-rw"),
			{"name": "REPLICA", "value": "reports-ro.shop"},
			{"name": "PGHOST", "value": "billing-rw"},
		]}, {}),
	]}
	count(results) == 2
}

test_names_the_input_defines_otherwise_are_silent if {
	pg := object.union(cluster("orders-db", "shop"), {"spec": {
		"bootstrap": {"initdb": {"secret": {"name": "orders-owner-app"}}},
		"certificates": {"serverCASecret": "orders-db1-ca"},
		"managed": {"services": {"additional": [{"selectorType": "rw", "serviceTemplate": {"metadata": {"name": "orders-db-lb-rw"}}}, {"selectorType": "ro"}]}},
	}})
	count(cnpg_reference.deny) == 0 with input as {"objects": [
		pg,
		{"apiVersion": "postgresql.cnpg.io/v1", "kind": "Pooler", "metadata": {"name": "orders-pooler-rw", "namespace": "shop"}, "spec": {"cluster": {"name": "orders-db"}, "type": "rw"}},
		{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "orders-db-superuser", "namespace": "shop"}},
		{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "orders-db-rw", "namespace": ""}},
		{"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "reporting", "namespace": "shop"}, "spec": {"target": {"name": "orders-replication"}}},
		{"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "order-db-app", "namespace": "shop"}},
		deployment("shop", {"env": [
			secret_env("orders-db-app"),
			host_env("orders-pooler-rw"),
			host_env("orders-db-lb-rw"),
			secret_env("orders-owner-app"),
			secret_env("orders-replication"),
			secret_env("order-db-app"),
		]}, {"volumes": [{"name": "ca", "secret": {"secretName": "orders-db1-ca"}}]}),
		deployment("", {"env": [secret_env("orders-db-app"), host_env("orders-pooler-rw")]}, {}),
	]}
}
