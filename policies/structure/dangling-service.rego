# METADATA
# title: a Service selects no pods of the input's workloads
# description: |-
#   ## What it checks
#   Every `Service` with a non-empty `spec.selector`: some pods of the input, in the Service's
#   namespace, must carry every pair of the selector. The pods are those of the workloads'
#   templates (every kind kvet knows to run pods — Deployment, StatefulSet, DaemonSet, Job,
#   CronJob, Pod, OpenShift DeploymentConfig, KEDA ScaledJob... — and an Argo Rollout's
#   experiment templates) and of operator resources whose pod labels are known: Prometheus
#   Operator `Prometheus`, `Alertmanager` and `ThanosRuler` (their `podMetadata` and the
#   operator's labels), CloudNativePG `Cluster` and `Pooler`.
#   Labels that controllers add to pods at run time (`statefulset.kubernetes.io/pod-name`,
#   `pod-template-hash`, `controller-revision-hash`, `job-name`, `cnpg.io/instanceRole`...)
#   match any value. An object without `metadata.namespace` matches any namespace.
#
#   It stays silent for Services without a selector (`ExternalName`, or endpoints managed by
#   hand or by another controller), and when the input has no workload in the Service's
#   namespace (for a Service without namespace: no workload at all): a Service applied next to
#   a workload kept elsewhere, such as a chart's or an operator's, is not judged. It also stays
#   silent when the selector shares no label key with the namespace's pods: such a Service
#   selects pods installed from elsewhere into a namespace that also has workloads in the
#   input. It reports the near misses — pods that carry part of the selector, or pods written
#   beside the Service (in its folder, or its chart's or kustomization's render) that carry
#   all its keys with other values (`app: web-frontend` on the Service, `app: web` on the
#   pods: a typo, a label renamed on one side only) — and names the closest: the pods that carry most of its
#   pairs, then most of its keys, then the values most alike.
#
#   This rule looks at the whole input at once (`scope: stream`): put every file of an
#   application in one run.
#
#   ## Why
#   A Service whose selector matches no pod has no endpoints: connections to it are refused
#   or time out, Ingresses in front of it return 503, and nothing fails at apply time. It is
#   usually a label renamed on the workload and not on the Service, or a typo.
#
#   ## How to fix
#   Make the selector a subset of the pod template's labels (`spec.template.metadata.labels`,
#   not the Deployment's own `metadata.labels`), or delete the Service if its workload is gone.
#
#   ## Example
#   ```yaml
#   kind: Deployment
#   spec:
#     template:
#       metadata:
#         labels: {app.kubernetes.io/name: web}
#   ---
#   kind: Service
#   spec:
#     selector:   # dangling-service: no pod has app.kubernetes.io/name=frontend
#       app.kubernetes.io/name: frontend
#   ```
# custom:
#   level: warning
#   category: structure
#   kinds: [Service, workloads, Prometheus, Alertmanager, ThanosRuler, Cluster, Pooler]
#   scope: stream
package kvet.rules.dangling_service

import data.kvet.lib.workload
import data.kvet.lib.naming
import rego.v1

namespace(o) := object.get(o, ["metadata", "namespace"], "")

# Labels that controllers put on pods, never in a template: a selector may use any value.
runtime_labels := {
	"statefulset.kubernetes.io/pod-name",
	"apps.kubernetes.io/pod-index",
	"controller-revision-hash",
	"pod-template-generation",
	"pod-template-hash",
	"rollouts-pod-template-hash",
	"job-name",
	"controller-uid",
	"batch.kubernetes.io/job-name",
	"batch.kubernetes.io/controller-uid",
	"batch.kubernetes.io/job-completion-index",
	"operator.prometheus.io/shard",
	"app.kubernetes.io/version",
}

# Every group of pods in the input: {"ns": ..., "labels": {...}, "any": {keys of any value}},
# keyed by [object index, number within the object].
pods[[i, 0]] := {"ns": namespace(o), "labels": labels, "any": set()} if {
	some i, o in input.objects
	path := workload.template_path(o)
	labels := object.get(o, array.concat(path, ["metadata", "labels"]), {})
	is_object(labels)
}

