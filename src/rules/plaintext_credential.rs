use std::sync::LazyLock;

use regex::Regex;

use super::{Check, Context, declare_rule};
use crate::diag::{Finding, StringPart};
use crate::load::object::Object;
use crate::load::spans::escape_pointer_token;
use crate::load::yaml::{Node, Value};

declare_rule! {
    /// ## What it checks
    /// Every string of every object except Secrets (secret-literal-values' business) and
    /// CustomResourceDefinitions (their schemas describe tokens and passwords): ConfigMap data,
    /// environment variables, container `args` and `command`, annotations, custom resources'
    /// fields. One finding per string, naming the kind of credential, never its value (at most
    /// the 4-character prefix of a token):
    ///
    /// - tokens recognisable by their shape, wherever they appear: AWS access key ids
    ///   (`AKIA`/`ASIA` + 16), GitHub tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`,
    ///   `github_pat_`), GitLab personal access tokens (`glpat-`), Slack tokens (`xoxb-`...)
    ///   and webhook URLs, unencrypted PEM private keys (with their body), JSON Web Tokens
    ///   (`eyJ...`), AWS secret access keys under `aws_secret_access_key`;
    /// - URLs with a password (`postgres://app:s3cr3t@db:5432`);
    /// - literal values of names ending in `password`, `passwd`, `token`, `apikey`,
    ///   `privatekey`, `clientsecret` or `secretaccesskey` (case, `_`, `-` and `.` aside): map
    ///   keys, the `name` of a `{name, value}` pair, a `--flag=value` or `--flag value`
    ///   argument, `key=value` or `key: value` inside a string (a properties or YAML file in a
    ///   ConfigMap). Environment variables, ConfigMap keys, flags and text also count
    ///   `secret`, `secretkey`, `accesskey` and `credentials`; custom resources' fields do not
    ///   (`serverTLSSecret`, `secretKey` name a Secret or one of its keys there).
    ///
    /// It stays silent on references and placeholders: names that only end like a reference
    /// (`passwordSecretRef`, `tokenPath`, `secretName`, `passwordFile`), environment variables
    /// with `valueFrom`, values shorter than 4 characters, empty or placeholder values
    /// (`<password>`, `xxxx`, `***`, `changeme`, `REPLACE_ME`, `INSERT_...`, `your-token`, a
    /// word containing `example`, a value repeating its name such as `GOOGLE_API_KEY_VAL`),
    /// documentation tokens (`AKIAIOSFODNN7EXAMPLE`, `ghp_xxxx...`), template expressions
    /// (`{{ .Values.password }}`, `${{ secrets.X }}`, `${DB_PASSWORD}`, `$(DB_PASSWORD)`,
    /// `$DB_PASSWORD`), SOPS values (`ENC[...]`), secret-manager references (`vault:`, `ref+`,
    /// `arn:aws:`), file paths and URLs, booleans, values with spaces (prose), and values that
    /// look like the name of a Secret (`db-credentials`, `github-token`; any `lower-case-name`
    /// under a name ending in `secret`). `changeme` and its kin are public knowledge, not
    /// leaked secrets. It skips SealedSecret `encryptedData`, a SOPS file's `sops` block and the
    /// `kubectl.kubernetes.io/last-applied-configuration` annotation (a copy of the object).
    ///
    /// ## Why
    /// Only Secrets are meant to hold credentials: RBAC lets many more people read ConfigMaps
    /// and workloads than Secrets, `kubectl describe` prints environment variables, and the
    /// value sits in Git history for good once committed. A leaked token must be revoked, not
    /// just deleted.
    ///
    /// ## How to fix
    /// Revoke and rotate the credential first. Then keep it in a Secret created outside Git
    /// (External Secrets Operator, Sealed Secrets, SOPS) and reference it:
    /// `valueFrom.secretKeyRef` or `envFrom.secretRef` for environment variables, `$(VAR)` in
    /// `args`, a `secret` volume for files, `...SecretRef` fields in custom resources.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: api
    ///     env:
    ///       - name: DB_PASSWORD
    ///         value: hunter2-prod   # plaintext-credential
    ///       - name: API_TOKEN
    ///         valueFrom: {secretKeyRef: {name: api, key: token}}
    /// ```
    id: "plaintext-credential",
    category: "credentials",
    level: Error,
    kinds: &[],
    summary: "a credential is written in plain text outside a Secret",
    check: Check::Object(check),
}

