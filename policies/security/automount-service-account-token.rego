# METADATA
# title: a pod gets an API token it may not need
# description: |-
#   ## What it checks
#   The pod spec of a workload that does not set `automountServiceAccountToken`. It stays
#   silent when the pod sets it to `false`, and also to `true`: an explicit `true` says the
#   pod calls the Kubernetes API on purpose.
#
#   The ServiceAccount can switch the token off too (`automountServiceAccountToken: false` on
#   the ServiceAccount, which the pod's own field overrides), but this rule looks at one object
#   at a time and does not see the ServiceAccount, even in the same file: set the field on the
#   pod as well.
#
#   ## Why
#   Without it, the kubelet mounts a token of the pod's ServiceAccount into every container at
#   `/var/run/secrets/kubernetes.io/serviceaccount`. Most applications never call the
#   Kubernetes API; for them the token is only useful to an attacker who gets into the
#   container, who can then do whatever the ServiceAccount's RBAC allows — and learn about the
#   cluster even with no role at all.
#
#   ## How to fix
#   Set `automountServiceAccountToken: false` in the pod spec of workloads that do not talk
#   to the Kubernetes API. Controllers and operators that do keep the token: set
#   `automountServiceAccountToken: true` explicitly, or, to limit which containers see it,
#   mount a `projected` `serviceAccountToken` volume only where it is needed.
#
#   ## Example
#   ```yaml
#   spec:
#     template:
#       spec:   # automount-service-account-token
#         containers:
#           - name: web
#             image: nginx:1.27.2
#   ```
# custom:
#   level: info
#   category: security
#   kinds: [workloads]
package kvet.rules.automount_service_account_token

import data.kvet.lib.workload
import rego.v1

deny contains result if {
	not is_boolean(object.get(workload.pod.spec, "automountServiceAccountToken", null))
	result := {
		"msg": "the pod gets a ServiceAccount token it may not need: set automountServiceAccountToken: false, or true if it calls the Kubernetes API",
		"path": workload.pod.path,
	}
}