# The pods of an Argo Rollout's experiments: its template with the experiment's labels.
pods[[i, k + 1]] := {"ns": namespace(o), "labels": labels, "any": set()} if {
	some i, o in input.objects
	o.kind == "Rollout"
	experiments := [t |
		step := o.spec.strategy.canary.steps[_]
		t := step.experiment.templates[_]
	]
	some k, template in experiments
	is_object(template)
	labels := object.union(
		object_or_empty(object.get(o, ["spec", "template", "metadata", "labels"], {})),
		object_or_empty(object.get(template, ["metadata", "labels"], {})),
	)
}

# Operator resources that run pods, with the group they must be of.
operator_kinds := {
	"Prometheus": "monitoring.coreos.com/",
	"Alertmanager": "monitoring.coreos.com/",
	"ThanosRuler": "monitoring.coreos.com/",
	"Cluster": "postgresql.cnpg.io/",
	"Pooler": "postgresql.cnpg.io/",
}

pods[[i, 0]] := {"ns": namespace(o), "labels": object.union(object_or_empty(own_labels(o)), operator_labels(o)), "any": runtime_keys(o)} if {
	some i, o in input.objects
	startswith(o.apiVersion, operator_kinds[o.kind])
}

own_labels(o) := object.get(o, ["spec", "podMetadata", "labels"], {}) if startswith(o.apiVersion, "monitoring.coreos.com/")

own_labels(o) := object.get(o, ["spec", "inheritedMetadata", "labels"], {}) if o.kind == "Cluster"

own_labels(o) := object.get(o, ["spec", "template", "metadata", "labels"], {}) if o.kind == "Pooler"

# The labels Prometheus Operator and CloudNativePG give the pods they create.
operator_labels(o) := {
	"app.kubernetes.io/name": "prometheus",
	"app.kubernetes.io/managed-by": "prometheus-operator",
	"app.kubernetes.io/instance": name,
	"prometheus": name,
	"operator.prometheus.io/name": name,
} if {
	o.kind == "Prometheus"
	name := o.metadata.name
}

operator_labels(o) := {
	"app": "alertmanager",
	"app.kubernetes.io/name": "alertmanager",
	"app.kubernetes.io/managed-by": "prometheus-operator",
	"app.kubernetes.io/instance": name,
	"alertmanager": name,
} if {
	o.kind == "Alertmanager"
	name := o.metadata.name
}

operator_labels(o) := {
	"app.kubernetes.io/name": "thanos-ruler",
	"app.kubernetes.io/managed-by": "prometheus-operator",
	"app.kubernetes.io/instance": name,
	"thanos-ruler": name,
} if {
	o.kind == "ThanosRuler"
	name := o.metadata.name
}

operator_labels(o) := {"cnpg.io/cluster": name, "cnpg.io/podRole": "instance"} if {
	o.kind == "Cluster"
	name := o.metadata.name
}

operator_labels(o) := {"cnpg.io/poolerName": name, "cnpg.io/podRole": "pooler"} if {
	o.kind == "Pooler"
	name := o.metadata.name
}

runtime_keys(o) := {"cnpg.io/instanceRole", "role", "cnpg.io/instanceName"} if o.kind == "Cluster"

runtime_keys(o) := set() if o.kind != "Cluster"

# The pods that carry each label pair, or the key with any value: by namespace (["ns", ns,
# key, value], ["ns-any", ns, key]) and, for Services without a namespace, in all (["all",
# key, value], ["all-any", key]). Built once, so that each Service is matched by intersecting
# a few sets instead of comparing it with every workload.
index[entry] contains id if {
	some id, p in pods
	some key, value in p.labels
	some entry in [["ns", p.ns, key, value], ["all", key, value], ["ns-key", p.ns, key], ["all-key", key]]
}

index[entry] contains id if {
	some id, p in pods
	some key in p.any
	some entry in [["ns-any", p.ns, key], ["all-any", key]]
}

# The pods of an index entry; the empty set for none (the index itself is undefined when the
# input has no labelled pods).
ids(entry) := index[entry]

ids(entry) := set() if not index[entry]

# The pods a Service's selector pair may select.
candidates("", key, value) := ids(["all", key, value]) | ids(["all-any", key])

