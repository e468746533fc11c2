//! Kyverno's `validate.podSecurity` rule: the Pod Security Standards checks of
//! `k8s.io/pod-security-admission/policy` (`check_*.go`, run with field errors as Kyverno's
//! fork does) and Kyverno's exclusions (`pkg/pss/evaluate.go`, `pkg/pss/utils/mapping.go`).
//!
//! Like Kyverno's `evaluatePSS`, checks are taken from PSA's default registrations without
//! PSA's overrides: `restricted` runs every baseline check too (so an added `SYS_ADMIN`
//! breaks both `capabilities_baseline` and `capabilities_restricted`). `latest` runs the newest
//! revision of each check; a pinned `v1.N` runs every revision registered at or before 1.N and
//! a check fails when any of them does (Kyverno keeps the last failing one per check).
//!
//! Known departures: `procMount_restricted` (PSA 1.35) is excludable as `/proc Mount Type`,
//! which Kyverno's mapping misses; AppArmor errors carry field paths (the fork's check has
//! none, which makes Kyverno fail on an AppArmor exclusion).

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::scalar::wildcard_match;

/// One control the pod breaks, after Kyverno's exclusions (one per offending field).
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Kyverno's/PSA's control name ("Capabilities", "Host Namespaces", ...).
    pub control: String,
    /// RFC 6901 pointer into the OBJECT of the offending field, or of the container/pod spec
    /// when a required field is missing.
    pub pointer: String,
    /// PSA's message style: `reason (detail)`.
    pub message: String,
}

/// Evaluates a `podSecurity` block on a Pod or pod controller. Other kinds: no violation.
/// `Err` for a block Kyverno refuses (unknown level, bad version).
pub fn evaluate(block: &Value, object: &Value) -> Result<Vec<Violation>, String> {
    let Some(level) = parse_level(block.get("level"))? else {
        return Ok(Vec::new());
    };
    let version = parse_version(block.get("version"))?;
    let Some((prefix, meta, spec)) = pod_of(object) else {
        return Ok(Vec::new());
    };
    let pod = Pod { meta, spec };
    let mut results = collapse(evaluate_pss(level, version, &pod));
    for exclude in excludes(block) {
        apply_exclusion(level, version, &exclude, &pod, &mut results);
    }
    let prefix = prefix.as_str();
    Ok(results
        .into_iter()
        .flat_map(|(check, errs)| {
            errs.into_iter().map(move |err| Violation {
                control: CHECKS[check].control.to_string(),
                pointer: format!("{prefix}{}", err.pointer),
                message: err.message,
            })
        })
        .collect())
}

#[derive(Clone, Copy, PartialEq)]
enum Level {
    Baseline,
    Restricted,
}

/// `None` for privileged, which checks nothing.
fn parse_level(level: Option<&Value>) -> Result<Option<Level>, String> {
    match level.and_then(Value::as_str) {
        Some("privileged") => Ok(None),
        Some("baseline") => Ok(Some(Level::Baseline)),
        Some("restricted") => Ok(Some(Level::Restricted)),
        _ => Err(format!("podSecurity: invalid level {}", show(level))),
    }
}

/// The minor of `v1.N` (PSA's `api.ParseVersion`), `None` for latest.
fn parse_version(version: Option<&Value>) -> Result<Option<u32>, String> {
    let text = match version {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) if s.is_empty() || s == "latest" => return Ok(None),
        Some(Value::String(s)) => s,
        Some(_) => return Err(format!("podSecurity: invalid version {}", show(version))),
    };
    let minor = text.strip_prefix("v1.").filter(|m| {
        !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()) && (m == &"0" || !m.starts_with('0'))
    });
    minor
        .and_then(|m| m.parse::<u32>().ok())
        .map(Some)
        .ok_or_else(|| format!("podSecurity: invalid version {text:?}"))
}

fn show(value: Option<&Value>) -> String {
    value.map_or_else(|| "(none)".to_string(), Value::to_string)
}

/// The pointer prefix, metadata and spec of the pod an object runs.
fn pod_of(object: &Value) -> Option<(String, &Value, &Value)> {
    let (path, template) = super::autogen::pod_template(object)?;
    let prefix: String = path.iter().map(|key| format!("/{key}")).collect();
    let spec = template.get("spec").filter(|s| s.is_object())?;
    Some((
        prefix,
        template.get("metadata").unwrap_or(&Value::Null),
        spec,
    ))
}

struct Exclude {
    control: String,
    images: Vec<String>,
    field: String,
    values: Vec<String>,
}

fn excludes(block: &Value) -> Vec<Exclude> {
    let strings = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
    block
        .get("exclude")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|e| Exclude {
                    control: text(e.get("controlName")),
                    images: strings(e.get("images")),
                    field: text(e.get("restrictedField")),
                    values: strings(e.get("values")),
                })
                .collect()
        })
        .unwrap_or_default()
}

// ---- the pod and its containers ----

struct Pod<'a> {
    meta: &'a Value,
    spec: &'a Value,
}

const CONTAINER_KINDS: [&str; 3] = ["initContainers", "containers", "ephemeralContainers"];

/// A container as PSA's `visitContainers` hands it over: init, regular, then ephemeral.
struct Ctr<'a> {
    kind: &'static str,
    index: usize,
    value: &'a Value,
}

impl Ctr<'_> {
    fn name(&self) -> &str {
        self.value
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    fn get(&self, path: &[&str]) -> Option<&Value> {
        at(self.value, path)
    }

    /// The path of a field of this container.
    fn path(&self, rest: &[&str]) -> Vec<Seg> {
        let mut path = vec![
            Seg::F("spec".into()),
            Seg::F(self.kind.into()),
            Seg::I(self.index),
        ];
        path.extend(rest.iter().map(|s| Seg::F((*s).to_string())));
        path
    }

    fn quoted(&self) -> String {
        format!("container {:?}", self.name())
    }
}

fn containers(spec: &Value) -> Vec<Ctr<'_>> {
    CONTAINER_KINDS
        .iter()
        .flat_map(|kind| {
            let list = spec.get(*kind).and_then(Value::as_array);
            list.into_iter()
                .flatten()
                .enumerate()
                .map(|(index, value)| Ctr { kind, index, value })
        })
        .collect()
}

/// The value at a path, `None` when missing or null (Go's nil).
fn at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter()
        .try_fold(value, |v, key| v.get(*key))
        .filter(|v| !v.is_null())
}

fn str_at<'a>(value: &'a Value, path: &[&str]) -> Option<&'a str> {
    at(value, path).and_then(Value::as_str)
}

fn is_windows(pod: &Pod) -> bool {
    str_at(pod.spec, &["os", "name"]) == Some("windows")
}

/// PSA's `relaxPolicyForUserNamespacePod`: `hostUsers: false`.
fn user_namespace(pod: &Pod) -> bool {
    pod.spec.get("hostUsers") == Some(&Value::Bool(false))
}

// ---- field errors ----

/// A segment of a Go `field.Path`: child, index or key.
enum Seg {
    F(String),
    I(usize),
    K(String),
}

