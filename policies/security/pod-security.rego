# METADATA
# title: a pod spec breaks the Pod Security Standards profile its namespace enforces
# description: |-
#   ## What it checks
#   The pod spec of every workload against a profile of the Kubernetes
#   [Pod Security Standards](https://kubernetes.io/docs/concepts/security/pod-security-standards/):
#
#   1. the `pod-security.kubernetes.io/enforce` label of the workload's Namespace, when that
#      Namespace object is in the input (`privileged`: nothing is checked; a value that is no
#      profile counts as `restricted`, as the admission controller does). A workload without
#      `metadata.namespace` matches no Namespace;
#   2. otherwise the `profile` option, `baseline` or `restricted` (`privileged` turns the rule
#      off): `rules: {pod-security: {profile: restricted}}` in `.kvet.yaml`;
#   3. otherwise `baseline`.
#
#   **baseline**: `hostProcess: true` (pod or container `windowsOptions`); `hostNetwork`,
#   `hostPID`, `hostIPC: true`; `privileged: true`; `capabilities.add` beyond AUDIT_WRITE,
#   CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP,
#   SETUID, SYS_CHROOT; `hostPath` volumes; a `hostPort` other than 0; an AppArmor profile
#   other than RuntimeDefault / Localhost (`appArmorProfile.type`, or a
#   `container.apparmor.security.beta.kubernetes.io/*` annotation other than `runtime/default`
#   / `localhost/*`); an SELinux type other than container_t, container_init_t,
#   container_kvm_t, container_engine_t, or any SELinux user or role; a `procMount` other than
#   Default (allowed with `hostUsers: false`); seccomp `Unconfined`; sysctls outside the safe
#   set (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, ip_local_reserved_ports,
#   ip_unprivileged_port_start, ping_group_range, tcp_syncookies, tcp_keepalive_time,
#   tcp_keepalive_intvl, tcp_keepalive_probes, tcp_fin_timeout).
#
#   **restricted**, in addition: volumes other than configMap, csi, downwardAPI, emptyDir,
#   ephemeral, persistentVolumeClaim, projected, secret; `allowPrivilegeEscalation` not set to
#   false; `runAsNonRoot` not true (on the container, or on the pod for the containers that do
#   not set it); `runAsUser: 0`; a seccomp profile type other than RuntimeDefault / Localhost
#   (on the container, or on the pod for the containers that do not set it);
#   `capabilities.drop` without ALL, `capabilities.add` other than NET_BIND_SERVICE; a
#   `procMount` other than Default.
#
#   Init, regular and ephemeral containers are all checked. When the input holds several
#   Namespaces of one name, the first one counts. One finding per control and
#   container (or pod), at the offending field, or at the container (the pod spec) when a
#   required field is missing. It stays silent where the standard does: on Windows pods
#   (`spec.os.name: windows`) for restricted's privilege escalation, seccomp and capabilities,
#   and with `hostUsers: false` for `runAsNonRoot` and `runAsUser`. The `enforce-version` label
#   is not read (the current standard is checked), nor the `warn` and `audit` labels.
#
#   This rule looks at the whole input at once (`scope: stream`): give it the Namespace
#   objects with the workloads.
#
#   ## Why
#   Pod Security admission rejects pods that break their namespace's enforced profile. A
#   Deployment, StatefulSet or Job is still accepted: its pods are not, and the rollout hangs
#   on `FailedCreate` events found at deploy time. Where nothing is enforced, the baseline
#   controls are the known ways out of a container — host namespaces, privileged mode, host
#   files, extra capabilities — and restricted is the current hardening practice.
#
#   ## How to fix
#   Set the security context the profile asks for; for restricted:
#   `securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}` on the pod
#   and `{allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}` on every container.
#   Node agents that need the host (CNI, log shippers, node exporters) belong in a namespace
#   labelled `pod-security.kubernetes.io/enforce: privileged`; keep other workloads out of it.
#
#   ## Example
#   ```yaml
#   kind: Namespace
#   metadata:
#     name: shop
#     labels: {pod-security.kubernetes.io/enforce: restricted}
#   ---
#   kind: Deployment
#   metadata: {name: web, namespace: shop}
#   spec:
#     template:
#       spec:
#         containers:
#           - name: web
#             image: ghcr.io/example/web:1.2.0
#             securityContext:
#               allowPrivilegeEscalation: true   # pod-security: restricted requires false
#   ```
# custom:
#   level: error
#   category: security
#   kinds: [workloads, Namespace]
#   scope: stream
package kvet.rules.pod_security

