package kvet.rules.duplicate_template_test

import data.kvet.rules.duplicate_template
import rego.v1

template(kind, name, spec) := {"apiVersion": "argoproj.io/v1alpha1", "kind": kind, "metadata": {"name": name}, "spec": spec}

error_rate := {"metrics": [{"name": "errors", "interval": "1m", "provider": {"prometheus": {"query": "sum(rate(x[5m]))"}}}]}

# The same spec with its keys in another order.
error_rate_reordered := {"metrics": [{"provider": {"prometheus": {"query": "sum(rate(x[5m]))"}}, "interval": "1m", "name": "errors"}]}

test_a_copy_under_another_name_is_reported_on_the_later_one if {
	results := duplicate_template.deny with input as {"objects": [
		template("AnalysisTemplate", "error-rate", error_rate),
		template("AnalysisTemplate", "latency", {"metrics": [{"name": "p99"}]}),
		template("AnalysisTemplate", "error-rate-v2", error_rate_reordered),
	]}
	count(results) == 1
	some r in results
	r.object == 2
	r.related == 0
	r.path == "/metadata/name"
	contains(r.msg, `"error-rate-v2" has the same spec as "error-rate"`)
}

test_every_later_copy_names_the_first if {
	results := duplicate_template.deny with input as {"objects": [
		template("AnalysisTemplate", "a", error_rate),
		template("AnalysisTemplate", "b", error_rate),
		template("AnalysisTemplate", "c", error_rate),
	]}
	{r.object | some r in results} == {1, 2}
	every r in results {
		contains(r.msg, `same spec as "a"`)
	}
}

test_other_kinds_namespaces_and_same_names_are_silent if {
	in_namespace := object.union(template("AnalysisTemplate", "b", error_rate), {"metadata": {"name": "b", "namespace": "team-b"}})
	count(duplicate_template.deny) == 0 with input as {"objects": [
		template("AnalysisTemplate", "a", error_rate),
		template("ClusterAnalysisTemplate", "b", error_rate),
		in_namespace,
		template("AnalysisTemplate", "a", error_rate),
		{"apiVersion": "tekton.dev/v1", "kind": "Task", "metadata": {"name": "t"}},
	]}
}

test_groups_are_read_from_api_versions if {
	duplicate_template.group("tekton.dev/v1") == "tekton.dev"
	duplicate_template.group("v1") == ""
}

test_near_copies_are_info_once_each if {
	renamed := {"metrics": [{"name": "failures", "interval": "1m", "provider": {"prometheus": {"query": "sum(rate(x[5m]))"}}}], "args": [{"name": "service"}]}
	results := duplicate_template.deny with input as {"objects": [
		template("AnalysisTemplate", "error-rate", error_rate),
		template("AnalysisTemplate", "error-rate-renamed", renamed),
		template("AnalysisTemplate", "error-rate-copy", error_rate),
	]}
	infos := {[r.object, r.related] | some r in results; r.level == "info"}
	warnings := {r.object | some r in results; not r.level}
	warnings == {2}
	count(infos) == 1
	some info in results
	info.level == "info"
	contains(info.msg, "only in names, descriptions or parameters")
}

test_keys_with_slashes_are_escaped_in_pointers if {
	duplicate_template.pointer(["a/b", "c~d", 0]) == "/a~1b/c~0d/0"
}

calls(task) := {"tasks": [{"name": "run", "taskRef": {"name": task}}]}

test_references_by_name_are_kept if {
	count(duplicate_template.deny) == 0 with input as {"objects": [
		template("Pipeline", "build", calls("go-build")),
		template("Pipeline", "test", calls("go-test")),
	]}
}

test_the_later_near_copy_is_reported_whatever_the_sort_order if {
	results := duplicate_template.deny with input as {"objects": [
		template("AnalysisTemplate", "first", {"metrics": [{"name": "zzz", "interval": "1m"}]}),
		template("AnalysisTemplate", "second", {"metrics": [{"name": "aaa", "interval": "1m"}]}),
	]}
	[[r.object, r.related, r.level] | some r in results] == [[1, 0, "info"]]
}
