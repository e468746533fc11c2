//! Kubernetes' own CEL libraries that CRD rules of the GitOps stack use, as the API server
//! defines them (k8s.io/apiserver/pkg/cel/library): URLs (`isURL`, `url`, `getScheme`,
//! `getHost`, `getHostname`, `getPort`, `getEscapedPath`) and IP addresses (`isIP`).
//!
//! A `url(...)` value is kept as its (checked) string: the getters are methods of strings,
//! which CEL's own string type does not have, so no rule changes meaning.

use cel::common::types::{CelBool, CelString};
use cel::{DeclarationError, Env, ExecutionError};

/// Adds the functions to an environment.
pub fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    cel::add_overload!(env, fn is_url: (CelString) -> CelBool, name = "isURL")?;
    cel::add_overload!(env, fn url: (CelString) -> Result<CelString>)?;
    cel::add_member_overload!(env, fn get_scheme: (CelString) -> Result<CelString>)?;
    cel::add_member_overload!(env, fn get_host: (CelString) -> Result<CelString>)?;
    cel::add_member_overload!(env, fn get_hostname: (CelString) -> Result<CelString>)?;
    cel::add_member_overload!(env, fn get_port: (CelString) -> Result<CelString>)?;
    cel::add_member_overload!(env, fn get_escaped_path: (CelString) -> Result<CelString>)?;
    cel::add_overload!(env, fn is_ip: (CelString) -> CelBool, name = "isIP")?;
    Ok(())
}

/// A URL as `url()` accepts it: an absolute URI (`https://example.com/x`) or an absolute path
/// (`/x`); its parts `(scheme, host with port, hostname, port, escaped path)`.
fn parts(text: &str) -> Option<(String, String, String, String, String)> {
    if text.starts_with('/') {
        let path = text.split(['?', '#']).next().unwrap_or_default();
        return Some((
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            path.to_owned(),
        ));
    }
    let parsed = url::Url::parse(text).ok()?;
    let hostname = match parsed.host() {
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        Some(host) => host.to_string(),
        None => String::new(),
    };
    let port = parsed.port().map(|p| p.to_string()).unwrap_or_default();
    let host = match (parsed.host_str(), port.as_str()) {
        (Some(h), "") => h.to_owned(),
        (Some(h), p) => format!("{h}:{p}"),
        (None, _) => String::new(),
    };
    Some((
        parsed.scheme().to_owned(),
        host,
        hostname,
        port,
        parsed.path().to_owned(),
    ))
}

fn checked(
    function: &str,
    text: &str,
) -> Result<(String, String, String, String, String), ExecutionError> {
    parts(text)
        .ok_or_else(|| ExecutionError::function_error(function, format!("URL parse error: {text}")))
}

fn is_url(text: &CelString<'_>) -> CelBool {
    parts(text).is_some().into()
}

fn url<'a>(text: &CelString<'a>) -> Result<CelString<'static>, ExecutionError> {
    checked("url", text)?;
    Ok(text.to_string().into())
}

fn get_scheme(text: &CelString<'_>) -> Result<CelString<'static>, ExecutionError> {
    Ok(checked("getScheme", text)?.0.into())
}

fn get_host(text: &CelString<'_>) -> Result<CelString<'static>, ExecutionError> {
    Ok(checked("getHost", text)?.1.into())
}

fn get_hostname(text: &CelString<'_>) -> Result<CelString<'static>, ExecutionError> {
    Ok(checked("getHostname", text)?.2.into())
}

fn get_port(text: &CelString<'_>) -> Result<CelString<'static>, ExecutionError> {
    Ok(checked("getPort", text)?.3.into())
}

fn get_escaped_path(text: &CelString<'_>) -> Result<CelString<'static>, ExecutionError> {
    Ok(checked("getEscapedPath", text)?.4.into())
}

/// An IPv4 or IPv6 address, as `isIP` accepts it: no IPv4-mapped IPv6 address and no zone.
fn is_ip(text: &CelString<'_>) -> CelBool {
    let ok = match text.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => v6.to_ipv4_mapped().is_none(),
        Ok(_) => true,
        Err(_) => false,
    };
    ok.into()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use cel::{Context, Value};

    /// The examples of the Kubernetes documentation (CEL in Kubernetes: URL and IP libraries).
    #[test]
    fn urls_and_ips_as_the_kubernetes_documentation_shows_them() {
        let env = super::super::cel::env();
        let truths = [
            "isURL('https://example.com/path')",
            "isURL('/absolute-path')",
            "!isURL('example.com')",
            "!isURL('a b')",
            "url('https://example.com:80/').getHost() == 'example.com:80'",
            "url('https://example.com/').getHostname() == 'example.com'",
            "url('https://[::1]:80/').getHostname() == '::1'",
            "url('https://example.com:8080/').getPort() == '8080'",
            "url('https://example.com/').getPort() == ''",
            "url('https://example.com/path with spaces/').getEscapedPath() == '/path%20with%20spaces/'",
            "url('/absolute-path').getScheme() == ''",
            "url('oci://registry.example.com/charts').getScheme() in ['http', 'https', 'oci']",
            "isIP('127.0.0.1')",
            "isIP('::1')",
            "!isIP('::ffff:127.0.0.1')",
            "!isIP('example.com')",
        ];
        for rule in truths {
            let program = env
                .compile(rule)
                .unwrap_or_else(|e| panic!("{rule}: {e:?}"));
            let context = Context::with_env(Arc::clone(env));
            assert_eq!(program.execute(&context), Ok(Value::Bool(true)), "{rule}");
        }
        // Not a URL: an error, which kvet does not count as a violation.
        let program = env.compile("url('example.com').getScheme() == ''").unwrap();
        assert!(
            program
                .execute(&Context::with_env(Arc::clone(env)))
                .is_err()
        );
    }
}
