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
#   Near-copies — specs that differ only in names, descriptions and parameters (the `name` of
#   list items such as metrics, steps and tasks — not references like `taskRef.name` —, and
#   `displayName`, `description`, `args`, `params`, `parameters` at any depth) — are reported
#   as `info`, naming one of the others.
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
		"msg": sprintf("%s \"%v\" has the same spec as \"%v\": one of them is a copy that will drift", [template.kind, template.metadata.name, first.metadata.name]),
	}
}

# Near-copies: the same job once names, descriptions and parameters are taken out.
ignored_keys := {"name", "displayName", "description", "args", "params", "parameters"}

# The spec without the ignored keys (and whatever is under them).
stripped(spec) := json.patch(spec, [{"op": "remove", "path": pointer(p)} | walk(spec, [p, _]); removable(p)])

removable(p) if {
	count(p) > 0
	last := p[count(p) - 1]
	is_string(last)
	last in ignored_keys
	not reference_name(p)
	every k in array.slice(p, 0, count(p) - 1) {
		not k in ignored_keys
	}
}

# A `name` that is not the name of a list item refers to something (taskRef.name,
# secretKeyRef.name): a different one is a different job.
reference_name(p) if {
	p[count(p) - 1] == "name"
	not list_item(p)
}

list_item(p) if {
	count(p) > 1
	is_number(p[count(p) - 2])
}

pointer(p) := concat("", [sprintf("/%v", [replace(replace(sprintf("%v", [k]), "~", "~0"), "/", "~1")]) | some k in p])

# [loose job, exact job, index], sorted: near-copies are next to each other, exact copies of
# one another adjacent within them.
near := sort([[loose, job(o), i] |
	some i, o in input.objects
	o.spec
	j := job(o)
	loose := [j[0], j[1], j[2], stripped(o.spec)]
])

near_starts := [k | some k, _ in near; not same_loose_as_previous(k)]

same_loose_as_previous(k) if {
	k > 0
	near[k][0] == near[k - 1][0]
}

near_end(g) := near_starts[g + 1] if g + 1 < count(near_starts)

near_end(g) := count(near) if g + 1 == count(near_starts)

deny contains result if {
	some g, start in near_starts
	end := near_end(g)
	# numbers.range counts down when its end is below its start: groups of one are skipped.
	end - start > 1
	members := numbers.range(start, end - 1)
	earliest := min({near[m][2] | some m in members})
	some k in members
	near[k][2] != earliest
	not copy_of_previous(k, start)
	first := input.objects[earliest]
	template := input.objects[near[k][2]]
	template.metadata.name != first.metadata.name
	result := {
		"object": near[k][2],
		"related": earliest,
		"path": "/metadata/name",
		"level": "info",
		"msg": sprintf("%s \"%v\" differs from \"%v\" only in names, descriptions or parameters: consider one template with arguments", [template.kind, template.metadata.name, first.metadata.name]),
	}
}

# An exact copy of the one before it in its group: reported above, as a warning.
copy_of_previous(k, start) if {
	k > start
	near[k][1] == near[k - 1][1]
}