import data.kvet.lib.workload
import rego.v1

enforce_label := "pod-security.kubernetes.io/enforce"

profiles := {"privileged", "baseline", "restricted"}

# Namespaces of the input as [name, index], sorted: the first of each name leads its group.
namespace_entries := sort([[o.metadata.name, i] | some i, o in input.objects; o.kind == "Namespace"])

# The index of the first Namespace of each name (a later copy, say another overlay's, is ignored).
namespace_index := {entry[0]: entry[1] |
	some k, entry in namespace_entries
	not same_namespace_as_previous(k)
}

same_namespace_as_previous(k) if {
	k > 0
	namespace_entries[k][0] == namespace_entries[k - 1][0]
}

# The profile a workload is held to: its Namespace's enforce label, the option, or baseline.
profile(o) := label_profile(value) if {
	value := input.objects[namespace_index[o.metadata.namespace]].metadata.labels[enforce_label]
} else := option if {
	option := data.kvet.options.pod_security.profile
	option in profiles
} else := "baseline"

# Pod Security admission reads a label value it does not know as restricted.
label_profile(value) := value if value in profiles

label_profile(value) := "restricted" if not value in profiles

# Every workload to check, with what the controls need. The pod spec and containers are found
# here rather than with data.kvet.lib.workload's helpers, which read `input` as one object and
# fail on a `null` list (`initContainers: null`): in a whole-stream rule that would stop the
# rule for the whole run.
pods contains pod if {
	some i, o in input.objects
	template_path := workload.template_path(o)
	spec_path := array.concat(template_path, ["spec"])
	spec := object.get(o, spec_path, null)
	is_object(spec)
	level := profile(o)
	level != "privileged"
	containers := [{"path": array.concat(spec_path, [field, j]), "container": c, "field": field} |
		some field in ["initContainers", "containers", "ephemeralContainers"]
		some j, c in array_at(spec, [field])
		is_object(c)
	]
	metadata_path := array.concat(template_path, ["metadata"])
	pod := {
		"object": i,
		"level": level,
		"path": spec_path,
		"spec": spec,
		"metadata_path": metadata_path,
		"annotations": object.get(o, array.concat(metadata_path, ["annotations"]), {}),
		"containers": containers,
		"contexts": array.concat(pod_context(spec, spec_path), [container_context(c) | some c in containers; is_object(c.container.securityContext)]),
		"windows": windows(spec),
		"user_namespace": user_namespace(spec),
	}
}

windows(spec) := true if spec.os.name == "windows"
else := false

user_namespace(spec) := true if spec.hostUsers == false
else := false

# The security contexts of the pod and its containers, for the controls that read both.
pod_context(spec, path) := [{"who": "pod", "path": array.concat(path, ["securityContext"]), "sc": spec.securityContext}] if {
	is_object(spec.securityContext)
} else := []

container_context(c) := {"who": who(c), "path": array.concat(c.path, ["securityContext"]), "sc": c.container.securityContext}

container_words := {"initContainers": "init container", "containers": "container", "ephemeralContainers": "ephemeral container"}

who(c) := sprintf("%s %s", [container_words[c.field], quote(object.get(c.container, "name", ""))])

quote(x) := sprintf("%q", [sprintf("%v", [x])])

quote_all(xs) := concat(", ", [quote(x) | some x in xs])

# The array at path in obj, [] when missing or not an array.
array_at(obj, path) := value if {
	value := object.get(obj, path, [])
	is_array(value)
} else := []

