# METADATA
# title: a container can write to its root file system
# description: |-
#   ## What it checks
#   Every init and regular container of a workload's pod spec without
#   `securityContext.readOnlyRootFilesystem: true` (there is no pod-level field). It is
#   reported at the field when it is set to `false`, else at the container.
#
#   It stays silent for ephemeral containers (`kubectl debug` sessions) and for Windows pods
#   (`spec.os.name` or the `kubernetes.io/os` node selector is `windows`), where the field is
#   not supported.
#
#   ## Why
#   An attacker who gets code execution in a container with a writable image file system can
#   drop tools and binaries, change the application's code or configuration and persist until
#   the container restarts. A read-only root makes the image immutable at run time and also
#   surfaces files the application writes to unexpected places (and fills the node's disk
#   with).
#
#   ## How to fix
#   Set `readOnlyRootFilesystem: true` and mount an `emptyDir` where the application really
#   writes (`/tmp`, a cache or PID folder):
#
#   ```yaml
#   securityContext:
#     readOnlyRootFilesystem: true
#   volumeMounts:
#     - {name: tmp, mountPath: /tmp}
#   ```
#
#   ## Example
#   ```yaml
#   containers:
#     - name: web   # writable-root-fs
#       image: nginx:1.27.2
#   ```
# custom:
#   level: info
#   category: security
#   kinds: [workloads]
package kvet.rules.writable_root_fs

import data.kvet.lib.workload
import rego.v1

deny contains result if {
	not windows
	some c in workload.containers
	c.field != "ephemeralContainers"
	not c.container.securityContext.readOnlyRootFilesystem == true
	result := {
		"msg": sprintf("container \"%v\" can write to its image's file system: set readOnlyRootFilesystem: true and mount an emptyDir where it writes", [c.name]),
		"path": report_path(c),
	}
}

report_path(c) := array.concat(c.path, ["securityContext", "readOnlyRootFilesystem"]) if {
	c.container.securityContext.readOnlyRootFilesystem == false
} else := c.path

windows if workload.pod.spec.os.name == "windows"

windows if workload.pod.spec.nodeSelector["kubernetes.io/os"] == "windows"
