package kvet.rules.kargo_stage_references_test

import data.kvet.rules.kargo_stage_references
import rego.v1

kargo(kind, name, ns, spec) := {"apiVersion": "kargo.akuity.io/v1alpha1", "kind": kind, "metadata": {"name": name, "namespace": ns}, "spec": spec}

warehouse(name, ns) := kargo("Warehouse", name, ns, {"subscriptions": [{"image": {"repoURL": "ghcr.io/acme/guestbook"}}]})

stage(name, ns, warehouse, upstream) := kargo("Stage", name, ns, {"requestedFreight": [{
	"origin": {"kind": "Warehouse", "name": warehouse},
	"sources": {"direct": count(upstream) == 0, "stages": upstream},
}]})

analysis_template(name, ns) := {"apiVersion": "argoproj.io/v1alpha1", "kind": "AnalysisTemplate", "metadata": {"name": name, "namespace": ns}, "spec": {"metrics": [{"name": "ok"}]}}

cluster_analysis_template(name) := {"apiVersion": "argoproj.io/v1alpha1", "kind": "ClusterAnalysisTemplate", "metadata": {"name": name}, "spec": {"metrics": [{"name": "ok"}]}}

verified(stage, templates) := object.union(stage, {"spec": {"verification": {"analysisTemplates": templates}}})

test_a_pipeline_that_holds_together_is_silent if {
	count(kargo_stage_references.deny) == 0 with input as {"objects": [
		warehouse("guestbook", "demo"),
		stage("test", "demo", "guestbook", []),
		verified(stage("uat", "demo", "guestbook", ["test"]), [{"name": "smoke"}, {"name": "slo", "kind": "ClusterAnalysisTemplate"}]),
		analysis_template("smoke", "demo"),
		cluster_analysis_template("slo"),
	]}
}

test_a_misspelt_warehouse_is_an_error if {
	results := kargo_stage_references.deny with input as {"objects": [
		warehouse("guestbook", "demo"),
		stage("test", "demo", "guestbok", []),
	]}
	count(results) == 1
	some r in results
	r.object == 1
	r.path == ["spec", "requestedFreight", 0, "origin", "name"]
	not r.level
	contains(r.msg, `Stage "test" refers to Warehouse "guestbok", but no Warehouse in namespace "demo" has that name`)
}

test_a_warehouse_in_another_namespace_does_not_count if {
	some r in kargo_stage_references.deny with input as {"objects": [
		warehouse("guestbook", "other"),
		stage("test", "demo", "guestbook", []),
	]}
	r.level == "warning"
	contains(r.msg, `the input has no Warehouse in namespace "demo"`)
}

test_a_missing_upstream_stage_is_reported_at_its_name if {
	results := kargo_stage_references.deny with input as {"objects": [
		warehouse("guestbook", "demo"),
		stage("test", "demo", "guestbook", []),
		stage("prod", "demo", "guestbook", ["test", "uat"]),
	]}
	count(results) == 1
	some r in results
	r.object == 2
	r.path == ["spec", "requestedFreight", 0, "sources", "stages", 1]
	contains(r.msg, `Stage "uat"`)
	contains(r.msg, "upstream")
}

test_a_stage_alone_does_not_make_its_upstream_an_error if {
	results := kargo_stage_references.deny with input as {"objects": [
		stage("uat", "demo", "guestbook", ["test"]),
		stage("other", "elsewhere", "guestbook", []),
	]}
	some r in results
	r.object == 0
	r.path == ["spec", "requestedFreight", 0, "sources", "stages", 0]
	r.level == "warning"
}

test_references_to_objects_not_in_the_input_are_warnings if {
	results := kargo_stage_references.deny with input as {"objects": [verified(stage("uat", "demo", "guestbook", ["test"]), [{"name": "smoke"}])]}
	count(results) == 3
	every r in results {
		r.level == "warning"
		contains(r.msg, "unless it is managed elsewhere")
	}
}

test_analysis_templates_by_kind if {
	results := kargo_stage_references.deny with input as {"objects": [
		warehouse("guestbook", "demo"),
		analysis_template("slo", "demo"),
		cluster_analysis_template("smoke"),
		verified(stage("test", "demo", "guestbook", []), [{"name": "smoke"}, {"name": "slo", "kind": "ClusterAnalysisTemplate"}]),
	]}
	count(results) == 2
	some r1 in results
	r1.path == ["spec", "verification", "analysisTemplates", 0, "name"]
	contains(r1.msg, `AnalysisTemplate "smoke", but no AnalysisTemplate in namespace "demo" has that name: every verification`)
	some r2 in results
	r2.path == ["spec", "verification", "analysisTemplates", 1, "name"]
	contains(r2.msg, `ClusterAnalysisTemplate "slo", but no ClusterAnalysisTemplate has that name`)
}

test_cluster_templates_are_warnings_when_none_is_in_the_input if {
	some r in kargo_stage_references.deny with input as {"objects": [
		warehouse("guestbook", "demo"),
		verified(stage("test", "demo", "guestbook", []), [{"name": "slo", "kind": "ClusterAnalysisTemplate"}]),
	]}
	r.level == "warning"
	contains(r.msg, "the input has no ClusterAnalysisTemplate:")
}

test_objects_without_namespace_match_any if {
	bare_warehouse := {"apiVersion": "kargo.akuity.io/v1alpha1", "kind": "Warehouse", "metadata": {"name": "guestbook"}}
	bare_stage := {"apiVersion": "kargo.akuity.io/v1alpha1", "kind": "Stage", "metadata": {"name": "uat"}, "spec": {"requestedFreight": [{"origin": {"kind": "Warehouse", "name": "guestbook"}, "sources": {"stages": ["test"]}}]}}
	count(kargo_stage_references.deny) == 0 with input as {"objects": [bare_warehouse, stage("test", "demo", "guestbook", [])]}
	count(kargo_stage_references.deny) == 0 with input as {"objects": [bare_stage, warehouse("guestbook", "demo"), stage("test", "demo", "guestbook", [])]}
	some r in kargo_stage_references.deny with input as {"objects": [bare_stage, warehouse("guestbook", "demo"), stage("prod", "demo", "guestbook", [])]}
	r.path == ["spec", "requestedFreight", 0, "sources", "stages", 0]
	not r.level
	contains(r.msg, `but no Stage has that name`)
	some w in kargo_stage_references.deny with input as {"objects": [bare_stage]}
	contains(w.msg, "the input has no Warehouse:")
}

test_other_groups_and_origins_are_ignored if {
	foreign_warehouse := object.union(warehouse("guestbook", "demo"), {"apiVersion": "example.com/v1"})
	results := kargo_stage_references.deny with input as {"objects": [foreign_warehouse, stage("test", "demo", "guestbook", [])]}
	some r in results
	r.level == "warning"
	other_origin := kargo("Stage", "test", "demo", {"requestedFreight": [{"origin": {"kind": "Other", "name": "x"}, "sources": {"direct": true}}]})
	count(kargo_stage_references.deny) == 0 with input as {"objects": [other_origin]}
}

test_damage_is_named_per_kind if {
	kargo_stage_references.harm("Stage") == "no Freight can come from that upstream Stage"
}
