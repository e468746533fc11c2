//! Which Kubernetes versions serve which apiVersion/kind, from `schemas/kubernetes/served.json`
//! (oldest and newest embedded version serving each). Small, and read without parsing any
//! schema, so the removed/deprecated API rules cost nothing at start-up.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use super::builtin;

/// Groups removed before the oldest embedded version (`extensions` went in 1.22).
const LEGACY_GROUPS: &[&str] = &["extensions"];
/// Kinds removed entirely before or at the oldest embedded version, and since when.
const REMOVED_KINDS: &[(&str, &str)] = &[("PodSecurityPolicy", "1.25")];

/// What a Kubernetes version makes of an apiVersion/kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiStatus {
    /// Served, and not on its way out.
    Current,
    /// Served, but a more stable apiVersion serves the kind, or a later version removes it.
    Deprecated {
        replacement: Option<String>,
        removed_in: Option<String>,
    },
    /// A Kubernetes API that this version no longer serves.
    Removed {
        replacement: Option<String>,
        /// The first embedded version that does not serve it, if one before did.
        removed_in: Option<String>,
    },
    /// A Kubernetes API that only later versions serve.
    NotYetServed { since: String },
    /// Not a Kubernetes API kvet knows (a CRD, or a typo): not for these rules.
    Unknown,
}

struct Served {
    /// apiVersion → kind → (first, last) serving version.
    spans: HashMap<String, HashMap<String, (String, String)>>,
    /// Every group any embedded version serves.
    groups: HashSet<String>,
    /// kind → apiVersions that ever served it.
    by_kind: HashMap<String, Vec<String>>,
}

fn served() -> &'static Served {
    static SERVED: OnceLock<Served> = OnceLock::new();
    SERVED.get_or_init(|| {
        let raw: HashMap<String, HashMap<String, (String, String)>> =
            serde_json::from_str(include_str!("../../schemas/kubernetes/served.json"))
                .unwrap_or_default();
        let groups = raw.keys().map(|av| group_of(av).to_owned()).collect();
        let mut by_kind: HashMap<String, Vec<String>> = HashMap::new();
        for (api_version, kinds) in &raw {
            for kind in kinds.keys() {
                by_kind
                    .entry(kind.clone())
                    .or_default()
                    .push(api_version.clone());
            }
        }
        Served {
            spans: raw,
            groups,
            by_kind,
        }
    })
}

fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

fn version_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or(api_version, |(_, v)| v)
}

/// Kubernetes' version priority: GA over beta over alpha, then higher numbers first.
/// `v1` → (2, 1, 0), `v2beta1` → (1, 2, 1).
fn rank(version: &str) -> Option<(u8, u32, u32)> {
    let rest = version.strip_prefix('v')?;
    let digits = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let major = rest[..digits].parse().ok()?;
    let (stability, tail) = match &rest[digits..] {
        "" => return Some((2, major, 0)),
        t if t.starts_with("beta") => (1, &t[4..]),
        t if t.starts_with("alpha") => (0, &t[5..]),
        _ => return None,
    };
    Some((stability, major, tail.parse().ok()?))
}

