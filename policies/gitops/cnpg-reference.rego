# METADATA
# title: a workload uses a CloudNativePG secret or service of a cluster that is not in the input
# description: |-
#   ## What it checks
#   The names a workload's pods use that CloudNativePG derives from a `Cluster`
#   (`postgresql.cnpg.io`): secrets `<cluster>-app`, `-superuser`, `-ca` and `-replication`
#   (in `env[].valueFrom.secretKeyRef`, `envFrom[].secretRef`, `secret` and `projected` volumes)
#   and services `<cluster>-rw`, `-ro` and `-r` (host names in `env[].value`, such as
#   `pg-main-rw`, `pg-main-rw.shop.svc` or a connection URL). A name whose cluster part is
#   not a `Cluster` of the namespace is reported when it looks like a slip, that is when
#   either
#
#   - the cluster part is a typo of a `Cluster`'s name in the namespace (one character added,
#     removed or changed, or one moved; names of at least 4 characters), or
#   - the cluster part is one or more whole words of a `Cluster`'s name (`postgres-ca` or
#     `shop-rw` for Cluster `shop-postgres`: a chart that hard-codes the names while the
#     Cluster is named after the release), or
#   - the name is a `-superuser` or `-replication` secret or a service, and the namespace has
#     only one `Cluster` or the same workload uses another name of a `Cluster` in the input.
#
#   A service counts only in a value that is surely a host: `name-rw.namespace`, a variable
#   such as `DB_HOST` or `DATABASE_URL`, or a PostgreSQL connection URL
#   (`postgresql://app@pg-main-rw:5432/app`). It stays silent when the namespace has no
#   CloudNativePG `Cluster` in the input (the database is managed elsewhere), for names that
#   only happen to end like CloudNativePG's (`github-app`, `internal-ca`) without resembling
#   a cluster there, and for names the input
#   defines otherwise: a `Secret`, `SealedSecret`, `ExternalSecret` target, `Service`, a
#   `Pooler` (its Service has its name), a Cluster's additional managed Service or the
#   Secrets a Cluster is given (`bootstrap.initdb.secret`, `superuserSecret`,
#   `certificates`). The namespace of a host name is the one it names
#   (`pg-main-rw.shop.svc`), else the workload's; an object without `metadata.namespace`
#   matches any namespace. Host names of other domains (`db-ro.example.com`) are not looked
#   at.
#
#   This rule looks at the whole input at once (`scope: stream`): put every file of an
#   application in one run.
#
#   ## Why
#   CloudNativePG creates these secrets and services from the cluster's name. A slip in the
#   name is not caught at apply time: the pod waits in `CreateContainerConfigError` for a
#   secret that will never exist, or starts and fails to resolve its database host.
#
#   ## How to fix
#   Use the cluster's exact name followed by the suffix (`pg-main-app`, `pg-main-rw`), or add
#   the missing `Cluster` to the manifests.
#
#   ## Example
#   ```yaml
#   kind: Cluster                      # postgresql.cnpg.io/v1
#   metadata: {name: orders-db, namespace: shop}
#   ---
#   kind: Deployment
#   metadata: {name: orders, namespace: shop}
#   spec:
#     template:
#       spec:
#         containers:
#           - name: api
#             env:
#               - name: DB_HOST
#                 value: orders-db-rw
#               - name: DB_PASSWORD
#                 valueFrom:
#                   secretKeyRef:
#                     name: order-db-app   # cnpg-reference: no Cluster "order-db"
#                     key: password
#   ```
# custom:
#   level: error
#   category: gitops
#   kinds: [workloads, Cluster, Pooler, Service, Secret, SealedSecret, ExternalSecret]
#   scope: stream
package kvet.rules.cnpg_reference

import data.kvet.lib.workload
import rego.v1

namespace(o) := object.get(o, ["metadata", "namespace"], "")

cnpg_cluster(o) if {
	o.kind == "Cluster"
	startswith(o.apiVersion, "postgresql.cnpg.io/")
}

# The Clusters' names by namespace ("" for those without one), and all of them.
clusters[ns] contains name if {
	some o in input.objects
	cnpg_cluster(o)
	ns := namespace(o)
	name := o.metadata.name
}

all_clusters := {name | some names in clusters; some name in names}

# The Cluster names a reference in namespace ns may mean.
visible(ns) := all_clusters if ns == ""

visible(ns) := clusters_in(ns) | clusters_in("") if ns != ""

# The Clusters of a namespace; the empty set for none (`clusters` itself is undefined when the
# input has no Cluster).
clusters_in(ns) := clusters[ns]

clusters_in(ns) := set() if not clusters[ns]

