package kvet.rules.default_namespace_test

import data.kvet.rules.default_namespace
import rego.v1

object(api_version, kind, ns) := {"apiVersion": api_version, "kind": kind, "metadata": {"name": "thing", "namespace": ns}}

test_a_namespaced_object_in_default_is_reported if {
	results := default_namespace.deny with input as object("apps/v1", "Deployment", "default")
	count(results) == 1
	some r in results
	r.path == ["metadata", "namespace"]
	not r.level
	contains(r.msg, `Deployment "thing" is put in the default namespace`)
}

test_custom_resources_are_checked if {
	some r in default_namespace.deny with input as object("external-secrets.io/v1", "ExternalSecret", "default")
	contains(r.msg, "ExternalSecret")
}

test_namespaced_kinds_named_cluster_are_checked if {
	some r in default_namespace.deny with input as object("postgresql.cnpg.io/v1", "Cluster", "default")
	contains(r.msg, `Cluster "thing"`)
	some s in default_namespace.deny with input as object("cluster.x-k8s.io/v1beta1", "ClusterClass", "default")
	contains(s.msg, `ClusterClass "thing"`)
}

test_other_and_missing_namespaces_are_silent if {
	count(default_namespace.deny) == 0 with input as object("v1", "ConfigMap", "shop")
	count(default_namespace.deny) == 0 with input as object("v1", "ConfigMap", "Default")
	count(default_namespace.deny) == 0 with input as {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
}

test_cluster_scoped_kinds_are_silent if {
	every kind in ["Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume", "StorageClass", "PriorityClass", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService", "ClusterIssuer", "ClusterSecretStore", "NodePool"] {
		count(default_namespace.deny) == 0 with input as object("v1", kind, "default")
	}
}

test_roles_and_role_bindings_are_silent if {
	count(default_namespace.deny) == 0 with input as object("rbac.authorization.k8s.io/v1", "Role", "default")
	count(default_namespace.deny) == 0 with input as object("rbac.authorization.k8s.io/v1", "RoleBinding", "default")
}

test_crossplane_names_are_cluster_scoped_only_in_crossplane_groups if {
	count(default_namespace.deny) == 0 with input as {"apiVersion": "pkg.crossplane.io/v1", "kind": "Provider", "metadata": {"name": "p", "namespace": "default"}}
	count(default_namespace.deny) == 1 with input as {"apiVersion": "notification.toolkit.fluxcd.io/v1beta3", "kind": "Provider", "metadata": {"name": "slack", "namespace": "default"}}
	count(default_namespace.deny) == 1 with input as {"apiVersion": "kyverno.io/v2", "kind": "PolicyException", "metadata": {"name": "e", "namespace": "default"}}
}
