# METADATA
# title: two templates do the same job under different names
# description: |-
#   ## What it checks
#   Reusable templates — Argo Rollouts / Kargo `AnalysisTemplate` and
#   `ClusterAnalysisTemplate`, Kargo `PromotionTask` and `ClusterPromotionTask`, Tekton `Task`
#   and `Pipeline`, Argo Workflows `WorkflowTemplate` and `ClusterWorkflowTemplate` — whose
#   `spec` is the same (whatever the order of its keys) as that of another template of the
#   same kind in the same namespace under a different name. The later one is reported, naming
#   the first. Templates of the same name are duplicate-object's business.
#
#   This rule looks at the whole input at once (`scope: stream`): put every file of an
#   application in one run.
#
#   ## Why
#   Copies drift: the next fix to the error-rate query lands in one of them, and the Stages or
#   Rollouts that use the other keep the old behaviour. Nobody can tell from the names that
#   they were meant to be the same.
#
#   ## How to fix
#   Keep one template and point every user (`templateName`, `templateRef`, `taskRef`) at it;
#   pass what differs as arguments or parameters. For templates shared across namespaces, use
#   the cluster-scoped kind.
#
#   ## Example
#   ```yaml
#   kind: AnalysisTemplate
#   metadata: {name: error-rate}
#   spec: {metrics: [{name: errors, provider: {prometheus: {query: "..."}}}]}
#   ---
#   kind: AnalysisTemplate
#   metadata: {name: error-rate-v2}   # duplicate-template: same spec as "error-rate"
#   spec: {metrics: [{name: errors, provider: {prometheus: {query: "..."}}}]}
#   ```
# custom:
#   level: warning
#   category: structure
#   kinds: [AnalysisTemplate, ClusterAnalysisTemplate, PromotionTask, ClusterPromotionTask, Task, Pipeline, WorkflowTemplate, ClusterWorkflowTemplate]
#   scope: stream
package kvet.rules.duplicate_template

import rego.v1

# What makes two templates the same job: API group, kind, namespace and spec.
job(o) := [group(o.apiVersion), o.kind, object.get(o, ["metadata", "namespace"], ""), o.spec]

group(api_version) := split(api_version, "/")[0] if contains(api_version, "/")

group(api_version) := "" if not contains(api_version, "/")

# Every template as [job, index], sorted: copies of one job end up next to each other, the
# first one (lowest index) leading its group. Sorting keeps this O(n log n) in the number of
# templates; comparing every pair would be O(n²).
entries := sort([[job(o), i] | some i, o in input.objects; o.spec])

# Where each group of equal jobs starts in `entries`.
starts := [k | some k, _ in entries; not same_job_as_previous(k)]

same_job_as_previous(k) if {
	k > 0
	entries[k][0] == entries[k - 1][0]
}

# Where group g ends (exclusive): the next group's start, or the end of `entries`.
group_end(g) := starts[g + 1] if g + 1 < count(starts)

group_end(g) := count(entries) if g + 1 == count(starts)

deny contains result if {
	some g, start in starts
	end := group_end(g)
	end - start > 1
	first := input.objects[entries[start][1]]
	some k in numbers.range(start + 1, end - 1)
	later := entries[k][1]
	template := input.objects[later]
	template.metadata.name != first.metadata.name
	result := {
		"object": later,
		"related": entries[start][1],
		"path": "/metadata/name",
		"msg": sprintf("%s %q has the same spec as %q: one of them is a copy that will drift", [template.kind, template.metadata.name, first.metadata.name]),
	}
}