# The names of Secrets and Services that the input defines by other means, by namespace: a
# workload may use them whatever they end with. Poolers' Services are named after the Pooler,
# a Cluster's additional Services after their template, and a Cluster may take its users' and
# certificates' Secrets from the user.
defined[ns] contains name if {
	some o in input.objects
	some name in defined_names(o)
	is_string(name)
	ns := namespace(o)
}

defined_names(o) := {o.metadata.name} if o.kind in {"Secret", "Service", "SealedSecret"}

defined_names(o) := {object.get(o, ["spec", "target", "name"], o.metadata.name)} if {
	o.kind == "ExternalSecret"
	startswith(o.apiVersion, "external-secrets.io/")
}

defined_names(o) := {o.metadata.name} if {
	o.kind == "Pooler"
	startswith(o.apiVersion, "postgresql.cnpg.io/")
}

defined_names(o) := {name |
	some path in [
		["bootstrap", "initdb", "secret", "name"],
		["superuserSecret", "name"],
		["certificates", "serverCASecret"],
		["certificates", "serverTLSSecret"],
		["certificates", "clientCASecret"],
		["certificates", "replicationTLSSecret"],
	]
	name := object.get(o, array.concat(["spec"], path), null)
} | {service.serviceTemplate.metadata.name | service := o.spec.managed.services.additional[_]} if cnpg_cluster(o)

# Whether a name is defined where a use in namespace ns may find it.
is_defined(name, "") if {
	some names in defined
	name in names
}

is_defined(name, ns) if {
	some scope in {ns, ""}
	name in defined[scope]
}

# What CloudNativePG names after a cluster, by where a workload uses it.
secret_suffixes := {"app", "superuser", "ca", "replication"}

service_suffixes := {"rw", "ro", "r"}

# Suffixes that are CloudNativePG's own enough to report a miss in a workload that already uses
# a cluster: not "-app" and "-ca", which many other secrets end with (`github-app`, `root-ca`).
telling_suffixes := {"superuser", "replication", "rw", "ro", "r"}

# Every name a workload's pods use as {object, ns, name, path, kind}: "secret" or "service".
uses contains {"object": i, "ns": namespace(o), "name": name, "path": path, "kind": "secret"} if {
	count(all_clusters) > 0
	some i, o in input.objects
	some [name, path] in secret_names(o)
	is_string(name)
}

