# METADATA
# title: an object is put in the default namespace
# description: |-
#   ## What it checks
#   Every object whose `metadata.namespace` is explicitly `default`.
#
#   It stays silent for objects without `metadata.namespace` (they go where they are applied:
#   `kubectl -n`, Kustomize's `namespace:`, the Argo CD Application's destination); for
#   cluster-scoped kinds, where a namespace means nothing — Namespace, Node, PersistentVolume,
#   StorageClass, PriorityClass, RuntimeClass, IngressClass, CustomResourceDefinition,
#   APIService, admission webhook and policy configurations, and every kind whose name starts
#   with `Cluster` (ClusterRole, ClusterIssuer, ClusterSecretStore...; not `Cluster` itself,
#   which CloudNativePG and Cluster API use for namespaced objects) among others; and for
#   Roles and RoleBindings, which grant access to the namespace they are in: one in `default`
#   is how a monitoring or backup tool is given access to what lives there.
#
#   ## Why
#   `default` is where everything lands that nobody placed: quick tests, `kubectl run`, copied
#   examples. An application there shares it with all of that, cannot get namespace-scoped
#   RBAC, quotas, LimitRanges, NetworkPolicies or Pod Security levels of its own without
#   affecting the rest, and is easy to delete or overwrite by mistake. Writing `default` into
#   the manifest also overrides `kubectl -n` and Kustomize, so the object cannot be deployed
#   anywhere else.
#
#   ## How to fix
#   Give the application a namespace of its own, or remove `metadata.namespace` and set the
#   namespace where it is deployed (`kubectl -n`, Kustomize `namespace:`, Helm
#   `--namespace`, the Argo CD Application's `destination.namespace`).
#
#   ## Example
#   ```yaml
#   kind: Deployment
#   metadata:
#     name: web
#     namespace: default   # default-namespace
#   ```
# custom:
#   level: warning
#   category: reliability
package kvet.rules.default_namespace

import rego.v1

# Built-in and common cluster-scoped kinds that do not start with "Cluster".
cluster_scoped := {
	"APIService",
	"CSIDriver",
	"CSINode",
	"CertificateSigningRequest",
	"ComponentStatus",
	"CustomResourceDefinition",
	"FlowSchema",
	"IngressClass",
	"MutatingAdmissionPolicy",
	"MutatingAdmissionPolicyBinding",
	"MutatingWebhookConfiguration",
	"Namespace",
	"Node",
	"PersistentVolume",
	"PodSecurityPolicy",
	"PriorityClass",
	"PriorityLevelConfiguration",
	"RuntimeClass",
	"SelfSubjectAccessReview",
	"SelfSubjectReview",
	"SelfSubjectRulesReview",
	"StorageClass",
	"StorageVersionMigration",
	"SubjectAccessReview",
	"TokenReview",
	"ValidatingAdmissionPolicy",
	"ValidatingAdmissionPolicyBinding",
	"ValidatingWebhookConfiguration",
	"VolumeAttachment",
	"VolumeAttributesClass",
	"IPAddress",
	"ServiceCIDR",
	"DeviceClass",
	"ResourceSlice",
	# Karpenter, Gatekeeper, Calico...
	"NodePool",
	"NodeClaim",
	"EC2NodeClass",
	"AKSNodeClass",
	"ConstraintTemplate",
	"GlobalNetworkPolicy",
}

# Crossplane's cluster-scoped kinds; other projects use some of these names for namespaced
# kinds (Flux's Provider, Knative's Configuration).
crossplane_cluster_scoped := {
	"CompositeResourceDefinition",
	"Composition",
	"CompositionRevision",
	"Configuration",
	"ConfigurationRevision",
	"DeploymentRuntimeConfig",
	"EnvironmentConfig",
	"Function",
	"FunctionRevision",
	"Provider",
	"ProviderRevision",
}

# Kinds named Cluster* that are namespaced: CloudNativePG and Cluster API clusters.
namespaced_cluster_kinds := {"Cluster", "ClusterClass", "ClusterResourceSet", "ClusterResourceSetBinding"}

cluster_scoped_kind(kind) if cluster_scoped[kind]

cluster_scoped_kind(kind) if {
	crossplane_cluster_scoped[kind]
	is_string(input.apiVersion)
	regex.match(`^[a-z.]*crossplane\.io/`, input.apiVersion)
}

cluster_scoped_kind(kind) if {
	startswith(kind, "Cluster")
	not namespaced_cluster_kinds[kind]
}

# Kinds that live in a namespace to grant access to it.
grants := {"Role", "RoleBinding"}

deny contains result if {
	input.metadata.namespace == "default"
	not cluster_scoped_kind(input.kind)
	not grants[input.kind]
	result := {
		"msg": sprintf("%s \"%v\" is put in the default namespace, shared with whatever lands there: give it a namespace of its own, or leave the namespace to the deployment", [input.kind, object.get(input, ["metadata", "name"], "")]),
		"path": ["metadata", "namespace"],
	}
}
