# How findings name objects. Not a rule: it has no METADATA and reports nothing.
package kvet.lib.naming

import rego.v1

# The object's name for a message: `metadata.name`; else its `generateName` prefix followed by
# `*` (the API server completes it); else "(no name)". The API server refuses an object without
# either, and the schema rule says so, but every other rule still reports what it finds.
object_name(o) := o.metadata.name if is_string(o.metadata.name)

object_name(o) := concat("", [o.metadata.generateName, "*"]) if {
	not is_string(o.metadata.name)
	is_string(o.metadata.generateName)
}

object_name(o) := "(no name)" if {
	not is_string(o.metadata.name)
	not is_string(o.metadata.generateName)
}
