# METADATA
# title: a container adds a dangerous Linux capability
# description: |-
#   ## What it checks
#   The `securityContext.capabilities.add` list of every container, init container and
#   ephemeral container of a workload's pod spec: every capability beyond the Pod Security
#   Standards' baseline set (`AUDIT_WRITE`, `CHOWN`, `DAC_OVERRIDE`, `FOWNER`, `FSETID`, `KILL`,
#   `MKNOD`, `NET_BIND_SERVICE`, `SETFCAP`, `SETGID`, `SETPCAP`, `SETUID`, `SYS_CHROOT`) is
#   reported — `SYS_ADMIN`, `NET_RAW`, `ALL`, `NET_ADMIN`, `SYS_PTRACE`, `SYS_MODULE`, `BPF`,
#   `PERFMON`, `SYS_RAWIO`, `DAC_READ_SEARCH` with what they allow — with or without the
#   `CAP_` prefix, in any case (`cap_sys_admin`). `capabilities.drop` stays silent.
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
#   kinds: [workloads]
package kvet.rules.dangerous_capabilities

import data.kvet.lib.workload
import rego.v1

# Why the best-known ones are dangerous; any other capability beyond the baseline profile's
# set is reported too.
risks := {
	"SYS_ADMIN": "which is nearly root on the node",
	"NET_RAW": "which lets it forge packets and spoof other pods' traffic",
	"ALL": "which makes it as powerful as a privileged container",
	"NET_ADMIN": "which lets it rewrite the pod's routes and firewall rules and sniff its traffic",
	"SYS_PTRACE": "which lets it read and change the memory of processes it can see",
	"SYS_MODULE": "which lets it load kernel modules: the whole node",
	"BPF": "which lets it load eBPF programs into the node's kernel",
	"PERFMON": "which lets it trace the node's kernel and other processes",
	"SYS_RAWIO": "which gives it raw access to devices and I/O ports",
	"DAC_READ_SEARCH": "which lets it read any file it can reach, whatever its permissions",
}

risk(cap) := risks[cap]

risk(cap) := "which the Pod Security Standards' baseline profile does not allow" if not risks[cap]

deny contains result if {
	some c in workload.containers
	add := c.container.securityContext.capabilities.add
	is_array(add)
	some i, cap in add
	is_string(cap)
	name := trim_prefix(upper(cap), "CAP_")
	not name in workload.baseline_capabilities
	result := {
		"msg": sprintf("container \"%v\" adds %s, %s: add only the capabilities it needs", [c.name, cap, risk(name)]),
		"path": array.concat(c.path, ["securityContext", "capabilities", "add", i]),
	}
}
