package kvet.rules.pod_security_test

import data.kvet.rules.pod_security
import rego.v1

restricted_namespace := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop", "labels": {"pod-security.kubernetes.io/enforce": "restricted"}}}

deployment(namespace, pod_spec) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": namespace},
	"spec": {"template": {"spec": pod_spec}},
}

# A container and a pod spec that pass restricted.
hardened := {
	"name": "web",
	"image": "web:1",
	"securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}},
}

hardened_pod := {
	"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
	"containers": [hardened],
}

with_container(overrides) := object.union(hardened, overrides)

# Findings for one Deployment in the default (baseline) profile, and in a restricted namespace.
baseline(pod_spec) := results if {
	results := pod_security.deny with input as {"objects": [deployment("shop", pod_spec)]}
}

restricted(pod_spec) := results if {
	results := pod_security.deny with input as {"objects": [restricted_namespace, deployment("shop", pod_spec)]}
}

pod_path := ["spec", "template", "spec"]

container_path := ["spec", "template", "spec", "containers", 0]

test_a_plain_pod_passes_baseline if {
	count(baseline({"containers": [{"name": "web", "image": "web:1"}]})) == 0
}

test_a_hardened_pod_passes_restricted if {
	count(restricted(hardened_pod)) == 0
}

test_host_namespaces_one_finding_per_field if {
	results := baseline({"hostNetwork": true, "hostPID": true, "hostIPC": false, "containers": [{"name": "a"}]})
	{r.path | some r in results} == {array.concat(pod_path, ["hostNetwork"]), array.concat(pod_path, ["hostPID"])}
	some r in results
	r.msg == "pod: baseline forbids hostNetwork: true (Host Namespaces)"
	r.object == 0
}

test_privileged_and_host_process_containers if {
	results := baseline({
		"securityContext": {"windowsOptions": {"hostProcess": true}},
		"initContainers": [{"name": "init", "securityContext": {"privileged": true}}],
		"containers": [{"name": "agent", "securityContext": {"windowsOptions": {"hostProcess": true}}}],
		"ephemeralContainers": [{"name": "debug", "securityContext": {"privileged": false}}],
	})
	count(results) == 3
	some r1 in results
	r1.msg == `init container "init": baseline forbids securityContext.privileged: true (Privileged Containers)`
	r1.path == array.concat(pod_path, ["initContainers", 0, "securityContext", "privileged"])
	some r2 in results
	r2.msg == `container "agent": baseline forbids securityContext.windowsOptions.hostProcess: true (HostProcess)`
	some r3 in results
	r3.path == array.concat(pod_path, ["securityContext", "windowsOptions", "hostProcess"])
}

test_baseline_capabilities_beyond_the_default_set if {
	results := baseline({"containers": [{"name": "net", "securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE", "NET_ADMIN", "SYS_TIME"]}}}]})
	count(results) == 1
	some r in results
	r.path == array.concat(container_path, ["securityContext", "capabilities", "add", 1])
	r.msg == `container "net": baseline forbids adding capabilities "NET_ADMIN", "SYS_TIME", beyond the default set (Capabilities)`
	count(baseline({"containers": [{"name": "ok", "securityContext": {"capabilities": {"add": ["CHOWN", "KILL"], "drop": null}}}]})) == 0
}

test_host_path_volumes_one_finding_per_pod if {
	results := baseline({"containers": [{"name": "a"}], "volumes": [
		{"name": "cache", "emptyDir": {}},
		{"name": "logs", "hostPath": {"path": "/var/log"}},
		{"name": "run", "hostPath": {"path": "/run"}},
	]})
	count(results) == 1
	some r in results
	r.path == array.concat(pod_path, ["volumes", 1, "hostPath"])
	contains(r.msg, `hostPath volumes: "logs", "run" (HostPath Volumes)`)
}

test_host_ports if {
	results := baseline({"containers": [{"name": "dns", "ports": [{"containerPort": 53}, {"containerPort": 53, "hostPort": 0}, {"containerPort": 8053, "hostPort": 53}]}]})
	count(results) == 1
	some r in results
	r.path == array.concat(container_path, ["ports", 2, "hostPort"])
	r.msg == `container "dns": baseline forbids hostPort 53 (Host Ports)`
}