/// One PSA field error, with the values Kyverno's `extractBadValues` reads from it.
struct FieldErr {
    field: String,
    pointer: String,
    bad: Vec<String>,
    message: String,
}

fn go_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::F(name) if out.is_empty() => out.push_str(name),
            Seg::F(name) => {
                out.push('.');
                out.push_str(name);
            }
            Seg::I(i) => out.push_str(&format!("[{i}]")),
            Seg::K(key) => out.push_str(&format!("[{key}]")),
        }
    }
    out
}

fn pointer(path: &[Seg]) -> String {
    path.iter()
        .map(|seg| match seg {
            Seg::F(s) | Seg::K(s) => format!("/{}", s.replace('~', "~0").replace('/', "~1")),
            Seg::I(i) => format!("/{i}"),
        })
        .collect()
}

/// `field.Forbidden(path).withBadValue(...)`: the pointer is the field itself.
fn forbid(path: &[Seg], bad: Vec<String>, reason: &str, detail: String) -> FieldErr {
    FieldErr {
        field: go_path(path),
        pointer: pointer(path),
        bad: bad.into_iter().filter(|b| !b.is_empty()).collect(),
        message: format!("{reason} ({detail})"),
    }
}

/// `field.Required(path)`: the field is missing, so the pointer is its container.
fn require(c: &Ctr, rest: &[&str], reason: &str, detail: String) -> FieldErr {
    FieldErr {
        field: go_path(&c.path(rest)),
        pointer: pointer(&c.path(&[])),
        bad: Vec::new(),
        message: format!("{reason} ({detail})"),
    }
}

fn pod_path(rest: &[&str]) -> Vec<Seg> {
    std::iter::once("spec")
        .chain(rest.iter().copied())
        .map(|s| Seg::F(s.to_string()))
        .collect()
}

fn quote_all<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
    items
        .into_iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

// ---- the checks ----

/// A PSA check: Kyverno's control name for it, its level and the minors of its revisions.
struct Check {
    control: &'static str,
    restricted: bool,
    versions: &'static [u32],
    run: fn(&Pod, u32) -> Vec<FieldErr>,
}

/// PSA's default checks in registration order (file order), each after its PSA check ID.
const CHECKS: [Check; 19] = [
    check(
        "allowPrivilegeEscalation",
        "Privilege Escalation",
        true,
        &[8, 25],
        privilege_escalation,
    ),
    check("appArmorProfile", "AppArmor", false, &[0], app_armor),
    check(
        "capabilities_baseline",
        "Capabilities",
        false,
        &[0],
        capabilities_baseline,
    ),
    check(
        "capabilities_restricted",
        "Capabilities",
        true,
        &[22, 25],
        capabilities_restricted,
    ),
    check(
        "hostNamespaces",
        "Host Namespaces",
        false,
        &[0],
        host_namespaces,
    ),
    check(
        "hostPathVolumes",
        "HostPath Volumes",
        false,
        &[0],
        host_path_volumes,
    ),
    check("hostPorts", "Host Ports", false, &[0], host_ports),
    check(
        "hostProbesAndHostLifecycle",
        "Host Probes / Lifecycle Hooks",
        false,
        &[34],
        host_probes,
    ),
    check(
        "privileged",
        "Privileged Containers",
        false,
        &[0],
        privileged,
    ),
    check("procMount", "/proc Mount Type", false, &[0, 35], proc_mount),
    check(
        "procMount_restricted",
        "/proc Mount Type",
        true,
        &[35],
        proc_mount_restricted,
    ),
    check(
        "restrictedVolumes",
        "Volume Types",
        true,
        &[0],
        restricted_volumes,
    ),
    check(
        "runAsNonRoot",
        "Running as Non-root",
        true,
        &[0, 35],
        run_as_non_root,
    ),
    check(
        "runAsUser",
        "Running as Non-root user",
        true,
        &[23, 35],
        run_as_user,
    ),
    check("seLinuxOptions", "SELinux", false, &[0, 31], se_linux),
    check(
        "seccompProfile_baseline",
        "Seccomp",
        false,
        &[0, 19],
        seccomp_baseline,
    ),
    check(
        "seccompProfile_restricted",
        "Seccomp",
        true,
        &[19, 25],
        seccomp_restricted,
    ),
    check("sysctls", "Sysctls", false, &[0, 27, 29, 32], sysctls),
    check(
        "windowsHostProcess",
        "HostProcess",
        false,
        &[0],
        host_process,
    ),
];

const fn check(
    _id: &'static str,
    control: &'static str,
    restricted: bool,
    versions: &'static [u32],
    run: fn(&Pod, u32) -> Vec<FieldErr>,
) -> Check {
    Check {
        control,
        restricted,
        versions,
        run,
    }
}

fn privilege_escalation(pod: &Pod, since: u32) -> Vec<FieldErr> {
    if since >= 25 && is_windows(pod) {
        return Vec::new();
    }
    let reason = "allowPrivilegeEscalation != false";
    let field = ["securityContext", "allowPrivilegeEscalation"];
    containers(pod.spec)
        .iter()
        .filter_map(|c| {
            let detail = format!(
                "{} must set securityContext.allowPrivilegeEscalation=false",
                c.quoted()
            );
            match c.get(&field).and_then(Value::as_bool) {
                Some(false) => None,
                Some(true) => Some(forbid(&c.path(&field), vec!["true".into()], reason, detail)),
                None => Some(require(c, &field, reason, detail)),
            }
        })
        .collect()
}

fn app_armor(pod: &Pod, _: u32) -> Vec<FieldErr> {
    let reason = "forbidden AppArmor profile";
    let bad_type = |sc: Option<&Value>| {
        let profile = at(sc?, &["appArmorProfile"])?;
        let kind = str_at(profile, &["type"]).unwrap_or_default();
        (!matches!(kind, "RuntimeDefault" | "Localhost")).then(|| kind.to_string())
    };
    let detail =
        |who: String, kind: &str| format!("{who} must not set AppArmor profile type to \"{kind}\"");
    let mut errs = Vec::new();
    if let Some(kind) = bad_type(pod.spec.get("securityContext")) {
        let path = pod_path(&["securityContext", "appArmorProfile", "type"]);
        errs.push(forbid(
            &path,
            vec![kind.clone()],
            reason,
            detail("pod".into(), &kind),
        ));
    }
    for c in containers(pod.spec) {
        if let Some(kind) = bad_type(c.value.get("securityContext")) {
            let path = c.path(&["securityContext", "appArmorProfile", "type"]);
            errs.push(forbid(
                &path,
                vec![kind.clone()],
                reason,
                detail(c.quoted(), &kind),
            ));
        }
    }
    let annotations = pod.meta.get("annotations").and_then(Value::as_object);
    for (key, value) in annotations.into_iter().flatten() {
        let Some(value) = value.as_str() else {
            continue;
        };
        let allowed =
            value.is_empty() || value == "runtime/default" || value.starts_with("localhost/");
        if key.starts_with("container.apparmor.security.beta.kubernetes.io/") && !allowed {
            let path = [
                Seg::F("metadata".into()),
                Seg::F("annotations".into()),
                Seg::K(key.clone()),
            ];
            let shown = format!("{key}=\"{value}\"");
            errs.push(forbid(
                &path,
                vec![value.into()],
                reason,
                detail("annotation".into(), &shown),
            ));
        }
    }
    errs
}

