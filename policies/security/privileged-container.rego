# METADATA
# title: a container runs privileged
# description: |-
#   ## What it checks
#   The `securityContext.privileged` of every container, init container and ephemeral
#   container of a workload's pod spec: `true` is reported. `privileged: false` or no
#   `privileged` stays silent.
#
#   ## Why
#   A privileged container has every capability, sees all of the node's devices and runs
#   without seccomp or AppArmor confinement: it is root on the node. A bug or a compromised
#   image in it is a compromised node, and from there the cluster.
#
#   ## How to fix
#   Remove `privileged: true` and add only the capabilities the container needs
#   (`capabilities.add: [NET_ADMIN]`), or mount only the device it needs. Node agents that
#   genuinely need it (CNI plugins, CSI node drivers, some monitoring agents) keep it: suppress
#   the finding there with a reason.
#
#   ## Example
#   ```yaml
#   containers:
#     - name: agent
#       image: ghcr.io/example/agent:3.2.0
#       securityContext:
#         privileged: true   # privileged-container
#   ```
# custom:
#   level: error
#   category: security
#   kinds: [workloads]
package kvet.rules.privileged_container

import data.kvet.lib.workload
import rego.v1

deny contains result if {
	some c in workload.containers
	c.container.securityContext.privileged == true
	result := {
		"msg": sprintf("container \"%v\" is privileged, which is root on the node: add only the capabilities it needs instead", [c.name]),
		"path": array.concat(c.path, ["securityContext", "privileged"]),
	}
}
