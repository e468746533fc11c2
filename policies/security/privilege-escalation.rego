# METADATA
# title: a container may gain more privileges than it started with
# description: |-
#   ## What it checks
#   The `securityContext.allowPrivilegeEscalation` of every init and regular container of a
#   workload's pod spec:
#
#   - `true`, or not set, is reported: it is `true` unless set to `false`;
#   - a container that is `privileged: true` or adds the `SYS_ADMIN` capability (any spelling)
#     can always escalate, whatever the field says; without `allowPrivilegeEscalation: false`
#     the message says so;
#   - an error when `allowPrivilegeEscalation: false` is set with `privileged: true` or with
#     `capabilities.add: [CAP_SYS_ADMIN]`: the API server rejects the container.
#
#   It stays silent for `allowPrivilegeEscalation: false` (except the pairs above), for
#   ephemeral containers that do not set it to `true` (`kubectl debug` sessions), and for
#   Windows pods (`spec.os.name` or the `kubernetes.io/os` node selector is `windows`), where
#   the field does not apply.
#
#   ## Why
#   Unless `allowPrivilegeEscalation` is `false`, the container's processes run without the
#   kernel's `no_new_privs` flag: a setuid binary in the image (`su`, `sudo`, `ping` on older
#   images) or a file capability gives a process more rights than the container was started
#   with. An attacker with code execution in the container uses exactly that to become root.
#
#   ## How to fix
#   Set `allowPrivilegeEscalation: false` in each container's `securityContext` (there is no
#   pod-level field). Very few applications need setuid binaries; if one does, rebuild the
#   image without them. A privileged or `SYS_ADMIN` container can escalate anyway: drop
#   `privileged` or the capability where the container does not need it.
#
#   ## Example
#   ```yaml
#   containers:
#     - name: web                     # privilege-escalation: not set, so allowed
#       image: nginx:1.27.2
#     - name: worker
#       image: ghcr.io/example/worker:1.0.3
#       securityContext:
#         allowPrivilegeEscalation: false
#   ```
# custom:
#   level: warning
#   category: security
#   kinds: [workloads]
package kvet.rules.privilege_escalation

import data.kvet.lib.workload
import rego.v1

# Privileged or SYS_ADMIN, and not set to false.
deny contains result if {
	some c in checked
	reason := implied(c.container)
	result := {
		"msg": sprintf("container \"%v\" can escalate privileges: %s always allows it, whatever allowPrivilegeEscalation says", [c.name, reason]),
		"path": field_path(c),
	}
}

deny contains result if {
	some c in checked
	not implied(c.container)
	c.container.securityContext.allowPrivilegeEscalation == true
	result := {
		"msg": sprintf("container \"%v\" sets allowPrivilegeEscalation: true: setuid binaries can gain privileges; set it to false", [c.name]),
		"path": field_path(c),
	}
}

deny contains result if {
	some c in checked
	not implied(c.container)
	not c.container.securityContext.allowPrivilegeEscalation == true
	result := {
		"msg": sprintf("container \"%v\" does not set allowPrivilegeEscalation: false: setuid binaries can gain privileges", [c.name]),
		"path": c.path,
	}
}

# The pairs the API server refuses.
deny contains result if {
	not windows
	some c in workload.containers
	c.container.securityContext.allowPrivilegeEscalation == false
	reason := rejected(c.container)
	result := {
		"msg": sprintf("container \"%v\" sets allowPrivilegeEscalation: false with %s: the API server rejects the pair", [c.name, reason]),
		"path": array.concat(c.path, ["securityContext", "allowPrivilegeEscalation"]),
		"level": "error",
	}
}

# The containers that may escalate: allowPrivilegeEscalation is not false. Ephemeral containers
# only when they set it to true.
checked contains c if {
	not windows
	some c in workload.containers
	not c.container.securityContext.allowPrivilegeEscalation == false
	c.field != "ephemeralContainers"
}

checked contains c if {
	not windows
	some c in workload.containers
	c.container.securityContext.allowPrivilegeEscalation == true
}

field_path(c) := array.concat(c.path, ["securityContext", "allowPrivilegeEscalation"]) if {
	c.container.securityContext.allowPrivilegeEscalation == true
} else := c.path

implied(container) := "privileged: true" if {
	container.securityContext.privileged == true
} else := "the SYS_ADMIN capability" if {
	some cap in added(container)
	is_string(cap)
	trim_prefix(upper(cap), "CAP_") == "SYS_ADMIN"
}

rejected(container) := "privileged: true" if {
	container.securityContext.privileged == true
} else := "CAP_SYS_ADMIN" if {
	"CAP_SYS_ADMIN" in added(container)
}

added(container) := add if {
	add := container.securityContext.capabilities.add
	is_array(add)
} else := []

windows if workload.pod.spec.os.name == "windows"

windows if workload.pod.spec.nodeSelector["kubernetes.io/os"] == "windows"
