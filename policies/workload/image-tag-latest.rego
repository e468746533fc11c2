# METADATA
# title: a container image is not pinned to a version
# description: |-
#   ## What it checks
#   The `image` of every container, init container and ephemeral container of a workload's pod
#   spec: an image with the tag `latest`, or without a tag (which means `latest`), and without a
#   digest (`@sha256:...`). Images that are still placeholders (`$(IMAGE)`, `${IMAGE}`,
#   `{{ .Values.image }}`) are left alone: they are not what runs.
#
#   ## Why
#   `latest` moves. Two nodes pull different images for the same pod spec, a rollback does not
#   roll back the image, and nobody can tell from Git what is running. GitOps tools see no change
#   to sync when a new image is pushed under the same tag.
#
#   ## How to fix
#   Pin a version tag (`nginx:1.27.2`) or, better, a digest (`nginx@sha256:...`). Let your image
#   updater (Kargo, Argo CD Image Updater, Renovate) change the tag in Git.
#
#   ## Example
#   ```yaml
#   containers:
#     - name: web
#       image: nginx:latest   # image-tag-latest
#     - name: sidecar
#       image: busybox        # image-tag-latest: no tag means latest
#   ```
# custom:
#   level: warning
#   category: workload
#   kinds: [workloads]
package kvet.rules.image_tag_latest

import data.kvet.lib.workload
import rego.v1

deny contains result if {
	some c in workload.containers
	image := c.container.image
	is_string(image)
	pinnable(image)
	tag(image) == "latest"
	result := {
		"msg": sprintf("container \"%v\" uses \"%v\": the latest tag moves, so what runs is not what Git says", [c.name, image]),
		"path": array.concat(c.path, ["image"]),
	}
}

deny contains result if {
	some c in workload.containers
	image := c.container.image
	is_string(image)
	pinnable(image)
	not tag(image)
	result := {
		"msg": sprintf("container \"%v\" uses \"%v\" without a tag, which means latest", [c.name, image]),
		"path": array.concat(c.path, ["image"]),
	}
}

# An image without a digest that is not a placeholder left for another tool to fill in.
pinnable(image) if {
	not contains(image, "@")
	not regex.match(`[$]|\{\{`, image)
}

# The tag of an image reference: after the last ":" of its last path segment (a registry's
# port, as in registry:5000/app, is not a tag). Undefined when there is none.
tag(image) := t if {
	parts := split(image, "/")
	name := parts[count(parts) - 1]
	contains(name, ":")
	t := substring(name, indexof(name, ":") + 1, -1)
}
