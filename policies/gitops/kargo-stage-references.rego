# METADATA
# title: a Kargo Stage refers to a Warehouse, Stage or AnalysisTemplate that is not there
# description: |-
#   ## What it checks
#   The names a Kargo `Stage` refers to:
#
#   - `spec.requestedFreight[].origin.name` (with `kind: Warehouse`): a `Warehouse`;
#   - `spec.requestedFreight[].sources.stages[]`: the upstream `Stage`s;
#   - `spec.verification.analysisTemplates[].name`: an `AnalysisTemplate` (argoproj.io), or a
#     `ClusterAnalysisTemplate` when the reference says `kind: ClusterAnalysisTemplate`.
#
#   Warehouses, Stages and AnalysisTemplates are looked for in the Stage's namespace (its
#   Kargo project); an object without `metadata.namespace`, on either side, matches any
#   namespace. A reference is an error when the input has objects of that kind in that
#   namespace but none of that name: the name is wrong. When the input has none of that kind
#   there, it is a warning: the object may be managed elsewhere, or be missing. For upstream
#   Stages, the referring Stage itself does not count: a Stage checked alone gets warnings.
#   It stays silent when the name is found, and on origins of another `kind`.
#
#   This rule looks at the whole input at once (`scope: stream`): put every file of a project
#   in one run.
#
#   ## Why
#   Kargo accepts the Stage and only reports the broken reference in its status: a Stage whose
#   Warehouse or upstream Stage does not exist never gets Freight to promote, and one whose
#   AnalysisTemplate does not exist fails every verification, so nothing downstream of it is
#   ever promoted.
#
#   ## How to fix
#   Correct the name (a typo, or a Stage renamed upstream), set `kind:
#   ClusterAnalysisTemplate` for a cluster-wide template, or add the missing object to the
#   project's manifests.
#
#   ## Example
#   ```yaml
#   kind: Warehouse
#   metadata: {name: guestbook, namespace: kargo-demo}
#   ---
#   kind: Stage
#   metadata: {name: test, namespace: kargo-demo}
#   spec:
#     requestedFreight:
#       - origin:
#           kind: Warehouse
#           name: guestbok   # kargo-stage-references: no Warehouse "guestbok"
#         sources: {direct: true}
#   ```
# custom:
#   level: error
#   category: gitops
#   kinds: [Stage, Warehouse, AnalysisTemplate, ClusterAnalysisTemplate]
#   scope: stream
package kvet.rules.kargo_stage_references

import data.kvet.lib.naming
import rego.v1

# The API group each kind must have to count.
groups := {
	"Stage": "kargo.akuity.io",
	"Warehouse": "kargo.akuity.io",
	"AnalysisTemplate": "argoproj.io",
	"ClusterAnalysisTemplate": "argoproj.io",
}

ours(o) if startswith(o.apiVersion, sprintf("%s/", [groups[o.kind]]))

namespace(o) := object.get(o, ["metadata", "namespace"], "")

# What the input has: [kind, namespace, name] and [kind, namespace] of every object, and the
# same without the namespace, for objects or references that have none.
named contains [o.kind, namespace(o), name] if {
	some o in input.objects
	ours(o)
	name := o.metadata.name
}

named_anywhere contains [kind, name] if some [kind, _, name] in named

kinds_in contains [kind, ns] if some [kind, ns, _] in named

kinds_anywhere contains kind if some [kind, _] in kinds_in

# A ClusterAnalysisTemplate has no namespace: every reference looks for it in "".
exists(kind, _, name) if {
	kind == "ClusterAnalysisTemplate"
	named_anywhere[[kind, name]]
}

exists(kind, ns, name) if {
	kind != "ClusterAnalysisTemplate"
	named[[kind, ns, name]]
}

exists(kind, _, name) if {
	kind != "ClusterAnalysisTemplate"
	named[[kind, "", name]]
}

exists(kind, "", name) if named_anywhere[[kind, name]]

# Whether the input has any object of the kind where the reference looks. A Stage does not
# count itself: a Stage alone in its file is not a project with a broken reference.
has_kind(kind, _) if {
	kind == "ClusterAnalysisTemplate"
	kinds_anywhere[kind]
}

has_kind(kind, ns) if {
	not kind in {"ClusterAnalysisTemplate", "Stage"}
	kinds_in[[kind, ns]]
}

has_kind(kind, _) if {
	not kind in {"ClusterAnalysisTemplate", "Stage"}
	kinds_in[[kind, ""]]
}

has_kind(kind, "") if {
	kind != "Stage"
	kinds_anywhere[kind]
}

has_kind("Stage", ns) if visible_stages(ns) > 1

# How many Stages a Stage in the namespace sees, itself included.
visible_stages("") := count(stages)

visible_stages(ns) := count(object.get(stages_in, ns, set())) + count(object.get(stages_in, "", set())) if ns != ""

stages_in[ns] contains i if {
	some i, o in stages
	ns := namespace(o)
}

# Every reference of every Stage: [object index, kind, name, path of the name].
refs contains [i, "Warehouse", origin.name, ["spec", "requestedFreight", j, "origin", "name"]] if {
	some i, stage in stages
	request := stage.spec.requestedFreight[j]
	origin := request.origin
	origin.kind == "Warehouse"
	is_string(origin.name)
}

refs contains [i, "Stage", name, ["spec", "requestedFreight", j, "sources", "stages", k]] if {
	some i, stage in stages
	request := stage.spec.requestedFreight[j]
	name := request.sources.stages[k]
	is_string(name)
}

refs contains [i, kind, template.name, ["spec", "verification", "analysisTemplates", j, "name"]] if {
	some i, stage in stages
	template := stage.spec.verification.analysisTemplates[j]
	is_string(template.name)
	kind := object.get(template, "kind", "AnalysisTemplate")
}

stages[i] := o if {
	some i, o in input.objects
	o.kind == "Stage"
	ours(o)
}

deny contains result if {
	some [i, kind, name, path] in refs
	ns := namespace(stages[i])
	not exists(kind, ns, name)
	has_kind(kind, ns)
	result := {
		"object": i,
		"path": path,
		"msg": sprintf("Stage \"%v\" refers to %s \"%v\", but no %s%s has that name: %s", [naming.object_name(stages[i]), kind, name, kind, where(kind, ns), harm(kind)]),
	}
}

deny contains result if {
	some [i, kind, name, path] in refs
	ns := namespace(stages[i])
	not exists(kind, ns, name)
	not has_kind(kind, ns)
	result := {
		"object": i,
		"path": path,
		"level": "warning",
		"msg": sprintf("Stage \"%v\" refers to %s \"%v\", and the input has no %s%s: add it, unless it is managed elsewhere", [naming.object_name(stages[i]), kind, name, kind, where(kind, ns)]),
	}
}

where(kind, ns) := sprintf(" in namespace \"%v\"", [ns]) if namespaced_reference(kind, ns)

where(kind, ns) := "" if not namespaced_reference(kind, ns)

namespaced_reference(kind, ns) if {
	kind != "ClusterAnalysisTemplate"
	ns != ""
}

harm("Warehouse") := "the Stage never gets Freight from it"

harm("Stage") := "no Freight can come from that upstream Stage"

harm("AnalysisTemplate") := "every verification of the Stage fails"

harm("ClusterAnalysisTemplate") := "every verification of the Stage fails"
