# METADATA
# title: a Kyverno rule's label selector and namespaces miss the objects it is meant for
# description: |-
#   ## What it checks
#   Kyverno `ClusterPolicy` and `Policy` rules whose `match` (`any`, a single `all`, or the
#   older `resources`) names kinds, selects by label (`selector`) and restricts namespaces
#   (`namespaces`, or a `namespaceSelector` checked against the input's Namespace objects).
#   Two findings:
#
#   - an object of the rule's kinds (Secret, ConfigMap, ServiceAccount, Service, Deployment,
#     StatefulSet, DaemonSet) that carries the selected labels but lives in a namespace the
#     rule does not cover, and that no other rule with a matching selector covers (at the
#     object's `metadata.namespace`, naming the policy);
#   - a rule whose selector matches no object of its kinds in the input, while the input has
#     objects of those kinds in the namespaces the rule covers (at the rule's `selector`).
#
#   It stays silent on rules without a label selector or without a namespace restriction (most
#   policies), on objects without `metadata.namespace` (their namespace is chosen when they are
#   applied), on a `namespaceSelector` whose Namespace is not in the input, on objects outside
#   a namespaced `Policy`'s own namespace, and on selectors it cannot evaluate (templated
#   values, unknown operators, wildcard kinds and subresources). `matchLabels`,
#   `matchExpressions` and Kyverno's `*` and `?` wildcards are understood.
#
#   This rule looks at the whole input at once (`scope: stream`): put the policies and the
#   objects they select in one run.
#
#   ## Why
#   Kyverno applies a rule only to what its `match` block selects, and says nothing about what
#   it leaves out. The classic case is a policy that distributes or guards Secrets by label but
#   was written for one namespace: the Secret labelled in another namespace is never copied or
#   checked, and the rule whose labels match nothing does nothing at all.
#
#   ## How to fix
#   Add the namespace to the rule's `namespaces` (wildcards such as `team-*` work), widen or
#   drop the restriction, or correct the labels on the object or in the selector.
#
#   ## Example
#   ```yaml
#   kind: ClusterPolicy
#   spec:
#     rules:
#       - name: sync-registry-credentials
#         match:
#           any:
#             - resources:
#                 kinds: [Secret]
#                 namespaces: [platform]
#                 selector: {matchLabels: {secrets.example.com/sync: "true"}}
#   ---
#   kind: Secret
#   metadata:
#     name: ghcr-pull
#     namespace: shop          # kyverno-selector-unmatched: not in namespaces [platform]
#     labels: {secrets.example.com/sync: "true"}
#   ```
# custom:
#   level: warning
#   category: credentials
#   kinds: [ClusterPolicy, Policy, Namespace, Secret, ConfigMap, ServiceAccount, Service, Deployment, StatefulSet, DaemonSet]
#   scope: stream
package kvet.rules.kyverno_selector_unmatched

import rego.v1

policy_kinds := {"ClusterPolicy", "Policy"}

policies contains i if {
	some i, o in input.objects
	o.kind in policy_kinds
	startswith(o.apiVersion, "kyverno.io/")
}

# The input's objects by kind, policies and Namespaces aside.
by_kind[kind] := [i | some i, o in input.objects; o.kind == kind] if {
	some kind in {o.kind | some o in input.objects}
	not kind in {"ClusterPolicy", "Policy", "Namespace"}
}

# The labels of the input's Namespaces, by name (the first of duplicates). Grouped in one pass:
# looking each name up in the whole input would be quadratic in the number of Namespaces.
namespace_indexes[ns] contains i if {
	some i, o in input.objects
	o.kind == "Namespace"
	ns := o.metadata.name
}

namespace_labels[ns] := labels(input.objects[min(indexes)]) if some ns, indexes in namespace_indexes

# Labels and namespace as written; {} and "" when malformed (a string, a number).
labels(o) := value if {
	value := object.get(o, ["metadata", "labels"], {})
	is_object(value)
} else := {}

namespace(o) := value if {
	value := object.get(o, ["metadata", "namespace"], "")
	is_string(value)
} else := ""

name(o) := object.get(o, ["metadata", "name"], "")

