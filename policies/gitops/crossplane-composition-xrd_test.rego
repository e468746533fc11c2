package kvet.rules.crossplane_composition_xrd_test

import data.kvet.rules.crossplane_composition_xrd
import rego.v1

xrd(group, kind, versions) := {
	"apiVersion": "apiextensions.crossplane.io/v2",
	"kind": "CompositeResourceDefinition",
	"metadata": {"name": sprintf("x.%s", [group])},
	"spec": {"group": group, "names": {"kind": kind, "plural": "xs"}, "versions": [{"name": v, "served": true, "referenceable": true} | some v in versions]},
}

composition(name, api_version, kind) := {
	"apiVersion": "apiextensions.crossplane.io/v1",
	"kind": "Composition",
	"metadata": {"name": name},
	"spec": {"compositeTypeRef": {"apiVersion": api_version, "kind": kind}, "mode": "Pipeline"},
}

test_a_kind_no_xrd_defines_is_reported_at_kind if {
	results := crossplane_composition_xrd.deny with input as {"objects": [
		xrd("platform.example.org", "XPostgres", ["v1alpha1"]),
		composition("aws", "platform.example.org/v1alpha1", "XPostgres"),
		composition("gcp", "platform.example.org/v1alpha1", "XPostgreSQL"),
	]}
	count(results) == 1
	some r in results
	r.object == 2
	r.path == ["spec", "compositeTypeRef", "kind"]
	contains(r.msg, `Composition "gcp" is for kind "XPostgreSQL", which no CompositeResourceDefinition`)
	not r.level
}

test_a_version_the_xrd_lacks_is_reported_at_api_version if {
	results := crossplane_composition_xrd.deny with input as {"objects": [
		xrd("platform.example.org", "XPostgres", ["v1alpha1", "v1beta1"]),
		composition("aws", "platform.example.org/v1", "XPostgres"),
	]}
	count(results) == 1
	some r in results
	r.path == ["spec", "compositeTypeRef", "apiVersion"]
	contains(r.msg, `version "v1"`)
	contains(r.msg, `"v1alpha1", "v1beta1"`)
}

test_a_kind_of_another_group_is_reported_at_api_version if {
	results := crossplane_composition_xrd.deny with input as {"objects": [
		xrd("platform.example.org", "XPostgres", ["v1alpha1"]),
		composition("aws", "example.org/v1alpha1", "XPostgres"),
	]}
	count(results) == 1
	some r in results
	r.path == ["spec", "compositeTypeRef", "apiVersion"]
	contains(r.msg, `in group "example.org"`)
	contains(r.msg, `has group "platform.example.org"`)
}

test_an_api_version_without_group_is_reported if {
	results := crossplane_composition_xrd.deny with input as {"objects": [
		xrd("platform.example.org", "XPostgres", ["v1alpha1"]),
		composition("aws", "v1alpha1", "XPostgres"),
	]}
	some r in results
	r.path == ["spec", "compositeTypeRef", "apiVersion"]
}

test_matching_compositions_are_silent if {
	count(crossplane_composition_xrd.deny) == 0 with input as {"objects": [
		xrd("platform.example.org", "XPostgres", ["v1alpha1", "v1"]),
		xrd("storage.example.org", "XBucket", ["v1"]),
		composition("aws", "platform.example.org/v1alpha1", "XPostgres"),
		composition("gcp", "platform.example.org/v1", "XPostgres"),
		composition("s3", "storage.example.org/v1", "XBucket"),
		{"apiVersion": "apiextensions.crossplane.io/v1", "kind": "Composition", "metadata": {"name": "broken"}, "spec": {"mode": "Pipeline"}},
	]}
}

test_silent_without_xrds if {
	count(crossplane_composition_xrd.deny) == 0 with input as {"objects": [
		{"apiVersion": "example.com/v1", "kind": "CompositeResourceDefinition", "metadata": {"name": "other"}, "spec": {"group": "x", "names": {"kind": "Y"}, "versions": [{"name": "v1"}]}},
		composition("aws", "platform.example.org/v1alpha1", "XPostgres"),
	]}
}
