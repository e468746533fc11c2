# METADATA
# title: a container does not declare its CPU and memory requests and memory limit
# description: |-
#   ## What it checks
#   Every container and init container of a workload's pod spec (ephemeral debug containers are
#   left alone) for `resources.requests.cpu`, `resources.requests.memory` and
#   `resources.limits.memory`. One finding per container names everything it lacks; it points
#   at `resources` when the container has it, else at the container.
#
#   It stays silent for what Kubernetes fills in itself: a request missing where the container
#   sets the limit of the same resource (the request defaults to the limit), and anything set
#   by pod-level `spec.resources`. A CPU limit is not required: it throttles the container even
#   when the node has idle CPU, and is widely advised against. kvet cannot see a namespace's
#   LimitRange defaults: if you rely on one, suppress the rule for those files.
#
#   ## Why
#   The scheduler places pods by their requests. Without them a pod is `BestEffort` (or
#   `Burstable` with nothing reserved): it lands on crowded nodes, is starved of CPU, and is the
#   first to be evicted under memory pressure. Without a memory limit one leaking container can
#   take the node's memory and get its neighbours OOM-killed.
#
#   ## How to fix
#   Set requests from what the container uses at a normal load, and a memory limit above its
#   peak (equal to the request gives the `Guaranteed` class for memory):
#   ```yaml
#   resources:
#     requests: {cpu: 100m, memory: 128Mi}
#     limits: {memory: 256Mi}
#   ```
#
#   ## Example
#   ```yaml
#   containers:
#     - name: web
#       image: nginx:1.27.2
#       resources:          # missing-resources: no memory request, no memory limit
#         requests: {cpu: 100m}
#   ```
# custom:
#   level: warning
#   category: reliability
#   kinds: [workloads]
package kvet.rules.missing_resources

import data.kvet.lib.workload
import rego.v1

# What every container must have, as [section, resource, how the message names it], in the
# message's order.
required := [
	["requests", "cpu", "CPU request"],
	["requests", "memory", "memory request"],
	["limits", "memory", "memory limit"],
]

deny contains result if {
	some c in workload.containers
	c.field != "ephemeralContainers"
	missing := [name | some [section, resource, name] in required; not declared(c.container, section, resource)]
	count(missing) > 0
	result := {
		"msg": sprintf("container \"%v\" has no %s: %s", [c.name, listed(missing), consequence(missing)]),
		"path": target(c),
	}
}

target(c) := array.concat(c.path, ["resources"]) if is_object(c.container.resources)

target(c) := c.path if not is_object(c.container.resources)

# The container sets it, or Kubernetes derives it: a missing request takes the limit of the
# same resource, and pod-level resources (spec.resources) cover every container.
declared(container, section, resource) if has_value(container, [section, resource])

declared(container, "requests", resource) if has_value(container, ["limits", resource])

declared(_, section, resource) if has_value(workload.pod.spec, [section, resource])

declared(_, "requests", resource) if has_value(workload.pod.spec, ["limits", resource])

has_value(owner, [section, resource]) if {
	is_object(owner)
	value := object.get(owner, ["resources", section, resource], null)
	value != null
	value != ""
}

# What the missing fields cost: no request leaves the scheduler guessing, no memory limit lets a
# leak take the node's memory.
consequence(missing) := "the scheduler cannot reserve what it needs and nothing bounds its memory" if {
	"memory limit" in missing
	count(missing) > 1
}

consequence(missing) := "one leak can exhaust the node's memory and get its neighbours OOM-killed" if missing == ["memory limit"]

consequence(missing) := "the scheduler cannot reserve what it needs, so it lands on crowded nodes and is evicted first" if not "memory limit" in missing

# "a", "a or b", "a, b or c".
listed(names) := names[0] if count(names) == 1

listed(names) := sprintf("%s or %s", [concat(", ", array.slice(names, 0, count(names) - 1)), names[count(names) - 1]]) if count(names) > 1
