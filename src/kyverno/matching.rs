//! Which objects a rule applies to: a `ClusterPolicy` rule's `match` and `exclude` blocks
//! (`any`/`all` of resource filters, or the legacy single `resources`), and a
//! `ValidatingPolicy`'s `matchConstraints` (resource rules, selectors). Offline, the
//! admission request is a CREATE (or what a test's values say) by nobody: filters on the
//! requesting user (`subjects`, `roles`, `clusterRoles`) never match.

use std::collections::BTreeMap;

use serde_json::Value;

use super::scalar::wildcard_match;

/// What a match or exclude block is compared with: the object and what kvet knows around it.
pub struct Target<'a> {
    pub object: &'a Value,
    pub kind: &'a str,
    pub group: &'a str,
    pub version: &'a str,
    pub name: &'a str,
    pub namespace: &'a str,
    /// The labels of the object's namespace, when kvet has them (a Namespace in the input,
    /// or a test's values).
    pub namespace_labels: Option<&'a BTreeMap<String, String>>,
    /// `CREATE` unless a test says otherwise.
    pub operation: &'a str,
}

impl<'a> Target<'a> {
    pub fn new(
        object: &'a Value,
        namespace_labels: Option<&'a BTreeMap<String, String>>,
        operation: &'a str,
    ) -> Target<'a> {
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let metadata = object.get("metadata");
        let field = |key: &str| {
            metadata
                .and_then(|m| m.get(key))
                .and_then(Value::as_str)
                .unwrap_or_default()
        };
        Target {
            object,
            kind: object
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            group,
            version,
            name: field("name"),
            namespace: field("namespace"),
            namespace_labels,
            operation,
        }
    }

    fn metadata_map(&self, key: &str) -> Option<&'a serde_json::Map<String, Value>> {
        self.object.get("metadata")?.get(key)?.as_object()
    }

    /// The namespace the namespace filters compare: a Namespace's own name.
    fn namespace_for_filters(&self) -> &'a str {
        if self.kind == "Namespace" && self.group.is_empty() {
            self.name
        } else {
            self.namespace
        }
    }
}

/// Whether a rule with this `match` and `exclude` applies to the target.
pub fn rule_applies(rule: &Value, target: &Target) -> bool {
    matches(rule, target) && !excluded(rule, target, true)
}

/// Whether the rule's `match` block selects the target.
pub fn matches(rule: &Value, target: &Target) -> bool {
    rule.get("match")
        .is_some_and(|matched| block_matches(matched, target, false))
}

/// Whether the rule's `exclude` block leaves the target out; `unknown_excludes`: whether a
/// namespaceSelector holds on a namespace whose labels kvet does not know (the exclude might
/// hold: `excluded(…, true) && !excluded(…, false)` is a rule kvet cannot decide).
pub fn excluded(rule: &Value, target: &Target, unknown_excludes: bool) -> bool {
    rule.get("exclude")
        .is_some_and(|e| block_matches(e, target, unknown_excludes))
}

/// Whether a match or exclude block can hold only for a request by given users, groups or
/// roles (`subjects`, `roles`, `clusterRoles` in each filter of `any`, in one of `all`, or
/// in the legacy form): offline, no request has a user, so it never holds.
pub fn needs_a_user(block: &Value) -> bool {
    let names_users = |filter: &Value| {
        ["subjects", "roles", "clusterRoles"]
            .iter()
            .any(|k| filter.get(*k).is_some_and(|v| !is_empty(v)))
    };
    let filters = |key: &str| {
        block
            .get(key)
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
    };
    if let Some(any) = filters("any") {
        return any.iter().all(names_users);
    }
    if let Some(all) = filters("all") {
        return all.iter().any(names_users);
    }
    names_users(block)
}