test_apparmor_fields_and_annotations if {
	results := pod_security.deny with input as {"objects": [{
		"apiVersion": "v1",
		"kind": "Pod",
		"metadata": {"name": "p", "annotations": {
			"container.apparmor.security.beta.kubernetes.io/web": "unconfined",
			"container.apparmor.security.beta.kubernetes.io/side": "localhost/k8s-side",
			"container.apparmor.security.beta.kubernetes.io/init": "runtime/default",
			"example.com/other": "unconfined",
		}},
		"spec": {
			"securityContext": {"appArmorProfile": {"type": "Unconfined"}},
			"containers": [
				{"name": "web", "securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}},
				{"name": "side", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}},
			],
		},
	}]}
	count(results) == 3
	some r1 in results
	r1.path == ["metadata", "annotations", "container.apparmor.security.beta.kubernetes.io/web"]
	r1.msg == `container "web": baseline forbids the AppArmor profile "unconfined": only runtime/default or localhost/* (AppArmor)`
	some r2 in results
	r2.path == ["spec", "securityContext", "appArmorProfile", "type"]
	some r3 in results
	r3.path == ["spec", "containers", 1, "securityContext", "appArmorProfile", "type"]
	r3.msg == `container "side": baseline forbids appArmorProfile.type "Unconfined": only RuntimeDefault or Localhost (AppArmor)`
}

test_selinux_type_user_and_role if {
	results := baseline({
		"securityContext": {"seLinuxOptions": {"type": "spc_t"}},
		"containers": [
			{"name": "a", "securityContext": {"seLinuxOptions": {"type": "container_t", "user": "system_u", "role": "system_r"}}},
			{"name": "b", "securityContext": {"seLinuxOptions": {"level": "s0:c123,c456", "user": ""}}},
		],
	})
	count(results) == 3
	some r1 in results
	r1.path == array.concat(pod_path, ["securityContext", "seLinuxOptions", "type"])
	r1.msg == `pod: baseline forbids seLinuxOptions.type "spc_t": only container_t, container_init_t, container_kvm_t or container_engine_t (SELinux)`
	some r2 in results
	r2.path == array.concat(container_path, ["securityContext", "seLinuxOptions", "role"])
	r2.msg == `container "a": baseline forbids setting seLinuxOptions.role (SELinux)`
}

test_proc_mount_is_relaxed_in_user_namespaces_for_baseline_only if {
	spec := {"containers": [with_container({"securityContext": {"procMount": "Unmasked"}})]}
	some r in baseline(spec)
	r.path == array.concat(container_path, ["securityContext", "procMount"])
	r.msg == `container "web": baseline forbids procMount "Unmasked": only Default (/proc Mount Type)`
	user_ns := object.union(spec, {"hostUsers": false})
	count(baseline(user_ns)) == 0
	some r2 in restricted(object.union(hardened_pod, {"hostUsers": false, "containers": [with_container({"securityContext": {
		"procMount": "Unmasked",
		"allowPrivilegeEscalation": false,
		"capabilities": {"drop": ["ALL"]},
	}})]}))
	r2.path == array.concat(container_path, ["securityContext", "procMount"])
}

