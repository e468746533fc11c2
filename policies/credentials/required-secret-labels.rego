# METADATA
# title: a Secret lacks a label the team's policies select Secrets by
# description: |-
#   ## What it checks
#   Every Secret's `metadata.labels` against the list of label keys in the option
#   `required_secret_labels.labels`. An entry ending in `/` is a prefix: some label must start
#   with it (`team.example.com/` is met by `team.example.com/owner`). One finding per Secret,
#   naming every missing label, at `metadata.labels` (at `metadata` when the Secret has no
#   labels).
#
#   It stays silent until the option is set, and on Secrets of type
#   `kubernetes.io/service-account-token` (the token controller creates and owns them).
#
#   ```yaml
#   # .kvet.yaml
#   options:
#     required_secret_labels:
#       labels: [app.kubernetes.io/name, secrets.example.com/sync, team.example.com/]
#   ```
#
#   ## Why
#   Kyverno policies that copy, restrict or audit Secrets usually select them by label. A
#   Secret without the label is simply not selected: it is not synchronised to the
#   namespaces that need it, or escapes the policy that should guard it, and nothing reports
#   it.
#
#   ## How to fix
#   Add the labels to the Secret (or to the template of the ExternalSecret or SealedSecret
#   that creates it).
#
#   ## Example
#   ```yaml
#   kind: Secret
#   metadata:
#     name: registry-pull
#     labels:                              # required-secret-labels: no secrets.example.com/sync
#       app.kubernetes.io/name: shop
#   ```
# custom:
#   level: warning
#   category: credentials
#   kinds: [Secret]
package kvet.rules.required_secret_labels

import rego.v1

required := object.get(object.get(data.kvet.options, "required_secret_labels", {}), "labels", [])

labels := value if {
	value := object.get(input, ["metadata", "labels"], {})
	is_object(value)
} else := {}

missing contains entry if {
	some entry in required
	is_string(entry)
	not present(entry)
}

# A key, or for an entry ending in "/", any key with that prefix.
present(entry) if {
	not endswith(entry, "/")
	entry in object.keys(labels)
}

present(entry) if {
	endswith(entry, "/")
	some key, _ in labels
	startswith(key, entry)
}

deny contains result if {
	input.kind == "Secret"
	object.get(input, "type", "") != "kubernetes.io/service-account-token"
	count(missing) > 0
	result := {
		"msg": sprintf("Secret \"%v\" lacks the label%s %s that the cluster's policies select Secrets by", [
			object.get(input, ["metadata", "name"], ""),
			plural(count(missing)),
			concat(", ", [described(e) | some e in sort(missing)]),
		]),
		"path": labels_path,
	}
}

labels_path := ["metadata", "labels"] if input.metadata.labels else := ["metadata"]

plural(1) := ""

plural(n) := "s" if n > 1

described(entry) := sprintf("%s* (a prefix)", [entry]) if endswith(entry, "/")

described(entry) := entry if not endswith(entry, "/")