const DEFAULT_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn string_list(value: Option<&Value>) -> Vec<String> {
    let items = value.and_then(Value::as_array).into_iter().flatten();
    items.filter_map(Value::as_str).map(String::from).collect()
}

fn capabilities_baseline(pod: &Pod, _: u32) -> Vec<FieldErr> {
    let add = ["securityContext", "capabilities", "add"];
    containers(pod.spec)
        .iter()
        .filter_map(|c| {
            let bad: BTreeSet<String> = string_list(c.get(&add))
                .into_iter()
                .filter(|cap| !DEFAULT_CAPABILITIES.contains(&cap.as_str()))
                .collect();
            let detail = format!(
                "{} must not include {} in securityContext.capabilities.add",
                c.quoted(),
                quote_all(&bad)
            );
            (!bad.is_empty()).then(|| {
                forbid(
                    &c.path(&add),
                    bad.into_iter().collect(),
                    "non-default capabilities",
                    detail,
                )
            })
        })
        .collect()
}

fn capabilities_restricted(pod: &Pod, since: u32) -> Vec<FieldErr> {
    if since >= 25 && is_windows(pod) {
        return Vec::new();
    }
    let reason = "unrestricted capabilities";
    let (drop, add) = (
        ["securityContext", "capabilities", "drop"],
        ["securityContext", "capabilities", "add"],
    );
    let (mut missing, mut adding) = (Vec::new(), Vec::new());
    // The fork reports the forbidden capabilities seen so far, not just this container's.
    let mut forbidden = BTreeSet::new();
    for c in containers(pod.spec) {
        let must_drop = format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            c.quoted()
        );
        if c.get(&["securityContext", "capabilities"]).is_none() {
            missing.push(require(&c, &drop, reason, must_drop));
            continue;
        }
        let dropped = string_list(c.get(&drop));
        if !dropped.iter().any(|d| d == "ALL") {
            missing.push(forbid(&c.path(&drop), dropped, reason, must_drop));
        }
        let added: Vec<String> = string_list(c.get(&add))
            .into_iter()
            .filter(|cap| cap != "NET_BIND_SERVICE")
            .collect();
        if !added.is_empty() {
            forbidden.extend(added);
            let detail = format!(
                "{} must not include {} in securityContext.capabilities.add",
                c.quoted(),
                quote_all(&forbidden)
            );
            adding.push(forbid(
                &c.path(&add),
                forbidden.iter().cloned().collect(),
                reason,
                detail,
            ));
        }
    }
    missing.extend(adding);
    missing
}

fn host_namespaces(pod: &Pod, _: u32) -> Vec<FieldErr> {
    ["hostNetwork", "hostPID", "hostIPC"]
        .into_iter()
        .filter(|key| pod.spec.get(*key) == Some(&Value::Bool(true)))
        .map(|key| {
            forbid(
                &pod_path(&[key]),
                vec!["true".into()],
                "host namespaces",
                format!("{key}=true"),
            )
        })
        .collect()
}