fn minor_key(version: &str) -> (u32, u32) {
    let mut parts = version.split('.').map(|p| p.parse().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// The version after `version` among the embedded ones.
fn next_version(version: &str) -> Option<String> {
    builtin::versions()
        .into_iter()
        .find(|v| minor_key(v) > minor_key(version))
        .map(str::to_owned)
}

fn serves(span: &(String, String), target: &str) -> bool {
    minor_key(&span.0) <= minor_key(target) && minor_key(target) <= minor_key(&span.1)
}

/// The best apiVersion serving `kind` in `target`: the same group first, then any. With
/// `upgrade`, only a more stable version of the same group that is served at least as long.
fn replacement(kind: &str, api_version: &str, target: &str, upgrade: bool) -> Option<String> {
    let s = served();
    let candidates = s.by_kind.get(kind)?;
    let own_rank = rank(version_of(api_version));
    let own_last = s
        .spans
        .get(api_version)
        .and_then(|kinds| kinds.get(kind))
        .map(|span| minor_key(&span.1));
    let serving = candidates.iter().filter(|av| {
        let Some(span) = s.spans[*av].get(kind) else {
            return false;
        };
        let better = !upgrade
            || (group_of(av) == group_of(api_version)
                && rank(version_of(av)) > own_rank
                && own_last.is_none_or(|last| minor_key(&span.1) >= last));
        *av != api_version && better && serves(span, target)
    });
    serving
        .max_by_key(|av| (group_of(av) == group_of(api_version), rank(version_of(av))))
        .cloned()
}

/// What Kubernetes `target` (a minor version, `1.29`) makes of `api_version` `kind`.
pub fn status(api_version: &str, kind: &str, target: &str) -> ApiStatus {
    let s = served();
    let group = group_of(api_version);
    let known_group = s.groups.contains(group) || LEGACY_GROUPS.contains(&group);
    let removed_kind = REMOVED_KINDS.iter().find(|(k, _)| *k == kind);
    if !known_group || (!s.by_kind.contains_key(kind) && removed_kind.is_none()) {
        return ApiStatus::Unknown;
    }
    let span = s.spans.get(api_version).and_then(|kinds| kinds.get(kind));
    match span {
        Some(span) if serves(span, target) => {
            let removed_in = if minor_key(&span.1) < minor_key(builtin::latest()) {
                next_version(&span.1)
            } else {
                None
            };
            let better = rank(version_of(api_version))
                .filter(|(stability, ..)| *stability < 2)
                .and_then(|own| {
                    s.spans.iter().find_map(|(av, kinds)| {
                        let newer = group_of(av) == group
                            && rank(version_of(av)).is_some_and(|r| r > own)
                            && kinds.get(kind).is_some_and(|sp| serves(sp, target));
                        newer.then(|| av.clone())
                    })
                });
            if removed_in.is_none() && better.is_none() {
                return ApiStatus::Current;
            }
            ApiStatus::Deprecated {
                replacement: replacement(kind, api_version, target, true),
                removed_in,
            }
        }
        Some(span) if minor_key(target) < minor_key(&span.0) => ApiStatus::NotYetServed {
            since: span.0.clone(),
        },
        Some(span) => ApiStatus::Removed {
            replacement: replacement(kind, api_version, target, false),
            removed_in: next_version(&span.1),
        },
        None => ApiStatus::Removed {
            replacement: replacement(kind, api_version, target, false),
            removed_in: removed_kind.map(|(_, v)| (*v).to_owned()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apis_removed_before_the_oldest_embedded_version() {
        assert_eq!(
            status("extensions/v1beta1", "Deployment", "1.37"),
            ApiStatus::Removed {
                replacement: Some("apps/v1".into()),
                removed_in: None
            }
        );
        assert_eq!(
            status("extensions/v1beta1", "Ingress", "1.30"),
            ApiStatus::Removed {
                replacement: Some("networking.k8s.io/v1".into()),
                removed_in: None
            }
        );
        assert!(matches!(
            status("policy/v1beta1", "PodSecurityPolicy", "1.29"),
            ApiStatus::Removed { replacement: None, removed_in: Some(v) } if v == "1.25"
        ));
    }

    #[test]
    fn apis_removed_within_the_embedded_versions() {
        assert_eq!(
            status("autoscaling/v2beta2", "HorizontalPodAutoscaler", "1.29"),
            ApiStatus::Removed {
                replacement: Some("autoscaling/v2".into()),
                removed_in: Some("1.26".into())
            }
        );
        // Still served by 1.25, but going away in 1.26.
        assert_eq!(
            status("autoscaling/v2beta2", "HorizontalPodAutoscaler", "1.25"),
            ApiStatus::Deprecated {
                replacement: Some("autoscaling/v2".into()),
                removed_in: Some("1.26".into())
            }
        );
    }

    #[test]
    fn deprecations_only_point_up_and_future_apis_are_not_served() {
        // v1beta3 is removed in 1.32; at 1.26 the only other version is the older v1beta2.
        assert_eq!(
            status("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", "1.26"),
            ApiStatus::Deprecated {
                replacement: None,
                removed_in: Some("1.32".into())
            }
        );
        assert_eq!(
            status("networking.k8s.io/v1", "IPAddress", "1.29"),
            ApiStatus::NotYetServed {
                since: "1.33".into()
            }
        );
    }

    #[test]
    fn beta_apis_with_a_stable_successor_are_deprecated() {
        assert_eq!(
            status("resource.k8s.io/v1beta2", "ResourceClaim", "1.37"),
            ApiStatus::Deprecated {
                replacement: Some("resource.k8s.io/v1".into()),
                removed_in: None
            }
        );
    }

    #[test]
    fn current_apis_crds_and_typos_are_left_alone() {
        assert_eq!(status("apps/v1", "Deployment", "1.37"), ApiStatus::Current);
        // A GA version is not deprecated by a newer GA one.
        assert_eq!(
            status("autoscaling/v1", "HorizontalPodAutoscaler", "1.37"),
            ApiStatus::Current
        );
        assert_eq!(
            status("argoproj.io/v1alpha1", "Rollout", "1.37"),
            ApiStatus::Unknown
        );
        assert_eq!(
            status("gateway.networking.k8s.io/v1", "Gateway", "1.37"),
            ApiStatus::Unknown
        );
        assert_eq!(status("apps/v1", "Deploymnet", "1.37"), ApiStatus::Unknown);
    }

    #[test]
    fn versions_rank_like_kubernetes() {
        assert!(rank("v1") > rank("v1beta2"));
        assert!(rank("v2beta1") > rank("v1beta2"));
        assert!(rank("v1beta1") > rank("v1alpha3"));
        assert_eq!(rank("vfoo"), None);
    }
}