test_seccomp_unconfined_in_baseline if {
	results := baseline({"securityContext": {"seccompProfile": {"type": "Unconfined"}}, "containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}]})
	{r.path | some r in results} == {
		array.concat(pod_path, ["securityContext", "seccompProfile", "type"]),
		array.concat(container_path, ["securityContext", "seccompProfile", "type"]),
	}
	some r in results
	r.msg == `pod: baseline forbids seccompProfile.type: Unconfined (Seccomp)`
}

test_sysctls_outside_the_safe_set if {
	results := baseline({"securityContext": {"sysctls": [
		{"name": "net.ipv4.tcp_keepalive_time", "value": "60"},
		{"name": "net.core.somaxconn", "value": "1024"},
		{"name": "kernel.msgmax", "value": "65536"},
	]}, "containers": [{"name": "a"}]})
	count(results) == 1
	some r in results
	r.path == array.concat(pod_path, ["securityContext", "sysctls", 1, "name"])
	r.msg == `pod: baseline forbids sysctls "net.core.somaxconn", "kernel.msgmax", outside the safe set (Sysctls)`
}

test_restricted_needs_every_field_on_a_bare_container if {
	results := restricted({"containers": [{"name": "web", "image": "web:1"}]})
	{r.msg | some r in results} == {
		`container "web": restricted requires securityContext.allowPrivilegeEscalation: false (Privilege Escalation)`,
		`container "web": restricted requires runAsNonRoot: true in the container's or the pod's securityContext (Running as Non-root)`,
		`container "web": restricted requires seccompProfile.type RuntimeDefault or Localhost in the container's or the pod's securityContext (Seccomp)`,
		`container "web": restricted requires securityContext.capabilities.drop: [ALL] (Capabilities)`,
	}
	every r in results {
		r.path == container_path
		r.object == 1
	}
}

test_restricted_points_at_wrong_values if {
	results := restricted({
		"securityContext": {"runAsNonRoot": false, "runAsUser": 0, "seccompProfile": {"type": "Unconfined"}},
		"containers": [with_container({"securityContext": {
			"allowPrivilegeEscalation": true,
			"runAsUser": 0,
			"seccompProfile": {},
			"capabilities": {"drop": ["NET_RAW"], "add": ["NET_BIND_SERVICE", "SYS_ADMIN"]},
		}})],
	})
	sc := array.concat(container_path, ["securityContext"])
	pod_sc := array.concat(pod_path, ["securityContext"])
	{r.path | some r in results} == {
		array.concat(sc, ["allowPrivilegeEscalation"]),
		array.concat(sc, ["runAsUser"]),
		array.concat(sc, ["seccompProfile"]),
		array.concat(sc, ["capabilities", "drop"]),
		array.concat(sc, ["capabilities", "add", 1]),
		array.concat(pod_sc, ["runAsNonRoot"]),
		array.concat(pod_sc, ["runAsUser"]),
		array.concat(pod_sc, ["seccompProfile", "type"]),
	}
	msgs := {r.msg | some r in results}
	`pod: restricted forbids runAsNonRoot: false (Running as Non-root)` in msgs
	`container "web": restricted forbids runAsUser: 0 (Running as Non-root user)` in msgs
	`pod: restricted requires seccompProfile.type RuntimeDefault or Localhost, not "Unconfined" (Seccomp)` in msgs
	`container "web": restricted forbids adding capabilities "SYS_ADMIN": only NET_BIND_SERVICE (Capabilities)` in msgs
}

test_restricted_container_run_as_non_root_false if {
	results := restricted(object.union(hardened_pod, {"containers": [with_container({"securityContext": {
		"runAsNonRoot": false,
		"allowPrivilegeEscalation": false,
		"capabilities": {"drop": ["ALL"]},
	}})]}))
	count(results) == 1
	some r in results
	r.path == array.concat(container_path, ["securityContext", "runAsNonRoot"])
}

test_restricted_container_level_settings_suffice if {
	container := with_container({"securityContext": {
		"runAsNonRoot": true,
		"seccompProfile": {"type": "Localhost", "localhostProfile": "web.json"},
		"allowPrivilegeEscalation": false,
		"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
	}})
	count(restricted({"containers": [container]})) == 0
}

test_restricted_volume_types if {
	results := restricted(object.union(hardened_pod, {"volumes": [
		{"name": "config", "configMap": {"name": "web"}},
		{"name": "scratch"},
		{"name": "shared", "nfs": {"server": "nfs.example.com", "path": "/exports"}},
		{"name": "logs", "hostPath": {"path": "/var/log"}},
	]}))
	count(results) == 1
	some r in results
	r.path == array.concat(pod_path, ["volumes", 2, "nfs"])
	r.msg == `pod: restricted forbids volumes "shared" (nfs), "logs" (hostPath): only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret (Volume Types)`
}

test_restricted_replaces_the_baseline_capability_and_seccomp_findings if {
	results := restricted(object.union(hardened_pod, {"containers": [with_container({"securityContext": {
		"allowPrivilegeEscalation": false,
		"seccompProfile": {"type": "Unconfined"},
		"capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN"]},
	}})]}))
	count(results) == 2
	every r in results {
		startswith(r.msg, `container "web": restricted `)
	}
}