fn volumes<'a>(pod: &Pod<'a>) -> impl Iterator<Item = (usize, &'a Value)> + use<'a> {
    pod.spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

fn volume_name(volume: &Value) -> String {
    volume
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn volume_path(index: usize, source: &str) -> Vec<Seg> {
    vec![
        Seg::F("spec".into()),
        Seg::F("volumes".into()),
        Seg::I(index),
        Seg::F(source.into()),
    ]
}

fn host_path_volumes(pod: &Pod, _: u32) -> Vec<FieldErr> {
    volumes(pod)
        .filter(|(_, v)| at(v, &["hostPath"]).is_some())
        .map(|(i, v)| {
            let detail = format!("volume \"{}\"", volume_name(v));
            forbid(
                &volume_path(i, "hostPath"),
                Vec::new(),
                "hostPath volumes",
                detail,
            )
        })
        .collect()
}

fn host_ports(pod: &Pod, _: u32) -> Vec<FieldErr> {
    let mut errs = Vec::new();
    for c in containers(pod.spec) {
        let ports = c
            .get(&["ports"])
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        for (j, port) in ports.enumerate() {
            let Some(host) = port
                .get("hostPort")
                .and_then(Value::as_i64)
                .filter(|p| *p != 0)
            else {
                continue;
            };
            let mut path = c.path(&["ports"]);
            path.extend([Seg::I(j), Seg::F("hostPort".into())]);
            let detail = format!("{} uses hostPort {host}", c.quoted());
            errs.push(forbid(&path, vec![host.to_string()], "hostPort", detail));
        }
    }
    errs
}

const HANDLERS: [&[&str]; 5] = [
    &["livenessProbe"],
    &["readinessProbe"],
    &["startupProbe"],
    &["lifecycle", "postStart"],
    &["lifecycle", "preStop"],
];

fn host_probes(pod: &Pod, _: u32) -> Vec<FieldErr> {
    let mut errs = Vec::new();
    for c in containers(pod.spec) {
        for handler in HANDLERS {
            for action in ["httpGet", "tcpSocket"] {
                let field: Vec<&str> = handler.iter().copied().chain([action, "host"]).collect();
                let Some(host) = c
                    .get(&field)
                    .and_then(Value::as_str)
                    .filter(|h| !h.is_empty())
                else {
                    continue;
                };
                let detail = format!("{} uses probe or lifecycle host \"{host}\"", c.quoted());
                errs.push(forbid(
                    &c.path(&field),
                    vec![host.into()],
                    "probe or lifecycle host",
                    detail,
                ));
            }
        }
    }
    errs
}

fn privileged(pod: &Pod, _: u32) -> Vec<FieldErr> {
    let field = ["securityContext", "privileged"];
    containers(pod.spec)
        .iter()
        .filter(|c| c.get(&field) == Some(&Value::Bool(true)))
        .map(|c| {
            let detail = format!(
                "{} must not set securityContext.privileged=true",
                c.quoted()
            );
            forbid(&c.path(&field), vec!["true".into()], "privileged", detail)
        })
        .collect()
}

fn proc_mount(pod: &Pod, since: u32) -> Vec<FieldErr> {
    if since >= 35 && user_namespace(pod) {
        return Vec::new();
    }
    proc_mount_restricted(pod, since)
}

fn proc_mount_restricted(pod: &Pod, _: u32) -> Vec<FieldErr> {
    let field = ["securityContext", "procMount"];
    containers(pod.spec)
        .iter()
        .filter_map(|c| {
            let mount = c
                .get(&field)
                .and_then(Value::as_str)
                .filter(|m| *m != "Default")?;
            let detail = format!(
                "{} must not set securityContext.procMount to \"{mount}\"",
                c.quoted()
            );
            Some(forbid(
                &c.path(&field),
                vec![mount.into()],
                "procMount",
                detail,
            ))
        })
        .collect()
}

const ALLOWED_VOLUMES: [&str; 9] = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

const RESTRICTED_VOLUMES: [&str; 22] = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
    "unknown",
];

fn restricted_volumes(pod: &Pod, _: u32) -> Vec<FieldErr> {
    volumes(pod)
        .filter(|(_, v)| !ALLOWED_VOLUMES.iter().any(|k| at(v, &[k]).is_some()))
        .map(|(i, v)| {
            // No source at all is "unknown" too: Kyverno does not apply the emptyDir default.
            let source = RESTRICTED_VOLUMES
                .iter()
                .find(|k| at(v, &[k]).is_some())
                .unwrap_or(&"unknown");
            let detail = format!(
                "volume \"{}\" uses restricted volume type \"{source}\"",
                volume_name(v)
            );
            forbid(
                &volume_path(i, source),
                Vec::new(),
                "restricted volume types",
                detail,
            )
        })
        .collect()
}

fn run_as_non_root(pod: &Pod, since: u32) -> Vec<FieldErr> {
    if since >= 35 && user_namespace(pod) {
        return Vec::new();
    }
    let reason = "runAsNonRoot != true";
    let field = ["securityContext", "runAsNonRoot"];
    let mut errs = Vec::new();
    let pod_value = at(pod.spec, &field).and_then(Value::as_bool);
    if pod_value == Some(false) {
        let detail = "pod must not set securityContext.runAsNonRoot=false".to_string();
        errs.push(forbid(
            &pod_path(&field),
            vec!["false".into()],
            reason,
            detail,
        ));
    }
    let mut implicit = Vec::new();
    for c in containers(pod.spec) {
        match c.get(&field).and_then(Value::as_bool) {
            Some(true) => {}
            Some(false) => {
                let detail = format!(
                    "{} must not set securityContext.runAsNonRoot=false",
                    c.quoted()
                );
                errs.push(forbid(
                    &c.path(&field),
                    vec!["false".into()],
                    reason,
                    detail,
                ));
            }
            None if pod_value != Some(true) => {
                let detail = format!(
                    "pod or {} must set securityContext.runAsNonRoot=true",
                    c.quoted()
                );
                implicit.push(require(&c, &field, reason, detail));
            }
            None => {}
        }
    }
    errs.extend(implicit);
    errs
}

fn run_as_user(pod: &Pod, since: u32) -> Vec<FieldErr> {
    if since >= 35 && user_namespace(pod) {
        return Vec::new();
    }
    let field = ["securityContext", "runAsUser"];
    let root = |v: Option<&Value>| v.and_then(Value::as_i64) == Some(0);
    // The bad value is an int64, which Kyverno's extractBadValues does not read.
    let mut errs = Vec::new();
    if root(at(pod.spec, &field)) {
        errs.push(forbid(
            &pod_path(&field),
            Vec::new(),
            "runAsUser=0",
            "pod must not set runAsUser=0".into(),
        ));
    }
    for c in containers(pod.spec).iter().filter(|c| root(c.get(&field))) {
        let detail = format!("{} must not set runAsUser=0", c.quoted());
        errs.push(forbid(&c.path(&field), Vec::new(), "runAsUser=0", detail));
    }
    errs
}

fn se_linux(pod: &Pod, since: u32) -> Vec<FieldErr> {
    let mut errs = Vec::new();
    let pod_options = at(pod.spec, &["securityContext", "seLinuxOptions"]);
    let path = |rest: &[&str]| pod_path(&[&["securityContext"], rest].concat());
    se_linux_options(pod_options, since, "pod", &path, &mut errs);
    for c in containers(pod.spec) {
        let options = c.get(&["securityContext", "seLinuxOptions"]);
        let path = |rest: &[&str]| c.path(&[&["securityContext"], rest].concat());
        se_linux_options(options, since, &c.quoted(), &path, &mut errs);
    }
    errs
}

fn se_linux_options(
    options: Option<&Value>,
    since: u32,
    who: &str,
    path: &dyn Fn(&[&str]) -> Vec<Seg>,
    errs: &mut Vec<FieldErr>,
) {
    let Some(options) = options else { return };
    let reason = "seLinuxOptions";
    let kind = str_at(options, &["type"]).unwrap_or_default();
    let mut allowed = vec!["", "container_t", "container_init_t", "container_kvm_t"];
    if since >= 31 {
        allowed.push("container_engine_t");
    }
    if !allowed.contains(&kind) {
        let detail = format!("{who} set forbidden securityContext.seLinuxOptions: type \"{kind}\"");
        errs.push(forbid(
            &path(&["seLinuxOptions", "type"]),
            vec![kind.into()],
            reason,
            detail,
        ));
    }
    for field in ["user", "role"] {
        if let Some(value) = str_at(options, &[field]).filter(|v| !v.is_empty()) {
            let detail = format!(
                "{who} set forbidden securityContext.seLinuxOptions: {field} may not be set"
            );
            errs.push(forbid(
                &path(&["seLinuxOptions", field]),
                vec![value.into()],
                reason,
                detail,
            ));
        }
    }
}

fn valid_seccomp(kind: &str) -> bool {
    matches!(kind, "RuntimeDefault" | "Localhost")
}

/// The type of a set seccompProfile (`""` when the profile has none).
fn seccomp_type(sc_owner: &Value) -> Option<&str> {
    at(sc_owner, &["securityContext", "seccompProfile"])
        .map(|p| str_at(p, &["type"]).unwrap_or_default())
}

fn seccomp_baseline(pod: &Pod, since: u32) -> Vec<FieldErr> {
    if since < 19 {
        return seccomp_annotations(pod);
    }
    let reason = "seccompProfile";
    let field = ["securityContext", "seccompProfile", "type"];
    let detail = |who: String, kind: &str| {
        format!("{who} must not set securityContext.seccompProfile.type to \"{kind}\"")
    };
    let mut errs = Vec::new();
    if let Some(kind) = seccomp_type(pod.spec).filter(|k| !valid_seccomp(k)) {
        errs.push(forbid(
            &pod_path(&field),
            vec![kind.into()],
            reason,
            detail("pod".into(), kind),
        ));
    }
    for c in containers(pod.spec) {
        if let Some(kind) = seccomp_type(c.value).filter(|k| !valid_seccomp(k)) {
            errs.push(forbid(
                &c.path(&field),
                vec![kind.into()],
                reason,
                detail(c.quoted(), kind),
            ));
        }
    }
    errs
}

/// Seccomp before 1.19: the alpha annotations of the pod and of each container.
fn seccomp_annotations(pod: &Pod) -> Vec<FieldErr> {
    let mut keys = vec!["seccomp.security.alpha.kubernetes.io/pod".to_string()];
    let names = containers(pod.spec)
        .iter()
        .map(|c| c.name().to_string())
        .collect::<Vec<_>>();
    keys.extend(
        names
            .iter()
            .map(|n| format!("container.seccomp.security.alpha.kubernetes.io/{n}")),
    );
    keys.into_iter()
        .filter_map(|key| {
            let value = str_at(pod.meta, &["annotations", &key])?;
            let allowed = matches!(value, "" | "runtime/default" | "docker/default")
                || value.starts_with("localhost/");
            if allowed {
                return None;
            }
            let path = [
                Seg::F("metadata".into()),
                Seg::F("annotations".into()),
                Seg::K(key.clone()),
            ];
            let detail = format!("forbidden annotation {key}=\"{value}\"");
            Some(forbid(&path, vec![value.into()], "seccompProfile", detail))
        })
        .collect()
}

fn seccomp_restricted(pod: &Pod, since: u32) -> Vec<FieldErr> {
    if since >= 25 && is_windows(pod) {
        return Vec::new();
    }
    let reason = "seccompProfile";
    let field = ["securityContext", "seccompProfile", "type"];
    let forbidden = |who: String, kind: &str| {
        format!("{who} must not set securityContext.seccompProfile.type to \"{kind}\"")
    };
    let mut errs = Vec::new();
    let pod_type = seccomp_type(pod.spec);
    if let Some(kind) = pod_type.filter(|k| !valid_seccomp(k)) {
        errs.push(forbid(
            &pod_path(&field),
            vec![kind.into()],
            reason,
            forbidden("pod".into(), kind),
        ));
    }
    let pod_set = pod_type.is_some_and(valid_seccomp);
    let mut implicit = Vec::new();
    for c in containers(pod.spec) {
        match seccomp_type(c.value) {
            Some(kind) if !valid_seccomp(kind) => {
                errs.push(forbid(
                    &c.path(&field),
                    vec![kind.into()],
                    reason,
                    forbidden(c.quoted(), kind),
                ));
            }
            None if !pod_set => {
                let detail = format!(
                    "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                    c.quoted()
                );
                implicit.push(require(&c, &field, reason, detail));
            }
            _ => {}
        }
    }
    errs.extend(implicit);
    errs
}

/// Safe sysctls by the minor that allowed them.
const SAFE_SYSCTLS: [(u32, &str); 12] = [
    (0, "kernel.shm_rmid_forced"),
    (0, "net.ipv4.ip_local_port_range"),
    (0, "net.ipv4.tcp_syncookies"),
    (0, "net.ipv4.ping_group_range"),
    (0, "net.ipv4.ip_unprivileged_port_start"),
    (27, "net.ipv4.ip_local_reserved_ports"),
    (29, "net.ipv4.tcp_keepalive_time"),
    (29, "net.ipv4.tcp_fin_timeout"),
    (29, "net.ipv4.tcp_keepalive_intvl"),
    (29, "net.ipv4.tcp_keepalive_probes"),
    (32, "net.ipv4.tcp_rmem"),
    (32, "net.ipv4.tcp_wmem"),
];

fn sysctls(pod: &Pod, since: u32) -> Vec<FieldErr> {
    let list = at(pod.spec, &["securityContext", "sysctls"]).and_then(Value::as_array);
    list.into_iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, sysctl)| {
            let name = sysctl
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let safe = SAFE_SYSCTLS
                .iter()
                .any(|(minor, safe)| *minor <= since && *safe == name);
            if safe {
                return None;
            }
            let mut path = pod_path(&["securityContext", "sysctls"]);
            path.extend([Seg::I(i), Seg::F("name".into())]);
            Some(forbid(
                &path,
                vec![name.into()],
                "forbidden sysctls",
                name.to_string(),
            ))
        })
        .collect()
}