# The path of a field when it is set, else of the mapping that should hold it.
field_or(base, obj, rel) := array.concat(base, rel) if object.get(obj, rel, null) != null
else := base

finding(pod, path, msg) := {"object": pod.object, "path": path, "msg": msg}

# The restricted controls that replace baseline ones (capabilities, seccomp) apply to Linux pods.
restricted_linux(pod) if {
	pod.level == "restricted"
	not pod.windows
}

# ---- baseline ----

pod_flags := [
	{"field": ["hostNetwork"], "control": "Host Namespaces"},
	{"field": ["hostPID"], "control": "Host Namespaces"},
	{"field": ["hostIPC"], "control": "Host Namespaces"},
	{"field": ["securityContext", "windowsOptions", "hostProcess"], "control": "HostProcess"},
]

container_flags := [
	{"field": ["securityContext", "privileged"], "control": "Privileged Containers"},
	{"field": ["securityContext", "windowsOptions", "hostProcess"], "control": "HostProcess"},
]

deny contains finding(pod, array.concat(pod.path, flag.field), msg) if {
	some pod in pods
	some flag in pod_flags
	object.get(pod.spec, flag.field, false) == true
	msg := sprintf("pod: %s forbids %s: true (%s)", [pod.level, concat(".", flag.field), flag.control])
}

deny contains finding(pod, array.concat(c.path, flag.field), msg) if {
	some pod in pods
	some c in pod.containers
	some flag in container_flags
	object.get(c.container, flag.field, false) == true
	msg := sprintf("%s: %s forbids %s: true (%s)", [who(c), pod.level, concat(".", flag.field), flag.control])
}

deny contains finding(pod, array.concat(c.path, ["securityContext", "capabilities", "add", bad[0][0]]), msg) if {
	some pod in pods
	not restricted_linux(pod)
	some c in pod.containers
	bad := [[j, cap] | some j, cap in array_at(c.container, ["securityContext", "capabilities", "add"]); not cap in workload.baseline_capabilities]
	count(bad) > 0
	msg := sprintf("%s: %s forbids adding capabilities %s, beyond the default set (Capabilities)", [who(c), pod.level, quote_all([b[1] | some b in bad])])
}

deny contains finding(pod, array.concat(pod.path, ["volumes", bad[0][0], "hostPath"]), msg) if {
	some pod in pods
	pod.level == "baseline"
	bad := [[j, object.get(v, "name", "")] | some j, v in array_at(pod.spec, ["volumes"]); v.hostPath != null]
	count(bad) > 0
	msg := sprintf("pod: %s forbids hostPath volumes: %s (HostPath Volumes)", [pod.level, quote_all([b[1] | some b in bad])])
}

deny contains finding(pod, array.concat(c.path, ["ports", bad[0][0], "hostPort"]), msg) if {
	some pod in pods
	some c in pod.containers
	bad := [[j, port.hostPort] | some j, port in array_at(c.container, ["ports"]); is_number(port.hostPort); port.hostPort != 0]
	count(bad) > 0
	msg := sprintf("%s: %s forbids hostPort %s (Host Ports)", [who(c), pod.level, concat(", ", [sprintf("%v", [b[1]]) | some b in bad])])
}

deny contains finding(pod, array.concat(ctx.path, ["appArmorProfile", "type"]), msg) if {
	some pod in pods
	some ctx in pod.contexts
	type := ctx.sc.appArmorProfile.type
	not type in {"RuntimeDefault", "Localhost", null}
	msg := sprintf("%s: %s forbids appArmorProfile.type %s: only RuntimeDefault or Localhost (AppArmor)", [ctx.who, pod.level, quote(type)])
}

apparmor_prefix := "container.apparmor.security.beta.kubernetes.io/"

