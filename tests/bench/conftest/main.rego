# host-path-mount and image-tag-latest written as a conftest policy (package main, deny),
# for the benchmark: the same work through the user-policy path (--policy).
package main

import data.kvet.lib.workload
import rego.v1

deny contains {"msg": msg, "path": array.concat(v.path, ["hostPath", "path"])} if {
	some v in workload.volumes
	host_path := v.volume.hostPath.path
	is_string(host_path)
	msg := sprintf("volume %q mounts %q", [v.volume.name, host_path])
}

deny contains {"msg": msg, "path": array.concat(c.path, ["image"])} if {
	some c in workload.containers
	image := c.container.image
	is_string(image)
	not contains(image, "@")
	not regex.match(`[$]|\{\{`, image)
	untagged_or_latest(image)
	msg := sprintf("container %q uses %q", [c.container.name, image])
}

untagged_or_latest(image) if {
	parts := split(image, "/")
	name := parts[count(parts) - 1]
	not contains(name, ":")
}

untagged_or_latest(image) if endswith(image, ":latest")