fn host_process(pod: &Pod, _: u32) -> Vec<FieldErr> {
    let field = ["securityContext", "windowsOptions", "hostProcess"];
    let detail =
        |who: String| format!("{who} must not set securityContext.windowsOptions.hostProcess=true");
    let mut errs = Vec::new();
    if at(pod.spec, &field) == Some(&Value::Bool(true)) {
        errs.push(forbid(
            &pod_path(&field),
            vec!["true".into()],
            "hostProcess",
            detail("pod".into()),
        ));
    }
    for c in containers(pod.spec)
        .iter()
        .filter(|c| c.get(&field) == Some(&Value::Bool(true)))
    {
        errs.push(forbid(
            &c.path(&field),
            vec!["true".into()],
            "hostProcess",
            detail(c.quoted()),
        ));
    }
    errs
}

// ---- Kyverno's evaluation and exclusions ----

/// Kyverno's `evaluatePSS`: (check index, errors) of every failing check revision.
fn evaluate_pss(level: Level, version: Option<u32>, pod: &Pod) -> Vec<(usize, Vec<FieldErr>)> {
    let mut results = Vec::new();
    for (index, check) in CHECKS.iter().enumerate() {
        if level == Level::Baseline && check.restricted {
            continue;
        }
        let revisions: Vec<u32> = match version {
            None => check.versions.last().copied().into_iter().collect(),
            Some(v) => check.versions.iter().copied().filter(|m| *m <= v).collect(),
        };
        for since in revisions {
            let errs = (check.run)(pod, since);
            if !errs.is_empty() {
                results.push((index, errs));
            }
        }
    }
    results
}

/// Kyverno keys results by check ID: the last failing revision of each check stands.
fn collapse(results: Vec<(usize, Vec<FieldErr>)>) -> Vec<(usize, Vec<FieldErr>)> {
    let mut collapsed: Vec<(usize, Vec<FieldErr>)> = Vec::new();
    for (index, errs) in results {
        match collapsed.iter_mut().find(|(i, _)| *i == index) {
            Some(slot) => slot.1 = errs,
            None => collapsed.push((index, errs)),
        }
    }
    collapsed
}

/// Kyverno's `GetPodWithMatchingContainers`: without images, the pod with one empty "fake"
/// container (pod-level controls); with images, a bare pod of the matching containers.
fn exclusion_pod(exclude: &Exclude, pod: &Pod) -> (Value, Value) {
    if exclude.images.is_empty() {
        let mut spec = pod.spec.as_object().cloned().unwrap_or_default();
        spec.insert("containers".into(), serde_json::json!([{"name": "fake"}]));
        spec.remove("initContainers");
        spec.remove("ephemeralContainers");
        return (pod.meta.clone(), Value::Object(spec));
    }
    let mut spec = Map::new();
    for kind in CONTAINER_KINDS {
        let list = pod
            .spec
            .get(kind)
            .and_then(Value::as_array)
            .into_iter()
            .flatten();
        let matching: Vec<Value> = list
            .filter(|c| {
                let image = c.get("image").and_then(Value::as_str).unwrap_or_default();
                exclude.images.iter().any(|p| wildcard_match(p, image))
            })
            .cloned()
            .collect();
        if !matching.is_empty() {
            spec.insert(kind.into(), Value::Array(matching));
        }
    }
    (Value::Object(Map::new()), Value::Object(spec))
}

