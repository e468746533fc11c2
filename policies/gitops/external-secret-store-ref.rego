# METADATA
# title: an ExternalSecret names a secret store that is not in the input
# description: |-
#   ## What it checks
#   The store an External Secrets Operator object reads from or writes to: `spec.secretStoreRef`
#   and every `spec.data[].sourceRef.storeRef` and `spec.dataFrom[].sourceRef.storeRef` of an
#   `ExternalSecret`, the same fields under `spec.externalSecretSpec` of a
#   `ClusterExternalSecret`, and every named `spec.secretStoreRefs[]` of a `PushSecret`. Its
#   `kind` is `SecretStore` when left out.
#
#   A `SecretStore` reference is reported when the input has `SecretStore`s in the object's
#   namespace but none of that name; a `ClusterSecretStore` reference when the input has
#   `ClusterSecretStore`s but none of that name. An object or store without
#   `metadata.namespace` matches any namespace (a `ClusterExternalSecret` creates its
#   ExternalSecrets in other namespaces: it matches any). It stays silent when the input has
#   no store of the referenced kind (in that namespace): the stores are then managed
#   elsewhere, as is common with a platform team's `ClusterSecretStore`. `PushSecret` entries
#   that pick stores by `labelSelector` and sources that use a `generatorRef` are not checked.
#
#   This rule looks at the whole input at once (`scope: stream`): put every file of an
#   application in one run.
#
#   ## Why
#   The operator cannot sync from a store that does not exist: the ExternalSecret stays
#   `SecretSyncedError` and the Kubernetes Secret it should create never appears (or keeps its
#   old value), so the pods that mount it do not start. Nothing fails at apply time.
#
#   ## How to fix
#   Correct the name, or the `kind` (`SecretStore` is namespaced, `ClusterSecretStore` is
#   not), or add the store to the manifests.
#
#   ## Example
#   ```yaml
#   kind: SecretStore
#   metadata: {name: vault-backend, namespace: shop}
#   ---
#   kind: ExternalSecret
#   metadata: {name: db, namespace: shop}
#   spec:
#     secretStoreRef:
#       name: vault-backnd   # external-secret-store-ref: no SecretStore "vault-backnd"
#       kind: SecretStore
#   ```
# custom:
#   level: error
#   category: gitops
#   kinds: [ExternalSecret, ClusterExternalSecret, PushSecret, SecretStore, ClusterSecretStore]
#   scope: stream
package kvet.rules.external_secret_store_ref

import data.kvet.lib.naming
import rego.v1

eso(o) if startswith(o.apiVersion, "external-secrets.io/")

namespace(o) := object.get(o, ["metadata", "namespace"], "")

# The SecretStores by namespace ("" for those without one), and every ClusterSecretStore.
secret_stores[ns] contains name if {
	some o in input.objects
	o.kind == "SecretStore"
	eso(o)
	ns := namespace(o)
	name := o.metadata.name
}

cluster_stores contains name if {
	some o in input.objects
	o.kind == "ClusterSecretStore"
	eso(o)
	name := o.metadata.name
}

# Every store reference: [object index, namespace, kind, name, path of the name].
refs contains [i, ns, kind, ref.name, array.concat(base, ["name"])] if {
	some i, o in input.objects
	some [ns, base, ref] in store_refs(o)
	is_string(ref.name)
	kind := object.get(ref, "kind", "SecretStore")
}

# The references of each kind of object, as [namespace, path of the reference, reference].
store_refs(o) := refs_of_spec(namespace(o), o.spec, ["spec"]) if {
	o.kind == "ExternalSecret"
	eso(o)
}

store_refs(o) := refs_of_spec("", o.spec.externalSecretSpec, ["spec", "externalSecretSpec"]) if {
	o.kind == "ClusterExternalSecret"
	eso(o)
}

store_refs(o) := {[namespace(o), ["spec", "secretStoreRefs", k], ref] |
	ref := o.spec.secretStoreRefs[k]
} if {
	o.kind == "PushSecret"
	eso(o)
}

refs_of_spec(ns, spec, path) := {[ns, array.concat(path, ["secretStoreRef"]), spec.secretStoreRef] | spec.secretStoreRef} | {[ns, array.concat(path, [field, k, "sourceRef", "storeRef"]), item.sourceRef.storeRef] |
	some field in ["data", "dataFrom"]
	item := spec[field][k]
	item.sourceRef.storeRef
}

# The SecretStore names visible from a namespace, when the input has any SecretStore there.
visible_secret_stores(ns) := {name | some names in secret_stores; some name in names} if ns == ""

visible_secret_stores(ns) := stores_in(ns) | stores_in("") if ns != ""

# The SecretStores of a namespace; the empty set for none (`secret_stores` itself is undefined
# when the input has no SecretStore).
stores_in(ns) := secret_stores[ns]

stores_in(ns) := set() if not secret_stores[ns]

deny contains result if {
	some [i, ns, kind, name, path] in refs
	kind == "SecretStore"
	names := visible_secret_stores(ns)
	count(names) > 0
	not name in names
	result := {
		"object": i,
		"path": path,
		"msg": sprintf("%s \"%v\" %s SecretStore \"%v\", which is not in the input%s: %s", [input.objects[i].kind, naming.object_name(input.objects[i]), verb(input.objects[i].kind), name, where(ns), outcome(input.objects[i].kind)]),
	}
}

deny contains result if {
	some [i, _, kind, name, path] in refs
	kind == "ClusterSecretStore"
	count(cluster_stores) > 0
	not name in cluster_stores
	result := {
		"object": i,
		"path": path,
		"msg": sprintf("%s \"%v\" %s ClusterSecretStore \"%v\", which is not in the input: %s", [input.objects[i].kind, naming.object_name(input.objects[i]), verb(input.objects[i].kind), name, outcome(input.objects[i].kind)]),
	}
}

where(ns) := sprintf(" (namespace \"%v\")", [ns]) if ns != ""

where(ns) := "" if ns == ""

verb(kind) := "writes to" if kind == "PushSecret"

verb(kind) := "reads from" if kind != "PushSecret"

outcome(kind) := "the secret will not be pushed" if kind == "PushSecret"

outcome(kind) := "the secret will not sync" if kind != "PushSecret"
