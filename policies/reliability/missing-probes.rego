# METADATA
# title: a long-running container has no readiness or liveness probe
# description: |-
#   ## What it checks
#   The containers of pods that are meant to keep running: Deployments, StatefulSets,
#   DaemonSets, ReplicaSets, ReplicationControllers, Argo Rollouts, OpenShift
#   DeploymentConfigs, and Pods that restart (`restartPolicy` `Always`, the default) and are
#   not owned by a Job. A container without a
#   `readinessProbe` is a warning; one without a `livenessProbe` is reported at level info.
#
#   It stays silent for Jobs, CronJobs and run-to-completion Pods, for init and ephemeral
#   containers, and, in a pod where another container has a readiness probe, for the
#   containers without one (sidecars: the pod is not ready until the probed container is).
#   A readiness probe only matters to a Service and to rolling updates, so two kinds are
#   narrowed: a bare Pod (no rolling update) is only reported for containers that declare
#   `ports`; a DaemonSet (mostly node agents behind no Service) likewise, and at level info.
#   Liveness is reported for every kind, at level info.
#
#   ## Why
#   Without a readiness probe a pod is ready as soon as its processes start: Services send it
#   traffic before it can answer, and a rolling update replaces the old pods with ones that do
#   not work yet, so a broken release takes the whole workload down. Without a liveness probe
#   a process that hangs (a deadlock, a stuck event loop) keeps its pod, ready or not, until
#   someone restarts it by hand.
#
#   ## How to fix
#   Add a `readinessProbe` that checks the container can serve (an HTTP `/ready` endpoint, a
#   TCP port, an `exec` command). Add a `livenessProbe` only on what the process can tell
#   about itself — never on its dependencies, or one database outage restarts every pod — and
#   give slow starters a `startupProbe` instead of a long `initialDelaySeconds`.
#
#   ## Example
#   ```yaml
#   containers:
#     - name: web               # missing-probes: no readinessProbe, no livenessProbe
#       image: nginx:1.27.2
#       ports: [{containerPort: 80}]
#   ```
# custom:
#   level: warning
#   category: reliability
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Rollout, DeploymentConfig]
package kvet.rules.missing_probes

import data.kvet.lib.workload
import rego.v1

# The containers of a long-running pod, with the paths kvet reports them at.
long_running_containers contains c if {
	long_running
	some c in workload.containers
	c.field == "containers"
}

long_running if input.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Rollout", "DeploymentConfig"}

long_running if {
	input.kind == "Pod"
	object.get(input, ["spec", "restartPolicy"], "Always") == "Always"
	not owned_by_job
}

owned_by_job if {
	input.metadata.ownerReferences[_].kind == "Job"
}

owned_by_job if {
	some label in ["job-name", "batch.kubernetes.io/job-name", "batch.kubernetes.io/controller-uid"]
	input.metadata.labels[label]
}

# Some container of the pod has a readiness probe: the pod's readiness waits for it.
pod_has_readiness if {
	some c in long_running_containers
	probe(c.container, "readinessProbe")
}

probe(container, name) if is_object(container[name])

deny contains result if {
	not input.kind in {"DaemonSet", "Pod"}
	not pod_has_readiness
	some c in long_running_containers
	result := {
		"msg": sprintf("container \"%v\" has no readinessProbe: it gets traffic and counts as available as soon as it starts, before it can serve", [c.name]),
		"path": c.path,
	}
}

# A bare Pod has no rolling update: its readiness only matters to a Service, so only to a
# container that serves on a port.
deny contains result if {
	input.kind == "Pod"
	not pod_has_readiness
	some c in long_running_containers
	serves(c.container)
	result := {
		"msg": sprintf("container \"%v\" serves ports but has no readinessProbe: a Service sends it traffic as soon as it starts, before it can answer", [c.name]),
		"path": c.path,
	}
}

# A DaemonSet is mostly a node agent behind no Service; one that serves a port is told at level
# info.
deny contains result if {
	input.kind == "DaemonSet"
	not pod_has_readiness
	some c in long_running_containers
	serves(c.container)
	result := {
		"msg": sprintf("container \"%v\" serves ports but has no readinessProbe: a Service selecting it sends traffic as soon as it starts, and a rolling update does not wait for it to work", [c.name]),
		"path": c.path,
		"level": "info",
	}
}

serves(container) if {
	ports := container.ports
	is_array(ports)
	count(ports) > 0
}

deny contains result if {
	some c in long_running_containers
	not probe(c.container, "livenessProbe")
	result := {
		"msg": sprintf("container \"%v\" has no livenessProbe: if its process hangs, nothing restarts it", [c.name]),
		"path": c.path,
		"level": "info",
	}
}