/// A match or exclude block: `any` (one filter), `all` (every filter) or the legacy form.
/// `exclude`: whether a namespaceSelector matches a namespace whose labels kvet does not know
/// (an exclude that might hold excludes: a finding kvet cannot be sure of is not reported).
fn block_matches(block: &Value, target: &Target, exclude: bool) -> bool {
    let filters = |key: &str| -> Option<Vec<&Value>> {
        block
            .get(key)
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .map(|a| a.iter().collect())
    };
    if let Some(any) = filters("any") {
        return any.iter().any(|f| filter_matches(f, target, exclude));
    }
    if let Some(all) = filters("all") {
        return all.iter().all(|f| filter_matches(f, target, exclude));
    }
    let legacy = ["resources", "subjects", "roles", "clusterRoles"]
        .iter()
        .any(|k| block.get(*k).is_some_and(|v| !is_empty(v)));
    if !legacy {
        // An empty exclude excludes nothing; an empty match matches nothing.
        return false;
    }
    filter_matches(block, target, exclude)
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// One resource filter: its user filters (which never match offline) and its resource
/// description, every part of which must hold.
fn filter_matches(filter: &Value, target: &Target, exclude: bool) -> bool {
    let user = ["subjects", "roles", "clusterRoles"]
        .iter()
        .any(|k| filter.get(*k).is_some_and(|v| !is_empty(v)));
    if user {
        return false;
    }
    match filter.get("resources") {
        Some(description) if !is_empty(description) => {
            description_matches(description, target, exclude)
        }
        _ => false,
    }
}

fn strings(value: Option<&Value>) -> Vec<&str> {
    value
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

fn description_matches(description: &Value, target: &Target, exclude: bool) -> bool {
    let kinds = strings(description.get("kinds"));
    if !kinds.is_empty() && !kinds.iter().any(|k| kind_matches(k, target)) {
        return false;
    }
    let mut names = strings(description.get("names"));
    names.extend(description.get("name").and_then(Value::as_str));
    if !names.is_empty() && !names.iter().any(|n| wildcard_match(n, target.name)) {
        return false;
    }
    let namespaces = strings(description.get("namespaces"));
    let namespace = target.namespace_for_filters();
    if !namespaces.is_empty() && !namespaces.iter().any(|n| wildcard_match(n, namespace)) {
        return false;
    }
    let operations = strings(description.get("operations"));
    if !operations.is_empty() && !operations.contains(&target.operation) {
        return false;
    }
    if let Some(wanted) = description.get("annotations").and_then(Value::as_object) {
        let have = target.metadata_map("annotations");
        let all = wanted.iter().all(|(key, value)| {
            let value = value.as_str().unwrap_or_default();
            have.into_iter().flatten().any(|(k, v)| {
                wildcard_match(key, k) && wildcard_match(value, v.as_str().unwrap_or_default())
            })
        });
        if !all {
            return false;
        }
    }
    if let Some(selector) = description.get("selector").filter(|s| !s.is_null()) {
        let labels = labels_of(target.metadata_map("labels"));
        if !selector_matches(selector, &labels, true) {
            return false;
        }
    }
    if let Some(selector) = description
        .get("namespaceSelector")
        .filter(|s| !s.is_null())
    {
        // Kyverno reads the namespace's labels from the cluster (a cluster-scoped object's
        // are none); without them a match does not hold, and an exclude is said to hold when
        // `exclude` says so.
        let none = BTreeMap::new();
        let labels = match target.namespace_labels {
            Some(labels) => labels,
            None if cluster_scoped(target.kind) => &none,
            None => return exclude,
        };
        if !selector_matches(selector, labels, false) {
            return false;
        }
    }
    true
}

/// `Kind`, `Version/Kind`, `Group/Version/Kind` (each part a wildcard), `Kind/subresource`
/// (a subresource is not an object: never matches one).
fn kind_matches(pattern: &str, target: &Target) -> bool {
    let parts: Vec<&str> = pattern.split('/').collect();
    let (group, version, kind) = match parts.as_slice() {
        [kind] => (None, None, *kind),
        [version, kind] if kind.chars().next().is_some_and(char::is_uppercase) || *kind == "*" => {
            (None, Some(*version), *kind)
        }
        // `Pod/status`: a subresource.
        [_, _] => return false,
        [group, version, kind] => (Some(*group), Some(*version), *kind),
        _ => return false,
    };
    if kind.contains('.') {
        // `Pod.status`? Kyverno spells subresources with `/`; anything else is not a kind.
        return false;
    }
    wildcard_match(kind, target.kind)
        && version.is_none_or(|v| wildcard_match(v, target.version))
        && group.is_none_or(|g| wildcard_match(g, target.group))
}

/// Labels (or any string map) as strings: a value that is not a string in its JSON form.
pub fn labels_of(map: Option<&serde_json::Map<String, Value>>) -> BTreeMap<String, String> {
    map.into_iter()
        .flatten()
        .map(|(k, v)| {
            let value = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), value)
        })
        .collect()
}

