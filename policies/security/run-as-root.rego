# METADATA
# title: a container may run as root
# description: |-
#   ## What it checks
#   Every init and regular container of a workload's pod spec, with the container's
#   `securityContext` overriding the pod's field by field:
#
#   - a warning when `runAsNonRoot` is not `true` and `runAsUser` is not set: the container runs
#     as whatever user its image says, often root;
#   - an error when `runAsUser: 0` is set, on the container or on the pod (reported once, at
#     the pod's field, when a container inherits it).
#
#   It stays silent for a container with `runAsNonRoot: true` or a non-zero `runAsUser` (its
#   own, else the pod's), for ephemeral containers without `runAsUser: 0` (`kubectl debug`
#   sessions), for Windows pods (`spec.os.name` or the `kubernetes.io/os` node selector is
#   `windows`: these fields do not apply there), and for pods in a user namespace
#   (`hostUsers: false`), where root in the container is an unprivileged user on the node.
#
#   ## Why
#   Root in a container is root on the node as far as the kernel is concerned: a container
#   escape, a writable `hostPath` or a mounted socket turns into control of the node. Most
#   images do not need it; many run as root only because their Dockerfile has no `USER`.
#
#   ## How to fix
#   Set `runAsNonRoot: true` in the pod's `securityContext` so the kubelet refuses to start a
#   container whose image would run as root, and a non-zero `runAsUser` (and `runAsGroup`,
#   `fsGroup`) if the image has no numeric `USER`. For an image that needs root, build it with
#   a non-root user, or suppress the finding with a reason.
#
#   ## Example
#   ```yaml
#   spec:
#     securityContext:
#       runAsNonRoot: true
#     containers:
#       - name: web
#         image: nginx:1.27.2
#       - name: migrate
#         image: ghcr.io/example/migrate:2.1.0
#         securityContext:
#           runAsUser: 0   # run-as-root: error, explicitly root
#   ```
# custom:
#   level: warning
#   category: security
#   kinds: [workloads]
package kvet.rules.run_as_root

import data.kvet.lib.workload
import rego.v1

# A container that may run as root: nothing makes it non-root, and it is not explicitly root
# (reported below as an error).
deny contains result if {
	not exempt_pod
	some c in workload.containers
	c.field != "ephemeralContainers"
	not non_root(c.container)
	setting(c.container, "runAsUser") != 0
	result := {
		"msg": sprintf("container \"%v\" may run as root: set securityContext.runAsNonRoot: true, or a non-zero runAsUser", [c.name]),
		"path": non_root_path(c),
	}
}

# A container that sets runAsUser: 0 itself.
deny contains result if {
	not exempt_pod
	some c in workload.containers
	c.container.securityContext.runAsUser == 0
	result := {
		"msg": sprintf("container \"%v\" sets runAsUser: 0 and runs as root: use a non-zero UID", [c.name]),
		"path": array.concat(c.path, ["securityContext", "runAsUser"]),
		"level": "error",
	}
}

# A pod that sets runAsUser: 0 for the containers that do not set their own user.
deny contains result if {
	not exempt_pod
	workload.pod.spec.securityContext.runAsUser == 0
	inheriting := {[field_order[c.field], c.path[count(c.path) - 1], c.name] |
		some c in workload.containers
		not own_user(c.container)
	}
	names := [sprintf("\"%v\"", [x[2]]) | some x in inheriting]
	count(names) > 0
	result := {
		"msg": sprintf("the pod sets runAsUser: 0, so %s as root: use a non-zero UID", [subject(names)]),
		"path": array.concat(workload.pod.path, ["securityContext", "runAsUser"]),
		"level": "error",
	}
}

field_order := {"initContainers": 0, "containers": 1, "ephemeralContainers": 2}

own_user(container) if container.securityContext.runAsUser != null

subject(names) := sprintf("container %s runs", names) if count(names) == 1
else := sprintf("containers %s run", [concat(", ", names)])

# The container's own securityContext field, else the pod's; null when neither sets it.
setting(container, field) := value if {
	value := container.securityContext[field]
	value != null
} else := value if {
	value := workload.pod.spec.securityContext[field]
} else := null

non_root(container) if setting(container, "runAsNonRoot") == true

non_root(container) if not setting(container, "runAsUser") in {0, null}

# Where to report: the container's own runAsNonRoot: false, else the container.
non_root_path(c) := array.concat(c.path, ["securityContext", "runAsNonRoot"]) if {
	c.container.securityContext.runAsNonRoot == false
} else := c.path

exempt_pod if workload.pod.spec.os.name == "windows"

exempt_pod if workload.pod.spec.nodeSelector["kubernetes.io/os"] == "windows"

exempt_pod if workload.pod.spec.hostUsers == false
