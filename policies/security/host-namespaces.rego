# METADATA
# title: a pod shares the node's network, process or IPC namespace
# description: |-
#   ## What it checks
#   The pod spec of a workload: `hostNetwork: true`, `hostPID: true` and `hostIPC: true`, one
#   finding for each. Fields set to `false`, or not set, stay silent.
#
#   ## Why
#   - `hostNetwork`: the pod uses the node's network stack. It can reach every service
#     listening on the node (kubelet, cloud metadata, localhost-only daemons), bind the node's
#     ports and sniff its traffic, and NetworkPolicies no longer apply to it.
#   - `hostPID`: the pod sees every process of the node. It can read their environment and
#     command lines (secrets included), signal them, and with enough privileges enter them.
#   - `hostIPC`: the pod shares the node's System V IPC and POSIX shared memory, so it can read
#     and write other processes' shared memory.
#
#   ## How to fix
#   Remove the field. A pod that must be reachable on a node port uses a Service (`NodePort`,
#   `LoadBalancer`) or `hostPort`; a monitoring agent that needs the node's processes or
#   network (node exporters, CNI plugins, log shippers) keeps it: suppress the finding there
#   with a reason.
#
#   ## Example
#   ```yaml
#   spec:
#     hostNetwork: true   # host-namespaces
#     hostPID: true       # host-namespaces
#     containers:
#       - name: agent
#         image: ghcr.io/example/agent:3.2.0
#   ```
# custom:
#   level: error
#   category: security
#   kinds: [workloads]
package kvet.rules.host_namespaces

import data.kvet.lib.workload
import rego.v1

risks := {
	"hostNetwork": "uses the node's network: it reaches the node's local services and NetworkPolicies do not apply",
	"hostPID": "sees the node's processes: it can read their environment and signal them",
	"hostIPC": "shares the node's IPC namespace: it can read other processes' shared memory",
}

deny contains result if {
	some field, risk in risks
	workload.pod.spec[field] == true
	result := {
		"msg": sprintf("the pod %s; remove %s: true unless it is a node agent", [risk, field]),
		"path": array.concat(workload.pod.path, [field]),
	}
}