/// A Kubernetes label selector (`matchLabels`, `matchExpressions` with In, NotIn, Exists,
/// DoesNotExist); Kyverno allows wildcards in an object selector's label values.
pub fn selector_matches(
    selector: &Value,
    labels: &BTreeMap<String, String>,
    wildcards: bool,
) -> bool {
    let equal = |pattern: &str, value: &str| {
        if wildcards {
            wildcard_match(pattern, value)
        } else {
            pattern == value
        }
    };
    if let Some(wanted) = selector.get("matchLabels").and_then(Value::as_object) {
        for (key, value) in wanted {
            let value = value.as_str().unwrap_or_default();
            let found = if wildcards && key.contains(['*', '?']) {
                labels
                    .iter()
                    .any(|(k, v)| wildcard_match(key, k) && equal(value, v))
            } else {
                labels.get(key).is_some_and(|v| equal(value, v))
            };
            if !found {
                return false;
            }
        }
    }
    for expression in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = expression
            .get("key")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let values = strings(expression.get("values"));
        let have = labels.get(key);
        let holds = match expression.get("operator").and_then(Value::as_str) {
            Some("In") => have.is_some_and(|v| values.iter().any(|p| equal(p, v))),
            Some("NotIn") => !have.is_some_and(|v| values.iter().any(|p| equal(p, v))),
            Some("Exists") => have.is_some(),
            Some("DoesNotExist") => have.is_none(),
            _ => false,
        };
        if !holds {
            return false;
        }
    }
    true
}

/// Whether objects of a kind are cluster-scoped: Kubernetes' own cluster-scoped kinds, and
/// the `Cluster…` kinds of the GitOps stack (ClusterPolicy, ClusterIssuer, ClusterSecretStore).
/// The scope that CRDs of the input declare is not read.
pub fn cluster_scoped(kind: &str) -> bool {
    const KINDS: [&str; 32] = [
        "Namespace",
        "Node",
        "PersistentVolume",
        "StorageClass",
        "CSIDriver",
        "CSINode",
        "VolumeAttachment",
        "VolumeAttributesClass",
        "VolumeSnapshotClass",
        "VolumeSnapshotContent",
        "PriorityClass",
        "RuntimeClass",
        "IngressClass",
        "GatewayClass",
        "IPAddress",
        "ServiceCIDR",
        "DeviceClass",
        "CustomResourceDefinition",
        "APIService",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "ValidatingAdmissionPolicy",
        "ValidatingAdmissionPolicyBinding",
        "MutatingAdmissionPolicy",
        "MutatingAdmissionPolicyBinding",
        "FlowSchema",
        "PriorityLevelConfiguration",
        "PodSecurityPolicy",
        "CertificateSigningRequest",
        // Kyverno's cluster-wide CEL policies.
        "ValidatingPolicy",
        "MutatingPolicy",
        "GeneratingPolicy",
    ];
    KINDS.contains(&kind) || kind.starts_with("Cluster")
}

/// The resource (plural, lowercase) of a kind, as a ValidatingPolicy's `resourceRules` name it.
pub fn resource_of(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower == "endpoints" {
        return lower;
    }
    if let Some(stem) = lower.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    if lower.ends_with('s')
        || lower.ends_with('x')
        || lower.ends_with("ch")
        || lower.ends_with("sh")
    {
        return format!("{lower}es");
    }
    format!("{lower}s")
}

/// Whether a ValidatingPolicy's `matchConstraints` select the target: one of its
/// `resourceRules` and none of its `excludeResourceRules`, and its selectors.
pub fn constraints_match(constraints: &Value, target: &Target) -> bool {
    let rules = |key: &str| -> Vec<&Value> {
        constraints
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .collect()
    };
    let resource = resource_of(target.kind);
    let rule_matches = |rule: &&Value| {
        let has = |key: &str, actual: &str| {
            let listed = strings(rule.get(key));
            listed.iter().any(|v| *v == "*" || *v == actual)
        };
        let resources = strings(rule.get("resources"));
        let resource_listed = resources.iter().any(|r| {
            *r == "*" || *r == resource || r.strip_suffix("/*").is_some_and(|b| b == resource)
        });
        let names = strings(rule.get("resourceNames"));
        has("apiGroups", target.group)
            && has("apiVersions", target.version)
            && (strings(rule.get("operations")).is_empty() || has("operations", target.operation))
            && resource_listed
            && (names.is_empty() || names.contains(&target.name))
    };
    if !rules("resourceRules").iter().any(rule_matches) {
        return false;
    }
    if rules("excludeResourceRules").iter().any(rule_matches) {
        return false;
    }
    if let Some(selector) = constraints.get("objectSelector").filter(|s| !s.is_null()) {
        let labels = labels_of(target.metadata_map("labels"));
        if !selector_matches(selector, &labels, false) {
            return false;
        }
    }
    if let Some(selector) = constraints
        .get("namespaceSelector")
        .filter(|s| !is_empty(s))
        && !target.namespace.is_empty()
    {
        let Some(labels) = target.namespace_labels else {
            // As the API server: unknown namespace labels select nothing but an empty selector.
            return selector_is_empty(selector);
        };
        if !selector_matches(selector, labels, false) {
            return false;
        }
    }
    true
}