/// Kyverno's `exemptExclusions` for one exclude entry.
fn apply_exclusion(
    level: Level,
    version: Option<u32>,
    exclude: &Exclude,
    pod: &Pod,
    results: &mut Vec<(usize, Vec<FieldErr>)>,
) {
    let by_container = !exclude.images.is_empty();
    let (meta, spec) = exclusion_pod(exclude, pod);
    let matching = Pod {
        meta: &meta,
        spec: &spec,
    };
    for (check, excluded) in evaluate_pss(level, version, &matching) {
        if CHECKS[check].control != exclude.control {
            continue;
        }
        for err in excluded {
            let (field, owner) = locate(&err.field, by_container, matching.spec);
            let field_matches = exclude.field.is_empty() || exclude.field == field;
            if !field_matches || !values_exempt(exclude, &err.bad) {
                continue;
            }
            remove_matching(
                results,
                check,
                &field,
                owner.as_deref(),
                by_container,
                pod.spec,
            );
        }
    }
}

/// Every bad value must match one of the exclusion's values (none to match: exempt).
fn values_exempt(exclude: &Exclude, bad: &[String]) -> bool {
    exclude.values.is_empty()
        || bad
            .iter()
            .all(|b| exclude.values.iter().any(|p| wildcard_match(p, b)))
}

/// Drops the first default error of the check with the same field (and container name, for
/// container-level exclusions), as Kyverno's swap-remove does.
fn remove_matching(
    results: &mut Vec<(usize, Vec<FieldErr>)>,
    check: usize,
    field: &str,
    owner: Option<&str>,
    by_container: bool,
    spec: &Value,
) {
    let Some(slot) = results.iter().position(|(i, _)| *i == check) else {
        return;
    };
    let Some((_, errs)) = results.get_mut(slot) else {
        return;
    };
    let hit = errs.iter().position(|err| {
        let (other, other_owner) = locate(&err.field, by_container, spec);
        match other_owner {
            Some(name) => other == field && owner == Some(name.as_str()),
            None => other == field,
        }
    });
    if let Some(hit) = hit {
        errs.swap_remove(hit);
    }
    if errs.is_empty() {
        results.remove(slot);
    }
}

