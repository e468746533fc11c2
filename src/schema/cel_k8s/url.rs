//! Kubernetes' URL library (k8s.io/apiserver/pkg/cel/library/urls.go): `isURL`, `url`, and
//! a URL's `getScheme`, `getHost`, `getHostname`, `getPort`, `getEscapedPath`, `getQuery`.
//!
//! A `url(...)` value is kept as its (checked) string: the getters are methods of strings,
//! which CEL's own string type does not have, so no rule changes meaning.

use std::collections::HashMap;

use cel::common::types::{CelBool, CelList, CelMap, CelMapKey, CelString};
use cel::common::value::Val;
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
    cel::add_member_overload!(env, fn get_query: (CelString) -> Result<CelMap>)?;
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

/// Whether `text` is a URL as `isURL` and `format.uri()` accept it (Go's `ParseRequestURI`).
pub(super) fn is_request_uri(text: &str) -> bool {
    parts(text).is_some()
}

fn is_url(text: &CelString<'_>) -> CelBool {
    is_request_uri(text).into()
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

/// The query's parameters, each with its values in order (`?a=1&a=2` gives `{'a': ['1', '2']}`).
fn get_query(text: &CelString<'_>) -> Result<CelMap<'static>, ExecutionError> {
    checked("getQuery", text)?;
    let query = text.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let query = query.split('#').next().unwrap_or_default();
    let mut values: HashMap<String, Vec<Box<dyn Val>>> = HashMap::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        values
            .entry(key.into_owned())
            .or_default()
            .push(Box::new(CelString::from(value.into_owned())));
    }
    Ok(values
        .into_iter()
        .map(|(k, v)| {
            (
                CelMapKey::from(k),
                Box::new(CelList::from(v)) as Box<dyn Val>,
            )
        })
        .collect::<HashMap<_, _>>()
        .into())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_errors, assert_true};

    /// The examples of urls.go's documentation.
    #[test]
    fn urls_as_the_kubernetes_documentation_shows_them() {
        assert_true(&[
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
            "url('https://example.com/path?k1=a&k2=b&k2=c').getQuery() == {'k1': ['a'], 'k2': ['b', 'c']}",
            "url('https://example.com/path?key=a').getQuery().key[0] == 'a'",
            "url('https://example.com/').getQuery() == {}",
        ]);
        // Not a URL: an error, which kvet does not count as a violation.
        assert_errors(&["url('example.com').getScheme() == ''"]);
    }
}
