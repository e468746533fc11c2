package labels

import rego.v1

test_owner_is_required if {
	count(deny) == 1 with input as {"metadata": {"labels": {}}}
}

# Wrong on purpose: an object with an owner passes the policy.
test_owned_objects_are_denied if {
	count(deny) == 1 with input as {"metadata": {"labels": {"owner": "team-a"}}}
}
