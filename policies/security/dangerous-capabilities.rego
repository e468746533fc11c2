# METADATA
# title: a container adds a dangerous Linux capability
# description: |-
#   ## What it checks
#   The `securityContext.capabilities.add` list of every container, init container and
#   ephemeral container of a workload's pod spec: each `SYS_ADMIN`, `NET_RAW` or `ALL` is
#   reported, with or without the `CAP_` prefix, in any case (`cap_sys_admin`). Other
#   capabilities (`NET_BIND_SERVICE`, `NET_ADMIN`, `CHOWN`...) and `capabilities.drop` stay
#   silent.
#
#   ## Why
#   - `SYS_ADMIN` is close to full root: mounting file systems, entering namespaces, BPF and
#     much more; most container escapes start from it. It also always allows privilege
#     escalation.
#   - `NET_RAW` lets the container craft any packet: spoof other pods' addresses, ARP or DNS
#     poisoning on the node's network. Only old `ping` builds need it.
#   - `ALL` is every capability, a privileged container in all but name.
#
#   ## How to fix
#   Add only the capability the process needs, and start from nothing:
#   `capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}`. For FUSE or mounts, prefer a CSI
#   driver; for `ping`, a modern image uses unprivileged ICMP sockets. A CNI plugin or mesh
#   init container that needs `NET_RAW` keeps it: suppress the finding there with a reason.
#
#   ## Example
#   ```yaml
#   securityContext:
#     capabilities:
#       drop: [ALL]
#       add:
#         - NET_BIND_SERVICE
#         - SYS_ADMIN   # dangerous-capabilities
#   ```
# custom:
#   level: error
#   category: security
#   kinds: [Pod, PodTemplate, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job, CronJob, Rollout]
package kvet.rules.dangerous_capabilities

import data.kvet.lib.workload
import rego.v1

risks := {
	"SYS_ADMIN": "which is nearly root on the node",
	"NET_RAW": "which lets it forge packets and spoof other pods' traffic",
	"ALL": "which makes it as powerful as a privileged container",
}

deny contains result if {
	some c in workload.containers
	add := c.container.securityContext.capabilities.add
	is_array(add)
	some i, cap in add
	is_string(cap)
	risk := risks[trim_prefix(upper(cap), "CAP_")]
	result := {
		"msg": sprintf("container \"%v\" adds %s, %s: add only the capabilities it needs", [c.name, cap, risk]),
		"path": array.concat(c.path, ["securityContext", "capabilities", "add", i]),
	}
}