// Written in Rust rather than Rego: it looks at every string of every object, which took half
// of a full check of the corpus as a policy.

/// A credential recognisable by its shape.
struct Shape {
    /// Lower wins when one string matches several ways.
    rank: u8,
    what: &'static str,
    /// Strings one of which the credential contains: a cheap test before the expression.
    needles: &'static [&'static str],
    pattern: Regex,
    /// Whether the first characters may be shown (a token's prefix).
    show_prefix: bool,
}

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a valid built-in pattern")
}

static SHAPES: LazyLock<Vec<Shape>> = LazyLock::new(|| {
    let shape = |rank, what, needles, pattern: &str, show_prefix| Shape {
        rank,
        what,
        needles,
        pattern: regex(pattern),
        show_prefix,
    };
    vec![
        shape(
            1,
            "an unencrypted PEM private key",
            &["PRIVATE KEY-----"],
            r"-----BEGIN (RSA |EC |DSA |OPENSSH )?PRIVATE KEY-----\s*[A-Za-z0-9+/=\s]{40,}",
            false,
        ),
        shape(
            1,
            "an AWS access key id",
            &["AKIA", "ASIA"],
            r"\b(AKIA|ASIA)[0-9A-Z]{16}\b",
            true,
        ),
        shape(
            1,
            "a GitHub personal access token",
            &["ghp_"],
            r"\bghp_[A-Za-z0-9]{36}\b",
            true,
        ),
        shape(
            1,
            "a GitHub fine-grained personal access token",
            &["github_pat_"],
            r"\bgithub_pat_[A-Za-z0-9_]{60,}",
            true,
        ),
        shape(
            1,
            "a GitHub OAuth token",
            &["gho_"],
            r"\bgho_[A-Za-z0-9]{36}\b",
            true,
        ),
        shape(
            1,
            "a GitHub App token",
            &["ghu_", "ghs_", "ghr_"],
            r"\bgh[usr]_[A-Za-z0-9]{36}\b",
            true,
        ),
        shape(
            1,
            "a GitLab personal access token",
            &["glpat-"],
            r"\bglpat-[A-Za-z0-9_-]{20,}",
            true,
        ),
        shape(
            1,
            "a Slack token",
            &["xox"],
            r"\bxox[baprs]-[A-Za-z0-9-]{10,}",
            true,
        ),
        shape(
            1,
            "a Slack webhook URL",
            &["hooks.slack.com/"],
            r"hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{16,}",
            false,
        ),
        shape(
            2,
            "a JSON Web Token",
            &["eyJ"],
            r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}",
            true,
        ),
    ]
});