test_windows_pods_are_exempt_from_linux_only_restricted_controls if {
	results := restricted({
		"os": {"name": "windows"},
		"securityContext": {"runAsNonRoot": true},
		"containers": [{"name": "iis", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}, "seccompProfile": {"type": "Unconfined"}}}],
	})
	{r.msg | some r in results} == {
		`container "iis": restricted forbids adding capabilities "SYS_ADMIN", beyond the default set (Capabilities)`,
		`container "iis": restricted forbids seccompProfile.type: Unconfined (Seccomp)`,
	}
}

test_user_namespaces_relax_non_root if {
	count(restricted(object.union(hardened_pod, {"hostUsers": false, "securityContext": {"runAsUser": 0, "seccompProfile": {"type": "RuntimeDefault"}}}))) == 0
}

test_profile_from_namespace_label if {
	privileged_ns := {"kind": "Namespace", "metadata": {"name": "kube-system", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}
	node_agent := deployment("kube-system", {"hostNetwork": true, "containers": [{"name": "agent", "securityContext": {"privileged": true}}]})
	count(pod_security.deny) == 0 with input as {"objects": [node_agent, privileged_ns]}

	# A later Namespace of the same name does not count; an unknown label value is restricted.
	typo_ns := {"kind": "Namespace", "metadata": {"name": "shop", "labels": {"pod-security.kubernetes.io/enforce": "restricetd"}}}
	other := {"kind": "Namespace", "metadata": {"name": "shop", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}}}
	results := pod_security.deny with input as {"objects": [typo_ns, deployment("shop", {"containers": [hardened]}), other]}
	count(results) == 2
	every r in results {
		contains(r.msg, "restricted requires")
		r.object == 1
	}
}

test_profile_from_the_option_when_no_namespace_says if {
	unlabelled := {"kind": "Namespace", "metadata": {"name": "shop"}}
	no_namespace := {"kind": "Deployment", "metadata": {"name": "web"}, "spec": {"template": {"spec": {"containers": [hardened]}}}}
	input_objects := {"objects": [restricted_namespace, no_namespace]}
	count(pod_security.deny) == 0 with input as input_objects
	count(pod_security.deny) == 2 with input as input_objects with data.kvet.options.pod_security as {"profile": "restricted"}
	count(pod_security.deny) == 2 with input as {"objects": [unlabelled, deployment("shop", {"containers": [hardened]})]}
		with data.kvet.options.pod_security as {"profile": "restricted"}
	count(pod_security.deny) == 0 with input as {"objects": [no_namespace]} with data.kvet.options.pod_security as {"profile": "strict"}
}

test_kinds_without_pods_and_odd_values_are_skipped if {
	count(pod_security.deny) == 0 with input as {"objects": [
		restricted_namespace,
		{"kind": "Rollout", "metadata": {"name": "r", "namespace": "shop"}, "spec": {"workloadRef": {"kind": "Deployment", "name": "web"}}},
		deployment("shop", object.union(hardened_pod, {
			"volumes": null,
			"initContainers": null,
			"containers": [
				"not a container",
				with_container({"ports": [{"containerPort": 80, "hostPort": null}]}),
			],
		})),
	]}
}

test_cronjob_paths if {
	cron := {"kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": {"spec": {"template": {
		"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/job": "unconfined"}},
		"spec": {"containers": [{"name": "job"}]},
	}}}}}
	some r in pod_security.deny with input as {"objects": [cron]}
	r.path == ["spec", "jobTemplate", "spec", "template", "metadata", "annotations", "container.apparmor.security.beta.kubernetes.io/job"]
}