uses contains {"object": i, "ns": ns, "name": name, "path": path, "kind": "service", "host": host} if {
	count(all_clusters) > 0
	some i, o in input.objects
	some [value, path, variable] in env_values(o)
	is_string(value)
	some token in regex.split(`[^A-Za-z0-9.-]+`, value)
	labels := split(token, ".")
	regex.match(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`, labels[0])
	ns := host_namespace(labels, namespace(o))
	name := labels[0]
	host := host_like(labels, variable, value)
}

# Whether a token surely is a host name: it names a namespace, the variable is for one
# (`DB_HOST`, `DATABASE_URL`, `PG_DSN`...) or the value is a PostgreSQL connection URL
# (`postgresql://app@pg-rw:5432/app`); not a list of words such as `LOCALES=en-us,ro-ro`.
host_like(labels, _, _) if count(labels) > 1

host_like(_, variable, _) if {
	is_string(variable)
	regex.match(`(?i)(^|_)(pghost|host|hostname|url|uri|dsn|addr|address|server|endpoint|database|db|pg|postgres|postgresql)(_|$)`, variable)
}

host_like(_, _, value) if regex.match(`(?i)\b(postgres|postgresql|jdbc:postgresql)://`, value)

default host_like(_, _, _) := false

# The namespace a host name is in: the one it names, else the workload's. Undefined for names
# of other domains.
host_namespace(labels, ns) := ns if count(labels) == 1

host_namespace(labels, _) := labels[1] if count(labels) == 2

host_namespace(labels, _) := labels[1] if {
	count(labels) > 2
	labels[2] == "svc"
}

containers(o) := [[array.concat(pod.path, [field, k]), c] |
	pod := pod_spec(o)
	some field in ["initContainers", "containers"]
	some k
	c := pod.spec[field][k]
]

pod_spec(o) := {"path": path, "spec": spec} if {
	path := workload.pod_spec_path(o)
	spec := object.get(o, path, null)
	is_object(spec)
}

env_values(o) := {[env.value, array.concat(path, ["env", e, "value"]), object.get(env, "name", "")] |
	some [path, c] in containers(o)
	some e
	env := c.env[e]
	env.value
}

secret_names(o) := (({[env.valueFrom.secretKeyRef.name, array.concat(path, ["env", e, "valueFrom", "secretKeyRef", "name"])] |
	some [path, c] in containers(o)
	some e
	env := c.env[e]
	env.valueFrom.secretKeyRef
} | {[from.secretRef.name, array.concat(path, ["envFrom", e, "secretRef", "name"])] |
	some [path, c] in containers(o)
	some e
	from := c.envFrom[e]
	from.secretRef
}) | {[v.secret.secretName, array.concat(pod.path, ["volumes", k, "secret", "secretName"])] |
	pod := pod_spec(o)
	some k
	v := pod.spec.volumes[k]
	v.secret
}) | {[s.secret.name, array.concat(pod.path, ["volumes", k, "projected", "sources", n, "secret", "name"])] |
	pod := pod_spec(o)
	some k
	v := pod.spec.volumes[k]
	some n, s in array_or_empty(v.projected.sources)
	s.secret
}

# The uses that name a cluster object: with the cluster part and the suffix.
cnpg_uses contains object.union(use, {"cluster": cluster, "suffix": suffix}) if {
	some use in uses
	parts := regex.find_all_string_submatch_n(`^(.+)-([a-z]+)$`, use.name, 1)
	[_, cluster, suffix] := parts[0]
	suffix in suffixes[use.kind]
}

suffixes := {"secret": secret_suffixes, "service": service_suffixes}

# The workloads that use a Cluster of the input, by the namespace of that use.
uses_a_cluster contains [use.object, use.ns] if {
	some use in cnpg_uses
	use.cluster in visible(use.ns)
}

deny contains result if {
	some use in cnpg_uses
	names := visible(use.ns)
	count(names) > 0
	not use.cluster in names
	not is_defined(use.name, use.ns)
	slip(use, names)
	result := {
		"object": use.object,
		"path": use.path,
		"msg": sprintf("%s \"%v\" is CloudNativePG's name for Cluster \"%v\", but the input has no such Cluster%s%s", [use.kind, use.name, use.cluster, where(use.ns), hint(use, names)]),
	}
}

slip(use, names) if count(typo_of(use.cluster, names)) > 0

# A name hard-coded in a chart while the Cluster is named after the release (`postgres-ca`
# for Cluster `shop-postgres`): the cluster part is a word of a Cluster's name.
slip(use, names) if {
	count(within(use.cluster, names)) > 0
	object.get(use, "host", true)
}

# Or the namespace has one Cluster, which a CloudNativePG-only name can only mean.
slip(use, names) if {
	count(names) == 1
	use.suffix in telling_suffixes
	object.get(use, "host", true)
}

slip(use, _) if {
	use.suffix in telling_suffixes
	object.get(use, "host", true)
	[use.object, use.ns] in uses_a_cluster
}

# The names among `names` that differ from `name` by one typo: one deletion on either side
# gives the same string. Looked up through the clusters' deletion variants, not pair by pair.
typo_of(name, names) := {other |
	count(name) >= 4
	some variant in deletions(name)
	some other in variants[variant]
	other in names
}

variants[variant] contains name if {
	some name in all_clusters
	is_string(name)
	count(name) >= 4
	some variant in deletions(name)
}

deletions(s) := {s} | {concat("", [substring(s, 0, k), substring(s, k + 1, -1)]) | some k in numbers.range(0, count(s) - 1)}

where(ns) := sprintf(" in namespace \"%v\"", [ns]) if ns != ""

where(ns) := "" if ns == ""

# The Clusters among `names` that have `part` as one or more whole words of their name
# (`postgres` and `shop` of `shop-postgres`).
within(part, names) := {name |
	some name in names
	word_of(part, name)
}

word_of(part, name) if startswith(name, concat("", [part, "-"]))

word_of(part, name) if endswith(name, concat("", ["-", part]))

word_of(part, name) if contains(name, concat("", ["-", part, "-"]))

# The Clusters a name may have meant, best first: a typo, else the Clusters it is a word of,
# else the namespace's only Cluster.
meant(use, names) := sort(typo_of(use.cluster, names)) if count(typo_of(use.cluster, names)) > 0

meant(use, names) := sort(within(use.cluster, names)) if {
	count(typo_of(use.cluster, names)) == 0
	count(within(use.cluster, names)) > 0
}

meant(use, names) := sort(names) if {
	count(typo_of(use.cluster, names)) == 0
	count(within(use.cluster, names)) == 0
	count(names) == 1
}

hint(use, names) := sprintf(": did you mean \"%v\"?", [concat("-", [meant(use, names)[0], use.suffix])])

hint(use, names) := sprintf(": the Clusters here are %s", [concat(", ", sort([sprintf("\"%v\"", [n]) | some n in names]))]) if {
	not meant(use, names)
	count(names) <= 5
}

hint(use, names) := "" if {
	not meant(use, names)
	count(names) > 5
}

array_or_empty(x) := x if is_array(x)

array_or_empty(x) := [] if not is_array(x)
