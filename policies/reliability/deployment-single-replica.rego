# METADATA
# title: a replicated workload is pinned to a single replica
# description: |-
#   ## What it checks
#   Deployments, StatefulSets, ReplicaSets, Argo Rollouts and OpenShift DeploymentConfigs that set
#   `spec.replicas: 1` explicitly.
#
#   It stays silent when `replicas` is missing: it defaults to 1, but a workload scaled by a
#   HorizontalPodAutoscaler (or KEDA) leaves the field out on purpose so that a sync does not
#   reset the autoscaler's count. It is also silent for `replicas: 0` (scaled down on purpose),
#   and for a Deployment (or DeploymentConfig) with `strategy.type: Recreate`: its author made sure two pods never
#   run at once (a ReadWriteOnce volume, a singleton), so one replica is the design.
#
#   ## Why
#   One replica is one point of failure: a node drain, an eviction, a crash or a rolling update
#   of a pod that is slow to become ready leaves the workload with nothing serving it, and a
#   PodDisruptionBudget cannot protect a single pod without blocking node maintenance.
#
#   ## How to fix
#   Run at least two replicas (spread over nodes with `topologySpreadConstraints`) or let an
#   autoscaler own the count and remove `replicas`. A component that must run once (a
#   controller with leader election off, a database without replication) can keep one replica:
#   suppress the finding there with the reason.
#
#   ## Example
#   ```yaml
#   kind: Deployment
#   spec:
#     replicas: 1   # deployment-single-replica
#   ```
# custom:
#   level: info
#   category: reliability
#   kinds: [Deployment, StatefulSet, ReplicaSet, Rollout, DeploymentConfig]
package kvet.rules.deployment_single_replica

import data.kvet.lib.naming
import rego.v1

deny contains result if {
	input.spec.replicas == 1
	not deliberate_singleton
	result := {
		"msg": sprintf("%s \"%v\" runs a single replica: a node drain, eviction or crash leaves it with nothing serving", [input.kind, naming.object_name(input)]),
		"path": ["spec", "replicas"],
	}
}

deliberate_singleton if {
	input.kind in {"Deployment", "DeploymentConfig"}
	input.spec.strategy.type == "Recreate"
}