# Every label-selecting resource filter of a match block that can be evaluated.
filters contains f if {
	some i in policies
	p := input.objects[i]
	some j
	r := p.spec.rules[j]
	match := r.match
	is_object(match)
	some [sub, res] in resources(match)
	is_object(res.selector)
	kinds := {k | some x in array_or_empty(res.kinds); k := kind_name(x)}
	count(kinds) > 0
	evaluable(res.selector)
	evaluable_namespaces(object.get(res, "namespaces", []))
	not templated(res)
	f := {
		"policy": i,
		"rule": object.get(r, "name", sprintf("#%d", [j])),
		"rule_index": j,
		"path": array.concat(["spec", "rules", j, "match"], sub),
		"kinds": kinds,
		"selector": res.selector,
		"namespaces": object.get(res, "namespaces", []),
		"namespace_selector": object.get(res, "namespaceSelector", null),
		"policy_namespace": policy_namespace(p),
	}
}

# [path under match, resource description] of each filter: every `any` entry, a lone `all`
# entry (several `all` entries combine, which this rule does not attempt), the old form.
resources(match) := (any_entries | lone_all) | old_form if {
	any_entries := {[["any", k, "resources"], x.resources] |
		some k, x in array_or_empty(match.any)
		is_object(x.resources)
	}
	lone_all := {[["all", 0, "resources"], x.resources] |
		entries := array_or_empty(match.all)
		count(entries) == 1
		x := entries[0]
		is_object(x.resources)
	}
	old_form := {[["resources"], match.resources] | is_object(match.resources)}
}

policy_namespace(p) := namespace(p) if p.kind == "Policy"

policy_namespace(p) := "" if p.kind == "ClusterPolicy"

# Kyverno kinds are Kind, Version/Kind or Group/Version/Kind; Kind/subresource and wildcards
# are left out.
kind_name(x) := k if {
	is_string(x)
	parts := split(x, "/")
	k := parts[count(parts) - 1]
	regex.match(`^[A-Z][A-Za-z0-9]*$`, k)
}

templated(res) if contains(json.marshal(res), "{{")

# A selector this rule can evaluate: maps and lists where the API has them, strings of label
# characters and Kyverno's wildcards (anything else, such as a template, is left alone).
evaluable(selector) if {
	match_labels := object.get(selector, "matchLabels", {})
	is_object(match_labels)
	every key, value in match_labels {
		label_pattern(key)
		label_pattern(value)
	}
	expressions := object.get(selector, "matchExpressions", [])
	is_array(expressions)
	every e in expressions {
		e.operator in {"In", "NotIn", "Exists", "DoesNotExist"}
		is_string(e.key)
		is_array(object.get(e, "values", []))
	}
}

evaluable_namespaces(namespaces) if {
	is_array(namespaces)
	every ns in namespaces {
		label_pattern(ns)
	}
}

label_pattern(x) if {
	is_string(x)
	regex.match(`^[A-Za-z0-9._/*?-]*$`, x)
}

array_or_empty(x) := x if is_array(x)

array_or_empty(x) := [] if not is_array(x)

evaluable_namespace_selector(s) if s == null

evaluable_namespace_selector(s) if {
	is_object(s)
	evaluable(s)
}

# Label selectors, with Kyverno's wildcards in matchLabels keys and values.
selects(selector, ls) if {
	every key, value in object.get(selector, "matchLabels", {}) {
		some k, v in ls
		glob.match(key, null, k)
		glob.match(sprintf("%v", [value]), null, sprintf("%v", [v]))
	}
	every e in object.get(selector, "matchExpressions", []) {
		expression(e, ls)
	}
}

expression(e, ls) if {
	e.operator == "In"
	sprintf("%v", [ls[e.key]]) in e.values
}

expression(e, ls) if {
	e.operator == "NotIn"
	not sprintf("%v", [object.get(ls, e.key, null)]) in e.values
}

expression(e, ls) if {
	e.operator == "Exists"
	ls[e.key]
}

expression(e, ls) if {
	e.operator == "DoesNotExist"
	not ls[e.key]
}

# The filter limits the namespaces it applies to.
restricts(f) if count(f.namespaces) > 0

restricts(f) if f.namespace_selector != null

# The filter covers namespace ns; a namespaceSelector whose Namespace is not in the input, or
# that cannot be evaluated, is taken to match.
covers(f, ns) if {
	listed(f, ns)
	namespace_selector_allows(f, ns)
}

namespace_selector_allows(f, _) if f.namespace_selector == null

namespace_selector_allows(f, ns) if {
	f.namespace_selector != null
	not namespace_labels[ns]
}

namespace_selector_allows(f, _) if not evaluable_namespace_selector(f.namespace_selector)