static URL_WITH_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    regex(r#"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@"'<>]*:([^\s/@"'<>]+)@[^\s/"'<>@]+"#)
});
static AWS_SECRET_NAME: LazyLock<Regex> = LazyLock::new(|| regex(r"(?i)aws.?secret"));
static AWS_SECRET_VALUE: LazyLock<Regex> = LazyLock::new(|| regex(r"^[A-Za-z0-9/+]{40}$"));
static FLAG: LazyLock<Regex> = LazyLock::new(|| regex(r"^--?[A-Za-z0-9_.-]+$"));
/// `key=value` and `key: value` (at the start of a line or after a quote) inside a string.
static ASSIGNMENTS: LazyLock<[(&str, Regex); 2]> = LazyLock::new(|| {
    [
        (
            "=",
            regex(
                r#"(?i)([a-z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials))["']?[ \t]*=[ \t]*["']?([^\s"'`,;&<>{}()\[\]]+)"#,
            ),
        ),
        (
            ":",
            regex(
                r#"(?im)(?:^[ \t-]*|["'])([a-z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials))["']?[ \t]*:[ \t]*["']?([^\s"'`,;&<>{}()\[\]]+)"#,
            ),
        ),
    ]
});
static STRICT_NAME: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(password|passwd|token|apikey|privatekey|clientsecret|secretaccesskey)$")
});
static LOOSE_NAME: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(secret|secretkey|accesskey|credentials)$"));
static SECRET_NAME_VALUE: LazyLock<Regex> = LazyLock::new(|| regex(r"^[a-z0-9]+(-[a-z0-9]+)+$"));
static PLACEHOLDERS: LazyLock<[Regex; 4]> = LazyLock::new(|| {
    [
        regex(r"^<.*>$"),
        regex(r"^[xX*#._•-]+$"),
        regex(r"(xxx|XXX|\*\*\*)"),
        regex(
            r"(?i)(change[-_]?me|replace[-_]?me|^insert[-_]|your[-_ ]|^[a-z0-9_.-]*example[a-z0-9_.-]*$|placeholder|redacted|dummy|^(password|passwd|secret|token|todo|tbd|fixme|none|null|nil|true|false|yes|no|on|off|enabled|disabled|required|optional|auto|default)$)",
        ),
    ]
});
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"(\{\{|\$\{|\$\(|%\(|^\$|^ENC\[|^vault:|^ref\+|^arn:aws:|^/|^\./|^~/|^file:|^[a-z]+://)")
});
static KUBERNETES_NAME: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"));
static NAME_OF_A_SECRET: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(secret|token|creds|credential|password|key|cert|tls)"));
static FAKE_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?i)example|xxxxxxxx|00000000|\.\.\."));
static PLAIN_SEGMENT: LazyLock<Regex> = LazyLock::new(|| regex(r"^[A-Za-z0-9_-]+$"));

/// Words of credentials' names: an object without any of them (in a key or a string) has no
/// named credential, only maybe a recognisable token.
const CREDENTIAL_WORDS: &[&str] = &[
    "pass",
    "secret",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "api.key",
    "accesskey",
    "access_key",
    "access-key",
    "privatekey",
    "private_key",
    "private-key",
    "credential",
];

#[derive(Clone, Copy, PartialEq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// What was found in one string: rank, what it is, what of it is shown, and where it is in the
/// string (its byte range) when it is a part of it. The smallest (rank, then words, then the
/// first) is reported.
type Hit = (u8, String, String, Option<(usize, usize)>);

fn check(object: &Object, _: &Context, out: &mut Vec<Finding>) {
    if matches!(
        object.id.kind.as_str(),
        "Secret" | "CustomResourceDefinition"
    ) {
        return;
    }
    let scan = Scan {
        object,
        credential_words: has_credential_words(&object.root),
    };
    let mut path = Vec::new();
    scan.walk(&object.root, &mut path, out);
}

struct Scan<'a> {
    object: &'a Object,
    credential_words: bool,
}

impl<'a> Scan<'a> {
    fn walk(&self, node: &'a Node, path: &mut Vec<Step<'a>>, out: &mut Vec<Finding>) {
        match &node.value {
            Value::Map(entries) => {
                for entry in entries {
                    path.push(Step::Key(&entry.key));
                    if !skipped(path) {
                        self.walk(&entry.value, path, out);
                    }
                    path.pop();
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    path.push(Step::Index(i));
                    self.walk(item, path, out);
                    path.pop();
                }
            }
            Value::Str(s) => {
                if let Some((_, what, shown, range)) = self.best_hit(s, path) {
                    let shown = if shown.is_empty() {
                        String::new()
                    } else {
                        format!(" ({shown})")
                    };
                    let message = format!(
                        "{} holds {what}{shown} in plain text: rotate it and reference a Secret instead",
                        self.location(path)
                    );
                    let mut finding = Finding::new(pointer(path), message);
                    // A part of a longer text (a file in a ConfigMap) is shown where it is.
                    finding.part = range.map(|(start, end)| StringPart::of(s, start..end));
                    out.push(finding);
                }
            }
            _ => {}
        }
    }

