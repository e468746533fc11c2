# METADATA
# title: a volume mounts a path of the node's file system
# description: |-
#   ## What it checks
#   Every `hostPath` volume of a workload's pod spec. A path under a home folder (`/Users/`,
#   `/home/`, `/root/`, `~`, or a Windows drive such as `C:\`) is an error: it is a folder on
#   somebody's machine, left there from a local run. Any other host path is a warning.
#
#   ## Why
#   A `hostPath` volume gives the pod the node's files. A home-folder path exists on the laptop
#   it was written on, not on the cluster's nodes: the kubelet creates an empty folder (or the
#   pod fails to start with `type: Directory`), and the workload runs without its data. Other
#   host paths tie the pod to what one node holds and let it read or change the node's files.
#
#   ## How to fix
#   Use a `configMap`, `secret`, `persistentVolumeClaim` or `emptyDir` volume. Keep `hostPath`
#   for node agents (log shippers, CSI drivers) that need the node's files, and suppress the
#   warning there with a reason.
#
#   ## Example
#   ```yaml
#   volumes:
#     - name: src
#       hostPath:
#         path: /Users/alice/src/app   # host-path-mount: error, a home folder
#   ```
# custom:
#   level: warning
#   category: workload
#   kinds: [workloads]
package kvet.rules.host_path_mount

import data.kvet.lib.workload
import rego.v1

deny contains result if {
	some v in workload.volumes
	host_path := v.volume.hostPath.path
	is_string(host_path)
	home_folder(host_path)
	result := {
		"msg": sprintf("volume \"%v\" mounts \"%v\", a home folder: no cluster node has it", [v.volume.name, host_path]),
		"path": array.concat(v.path, ["hostPath", "path"]),
		"level": "error",
	}
}

deny contains result if {
	some v in workload.volumes
	host_path := v.volume.hostPath.path
	is_string(host_path)
	not home_folder(host_path)
	result := {
		"msg": sprintf("volume \"%v\" mounts the node's \"%v\": the pod depends on that node's files and can change them", [v.volume.name, host_path]),
		"path": array.concat(v.path, ["hostPath", "path"]),
	}
}

home_folder(path) if regex.match(`^(/Users/|/home/|/root(/|$)|~|[A-Za-z]:[\\/])`, path)
