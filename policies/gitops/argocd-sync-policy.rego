# METADATA
# title: an Argo CD Application leaves prune, selfHeal or namespace creation unstated
# description: |-
#   ## What it checks
#   Two things of every Argo CD `Application`:
#
#   - with automated sync (`spec.syncPolicy.automated`), that `prune` and `selfHeal` are both
#     stated. Applications without automated sync, or with `automated.enabled: false`, are
#     not checked for this.
#   - that its destination namespace (`spec.destination.namespace`) will exist: it is reported
#     when `CreateNamespace=true` is not in `spec.syncPolicy.syncOptions` and the namespace is
#     not a `Namespace` object of the input. It stays silent for `default`, `kube-system`,
#     `kube-public` and `kube-node-lease`, for the Application's own namespace (`argocd`
#     when it has none), for a namespace another Application of the input creates with
#     `CreateNamespace=true`, for a templated namespace (`{{ ... }}`, `${...}`) and for
#     Applications without a destination namespace. Namespaces are matched by name only,
#     whatever the destination cluster.
#
#   This rule looks at the whole input at once (`scope: stream`): put every file of an
#   application in one run.
#
#   ## Why
#   `prune` and `selfHeal` default to `false`: a manifest deleted from Git stays in the
#   cluster, and a `kubectl edit` is never reverted, which is rarely what "automated" was
#   meant to mean. Stating both, even as `false`, records the choice for the next reader.
#   A sync into a namespace that does not exist fails with `namespaces "x" not found` until
#   somebody creates it by hand, and a fresh cluster cannot be rebuilt from Git alone.
#
#   ## How to fix
#   Write `prune:` and `selfHeal:` under `automated`. Add `CreateNamespace=true` to
#   `syncOptions` (with `managedNamespaceMetadata` for its labels), or keep the `Namespace`
#   manifest next to the Application and check both in one run.
#
#   ## Example
#   ```yaml
#   kind: Application
#   spec:
#     destination:
#       server: https://kubernetes.default.svc
#       namespace: shop        # argocd-sync-policy: no Namespace "shop", no CreateNamespace=true
#     syncPolicy:
#       automated: {}          # argocd-sync-policy: prune and selfHeal not stated
#   ```
# custom:
#   level: info
#   category: gitops
#   kinds: [Application, Namespace]
#   scope: stream
package kvet.rules.argocd_sync_policy

import rego.v1

# Every Argo CD Application of the input, by index.
applications[i] := o if {
	some i, o in input.objects
	o.kind == "Application"
	startswith(o.apiVersion, "argoproj.io/")
}

# Namespaces that exist: Namespace objects, those the cluster always has, and those another
# Application creates.
namespaces := {o.metadata.name | some o in input.objects; o.kind == "Namespace"; o.apiVersion == "v1"}

system_namespaces := {"default", "kube-system", "kube-public", "kube-node-lease"}

created_namespaces := {app.spec.destination.namespace | some app in applications; creates_namespace(app)}

creates_namespace(app) if "CreateNamespace=true" in app.spec.syncPolicy.syncOptions

deny contains result if {
	some i, app in applications
	automated := app.spec.syncPolicy.automated
	is_object(automated)
	not automated.enabled == false
	missing := [field | some field in ["prune", "selfHeal"]; not field in object.keys(automated)]
	count(missing) > 0
	result := {
		"object": i,
		"path": ["spec", "syncPolicy", "automated"],
		"msg": sprintf("Application \"%v\" syncs automatically without stating %s: %s", [name(app), concat(" and ", missing), consequence(missing)]),
	}
}

consequence(["prune", "selfHeal"]) := "both default to false, so resources deleted from Git stay and manual changes are not reverted; state both"

consequence(["prune"]) := "it defaults to false, so resources deleted from Git stay in the cluster; state it"

consequence(["selfHeal"]) := "it defaults to false, so manual changes in the cluster are not reverted; state it"

deny contains result if {
	some i, app in applications
	ns := app.spec.destination.namespace
	is_string(ns)
	ns != ""
	not templated(ns)
	not ns in namespaces
	not ns in system_namespaces
	not ns in created_namespaces
	ns != object.get(app, ["metadata", "namespace"], "argocd")
	result := {
		"object": i,
		"path": ["spec", "destination", "namespace"],
		"msg": sprintf("Application \"%v\" deploys to namespace \"%v\", which is not in the input, without CreateNamespace=true in syncOptions: the sync fails until somebody creates it", [name(app), ns]),
	}
}

templated(value) if contains(value, "{{")

templated(value) if contains(value, "${")

name(o) := object.get(o, ["metadata", "name"], "")