candidates(ns, key, value) := {id |
	some entry in [["ns", ns, key, value], ["ns", "", key, value], ["ns-any", ns, key], ["ns-any", "", key]]
	some id in ids(entry)
} if ns != ""

# The pods that carry a Service's selector key, with any value.
key_candidates("", key) := ids(["all-key", key]) | ids(["all-any", key])

key_candidates(ns, key) := {id |
	some entry in [["ns-key", ns, key], ["ns-key", "", key], ["ns-any", ns, key], ["ns-any", "", key]]
	some id in ids(entry)
} if ns != ""

# The namespaces that have pods in the input ("" for workloads without one).
namespaces := {p.ns | some p in pods}

judged("") if count(pods) > 0

judged(ns) if {
	ns != ""
	ns in namespaces
}

deny contains result if {
	some i, service in input.objects
	service.kind == "Service"
	selector := service.spec.selector
	is_object(selector)
	ns := namespace(service)
	judged(ns)
	pairs := {[key, value] | some key, value in selector; not key in runtime_labels}
	count(pairs) > 0
	count(intersection({candidates(ns, key, value) | some [key, value] in pairs})) == 0
	# A near miss: some pods carry part of the selector, or all its keys with other values (a
	# typo, a label renamed on one side). A selector that shares no key with the namespace's
	# pods is taken to select pods installed from elsewhere.
	near := near_misses(i, ns, pairs)
	count(near) > 0
	# The pods that carry most of its pairs, then most of its keys, then the values most alike.
	[_, _, _, closest] := min({[0 - matched, 0 - keys, 0 - alike, id] |
		some id in near
		labels := pods[id].labels
		matched := count({1 | some [key, value] in pairs; labels[key] == value})
		keys := count({1 | some [key, _] in pairs; labels[key]})
		alike := sum([likeness(value, labels[key]) | some [key, value] in pairs; labels[key] != value])
	})
	workload := input.objects[closest[0]]
	result := {
		"object": i,
		"related": closest[0],
		"path": ["spec", "selector"],
		"msg": sprintf("Service \"%v\" selects %s, but no pod of the input%s has these labels: it has no endpoints; the closest pods, of %s \"%v\" ({related}), have %s", [
			naming.object_name(service), shown(pairs), where(ns),
			workload.kind, naming.object_name(workload), shown_labels(pods[closest].labels, pairs),
		]),
	}
}

# How alike two label values are: the length of the start or end they share (`web-frontend`
# and `web`: 3; `web-frontend` and `frontend`: 8).
likeness(a, b) := max([shared(a, b), shared(strings.reverse(a), strings.reverse(b))]) if {
	is_string(a)
	is_string(b)
}

likeness(a, b) := 0 if not is_string(a)

likeness(a, b) := 0 if not is_string(b)

shared(a, b) := count([n |
	shortest := min([count(a), count(b)])
	shortest > 0
	some n in numbers.range(1, shortest)
	substring(a, 0, n) == substring(b, 0, n)
])

# The pods that carry some pair of the selector of the Service at `i`, or, written beside it,
# every one of its keys: other values for its keys alone are no sign of a typo in pods applied
# from elsewhere (`app: redis` for a Redis installed apart, next to an `app: web` here).
near_misses(i, ns, pairs) := {id | some [key, value] in pairs; some id in candidates(ns, key, value)} | {id |
	some id in intersection({key_candidates(ns, key) | some [key, _] in pairs})
	folder(id[0]) == folder(i)
}

# The folder an object was written in, by number (a render is one of its own); one folder for
# all when the input does not say.
folder(i) := object.get(input, ["folders", i], 0)

# What the closest pods have for the selector's keys ("no such label" for a key they lack).
shown_labels(labels, pairs) := concat(", ", sort([shown_label(labels, key) | some [key, _] in pairs]))

shown_label(labels, key) := sprintf("%s=%v", [key, labels[key]]) if labels[key]

shown_label(labels, key) := sprintf("no %s", [key]) if not labels[key]

shown(pairs) := concat(", ", sort([sprintf("%s=%v", [key, value]) | some [key, value] in pairs]))

where(ns) := sprintf(" in namespace \"%v\"", [ns]) if ns != ""

where("") := ""

object_or_empty(x) := x if is_object(x)

object_or_empty(x) := {} if not is_object(x)