/// Kyverno's `parseField`: the field with indexes as `*`, and for a container-level field of a
/// container-level exclusion, the name of that container in `spec`.
fn locate(field: &str, by_container: bool, spec: &Value) -> (String, Option<String>) {
    let starred = star_digits(field);
    if !by_container {
        return (starred, None);
    }
    let second_word = field
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .nth(1);
    let Some(kind) = second_word.filter(|w| CONTAINER_KINDS.contains(w)) else {
        return (starred, None);
    };
    let index: Option<usize> = field
        .split(|c: char| !c.is_ascii_digit())
        .find(|d| !d.is_empty())
        .and_then(|d| d.parse().ok());
    let name = index
        .and_then(|i| spec.get(kind).and_then(|list| list.get(i)))
        .and_then(|c| c.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    (starred, Some(name.to_string()))
}

/// Replaces every run of digits with `*` (Kyverno's `regexIndex.ReplaceAllString`).
fn star_digits(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let mut in_digits = false;
    for ch in field.chars() {
        if ch.is_ascii_digit() {
            if !in_digits {
                out.push('*');
            }
            in_digits = true;
        } else {
            out.push(ch);
            in_digits = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(block: Value, object: Value) -> Vec<Violation> {
        evaluate(&block, &object).unwrap_or_else(|e| panic!("{e}"))
    }

    fn pod(spec: Value) -> Value {
        json!({"kind": "Pod", "metadata": {"name": "p"}, "spec": spec})
    }

    fn restricted_ok() -> Value {
        json!({"name": "web", "image": "nginx", "securityContext": {
            "allowPrivilegeEscalation": false, "runAsNonRoot": true,
            "seccompProfile": {"type": "RuntimeDefault"}, "capabilities": {"drop": ["ALL"]}}})
    }

    fn controls(violations: &[Violation]) -> BTreeSet<&str> {
        violations.iter().map(|v| v.control.as_str()).collect()
    }

    fn baseline(spec: Value) -> Vec<Violation> {
        run(json!({"level": "baseline"}), pod(spec))
    }

    fn restricted(spec: Value) -> Vec<Violation> {
        run(
            json!({"level": "restricted", "version": "latest"}),
            pod(spec),
        )
    }

    #[test]
    fn privileged_level_checks_nothing_and_bad_blocks_are_refused() {
        let spec = json!({"hostNetwork": true, "containers": [{"name": "a"}]});
        assert!(run(json!({"level": "privileged"}), pod(spec.clone())).is_empty());
        assert!(evaluate(&json!({"level": "strict"}), &pod(spec.clone())).is_err());
        assert!(evaluate(&json!({}), &pod(spec.clone())).is_err());
        assert!(evaluate(&json!({"level": "baseline", "version": "1.24"}), &pod(spec)).is_err());
    }

    #[test]
    fn other_kinds_are_not_checked() {
        let object = json!({"kind": "Service", "spec": {"hostNetwork": true}});
        assert!(run(json!({"level": "restricted"}), object).is_empty());
    }

    #[test]
    fn host_namespaces() {
        let found =
            baseline(json!({"hostNetwork": true, "hostPID": false, "containers": [{"name": "a"}]}));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].control, "Host Namespaces");
        assert_eq!(found[0].pointer, "/spec/hostNetwork");
        assert_eq!(found[0].message, "host namespaces (hostNetwork=true)");
        assert!(baseline(json!({"hostNetwork": false, "containers": [{"name": "a"}]})).is_empty());
    }

    #[test]
    fn privileged_containers() {
        let found = baseline(
            json!({"initContainers": [{"name": "i", "securityContext": {"privileged": true}}],
            "containers": [{"name": "a", "securityContext": {"privileged": false}}]}),
        );
        assert_eq!(controls(&found), BTreeSet::from(["Privileged Containers"]));
        assert_eq!(
            found[0].pointer,
            "/spec/initContainers/0/securityContext/privileged"
        );
        assert_eq!(
            found[0].message,
            "privileged (container \"i\" must not set securityContext.privileged=true)"
        );
    }

    #[test]
    fn baseline_capabilities() {
        let caps = |add: Value| {
            baseline(
                json!({"containers": [{"name": "a", "securityContext": {"capabilities": {"add": add}}}]}),
            )
        };
        let found = caps(json!(["CHOWN", "SYS_ADMIN"]));
        assert_eq!(controls(&found), BTreeSet::from(["Capabilities"]));
        assert_eq!(
            found[0].pointer,
            "/spec/containers/0/securityContext/capabilities/add"
        );
        assert!(found[0].message.contains("\"SYS_ADMIN\""));
        assert!(caps(json!(["CHOWN", "NET_BIND_SERVICE"])).is_empty());
    }

    #[test]
    fn host_path_ports_and_host_process() {
        let found = baseline(json!({
            "securityContext": {"windowsOptions": {"hostProcess": true}},
            "volumes": [{"name": "cfg", "configMap": {"name": "c"}}, {"name": "host", "hostPath": {"path": "/"}}],
            "containers": [{"name": "a", "ports": [{"containerPort": 80, "hostPort": 0}, {"containerPort": 81, "hostPort": 8081}]}]}));
        let pointers: Vec<&str> = found.iter().map(|v| v.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/spec/volumes/1/hostPath",
                "/spec/containers/0/ports/1/hostPort",
                "/spec/securityContext/windowsOptions/hostProcess"
            ]
        );
        assert_eq!(
            controls(&found),
            BTreeSet::from(["HostPath Volumes", "Host Ports", "HostProcess"])
        );
    }

    #[test]
    fn app_armor() {
        let annotated = json!({"kind": "Pod", "metadata": {"annotations": {
            "container.apparmor.security.beta.kubernetes.io/a": "unconfined",
            "container.apparmor.security.beta.kubernetes.io/b": "localhost/custom"}},
            "spec": {"containers": [{"name": "a", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}},
                {"name": "b", "securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}}]}});
        let found = run(json!({"level": "baseline"}), annotated);
        let pointers: Vec<&str> = found.iter().map(|v| v.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/spec/containers/0/securityContext/appArmorProfile/type",
                "/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1a"
            ]
        );
        assert_eq!(controls(&found), BTreeSet::from(["AppArmor"]));
    }

    #[test]
    fn se_linux_by_version() {
        let spec = json!({"securityContext": {"seLinuxOptions": {"type": "container_engine_t"}}, "containers": [{"name": "a"}]});
        assert!(baseline(spec.clone()).is_empty());
        let old = run(json!({"level": "baseline", "version": "v1.30"}), pod(spec));
        assert_eq!(old.len(), 1);
        assert_eq!(old[0].pointer, "/spec/securityContext/seLinuxOptions/type");
        let user = baseline(
            json!({"containers": [{"name": "a", "securityContext": {"seLinuxOptions": {"user": "root"}}}]}),
        );
        assert_eq!(user[0].control, "SELinux");
        assert_eq!(
            user[0].pointer,
            "/spec/containers/0/securityContext/seLinuxOptions/user"
        );
    }

    #[test]
    fn proc_mount_and_user_namespaces() {
        let spec = json!({"hostUsers": false, "containers": [{"name": "a", "securityContext": {"procMount": "Unmasked"}}]});
        assert!(baseline(spec.clone()).is_empty());
        assert_eq!(
            run(
                json!({"level": "baseline", "version": "v1.34"}),
                pod(spec.clone())
            )
            .len(),
            1
        );
        let mut strict = restricted_ok();
        strict["securityContext"]["procMount"] = json!("Unmasked");
        let found = restricted(json!({"hostUsers": false, "containers": [strict]}));
        assert_eq!(controls(&found), BTreeSet::from(["/proc Mount Type"]));
    }

    #[test]
    fn seccomp_and_sysctls() {
        let found = baseline(
            json!({"securityContext": {"seccompProfile": {"type": "Unconfined"},
            "sysctls": [{"name": "net.ipv4.tcp_rmem", "value": "1"}, {"name": "kernel.msgmax", "value": "1"}]},
            "containers": [{"name": "a"}]}),
        );
        let pointers: Vec<&str> = found.iter().map(|v| v.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/spec/securityContext/seccompProfile/type",
                "/spec/securityContext/sysctls/1/name"
            ]
        );
        let old = run(
            json!({"level": "baseline", "version": "v1.31"}),
            pod(
                json!({"securityContext": {"sysctls": [{"name": "net.ipv4.tcp_rmem"}]}, "containers": [{"name": "a"}]}),
            ),
        );
        assert_eq!(controls(&old), BTreeSet::from(["Sysctls"]));
    }

    #[test]
    fn host_probes_from_1_34() {
        let spec = json!({"containers": [{"name": "a", "livenessProbe": {"httpGet": {"host": "10.0.0.1", "port": 80}},
            "lifecycle": {"preStop": {"tcpSocket": {"host": "", "port": 1}}}}]});
        let found = baseline(spec.clone());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].control, "Host Probes / Lifecycle Hooks");
        assert_eq!(
            found[0].pointer,
            "/spec/containers/0/livenessProbe/httpGet/host"
        );
        assert!(run(json!({"level": "baseline", "version": "v1.33"}), pod(spec)).is_empty());
    }

    #[test]
    fn restricted_compliant_pod_passes() {
        let spec =
            json!({"volumes": [{"name": "d", "emptyDir": {}}], "containers": [restricted_ok()]});
        assert!(restricted(spec).is_empty());
    }

    #[test]
    fn restricted_bare_container() {
        let found = restricted(json!({"containers": [{"name": "web", "image": "nginx"}]}));
        assert_eq!(
            controls(&found),
            BTreeSet::from([
                "Capabilities",
                "Privilege Escalation",
                "Running as Non-root",
                "Seccomp"
            ])
        );
        let escalation = found
            .iter()
            .find(|v| v.control == "Privilege Escalation")
            .cloned();
        assert_eq!(escalation, Some(Violation {
            control: "Privilege Escalation".into(),
            pointer: "/spec/containers/0".into(),
            message: "allowPrivilegeEscalation != false (container \"web\" must set securityContext.allowPrivilegeEscalation=false)".into(),
        }));
    }

    #[test]
    fn restricted_fields() {
        let mut c = restricted_ok();
        c["securityContext"]["allowPrivilegeEscalation"] = json!(true);
        c["securityContext"]["runAsUser"] = json!(0);
        c["securityContext"]["capabilities"] =
            json!({"drop": ["NET_RAW"], "add": ["NET_BIND_SERVICE", "SYS_TIME"]});
        let found = restricted(
            json!({"volumes": [{"name": "n", "nfs": {"server": "s", "path": "/"}}], "containers": [c]}),
        );
        let pointers: BTreeSet<&str> = found.iter().map(|v| v.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            BTreeSet::from([
                "/spec/containers/0/securityContext/allowPrivilegeEscalation",
                "/spec/containers/0/securityContext/runAsUser",
                "/spec/containers/0/securityContext/capabilities/drop",
                "/spec/containers/0/securityContext/capabilities/add",
                "/spec/volumes/0/nfs",
            ])
        );
        assert!(controls(&found).contains("Running as Non-root user"));
        assert!(controls(&found).contains("Volume Types"));
    }

    #[test]
    fn pod_level_run_as_non_root_covers_containers() {
        let mut c = restricted_ok();
        c["securityContext"]
            .as_object_mut()
            .map(|sc| sc.remove("runAsNonRoot"));
        assert!(
            restricted(
                json!({"securityContext": {"runAsNonRoot": true}, "containers": [c.clone()]})
            )
            .is_empty()
        );
        let found =
            restricted(json!({"securityContext": {"runAsNonRoot": false}, "containers": [c]}));
        let pointers: Vec<&str> = found.iter().map(|v| v.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            ["/spec/securityContext/runAsNonRoot", "/spec/containers/0"]
        );
    }

    #[test]
    fn windows_pods_by_version() {
        let spec = json!({"os": {"name": "windows"}, "securityContext": {"runAsNonRoot": true}, "containers": [{"name": "w"}]});
        assert!(restricted(spec.clone()).is_empty());
        let old = run(
            json!({"level": "restricted", "version": "v1.24"}),
            pod(spec),
        );
        assert_eq!(
            controls(&old),
            BTreeSet::from(["Capabilities", "Privilege Escalation", "Seccomp"])
        );
    }

    #[test]
    fn restricted_checks_arrive_with_their_versions() {
        let spec = json!({"containers": [{"name": "a", "securityContext": {"allowPrivilegeEscalation": false, "runAsNonRoot": true}}]});
        let at = |v: &str| {
            controls(&run(
                json!({"level": "restricted", "version": v}),
                pod(spec.clone()),
            ))
            .into_iter()
            .map(String::from)
            .collect::<Vec<_>>()
        };
        assert!(at("v1.18").is_empty());
        assert_eq!(at("v1.19"), ["Seccomp"]);
        assert_eq!(at("v1.22"), ["Capabilities", "Seccomp"]);
    }

    #[test]
    fn exclusion_by_image() {
        let block = json!({"level": "baseline", "exclude": [{"controlName": "Capabilities", "images": ["ghcr.io/kyverno/*"]}]});
        let caps = json!({"capabilities": {"add": ["SYS_ADMIN"]}});
        let spec = json!({"containers": [
            {"name": "a", "image": "ghcr.io/kyverno/test-nginx:1", "securityContext": caps},
            {"name": "b", "image": "busybox", "securityContext": caps}]});
        let found = run(block, pod(spec));
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].pointer,
            "/spec/containers/1/securityContext/capabilities/add"
        );
    }

    #[test]
    fn pod_level_exclusion_without_images() {
        let spec = json!({"hostNetwork": true, "hostPID": true, "containers": [{"name": "a"}]});
        let block = json!({"level": "baseline", "exclude": [{"controlName": "Host Namespaces"}]});
        assert!(run(block, pod(spec.clone())).is_empty());
        let field = json!({"level": "baseline", "exclude": [{"controlName": "Host Namespaces", "restrictedField": "spec.hostNetwork", "values": ["true"]}]});
        let found = run(field, pod(spec));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].pointer, "/spec/hostPID");
    }

    #[test]
    fn exclusion_by_restricted_field_and_values() {
        let spec = json!({"containers": [{"name": "a", "image": "nginx", "securityContext": {"capabilities": {"add": ["SYS_ADMIN"]}}}]});
        let exclude = |values: Value| {
            json!({"level": "baseline", "exclude": [{"controlName": "Capabilities", "images": ["*"],
            "restrictedField": "spec.containers[*].securityContext.capabilities.add", "values": values}]})
        };
        assert!(run(exclude(json!(["SYS_*"])), pod(spec.clone())).is_empty());
        assert_eq!(run(exclude(json!(["NET_RAW"])), pod(spec.clone())).len(), 1);
        let wrong_field = json!({"level": "baseline", "exclude": [{"controlName": "Capabilities", "images": ["*"],
            "restrictedField": "spec.initContainers[*].securityContext.capabilities.add", "values": ["SYS_ADMIN"]}]});
        assert_eq!(run(wrong_field, pod(spec)).len(), 1);
        let sysctls = json!({"securityContext": {"sysctls": [{"name": "kernel.msgmax"}, {"name": "fs.mqueue.x"}]}, "containers": [{"name": "a"}]});
        let block = json!({"level": "baseline", "exclude": [{"controlName": "Sysctls",
            "restrictedField": "spec.securityContext.sysctls[*].name", "values": ["kernel.*"]}]});
        let found = run(block, pod(sysctls));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].pointer, "/spec/securityContext/sysctls/1/name");
    }

    #[test]
    fn controllers_point_into_their_template() {
        let template = json!({"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/a": "unconfined"}},
            "spec": {"containers": [{"name": "a", "securityContext": {"privileged": true}}]}});
        let deployment = json!({"kind": "Deployment", "spec": {"template": template}});
        let pointers: Vec<String> = run(json!({"level": "baseline"}), deployment)
            .into_iter()
            .map(|v| v.pointer)
            .collect();
        assert_eq!(
            pointers,
            [
                "/spec/template/metadata/annotations/container.apparmor.security.beta.kubernetes.io~1a",
                "/spec/template/spec/containers/0/securityContext/privileged"
            ]
        );
        let cronjob =
            json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": template}}}});
        let found = run(json!({"level": "baseline"}), cronjob);
        assert_eq!(
            found[1].pointer,
            "/spec/jobTemplate/spec/template/spec/containers/0/securityContext/privileged"
        );
    }

    /// Corpus: pod-security/subrule/restricted/restricted-exclude-seccomp.
    #[test]
    fn corpus_restricted_exclude_seccomp() {
        let block = json!({"level": "restricted", "version": "latest", "exclude": [
            {"controlName": "Seccomp"}, {"controlName": "Seccomp", "images": ["*"]}]});
        let make = |run_as_non_root: bool| {
            let mut sc =
                json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}});
            if run_as_non_root {
                sc["runAsNonRoot"] = json!(true);
            }
            pod(
                json!({"securityContext": {"seccompProfile": {"type": "Unconfined"}},
                "containers": [{"name": "container01", "image": "busybox:1.28", "securityContext": sc}]}),
            )
        };
        assert!(
            run(block.clone(), make(true)).is_empty(),
            "goodpod01 passes"
        );
        let bad = run(block, make(false));
        assert_eq!(
            controls(&bad),
            BTreeSet::from(["Running as Non-root"]),
            "badpod01 fails"
        );
    }

    /// Corpus: pod-security/subrule/restricted/restricted-exclude-capabilities.
    #[test]
    fn corpus_restricted_exclude_capabilities() {
        let block = json!({"level": "restricted", "version": "latest", "exclude": [
            {"controlName": "Capabilities", "images": ["ghcr.io/kyverno/test-nginx*", "redis*"]}]});
        let make = |image: &str| {
            pod(
                json!({"containers": [{"name": "container01", "image": image, "securityContext": {
            "allowPrivilegeEscalation": false, "runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"},
            "capabilities": {"add": ["SYS_ADMIN"], "drop": ["ALL"]}}}]}),
            )
        };
        assert!(
            run(block.clone(), make("ghcr.io/kyverno/test-nginx:latest")).is_empty(),
            "goodpod01 passes"
        );
        assert_eq!(
            controls(&run(block, make("busybox:1.28"))),
            BTreeSet::from(["Capabilities"]),
            "badpod01 fails"
        );
    }

    #[test]
    fn star_digits_matches_kyverno_regex() {
        assert_eq!(
            star_digits("spec.containers[12].ports[0].hostPort"),
            "spec.containers[*].ports[*].hostPort"
        );
    }
}
