//! Kyverno's `images` context variable, mirroring `pkg/utils/api/image.go`
//! (`ExtractImagesFromResource`), `pkg/utils/image/infos.go` (`GetImageInfo`,
//! default registry `docker.io`, default tag `latest`, no `library/` prefix)
//! and distribution's `reference.Parse` grammar.

use regex::Regex;
use serde_json::{Map, Value};
use std::sync::LazyLock;

const DEFAULT_REGISTRY: &str = "docker.io";

static DOMAIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$")
        .unwrap_or_else(|_| unreachable!())
});
static PATH_COMPONENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$").unwrap_or_else(|_| unreachable!())
});
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[\w][\w.-]{0,127}$").unwrap_or_else(|_| unreachable!()));
static DIGEST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(sha256:[a-f0-9]{64}|sha384:[a-f0-9]{96}|sha512:[a-f0-9]{128})$")
        .unwrap_or_else(|_| unreachable!())
});

/// The `images` variable of a resource: `{"containers": {name: info}, ...}`.
/// Kinds without registered extractors, resources without images, and
/// resources with an unparsable image (Kyverno then fails to add the
/// variable) give `{}`, so every `images.*` path stays missing as in Kyverno.
pub fn images(object: &Value) -> Value {
    let Some((_, template)) = super::autogen::pod_template(object) else {
        return Value::Object(Map::new());
    };
    let spec = template.get("spec");
    let mut out = Map::new();
    for kind in ["initContainers", "containers", "ephemeralContainers"] {
        let Some(containers) = spec.and_then(|s| s.get(kind)).and_then(Value::as_array) else {
            continue;
        };
        match extract(containers) {
            Some(infos) if !infos.is_empty() => {
                out.insert(kind.to_string(), Value::Object(infos));
            }
            Some(_) => {}
            None => return Value::Object(Map::new()),
        }
    }
    Value::Object(out)
}

/// Image infos keyed by container name; `None` on a bad name or image.
fn extract(containers: &[Value]) -> Option<Map<String, Value>> {
    let mut infos = Map::new();
    for container in containers {
        let image = container
            .get("image")
            .and_then(Value::as_str)
            .filter(|i| !i.trim().is_empty());
        let Some(image) = image else { continue };
        let name = container.get("name").and_then(Value::as_str)?;
        infos.insert(name.to_string(), parse_image(image)?);
    }
    Some(infos)
}

/// Parses one image reference into Kyverno's image info object
/// (`registry`, `path`, `name`, `tag`, `digest`, `reference`, `referenceWithTag`;
/// empty `registry`/`tag`/`digest` are omitted like Go's `omitempty`).
pub fn parse_image(text: &str) -> Option<Value> {
    let full = add_default_registry(text);
    let (name_part, digest) = match full.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (full.as_str(), None),
    };
    let (registry, remainder) = split_domain(name_part);
    let (path, tag) = split_tag(remainder);
    let valid = path.split('/').all(|c| PATH_COMPONENT.is_match(c))
        && tag.is_none_or(|t| TAG.is_match(t))
        && digest.is_none_or(|d| DIGEST.is_match(d))
        && registry.len() + path.len() + usize::from(!registry.is_empty()) <= 255;
    if !valid {
        return None;
    }
    let tag = match (tag, digest) {
        (None, None) => "latest",
        (t, _) => t.unwrap_or(""),
    };
    Some(info(registry, path, tag, digest.unwrap_or("")))
}

fn info(registry: &str, path: &str, tag: &str, digest: &str) -> Value {
    let base = if registry.is_empty() {
        path.to_string()
    } else {
        format!("{registry}/{path}")
    };
    let reference = if digest.is_empty() {
        format!("{base}:{tag}")
    } else {
        format!("{base}@{digest}")
    };
    let name = path.rsplit('/').next().unwrap_or(path);
    let mut out = Map::new();
    let mut put = |key: &str, value: &str, omit_empty: bool| {
        if !(omit_empty && value.is_empty()) {
            out.insert(key.to_string(), Value::String(value.to_string()));
        }
    };
    put("registry", registry, true);
    put("name", name, false);
    put("path", path, false);
    put("tag", tag, true);
    put("digest", digest, true);
    put("reference", &reference, false);
    put("referenceWithTag", &format!("{base}:{tag}"), false);
    Value::Object(out)
}

/// `addDefaultRegistry`: prefix `docker.io/` unless the first component looks
/// like a registry (has `.` or `:`, is `localhost`, or has upper case).
fn add_default_registry(name: &str) -> String {
    match name.split_once('/') {
        Some((first, _))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.to_lowercase() != first =>
        {
            name.to_string()
        }
        _ => format!("{DEFAULT_REGISTRY}/{name}"),
    }
}

/// Splits `domain/rest`; a first component that is no domain makes the whole a path.
fn split_domain(name: &str) -> (&str, &str) {
    match name.split_once('/') {
        Some((domain, rest)) if DOMAIN.is_match(domain) => (domain, rest),
        _ => ("", name),
    }
}