    fn best_hit(&self, s: &str, path: &[Step]) -> Option<Hit> {
        let mut hits: Vec<Hit> = Vec::new();
        for shape in SHAPES.iter() {
            if !shape.needles.iter().any(|n| s.contains(n)) {
                continue;
            }
            for found in shape.pattern.find_iter(s) {
                if FAKE_TOKEN.is_match(found.as_str()) {
                    continue;
                }
                let shown = if shape.show_prefix {
                    let start: String = found.as_str().chars().take(4).collect();
                    format!("{start}…")
                } else {
                    String::new()
                };
                let range = Some((found.start(), found.end()));
                hits.push((shape.rank, shape.what.to_owned(), shown, range));
            }
        }
        if s.contains('@') && s.contains("://") {
            for caps in URL_WITH_PASSWORD.captures_iter(s) {
                if literal(&caps[1], "") {
                    let whole = caps.get(0).map(|m| (m.start(), m.end()));
                    hits.push((3, "a URL with a password".into(), String::new(), whole));
                }
            }
        }
        if self.credential_words {
            let key = self.key_of(path);
            if let Some(key) = key.as_deref() {
                if s.chars().count() == 40
                    && AWS_SECRET_NAME.is_match(key)
                    && AWS_SECRET_VALUE.is_match(s)
                    && literal(s, "")
                {
                    hits.push((1, "an AWS secret access key".into(), String::new(), None));
                }
                if credential_word(key)
                    && credential_name(key, self.loose_context(path))
                    && literal(s, key)
                    && let Some(what) = named(key)
                {
                    hits.push((4, what.into(), String::new(), None));
                }
            }
            if credential_word(s) {
                for (separator, pattern) in ASSIGNMENTS.iter() {
                    if !s.contains(separator) {
                        continue;
                    }
                    for caps in pattern.captures_iter(s) {
                        if credential_name(&caps[1], true)
                            && literal(&caps[2], &caps[1])
                            && let Some(what) = named(&caps[1])
                        {
                            let (name, value) = (&caps.get(1), &caps.get(2));
                            let range = name.zip(*value).map(|(n, v)| (n.start(), v.end()));
                            hits.push((5, what.into(), String::new(), range));
                        }
                    }
                }
            }
        }
        hits.into_iter().min_by(|a, b| a.cmp(b))
    }

    /// The node at `path` from the object's root.
    fn at(&self, path: &[Step]) -> Option<&'a Node> {
        let mut node = &self.object.root;
        for step in path {
            node = match step {
                Step::Key(k) => node.get(k)?,
                Step::Index(i) => node.as_seq()?.get(*i)?,
            };
        }
        Some(node)
    }

    /// The key a string is the value of: its map key; for `{name: X, value: ...}` pairs
    /// (environment variables, parameters), the name; for an argument after a `--flag`
    /// without a value, the flag.
    fn key_of(&self, path: &[Step]) -> Option<String> {
        let (last, parent) = path.split_last()?;
        match last {
            Step::Key("value") => Some(self.at(parent)?.get("name")?.as_str()?.to_owned()),
            Step::Key(k) => Some((*k).to_owned()),
            Step::Index(0) => None,
            Step::Index(i) => {
                let flag = self.at(parent)?.as_seq()?.get(i - 1)?.as_str()?;
                FLAG.is_match(flag)
                    .then(|| flag.trim_start_matches('-').to_owned())
            }
        }
    }

    fn loose_context(&self, path: &[Step]) -> bool {
        env_value(path) || arg_item(path) || self.config_map_data(path)
    }

    fn config_map_data(&self, path: &[Step]) -> bool {
        self.object.id.kind == "ConfigMap" && path.len() == 2 && path[0] == Step::Key("data")
    }

    /// Where the string is, for the message.
    fn location(&self, path: &[Step]) -> String {
        let name_of = |up: usize| {
            self.at(&path[..path.len().saturating_sub(up)])
                .and_then(|n| n.get("name"))
                .and_then(Node::as_str)
        };
        if env_value(path)
            && let (Some(key), Some(container)) = (self.key_of(path), name_of(3))
        {
            return format!("environment variable {key:?} of container {container:?}");
        }
        if arg_item(path)
            && let (Some(Step::Key(list)), Some(Step::Index(i)), Some(container)) =
                (path.get(path.len() - 2), path.last(), name_of(2))
        {
            return format!("{list} item {i} of container {container:?}");
        }
        if let [
            Step::Key("metadata"),
            Step::Key("annotations"),
            Step::Key(name),
        ] = path
        {
            return format!("annotation {name:?}");
        }
        if self.config_map_data(path)
            && let Step::Key(key) = path[1]
        {
            return format!("key {key:?} of data");
        }
        format!("field {}", dotted(path))
    }
}

