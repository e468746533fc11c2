# METADATA
# title: a Crossplane Composition is for a composite type that no XRD in the input defines
# description: |-
#   ## What it checks
#   The `spec.compositeTypeRef` (`apiVersion` and `kind`) of every Crossplane `Composition`
#   (`apiextensions.crossplane.io`), against the `CompositeResourceDefinition`s of the input:
#   an XRD must have that `spec.names.kind`, that `spec.group` and the version among its
#   `spec.versions[].name`. A kind no XRD defines is reported at `kind`; a known kind with
#   another group, or a version the XRD does not have, at `apiVersion`.
#
#   It stays silent when the input has no XRD at all: the XRDs are then installed from
#   elsewhere (a Configuration package, another repository).
#
#   This rule looks at the whole input at once (`scope: stream`): put every file of an
#   application in one run.
#
#   ## Why
#   Crossplane picks a Composition for a composite resource by its type. A Composition whose
#   `compositeTypeRef` matches no XRD is never selected: claims and composite resources stay
#   unready with "no compatible Compositions found", or silently use another Composition.
#   Renaming an XRD's kind or group, or dropping a version, leaves such Compositions behind.
#
#   ## How to fix
#   Make `compositeTypeRef` the XRD's `spec.group`/a version of `spec.versions` and its
#   `spec.names.kind` (the kind of the composite resource, not of the claim), or add the XRD.
#
#   ## Example
#   ```yaml
#   kind: CompositeResourceDefinition
#   spec:
#     group: platform.example.org
#     names: {kind: XPostgres, plural: xpostgres}
#     versions: [{name: v1alpha1, served: true, referenceable: true}]
#   ---
#   kind: Composition
#   spec:
#     compositeTypeRef:
#       apiVersion: platform.example.org/v1alpha1
#       kind: XPostgreSQL   # crossplane-composition-xrd: no XRD defines this kind
#   ```
# custom:
#   level: error
#   category: gitops
#   kinds: [Composition, CompositeResourceDefinition]
#   scope: stream
package kvet.rules.crossplane_composition_xrd

import data.kvet.lib.naming
import rego.v1

crossplane(o) if startswith(o.apiVersion, "apiextensions.crossplane.io/")

xrds := [o | some o in input.objects; o.kind == "CompositeResourceDefinition"; crossplane(o)]

# The versions of each group and kind the XRDs define, and the groups of each kind.
versions[type] contains name if {
	some xrd in xrds
	name := xrd.spec.versions[_].name
	type := [xrd.spec.group, xrd.spec.names.kind]
}

groups[kind] contains group if {
	some xrd in xrds
	kind := xrd.spec.names.kind
	group := xrd.spec.group
}

# Every Composition's type: [object index, group, version, kind].
types contains [i, group, version, ref.kind] if {
	some i, o in input.objects
	o.kind == "Composition"
	crossplane(o)
	ref := o.spec.compositeTypeRef
	is_string(ref.apiVersion)
	is_string(ref.kind)
	[group, version] := group_version(ref.apiVersion)
}

group_version(api_version) := split(api_version, "/") if count(split(api_version, "/")) == 2

group_version(api_version) := ["", api_version] if count(split(api_version, "/")) != 2

deny contains result if {
	some [i, _, _, kind] in types
	count(xrds) > 0
	not groups[kind]
	result := {
		"object": i,
		"path": ["spec", "compositeTypeRef", "kind"],
		"msg": sprintf("Composition \"%v\" is for kind \"%v\", which no CompositeResourceDefinition in the input defines: it is never selected", [naming.object_name(input.objects[i]), kind]),
	}
}

deny contains result if {
	some [i, group, _, kind] in types
	known := groups[kind]
	not group in known
	result := {
		"object": i,
		"path": ["spec", "compositeTypeRef", "apiVersion"],
		"msg": sprintf("Composition \"%v\" is for %s in group \"%v\", but the CompositeResourceDefinition of %s has group %s: it is never selected", [naming.object_name(input.objects[i]), kind, group, kind, quoted(known)]),
	}
}

deny contains result if {
	some [i, group, version, kind] in types
	known := versions[[group, kind]]
	not version in known
	result := {
		"object": i,
		"path": ["spec", "compositeTypeRef", "apiVersion"],
		"msg": sprintf("Composition \"%v\" is for %s version \"%v\", which its CompositeResourceDefinition does not have (it has %s): it is never selected", [naming.object_name(input.objects[i]), kind, version, quoted(known)]),
	}
}

quoted(names) := concat(", ", sort([sprintf("\"%v\"", [n]) | some n in names]))