/// Splits `path:tag` (after the domain, a `:` can only start the tag).
fn split_tag(remainder: &str) -> (&str, Option<&str>) {
    match remainder.rsplit_once(':') {
        Some((path, tag)) if !tag.contains('/') => (path, Some(tag)),
        _ => (remainder, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(info: &Value, key: &str) -> String {
        info.get(key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    }

    /// (raw, name, path, registry, tag, digest, reference) from infos_test.go.
    #[test]
    fn kyverno_get_image_info_cases() {
        let digest = "sha256:dead07b4d8ed7e29e98de0f4504d87e8880d4347859d839686a31da35a3b532f";
        let cases = [
            (
                "nginx",
                "nginx",
                "nginx",
                "docker.io",
                "latest",
                "",
                "docker.io/nginx:latest".to_string(),
            ),
            (
                "nginx:v10.3",
                "nginx",
                "nginx",
                "docker.io",
                "v10.3",
                "",
                "docker.io/nginx:v10.3".to_string(),
            ),
            (
                "docker.io/test/nginx:v10.3",
                "nginx",
                "test/nginx",
                "docker.io",
                "v10.3",
                "",
                "docker.io/test/nginx:v10.3".to_string(),
            ),
            (
                "test/nginx",
                "nginx",
                "test/nginx",
                "docker.io",
                "latest",
                "",
                "docker.io/test/nginx:latest".to_string(),
            ),
            (
                "localhost:4443/test/nginx",
                "nginx",
                "test/nginx",
                "localhost:4443",
                "latest",
                "",
                "localhost:4443/test/nginx:latest".to_string(),
            ),
            (
                &format!("docker.io/test/centos@{digest}"),
                "centos",
                "test/centos",
                "docker.io",
                "",
                digest,
                format!("docker.io/test/centos@{digest}"),
            ),
        ];
        for (raw, name, path, registry, tag, dig, reference) in cases {
            let info = parse_image(raw).unwrap_or(Value::Null);
            assert_eq!(field(&info, "name"), name, "{raw}");
            assert_eq!(field(&info, "path"), path, "{raw}");
            assert_eq!(field(&info, "registry"), registry, "{raw}");
            assert_eq!(field(&info, "tag"), tag, "{raw}");
            assert_eq!(field(&info, "digest"), dig, "{raw}");
            assert_eq!(field(&info, "reference"), reference, "{raw}");
        }
    }

    #[test]
    fn reference_with_tag_and_omitted_fields() {
        let digest = "sha256:dead07b4d8ed7e29e98de0f4504d87e8880d4347859d839686a31da35a3b532f";
        let info = parse_image(&format!("docker.io/test/centos@{digest}")).unwrap_or(Value::Null);
        assert_eq!(field(&info, "referenceWithTag"), "docker.io/test/centos:");
        assert!(info.get("tag").is_none());
        let info = parse_image("nginx").unwrap_or(Value::Null);
        assert!(info.get("digest").is_none());
        assert_eq!(field(&info, "referenceWithTag"), "docker.io/nginx:latest");
    }

    #[test]
    fn registry_with_port_tag_and_digest() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let info = parse_image(&format!("ghcr.io:443/org/app:v1@{digest}")).unwrap_or(Value::Null);
        assert_eq!(field(&info, "registry"), "ghcr.io:443");
        assert_eq!(field(&info, "path"), "org/app");
        assert_eq!(field(&info, "name"), "app");
        assert_eq!(field(&info, "tag"), "v1");
        assert_eq!(field(&info, "digest"), digest);
        assert_eq!(
            field(&info, "reference"),
            format!("ghcr.io:443/org/app@{digest}")
        );
        assert_eq!(field(&info, "referenceWithTag"), "ghcr.io:443/org/app:v1");
        let local = parse_image("localhost/netd:v0.4.4-gke.0").unwrap_or(Value::Null);
        assert_eq!(field(&local, "registry"), "localhost");
    }

    #[test]
    fn invalid_references() {
        assert!(parse_image("++").is_none());
        assert!(parse_image("nginx:").is_none());
        assert!(parse_image("Nginx").is_none());
        assert!(parse_image("nginx@sha256:abc").is_none());
        assert!(parse_image("nginx@md5:d41d8cd98f00b204e9800998ecf8427e").is_none());
    }

    #[test]
    fn images_of_pods_and_controllers() {
        let pod = json!({"kind": "Pod", "spec": {
            "initContainers": [{"name": "init", "image": "busybox:1.36"}],
            "containers": [{"name": "app", "image": "ghcr.io/org/app:v1"}, {"name": "noimage"}]}});
        let got = images(&pod);
        assert_eq!(
            got.pointer("/containers/app/registry"),
            Some(&json!("ghcr.io"))
        );
        assert_eq!(
            got.pointer("/initContainers/init/tag"),
            Some(&json!("1.36"))
        );
        assert!(got.get("ephemeralContainers").is_none());
        let cron = json!({"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {
            "containers": [{"name": "c", "image": "nginx"}]}}}}}});
        assert_eq!(
            images(&cron).pointer("/containers/c/path"),
            Some(&json!("nginx"))
        );
        let deploy = json!({"kind": "Deployment", "spec": {"template": {"spec": {
            "containers": [{"name": "c", "image": "nginx"}]}}}});
        assert_eq!(
            images(&deploy).pointer("/containers/c/referenceWithTag"),
            Some(&json!("docker.io/nginx:latest"))
        );
    }

    #[test]
    fn no_images_variable_for_other_kinds_or_bad_images() {
        assert_eq!(images(&json!({"kind": "ConfigMap"})), json!({}));
        let bad = json!({"kind": "Pod", "spec": {"containers": [{"name": "c", "image": "++"}]}});
        assert_eq!(images(&bad), json!({}));
    }
}
