package kvet.lib.naming_test

import data.kvet.lib.naming
import rego.v1

test_objects_are_named_by_name_else_generate_name if {
	naming.object_name({"metadata": {"name": "web"}}) == "web"
	naming.object_name({"metadata": {"generateName": "migrate-"}}) == "migrate-*"
	naming.object_name({"metadata": {"name": null, "generateName": "migrate-"}}) == "migrate-*"
}

test_objects_without_either_still_have_a_name_for_messages if {
	naming.object_name({"metadata": {}}) == "(no name)"
	naming.object_name({"kind": "Service"}) == "(no name)"
	naming.object_name({"metadata": {"name": 7}}) == "(no name)"
}