/// Parts of an object that hold ciphertext or a copy of the object.
fn skipped(path: &[Step]) -> bool {
    path.contains(&Step::Key("encryptedData"))
        || path.first() == Some(&Step::Key("sops"))
        || path
            == [
                Step::Key("metadata"),
                Step::Key("annotations"),
                Step::Key("kubectl.kubernetes.io/last-applied-configuration"),
            ]
}

fn has_credential_words(node: &Node) -> bool {
    let has = |s: &str| {
        let lower = s.to_lowercase();
        CREDENTIAL_WORDS.iter().any(|w| lower.contains(w))
    };
    match &node.value {
        Value::Str(s) => has(s),
        Value::Seq(items) => items.iter().any(has_credential_words),
        Value::Map(entries) => entries
            .iter()
            .any(|e| has(&e.key) || has_credential_words(&e.value)),
        _ => false,
    }
}

fn env_value(path: &[Step]) -> bool {
    let n = path.len();
    n >= 3 && path[n - 1] == Step::Key("value") && path[n - 3] == Step::Key("env")
}

fn arg_item(path: &[Step]) -> bool {
    let n = path.len();
    n >= 2
        && matches!(path[n - 2], Step::Key("args") | Step::Key("command"))
        && matches!(path[n - 1], Step::Index(_))
}

/// A cheap test before the expressions: the text has a credential's word.
fn credential_word(text: &str) -> bool {
    let lower = text.to_lowercase();
    ["pass", "secret", "token", "key", "credential"]
        .iter()
        .any(|w| lower.contains(w))
}

/// Names of credentials; names that merely end like a reference (passwordSecretRef,
/// tokenPath, secretName) do not end with one of these words. `loose` adds the words custom
/// resources use for references too.
fn credential_name(name: &str, loose: bool) -> bool {
    let name = normalized(name);
    STRICT_NAME.is_match(&name) || (loose && LOOSE_NAME.is_match(&name))
}

fn normalized(name: &str) -> String {
    name.to_lowercase().replace(['_', '-', '.'], "")
}

fn named(name: &str) -> Option<&'static str> {
    let name = normalized(name);
    if name.ends_with("password") || name.ends_with("passwd") {
        Some("a password")
    } else if name.ends_with("token") {
        Some("a token")
    } else if name.ends_with("apikey") {
        Some("an API key")
    } else if name.ends_with("privatekey") {
        Some("a private key")
    } else if ["secret", "accesskey", "secretkey", "credentials"]
        .iter()
        .any(|w| name.ends_with(w))
    {
        Some("a secret")
    } else {
        None
    }
}

/// A value that is a real credential, not a placeholder, a template or a reference. A value
/// that repeats its key's name (GOOGLE_API_KEY_VAL, INSERT_TOKEN, mypassword) is a placeholder.
fn literal(value: &str, key: &str) -> bool {
    value.trim().chars().count() >= 4
        && !placeholder(value)
        && !reference(value)
        && !repeats_key(value, key)
        && !names_a_secret(value, key)
}

/// Under a name ending in "secret" (DB_PASSWORD_SECRET, tlsSecret), a lower-case Kubernetes
/// name with a dash is the name of a Secret.
fn names_a_secret(value: &str, key: &str) -> bool {
    normalized(key).ends_with("secret") && SECRET_NAME_VALUE.is_match(value)
}

fn repeats_key(value: &str, key: &str) -> bool {
    let (value, key) = (normalized(value), normalized(key));
    (!key.is_empty() && value.contains(&key))
        || ["password", "token", "secret", "apikey"]
            .iter()
            .any(|w| key.ends_with(w) && value.contains(w))
}

fn placeholder(value: &str) -> bool {
    PLACEHOLDERS.iter().any(|p| p.is_match(value)) || value.trim().contains(char::is_whitespace)
}

fn reference(value: &str) -> bool {
    REFERENCE.is_match(value)
        // The name of a Secret: my-secret-token, db-credentials, server-tls.
        || (KUBERNETES_NAME.is_match(value)
            && value.contains(['-', '.'])
            && NAME_OF_A_SECRET.is_match(value))
}