deny contains finding(pod, array.concat(pod.metadata_path, ["annotations", key]), msg) if {
	some pod in pods
	is_object(pod.annotations)
	some key, value in pod.annotations
	startswith(key, apparmor_prefix)
	is_string(value)
	not apparmor_annotation_allowed(value)
	name := substring(key, count(apparmor_prefix), -1)
	msg := sprintf("container %s: %s forbids the AppArmor profile %s: only runtime/default or localhost/* (AppArmor)", [quote(name), pod.level, quote(value)])
}

apparmor_annotation_allowed(value) if value in {"", "runtime/default"}

apparmor_annotation_allowed(value) if startswith(value, "localhost/")

selinux_types := {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t", null}

deny contains finding(pod, array.concat(ctx.path, ["seLinuxOptions", "type"]), msg) if {
	some pod in pods
	some ctx in pod.contexts
	type := ctx.sc.seLinuxOptions.type
	not type in selinux_types
	msg := sprintf("%s: %s forbids seLinuxOptions.type %s: only container_t, container_init_t, container_kvm_t or container_engine_t (SELinux)", [ctx.who, pod.level, quote(type)])
}

deny contains finding(pod, array.concat(ctx.path, ["seLinuxOptions", field]), msg) if {
	some pod in pods
	some ctx in pod.contexts
	some field in ["user", "role"]
	value := ctx.sc.seLinuxOptions[field]
	not value in {"", null}
	msg := sprintf("%s: %s forbids setting seLinuxOptions.%s (SELinux)", [ctx.who, pod.level, field])
}

deny contains finding(pod, array.concat(c.path, ["securityContext", "procMount"]), msg) if {
	some pod in pods
	proc_mount_checked(pod)
	some c in pod.containers
	mount := c.container.securityContext.procMount
	not mount in {"Default", null}
	msg := sprintf("%s: %s forbids procMount %s: only Default (/proc Mount Type)", [who(c), pod.level, quote(mount)])
}

# User namespaces (hostUsers: false) relax the /proc mount type for baseline only.
proc_mount_checked(pod) if pod.level == "restricted"

proc_mount_checked(pod) if not pod.user_namespace

deny contains finding(pod, array.concat(ctx.path, ["seccompProfile", "type"]), msg) if {
	some pod in pods
	not restricted_linux(pod)
	some ctx in pod.contexts
	ctx.sc.seccompProfile.type == "Unconfined"
	msg := sprintf("%s: %s forbids seccompProfile.type: Unconfined (Seccomp)", [ctx.who, pod.level])
}

safe_sysctls := {
	"kernel.shm_rmid_forced",
	"net.ipv4.ip_local_port_range",
	"net.ipv4.ip_local_reserved_ports",
	"net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.ping_group_range",
	"net.ipv4.tcp_syncookies",
	"net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
	"net.ipv4.tcp_fin_timeout",
}

deny contains finding(pod, array.concat(pod.path, ["securityContext", "sysctls", bad[0][0], "name"]), msg) if {
	some pod in pods
	bad := [[j, name] | some j, sysctl in array_at(pod.spec, ["securityContext", "sysctls"]); name := sysctl.name; not name in safe_sysctls]
	count(bad) > 0
	msg := sprintf("pod: %s forbids sysctls %s, outside the safe set (Sysctls)", [pod.level, quote_all([b[1] | some b in bad])])
}

# ---- restricted ----

restricted_volume_types := {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}

# The source keys of a volume; none means emptyDir (the API server's default).
volume_types(v) := [key | some key, value in v; key != "name"; value != null]

allowed_volume(v) if count(volume_types(v)) == 0

allowed_volume(v) if {
	some key in volume_types(v)
	key in restricted_volume_types
}

deny contains finding(pod, array.concat(pod.path, ["volumes", bad[0][0], bad[0][2]]), msg) if {
	some pod in pods
	pod.level == "restricted"
	bad := [[j, object.get(v, "name", ""), volume_types(v)[0]] |
		some j, v in array_at(pod.spec, ["volumes"])
		is_object(v)
		not allowed_volume(v)
	]
	count(bad) > 0
	volumes := concat(", ", [sprintf("%s (%s)", [quote(b[1]), b[2]]) | some b in bad])
	msg := sprintf("pod: %s forbids volumes %s: only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret (Volume Types)", [pod.level, volumes])
}

deny contains finding(pod, field_or(c.path, c.container, ["securityContext", "allowPrivilegeEscalation"]), msg) if {
	some pod in pods
	restricted_linux(pod)
	some c in pod.containers
	not c.container.securityContext.allowPrivilegeEscalation == false
	msg := sprintf("%s: %s requires securityContext.allowPrivilegeEscalation: false (Privilege Escalation)", [who(c), pod.level])
}

# Running as non-root and as a non-zero user are not required in a user namespace.
non_root_checked(pod) if {
	pod.level == "restricted"
	not pod.user_namespace
}

deny contains finding(pod, array.concat(ctx.path, ["runAsNonRoot"]), msg) if {
	some pod in pods
	non_root_checked(pod)
	some ctx in pod.contexts
	ctx.sc.runAsNonRoot == false
	msg := sprintf("%s: %s forbids runAsNonRoot: false (Running as Non-root)", [ctx.who, pod.level])
}

deny contains finding(pod, c.path, msg) if {
	some pod in pods
	non_root_checked(pod)
	object.get(pod.spec, ["securityContext", "runAsNonRoot"], null) == null
	some c in pod.containers
	object.get(c.container, ["securityContext", "runAsNonRoot"], null) == null
	msg := sprintf("%s: %s requires runAsNonRoot: true in the container's or the pod's securityContext (Running as Non-root)", [who(c), pod.level])
}

deny contains finding(pod, array.concat(ctx.path, ["runAsUser"]), msg) if {
	some pod in pods
	non_root_checked(pod)
	some ctx in pod.contexts
	ctx.sc.runAsUser == 0
	msg := sprintf("%s: %s forbids runAsUser: 0 (Running as Non-root user)", [ctx.who, pod.level])
}

seccomp_types := {"RuntimeDefault", "Localhost"}

deny contains finding(pod, field_or(array.concat(ctx.path, ["seccompProfile"]), ctx.sc.seccompProfile, ["type"]), msg) if {
	some pod in pods
	restricted_linux(pod)
	some ctx in pod.contexts
	is_object(ctx.sc.seccompProfile)
	type := object.get(ctx.sc.seccompProfile, "type", "")
	not type in seccomp_types
	msg := sprintf("%s: %s requires seccompProfile.type RuntimeDefault or Localhost, not %s (Seccomp)", [ctx.who, pod.level, quote(type)])
}

deny contains finding(pod, c.path, msg) if {
	some pod in pods
	restricted_linux(pod)
	object.get(pod.spec, ["securityContext", "seccompProfile"], null) == null
	some c in pod.containers
	object.get(c.container, ["securityContext", "seccompProfile"], null) == null
	msg := sprintf("%s: %s requires seccompProfile.type RuntimeDefault or Localhost in the container's or the pod's securityContext (Seccomp)", [who(c), pod.level])
}

deny contains finding(pod, field_or(c.path, c.container, ["securityContext", "capabilities", "drop"]), msg) if {
	some pod in pods
	restricted_linux(pod)
	some c in pod.containers
	not "ALL" in array_at(c.container, ["securityContext", "capabilities", "drop"])
	msg := sprintf("%s: %s requires securityContext.capabilities.drop: [ALL] (Capabilities)", [who(c), pod.level])
}

deny contains finding(pod, array.concat(c.path, ["securityContext", "capabilities", "add", bad[0][0]]), msg) if {
	some pod in pods
	restricted_linux(pod)
	some c in pod.containers
	bad := [[j, cap] | some j, cap in array_at(c.container, ["securityContext", "capabilities", "add"]); cap != "NET_BIND_SERVICE"]
	count(bad) > 0
	msg := sprintf("%s: %s forbids adding capabilities %s: only NET_BIND_SERVICE (Capabilities)", [who(c), pod.level, quote_all([b[1] | some b in bad])])
}
