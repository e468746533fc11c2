# METADATA
# title: a Kargo credentials Secret will not be found by Kargo
# description: |-
#   ## What it checks
#   Secrets that hold credentials for Kargo: those labelled `kargo.akuity.io/cred-type`, those
#   with the label of Kargo before v1 (`kargo.akuity.io/secret-type`), and, in the namespace of
#   a Kargo `Project` of the input, those with a `repoURL` and a `password` or `sshPrivateKey`
#   (in `data` or `stringData`; `url`, Argo CD's name for it, counts too). It reports, one
#   finding per problem:
#
#   - a missing `kargo.akuity.io/cred-type` label (at `metadata.labels`), or the old
#     `kargo.akuity.io/secret-type` label (at that label);
#   - a label value other than `git`, `helm`, `image`, `generic` or `fleet` (at the label);
#   - a `git`, `helm` or `image` Secret without a `repoURL` key (at `stringData`, else `data`);
#   - when the input declares Kargo Projects, a Secret in a namespace that is none of theirs (at
#     `metadata.namespace`). A Project's name is its namespace.
#
#   It stays silent on Secrets without `data` and `stringData` (filled in by another tool), on
#   templated values (`{{ ... }}`), on Secrets without `metadata.namespace` (the namespace is
#   chosen when they are applied), on namespaces whose name starts with `kargo` (the shared and
#   global credentials namespaces, such as `kargo-shared-resources`), and on the namespace
#   check when the input has no Project. `generic` and `fleet` Secrets need no `repoURL`;
#   `repoURLIsRegex: "true"` makes `repoURL` a regular expression and is fine.
#
#   This rule looks at the whole input at once (`scope: stream`): put the Projects and their
#   Secrets in one run.
#
#   ## Why
#   Kargo finds credentials by label, in the Project's namespace, matched by `repoURL`. A
#   Secret without the label, with a misspelt type, without `repoURL` or in another namespace
#   is ignored without an error: the Warehouse cannot discover new Freight from a private
#   repository and promotions fail at `git-clone` or `helm-update-chart` with an
#   authentication error that does not name the Secret.
#
#   ## How to fix
#   Label the Secret `kargo.akuity.io/cred-type: git` (or `helm`, `image`, `generic`), give it
#   the repository's URL as `repoURL` (add `repoURLIsRegex: "true"` to cover several
#   repositories) and put it in the Project's namespace.
#
#   ## Example
#   ```yaml
#   kind: Project
#   metadata: {name: shop}
#   ---
#   kind: Secret
#   metadata:
#     name: shop-gitops-repo
#     namespace: shop
#     labels:
#       kargo.akuity.io/cred-type: github   # kargo-credentials: not a credential type
#   stringData:
#     repoURL: https://github.com/example/shop-gitops.git
#     username: kargo
#     password: ${GITHUB_PAT}
#   ```
# custom:
#   level: error
#   category: credentials
#   kinds: [Secret, Project]
#   scope: stream
package kvet.rules.kargo_credentials

import rego.v1

label := "kargo.akuity.io/cred-type"

legacy_label := "kargo.akuity.io/secret-type"

valid_types := {"git", "helm", "image", "generic", "fleet"}

# The namespaces of the input's Kargo Projects.
project_namespaces := {o.metadata.name |
	some o in input.objects
	o.kind == "Project"
	startswith(o.apiVersion, "kargo.akuity.io/")
	is_string(o.metadata.name)
}

# The keys of a Secret's data and stringData.
keys(o) := {k | some field in ["data", "stringData"]; some k, _ in object_or_empty(o[field])}

object_or_empty(x) := x if is_object(x)

object_or_empty(x) := {} if not is_object(x)

labels(o) := object.get(o, ["metadata", "labels"], {})

# The namespace as written; "" when missing or malformed (a number).
namespace(o) := value if {
	value := object.get(o, ["metadata", "namespace"], "")
	is_string(value)
} else := ""

name(o) := object.get(o, ["metadata", "name"], "")

secrets contains i if {
	some i, o in input.objects
	o.kind == "Secret"
}

# Secrets that are Kargo credentials by their label, old label or content.
credentials contains i if {
	some i in secrets
	labels(input.objects[i])[label]
}

credentials contains i if {
	some i in secrets
	labels(input.objects[i])[legacy_label]
}

credentials contains i if {
	some i in secrets
	o := input.objects[i]
	namespace(o) in project_namespaces
	looks_like_repository_credentials(keys(o))
}

looks_like_repository_credentials(ks) if {
	some url in ["repoURL", "url"]
	url in ks
	some k in ["password", "sshPrivateKey"]
	k in ks
}

# The mapping that holds the Secret's values, for findings about a missing key.
values_path(o) := ["stringData"] if o.stringData else := ["data"] if o.data else := []

deny contains result if {
	some i in credentials
	o := input.objects[i]
	not labels(o)[label]
	not labels(o)[legacy_label]
	result := {
		"object": i,
		"path": labels_path(o),
		"msg": sprintf("Secret \"%v\" holds repository credentials in Project namespace \"%v\" but has no %s label: Kargo will not use it%s", [name(o), namespace(o), label, url_hint(o)]),
	}
}

labels_path(o) := ["metadata", "labels"] if o.metadata.labels else := ["metadata"]

url_hint(o) := "; Kargo also reads the URL from repoURL, not url" if {
	not "repoURL" in keys(o)
} else := ""

deny contains result if {
	some i in credentials
	o := input.objects[i]
	not labels(o)[label]
	labels(o)[legacy_label]
	result := {
		"object": i,
		"path": ["metadata", "labels", legacy_label],
		"msg": sprintf("Secret \"%v\" uses the label %s of Kargo before v1, which Kargo no longer reads: label it %s: git, helm or image, and rename url to repoURL", [name(o), legacy_label, label]),
	}
}

deny contains result if {
	some i in credentials
	o := input.objects[i]
	type := labels(o)[label]
	is_string(type)
	not type in valid_types
	not contains(type, "{{")
	result := {
		"object": i,
		"path": ["metadata", "labels", label],
		"msg": sprintf("Secret \"%v\" has %s: \"%v\", which Kargo does not know (git, helm, image, generic, fleet): Kargo ignores it", [name(o), label, type]),
	}
}

deny contains result if {
	some i in credentials
	o := input.objects[i]
	type := labels(o)[label]
	type in {"git", "helm", "image"}
	count(keys(o)) > 0
	not "repoURL" in keys(o)
	result := {
		"object": i,
		"path": values_path(o),
		"msg": sprintf("%s credentials Secret \"%v\" has no repoURL: Kargo matches credentials to repositories by repoURL, so it never uses these", [type, name(o)]),
	}
}

deny contains result if {
	count(project_namespaces) > 0
	some i in credentials
	o := input.objects[i]
	ns := namespace(o)
	ns != ""
	not ns in project_namespaces
	not startswith(ns, "kargo")
	result := {
		"object": i,
		"path": ["metadata", "namespace"],
		"msg": sprintf("Kargo credentials Secret \"%v\" is in namespace \"%v\", which is not the namespace of a Kargo Project of the input (%s): Kargo only reads a Project's own namespace", [name(o), ns, concat(", ", sort(project_namespaces))]),
	}
}