fn pointer(path: &[Step]) -> String {
    path.iter()
        .map(|step| match step {
            Step::Key(k) => format!("/{}", escape_pointer_token(k)),
            Step::Index(i) => format!("/{i}"),
        })
        .collect()
}

/// `spec.containers[0].env`, `metadata.annotations["example.org/x"]`.
fn dotted(path: &[Step]) -> String {
    let text: String = path
        .iter()
        .map(|step| match step {
            Step::Index(i) => format!("[{i}]"),
            Step::Key(k) if PLAIN_SEGMENT.is_match(k) => format!(".{k}"),
            Step::Key(k) => format!("[{k:?}]"),
        })
        .collect();
    text.strip_prefix('.').map(str::to_owned).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `(pointer, message)` of the findings on one object written as JSON.
    fn findings(object: serde_json::Value) -> Vec<(String, String)> {
        let loaded = crate::load::load_text(&object.to_string());
        let object = loaded.objects.first().expect("an object");
        let crds = crate::schema::store::CrdStore::default();
        let locations = crate::schema::location::SchemaLocations::default();
        let context = Context {
            kubernetes_version: crate::schema::builtin::latest(),
            crds: &crds,
            crds_complete: true,
            catalog: true,
            locations: &locations,
        };
        let mut out = Vec::new();
        check(object, &context, &mut out);
        out.into_iter().map(|f| (f.pointer, f.message)).collect()
    }

    fn config_map(data: serde_json::Value) -> serde_json::Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app"}, "data": data})
    }

    fn deployment(container: serde_json::Value) -> serde_json::Value {
        let mut c = json!({"name": "web", "image": "web:1.0"});
        c.as_object_mut()
            .unwrap()
            .extend(container.as_object().unwrap().clone());
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"template": {"spec": {"containers": [c]}}}})
    }

    const CONTAINER: &str = "/spec/template/spec/containers/0";

    // Split so that the token scanners of the repository do not mistake the tests for leaks.
    fn github_token() -> String {
        ["ghp_", "R4nd0mT0k3nV4lu3f0rT3st1ngPurp0s3s12"].concat()
    }

    fn only(found: Vec<(String, String)>) -> (String, String) {
        assert_eq!(found.len(), 1, "{found:?}");
        found.into_iter().next().unwrap()
    }

    #[test]
    fn a_github_token_in_an_annotation_is_named_and_shortened() {
        let notes = format!("pushed with {}", github_token());
        let (pointer, message) = only(findings(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "annotations": {"ci/notes": notes}}}),
        ));
        assert_eq!(pointer, "/metadata/annotations/ci~1notes");
        assert!(
            message
                .contains(r#"annotation "ci/notes" holds a GitHub personal access token (ghp_…)"#)
        );
        assert!(!message.contains(&github_token()));
    }

    #[test]
    fn every_token_shape_is_recognised_and_keys_and_pems_show_nothing() {
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----";
        let tokens = [
            ["AKIA", "Z3K4L5M6N7O8P9Q1"].concat(),
            [
                "github_pat_",
                "11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123",
            ]
            .concat(),
            ["gho_", "R4nd0mT0k3nV4lu3f0rT3st1ngPurp0s3s12"].concat(),
            ["ghs_", "R4nd0mT0k3nV4lu3f0rT3st1ngPurp0s3s12"].concat(),
            ["glpat-", "Zx8Yw7Vu6Ts5Rq4Po3Nm"].concat(),
            ["xoxb-", "1234567890-abcdefghij"].concat(),
            [
                "https://hooks.slack.com/services/",
                "T0A1B2C3D/B0A1B2C3D/q1w2e3r4t5y6u7i8o9p0",
            ]
            .concat(),
            [
                "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
                "eyJzdWIiOiJkZXBsb3kiLCJpYXQiOjE3MDAwMDAwMDB9",
                "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            ]
            .join("."),
            pem.to_owned(),
        ];
        for token in tokens {
            let (pointer, message) = only(findings(config_map(json!({"notes": token}))));
            assert_eq!(pointer, "/data/notes");
            assert!(
                message.contains(r#"key "notes" of data holds a"#),
                "{message}"
            );
            let shows = message.contains('…');
            assert_eq!(
                shows,
                !(token.contains("PRIVATE KEY") || token.contains("hooks.slack")),
                "{message}"
            );
        }
    }

    #[test]
    fn documentation_tokens_and_bare_pem_headers_are_silent() {
        for value in [
            "AKIAIOSFODNN7EXAMPLE",
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI3+FrUBMHiJ8CAggA\n-----END ENCRYPTED PRIVATE KEY-----",
            "the header must be -----BEGIN PRIVATE KEY-----",
        ] {
            assert_eq!(findings(config_map(json!({"notes": value}))), [], "{value}");
        }
    }

    #[test]
    fn urls_with_a_literal_password_are_reported_without_it() {
        let (_, message) = only(findings(config_map(
            json!({"DATABASE_URL": "postgres://app:hunter2prod@db:5432/app"}),
        )));
        assert!(message.contains(r#"key "DATABASE_URL" of data holds a URL with a password"#));
        assert!(!message.contains("hunter2prod"));
        for url in [
            "postgres://app:${DB_PASSWORD}@db:5432/app",
            "redis://:$(REDIS_PASSWORD)@redis:6379",
            "https://user:<password>@example.org",
            "https://git@github.com/org/repo",
            "amqp://guest:password@rabbit",
        ] {
            assert_eq!(findings(config_map(json!({"URL": url}))), [], "{url}");
        }
    }

    #[test]
    fn environment_variables_are_named_and_placeholders_stay_silent() {
        let (pointer, message) = only(findings(deployment(json!({"env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "DB_PASSWORD", "value": "hunter2-prod"},
            {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "api", "key": "token"}}},
        ]}))));
        assert_eq!(pointer, format!("{CONTAINER}/env/1/value"));
        assert!(message.contains(
            r#"environment variable "DB_PASSWORD" of container "web" holds a password in plain text"#
        ));
        for (name, what) in [
            ("MINIO_SECRET_KEY", "a secret"),
            ("ACCESS_KEY", "a secret"),
            ("GOOGLE_API_KEY", "an API key"),
            ("VAULT_TOKEN", "a token"),
            ("SIGNING_PRIVATE_KEY", "a private key"),
            ("SMTP_PASSWD", "a password"),
            ("NEXTAUTH_SECRET", "a secret"),
            ("GCP_CREDENTIALS", "a secret"),
        ] {
            let (_, message) = only(findings(deployment(
                json!({"env": [{"name": name, "value": "q8Wz3kLm"}]}),
            )));
            assert!(
                message.contains(&format!("holds {what} in plain text")),
                "{message}"
            );
        }
        for value in [
            "",
            "   ",
            "abc",
            "<db-password>",
            "xxxxxx",
            "****",
            "REPLACE_ME",
            "changeme",
            "CHANGE_ME",
            "your-token-here",
            "example-password-1",
            "{{ .Values.db.password }}",
            "${{ secrets.TOKEN }}",
            "${DB_PASSWORD}",
            "$(DB_PASSWORD)",
            "$DB_PASSWORD",
            "ENC[AES256_GCM,data:abc=,type:str]",
            "vault:secret/data/db#password",
            "ref+awssm://db/password",
            "/var/run/secrets/token",
            "https://vault.example.org",
            "db-credentials",
            "my-secret-token",
            "true",
            "correct horse battery",
            "mypassword1",
            "INSERT_DB_PASSWORD",
        ] {
            let env = json!({"env": [{"name": "DB_PASSWORD", "value": value}]});
            assert_eq!(findings(deployment(env)), [], "{value:?}");
        }
    }

    #[test]
    fn aws_secret_keys_and_secret_names_under_secret_keys() {
        let (_, message) = only(findings(config_map(
            json!({"aws_secret_access_key": "q8Wz3kLmN0pR5tV7xY9aB1cD3eF5gH7iJ9kL1mN3"}),
        )));
        assert!(message.contains("an AWS secret access key"));
        let named = json!({"env": [{"name": "DB_PASSWORD_SECRET", "value": "orders-db"}]});
        assert_eq!(findings(deployment(named)), []);
        let literal = json!({"env": [{"name": "JWT_SECRET", "value": "q8Wz3kLm-0pR5"}]});
        assert!(only(findings(deployment(literal))).1.contains("a secret"));
    }

    #[test]
    fn reference_fields_and_custom_resources_secret_words_are_silent() {
        let cluster = json!({"apiVersion": "postgresql.cnpg.io/v1", "kind": "Cluster", "metadata": {"name": "pg"}, "spec": {
            "passwordSecretRef": {"name": "db", "key": "password"},
            "tokenPath": "/var/run/token",
            "secretName": "hunter2-prod",
            "passwordFile": "pw.txt",
            "superuserSecret": "pg-superuser",
            "certificates": {"serverTLSSecret": "pg-server"},
        }});
        assert_eq!(findings(cluster), []);
        let es = json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "e"},
                        "spec": {"data": [{"secretKey": "apiKey", "remoteRef": {"key": "prod/api"}}]}});
        assert_eq!(findings(es), []);
        let app = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application", "metadata": {"name": "a"},
                         "spec": {"source": {"helm": {"valuesObject": {"auth": {"password": "hunter2-prod"}}}}}});
        let (_, message) = only(findings(app));
        assert!(
            message.contains("field spec.source.helm.valuesObject.auth.password holds a password")
        );
    }

    #[test]
    fn flags_and_assignments_in_arguments_and_files() {
        let args = json!({"args": ["--db-password", "s3cr3tpw", "--token=abcd1234efgh", "--log-level", "info", "--api-key", "$(API_KEY)"]});
        let found = findings(deployment(args));
        let pointers: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            pointers,
            [format!("{CONTAINER}/args/1"), format!("{CONTAINER}/args/2")]
        );
        assert!(
            found
                .iter()
                .all(|(_, m)| m.contains("args item") && m.contains(r#"of container "web""#))
        );
        let files = findings(config_map(json!({
            "application.properties": "spring.datasource.url=jdbc:postgresql://db/app\nspring.datasource.password=Sup3rS3cret!\napi.token=${API_TOKEN}\n",
            "config.yaml": "smtp:\n  host: mail\n  password: \"pa55w0rd-mail\"\n",
            "settings.json": "{\"auth\": {\"clientSecret\": \"q8Wz3kLm0pR5\"}}",
            "prose.md": "Set `automountServiceAccountToken=false` and keep the token: it matters.",
        })));
        let pointers: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/data/application.properties",
                "/data/config.yaml",
                "/data/settings.json"
            ]
        );
    }

    #[test]
    fn secrets_crds_ciphertext_and_copies_are_skipped() {
        let token = github_token();
        for object in [
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"token": token}}),
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "c"}, "spec": {"example": token}}),
            json!({"apiVersion": "bitnami.com/v1alpha1", "kind": "SealedSecret", "metadata": {"name": "s"}, "spec": {"encryptedData": {"password": "AgBy3i4OJSWK+PiTySYZZA9rO43cGDEq"}}}),
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"password": "ENC[AES256_GCM,data:Zm9v,type:str]"}, "sops": {"mac": "ENC[AES256_GCM,data:abc]", "age": [{"enc": "-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBqTGZLcmdXbGhVd3Zk\n-----END AGE ENCRYPTED FILE-----"}]}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": format!("{{\"token\": {token:?}}}")}}}),
        ] {
            assert_eq!(findings(object.clone()), [], "{object}");
        }
    }

    #[test]
    fn the_strongest_finding_wins_and_other_places_are_named_by_path() {
        let env = json!({"env": [{"name": "GITHUB_TOKEN", "value": github_token()}]});
        assert!(
            only(findings(deployment(env)))
                .1
                .contains("a GitHub personal access token")
        );
        let workflow = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "w"},
                              "spec": {"arguments": {"parameters": [{"name": "token", "value": "q8Wz3kLm0pR5"}]}}});
        let (pointer, message) = only(findings(workflow));
        assert_eq!(pointer, "/spec/arguments/parameters/0/value");
        assert!(message.contains("field spec.arguments.parameters[0].value holds a token"));
        let key_id = ["AKIA", "Z3K4L5M6N7O8P9Q1"].concat();
        let odd = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": "w"},
                         "spec": {"x.y": {"args": [key_id]}}});
        assert!(
            only(findings(odd))
                .1
                .contains(r#"field spec["x.y"].args[0] holds an AWS access key id (AKIA…)"#)
        );
    }
}