fn selector_is_empty(selector: &Value) -> bool {
    ["matchLabels", "matchExpressions"]
        .iter()
        .all(|k| selector.get(*k).is_none_or(is_empty))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn applies(rule: Value, object: &Value) -> bool {
        rule_applies(&rule, &Target::new(object, None, "CREATE"))
    }

    #[test]
    fn kinds_names_and_namespaces() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "prod"}});
        let deploy =
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}});
        let kinds = |k: Value| json!({"match": {"any": [{"resources": {"kinds": k}}]}});
        assert!(applies(kinds(json!(["Pod"])), &pod));
        assert!(applies(kinds(json!(["v1/Pod"])), &pod));
        assert!(!applies(kinds(json!(["Pod/status"])), &pod));
        assert!(applies(kinds(json!(["apps/v1/Deployment"])), &deploy));
        assert!(applies(kinds(json!(["apps/*/Deployment"])), &deploy));
        assert!(applies(kinds(json!(["*"])), &deploy));
        assert!(!applies(kinds(json!(["batch/v1/Deployment"])), &deploy));
        let names = json!({"match": {"resources": {"kinds": ["Pod"], "names": ["web-*"], "namespaces": ["pro?"]}}});
        assert!(applies(names, &pod));
        let excluded = json!({
            "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
            "exclude": {"any": [{"resources": {"namespaces": ["prod"]}}]}
        });
        assert!(!applies(excluded, &pod));
    }

    #[test]
    fn unknown_namespace_labels_neither_match_nor_fail_to_exclude() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "shop"}});
        let selector = json!({"matchLabels": {"tier": "system"}});
        let matched = json!({"match": {"any": [{"resources": {"kinds": ["Pod"], "namespaceSelector": selector}}]}});
        assert!(!applies(matched, &pod));
        let excluded = json!({
            "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
            "exclude": {"any": [{"resources": {"namespaceSelector": selector}}]}
        });
        assert!(!applies(excluded.clone(), &pod));
        let labels: BTreeMap<String, String> = [("tier".to_owned(), "apps".to_owned())]
            .into_iter()
            .collect();
        assert!(rule_applies(
            &excluded,
            &Target::new(&pod, Some(&labels), "CREATE")
        ));
    }

    #[test]
    fn blocks_that_need_a_user_are_found() {
        let role = json!({"clusterRoles": ["admin"]});
        let kinds = json!({"resources": {"kinds": ["Pod"]}});
        assert!(needs_a_user(&json!({"any": [role]})));
        assert!(!needs_a_user(&json!({"any": [role, kinds]})));
        assert!(needs_a_user(&json!({"all": [kinds, role]})));
        assert!(needs_a_user(
            &json!({"resources": {"kinds": ["Pod"]}, "subjects": [{"kind": "User", "name": "x"}]})
        ));
        assert!(!needs_a_user(&json!({"any": [kinds]})));
    }

    #[test]
    fn user_filters_never_match_offline() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}});
        let rule = json!({
            "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
            "exclude": {"any": [{"clusterRoles": ["cluster-admin"]}]}
        });
        assert!(applies(rule, &pod));
        let by_user = json!({"match": {"all": [{"resources": {"kinds": ["Pod"]}}, {"subjects": [{"kind": "User", "name": "x"}]}]}});
        assert!(!applies(by_user, &pod));
    }

    #[test]
    fn selectors() {
        let labels: BTreeMap<String, String> =
            [("app".to_owned(), "web".to_owned())].into_iter().collect();
        assert!(selector_matches(
            &json!({"matchLabels": {"app": "w*"}}),
            &labels,
            true
        ));
        assert!(!selector_matches(
            &json!({"matchLabels": {"app": "w*"}}),
            &labels,
            false
        ));
        assert!(selector_matches(
            &json!({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}, {"key": "app", "operator": "In", "values": ["web", "api"]}]}),
            &labels,
            false
        ));
    }

    #[test]
    fn resources_of_kinds() {
        assert_eq!(resource_of("Pod"), "pods");
        assert_eq!(resource_of("Ingress"), "ingresses");
        assert_eq!(resource_of("NetworkPolicy"), "networkpolicies");
        assert_eq!(resource_of("Gateway"), "gateways");
        assert_eq!(resource_of("Endpoints"), "endpoints");
    }

    #[test]
    fn validating_policy_constraints() {
        let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}});
        let constraints = json!({"resourceRules": [{"apiGroups": ["batch"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["jobs"]}]});
        let target = Target::new(&job, None, "CREATE");
        assert!(constraints_match(&constraints, &target));
        let delete_only = json!({"resourceRules": [{"apiGroups": ["batch"], "apiVersions": ["v1"], "operations": ["DELETE"], "resources": ["jobs"]}]});
        assert!(!constraints_match(&delete_only, &target));
    }
}
