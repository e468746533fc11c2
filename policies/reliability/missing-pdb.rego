# METADATA
# title: a replicated workload has no PodDisruptionBudget
# description: |-
#   ## What it checks
#   Deployments, StatefulSets, Argo Rollouts and OpenShift DeploymentConfigs that set
#   `spec.replicas` above 1, against the PodDisruptionBudgets of the input: the workload is reported when no PodDisruptionBudget of
#   its namespace selects the labels of its pod template. A selector selects the pods whose
#   labels contain all its `matchLabels` and satisfy all its `matchExpressions` (`In`, `NotIn`,
#   `Exists`, `DoesNotExist`); an empty selector (`selector: {}`) selects every pod of its
#   namespace in `policy/v1` and none in `policy/v1beta1`; a PDB without a selector selects
#   nothing. An object without `metadata.namespace` is taken to be in the same namespace as
#   any other (kvet does not know where it will be applied).
#
#   It stays silent for workloads with one replica or without `replicas` (an autoscaler's
#   business: set a PDB there too), for a Rollout that borrows its pod template through
#   `workloadRef`, and for a `replicas` that is not a number (a template placeholder).
#
#   This rule looks at the whole input at once (`scope: stream`): put the PodDisruptionBudgets
#   in the same run as their workloads, or every workload is reported. It groups the PDBs by
#   namespace in one pass, then tests each workload against the selectors of its namespace
#   (and of PDBs without one) only: workloads × PDBs of a namespace, never every pair of
#   objects (a workload without a namespace is tested against every PDB).
#
#   ## Why
#   Node drains (upgrades, autoscaler scale-downs, maintenance) evict pods through the
#   eviction API, which only holds back when a PodDisruptionBudget says so. Without one, a
#   drain of several nodes, or of the one node the scheduler packed the replicas on, evicts
#   them all at once: the replicas you pay for do not keep the service up.
#
#   ## How to fix
#   Add a PodDisruptionBudget that selects the workload's pods, with `maxUnavailable: 1` (or
#   `minAvailable` below the replica count, so that drains can still proceed):
#   ```yaml
#   apiVersion: policy/v1
#   kind: PodDisruptionBudget
#   metadata: {name: web}
#   spec:
#     maxUnavailable: 1
#     selector:
#       matchLabels: {app: web}
#   ```
#
#   ## Example
#   ```yaml
#   kind: Deployment
#   metadata: {name: web}
#   spec:
#     replicas: 3   # missing-pdb: no PodDisruptionBudget selects app=web
#     template:
#       metadata:
#         labels: {app: web}
#   ```
# custom:
#   level: info
#   category: reliability
#   kinds: [Deployment, StatefulSet, Rollout, DeploymentConfig, PodDisruptionBudget]
#   scope: stream
package kvet.rules.missing_pdb

import data.kvet.lib.workload
import data.kvet.lib.naming
import rego.v1

namespace(o) := object.get(o, ["metadata", "namespace"], "")

# The selectors of the PodDisruptionBudgets by namespace ("" for PDBs without one), built in
# one pass over the input. Selectors that select nothing are left out.
pdb_selectors[ns] contains selector if {
	some o in input.objects
	o.kind == "PodDisruptionBudget"
	selector := o.spec.selector
	is_object(selector)
	not empty_v1beta1(o.apiVersion, selector)
	ns := namespace(o)
}

empty_v1beta1("policy/v1beta1", selector) if count(selector) == 0

# The selectors that may apply to pods of namespace ns: those of ns and of PDBs without a
# namespace; for pods without a namespace, all of them.
candidates(ns) := object.get(pdb_selectors, [ns], set()) | object.get(pdb_selectors, "", set()) if ns != ""

candidates("") := {selector | some selector in pdb_selectors[_]}

deny contains result if {
	some i, o in input.objects
	o.kind in {"Deployment", "StatefulSet", "Rollout", "DeploymentConfig"}
	replicas := o.spec.replicas
	is_number(replicas)
	replicas > 1
	template := object.get(o, workload.template_path(o), null)
	is_object(template)
	labels := object.get(template, ["metadata", "labels"], {})
	is_object(labels)
	not covered(namespace(o), labels)
	result := {
		"object": i,
		"path": ["spec", "replicas"],
		"msg": sprintf("%s \"%v\" runs %v replicas but no PodDisruptionBudget selects its pods (%s): a drain may evict them all at once", [o.kind, naming.object_name(o), replicas, shown(labels)]),
	}
}

covered(ns, labels) if {
	some selector in candidates(ns)
	selects(selector, labels)
}

selects(selector, labels) if {
	every key, value in object.get(selector, "matchLabels", {}) {
		labels[key] == value
	}
	every expression in object.get(selector, "matchExpressions", []) {
		satisfies(expression, labels)
	}
}

satisfies(e, labels) if {
	e.operator == "In"
	labels[e.key] in e.values
}

satisfies(e, labels) if {
	e.operator == "NotIn"
	not labels[e.key] in e.values
}

satisfies(e, labels) if {
	e.operator == "Exists"
	labels[e.key]
}

satisfies(e, labels) if {
	e.operator == "DoesNotExist"
	not labels[e.key]
}

# The pod labels as k=v, sorted; "no labels" when there are none.
shown(labels) := concat(", ", sort([sprintf("%s=%v", [k, v]) | some k, v in labels])) if count(labels) > 0

shown(labels) := "no labels" if count(labels) == 0