namespace_selector_allows(f, ns) if {
	f.namespace_selector != null
	evaluable_namespace_selector(f.namespace_selector)
	selects(f.namespace_selector, namespace_labels[ns])
}

# As covers, but only when the input shows it.
known_to_cover(f, ns) if {
	listed(f, ns)
	f.namespace_selector == null
}

known_to_cover(f, ns) if {
	listed(f, ns)
	f.namespace_selector != null
	evaluable_namespace_selector(f.namespace_selector)
	selects(f.namespace_selector, namespace_labels[ns])
}

listed(f, _) if count(f.namespaces) == 0

listed(f, ns) if {
	some pattern in f.namespaces
	glob.match(pattern, null, ns)
}

# A namespaced Policy only ever sees its own namespace.
in_reach(f, ns) if f.policy_namespace == ""

in_reach(f, ns) if f.policy_namespace == ns

# [object, filter]: the filter's kinds and labels select the object, whatever its namespace.
selected contains [i, f] if {
	some f in filters
	some kind in f.kinds
	some i in object.get(by_kind, kind, [])
	selects(f.selector, labels(input.objects[i]))
}

covered contains i if {
	some [i, f] in selected
	covers(f, namespace(input.objects[i]))
}

matched_filters := {f | some [_, f] in selected}

# [object, filter]: selected by the filter's labels but not in a namespace it covers.
uncovered contains [i, f] if {
	some [i, f] in selected
	ns := namespace(input.objects[i])
	ns != ""
	restricts(f)
	in_reach(f, ns)
	not covers(f, ns)
	not i in covered
}

# The filters of each [object, policy] pair of `uncovered`, grouped in one pass (not by scanning
# `uncovered` for every object: quadratic when many objects are left out).
uncovered_by_policy[pair] contains f if {
	some [i, f] in uncovered
	pair := [i, f.policy]
}

deny contains result if {
	some [i, p], fs in uncovered_by_policy
	f := first_filter(fs)
	o := input.objects[i]
	result := {
		"object": i,
		"related": p,
		"path": ["metadata", "namespace"],
		"msg": sprintf("%s \"%v\" has the labels (%s) that rule \"%v\" of %s \"%v\" selects, but the rule only covers %s, not \"%v\": the policy never applies to it", [
			o.kind, name(o), describe_selector(f.selector), f.rule, input.objects[p].kind,
			name(input.objects[p]), scope(f), namespace(o),
		]),
	}
}

# The filter, of the policy's first rule, among those that leave the object out.
first_filter(fs) := f if {
	ranked := sort([[g.rule_index, g.path, g] | some g in fs])
	f := ranked[0][2]
}

deny contains result if {
	some f in filters
	restricts(f)
	not f in matched_filters
	candidates := sort([i |
		some kind in f.kinds
		some i in object.get(by_kind, kind, [])
		ns := namespace(input.objects[i])
		ns != ""
		in_reach(f, ns)
		known_to_cover(f, ns)
	])
	count(candidates) > 0
	example := input.objects[candidates[0]]
	result := {
		"object": f.policy,
		"path": array.concat(f.path, ["selector"]),
		"msg": sprintf("rule \"%v\" selects %s labelled %s in %s, but no %s of the input carries those labels (%s \"%v\" in \"%v\" does not): the rule applies to nothing here", [
			f.rule, concat("/", sort(f.kinds)), describe_selector(f.selector), scope(f),
			concat("/", sort(f.kinds)), example.kind, name(example), namespace(example),
		]),
	}
}

describe_selector(selector) := concat(", ", array.concat(
	sort([sprintf("%s=%v", [k, v]) | some k, v in object.get(selector, "matchLabels", {})]),
	[sprintf("%s %s %v", [e.key, e.operator, object.get(e, "values", [])]) | some e in object.get(selector, "matchExpressions", [])],
))

scope(f) := sprintf("namespaces %s", [concat(", ", f.namespaces)]) if {
	count(f.namespaces) > 0
	f.namespace_selector == null
}

scope(f) := sprintf("namespaces labelled %s", [describe_selector(f.namespace_selector)]) if {
	count(f.namespaces) == 0
	f.namespace_selector != null
}

scope(f) := sprintf("namespaces %s labelled %s", [concat(", ", f.namespaces), describe_selector(f.namespace_selector)]) if {
	count(f.namespaces) > 0
	f.namespace_selector != null
}
