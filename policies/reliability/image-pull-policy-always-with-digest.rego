# METADATA
# title: an image pinned by digest is pulled with imagePullPolicy Always
# description: |-
#   ## What it checks
#   Every container, init container and ephemeral container of a workload's pod spec whose
#   `image` is pinned by digest (`name@sha256:...`) and whose `imagePullPolicy` is `Always`.
#
#   It stays silent for images referenced by tag (with a moving tag, `Always` is how new pushes
#   reach the nodes) and for digest-pinned images with `IfNotPresent`, `Never` or no policy
#   (which defaults to `IfNotPresent` for such images).
#
#   ## Why
#   A digest names exactly one image: what the node has cached under it cannot differ from
#   the registry's. `Always` still makes the kubelet ask the registry on every container start,
#   so a registry outage or rate limit (Docker Hub) stops pods from starting or restarting, and
#   every start is slower, for nothing.
#
#   ## How to fix
#   Remove `imagePullPolicy` (a digest defaults to `IfNotPresent`) or set it to
#   `IfNotPresent`. Keep `Always` only if you rely on it to make the kubelet check each pod's
#   pull credentials for private images on shared nodes (the `AlwaysPullImages` use case), and
#   suppress the finding there.
#
#   ## Example
#   ```yaml
#   containers:
#     - name: web
#       image: nginx@sha256:2d194184b067db3598771b4cf326cfe6ad5051937ba1132b8b7d4b0184e0d0a6
#       imagePullPolicy: Always   # image-pull-policy-always-with-digest
#   ```
# custom:
#   level: info
#   category: reliability
#   kinds: [workloads]
package kvet.rules.image_pull_policy_always_with_digest

import data.kvet.lib.workload
import rego.v1

deny contains result if {
	some c in workload.containers
	c.container.imagePullPolicy == "Always"
	image := c.container.image
	is_string(image)
	regex.match(`@sha(256|384|512):[0-9a-fA-F]+$`, image)
	result := {
		"msg": sprintf("container \"%v\" pulls an image pinned by digest with imagePullPolicy Always: every start asks the registry for an image the node already has; use IfNotPresent", [c.name]),
		"path": array.concat(c.path, ["imagePullPolicy"]),
	}
}
