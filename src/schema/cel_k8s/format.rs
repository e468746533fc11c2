//! Kubernetes' format library (k8s.io/apiserver/pkg/cel/library/format.go): `format.named(name)`
//! and `format.<name>()` give a `Format`, whose `validate(text)` is `optional.none()` when the
//! text is valid and the list of what is wrong otherwise; the validations are
//! apimachinery's (`NameIsDNSLabel`, `IsQualifiedName`, ...) and kube-openapi's formats.

use std::sync::LazyLock;

use base64::Engine;
use cel::common::functions::Function;
use cel::common::types::{CelList, CelOptional, CelString, Kind, Type};
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env, ExecutionError};
use regex::Regex;

static FORMAT_TYPE: Type = Type::simple_type(Kind::Opaque, "kubernetes.NamedFormat");

/// One of the named formats.
#[derive(Debug, Clone, Copy)]
pub struct Format(&'static Named);

#[derive(Debug)]
struct Named {
    name: &'static str,
    validate: fn(&str) -> Vec<String>,
}

impl PartialEq for Format {
    fn eq(&self, other: &Self) -> bool {
        self.0.name == other.0.name
    }
}
super::opaque_value!(Format, FORMAT_TYPE);

static FORMATS: [Named; 14] = [
    Named {
        name: "dns1123Label",
        validate: dns1123_label,
    },
    Named {
        name: "dns1123Subdomain",
        validate: dns1123_subdomain,
    },
    Named {
        name: "dns1035Label",
        validate: dns1035_label,
    },
    Named {
        name: "qualifiedName",
        validate: qualified_name,
    },
    Named {
        name: "portName",
        validate: port_name,
    },
    Named {
        name: "dns1123LabelPrefix",
        validate: |s| dns1123_label(&mask_trailing_dash(s)),
    },
    Named {
        name: "dns1123SubdomainPrefix",
        validate: |s| dns1123_subdomain(&mask_trailing_dash(s)),
    },
    Named {
        name: "dns1035LabelPrefix",
        validate: |s| dns1035_label(&mask_trailing_dash(s)),
    },
    Named {
        name: "labelValue",
        validate: label_value,
    },
    Named {
        name: "uri",
        validate: uri,
    },
    Named {
        name: "uuid",
        validate: uuid,
    },
    Named {
        name: "byte",
        validate: byte,
    },
    Named {
        name: "date",
        validate: date,
    },
    Named {
        name: "datetime",
        validate: datetime,
    },
];

pub fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_type(FORMAT_TYPE.to_owned())?;
    for (i, format) in FORMATS.iter().enumerate() {
        // A function per format: its index picks the format, as a closure cannot be an overload.
        env.add_overload(
            &format!("format.{}", format.name),
            &format!("format-{}", format.name),
            vec![],
            CONSTANTS[i],
        )?;
    }
    cel::add_overload!(env, fn named: (CelString) -> CelOptional, name = "format.named")?;
    cel::add_member_overload!(env, fn validate: (Format, CelString) -> CelOptional)?;
    Ok(())
}

/// `format.<name>()`: the format at index `I`.
fn constant<'b, 'v, const I: usize>(
    _args: Vec<CowVal<'b, 'v>>,
) -> Result<CowVal<'b, 'v>, ExecutionError> {
    Ok(CowVal::owned(Format(&FORMATS[I])))
}

static CONSTANTS: [Function; 14] = [
    constant::<0>,
    constant::<1>,
    constant::<2>,
    constant::<3>,
    constant::<4>,
    constant::<5>,
    constant::<6>,
    constant::<7>,
    constant::<8>,
    constant::<9>,
    constant::<10>,
    constant::<11>,
    constant::<12>,
    constant::<13>,
];

fn named(name: &CelString<'_>) -> CelOptional<'static> {
    match FORMATS.iter().find(|f| f.name == name.inner()) {
        Some(format) => CelOptional::of(Box::new(Format(format))),
        None => CelOptional::none(),
    }
}

fn validate(format: &Format, text: &CelString<'_>) -> CelOptional<'static> {
    let errors = (format.0.validate)(text);
    if errors.is_empty() {
        return CelOptional::none();
    }
    let errors: Vec<Box<dyn Val>> = errors
        .into_iter()
        .map(|e| Box::new(CelString::from(e)) as Box<dyn Val>)
        .collect();
    CelOptional::of(Box::new(CelList::from(errors)))
}

fn regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("a valid regular expression")
}

const LABEL: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
static LABEL_RE: LazyLock<Regex> = LazyLock::new(|| regex(&format!("^{LABEL}$")));
static SUBDOMAIN_RE: LazyLock<Regex> = LazyLock::new(|| regex(&format!(r"^{LABEL}(\.{LABEL})*$")));
static DNS1035_RE: LazyLock<Regex> = LazyLock::new(|| regex("^[a-z]([-a-z0-9]*[a-z0-9])?$"));
static QUALIFIED_RE: LazyLock<Regex> =
    LazyLock::new(|| regex("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"));
static LABEL_VALUE_RE: LazyLock<Regex> =
    LazyLock::new(|| regex("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"));
static UUID_RE: LazyLock<Regex> = LazyLock::new(|| {
    regex("(?i)^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$")
});

fn too_long(max: usize) -> String {
    format!("must be no more than {max} characters")
}

/// apimachinery's `maskTrailingDash`, as it is: a trailing dash and the character before it
/// become one `a`, so a prefix (`my-name-`) validates as a name.
fn mask_trailing_dash(name: &str) -> String {
    if name.len() > 1 && name.ends_with('-') && name.is_char_boundary(name.len() - 2) {
        format!("{}a", &name[..name.len() - 2])
    } else {
        name.to_owned()
    }
}

fn checked(text: &str, max: usize, re: &Regex, wrong: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if text.len() > max {
        errors.push(too_long(max));
    }
    if !re.is_match(text) {
        errors.push(wrong.to_owned());
    }
    errors
}

fn dns1123_label(text: &str) -> Vec<String> {
    checked(
        text,
        63,
        &LABEL_RE,
        &format!(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '{LABEL}')"
        ),
    )
}

fn dns1123_subdomain(text: &str) -> Vec<String> {
    checked(
        text,
        253,
        &SUBDOMAIN_RE,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    )
}

fn dns1035_label(text: &str) -> Vec<String> {
    checked(
        text,
        63,
        &DNS1035_RE,
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    )
}

const QUALIFIED: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

fn qualified_name(text: &str) -> Vec<String> {
    let mut errors = Vec::new();
    let parts: Vec<&str> = text.split('/').collect();
    let name = match parts[..] {
        [name] => name,
        [prefix, name] => {
            if prefix.is_empty() {
                errors.push("prefix part must be non-empty".to_owned());
            } else {
                errors.extend(
                    dns1123_subdomain(prefix)
                        .into_iter()
                        .map(|e| format!("prefix part {e}")),
                );
            }
            name
        }
        _ => {
            return vec![format!(
                "a qualified name {QUALIFIED} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            )];
        }
    };
    if name.is_empty() {
        errors.push("name part must be non-empty".to_owned());
    } else if name.len() > 63 {
        errors.push(format!("name part {}", too_long(63)));
    }
    if !QUALIFIED_RE.is_match(name) {
        errors.push(format!("name part {QUALIFIED}"));
    }
    errors
}

fn port_name(text: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if text.len() > 15 {
        errors.push(too_long(15));
    }
    if text.is_empty()
        || !text
            .bytes()
            .all(|b| b == b'-' || b.is_ascii_lowercase() || b.is_ascii_digit())
    {
        errors.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_owned(),
        );
    }
    if !text.bytes().any(|b| b.is_ascii_lowercase()) {
        errors.push("must contain at least one letter (a-z)".to_owned());
    }
    if text.contains("--") {
        errors.push("must not contain consecutive hyphens".to_owned());
    }
    if text.starts_with('-') || text.ends_with('-') {
        errors.push("must not begin or end with a hyphen".to_owned());
    }
    errors
}

fn label_value(text: &str) -> Vec<String> {
    checked(
        text,
        63,
        &LABEL_VALUE_RE,
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    )
}

fn uri(text: &str) -> Vec<String> {
    if super::url::is_request_uri(text) {
        Vec::new()
    } else {
        vec![format!("parse \"{text}\": invalid URI for request")]
    }
}

fn uuid(text: &str) -> Vec<String> {
    if UUID_RE.is_match(text) {
        Vec::new()
    } else {
        vec!["does not match the UUID format".to_owned()]
    }
}

fn byte(text: &str) -> Vec<String> {
    match base64::engine::general_purpose::STANDARD.decode(text) {
        Ok(_) => Vec::new(),
        Err(_) => vec!["invalid base64".to_owned()],
    }
}

fn date(text: &str) -> Vec<String> {
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if shaped && chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() {
        Vec::new()
    } else {
        vec!["invalid date".to_owned()]
    }
}

/// The date-times kube-openapi's strfmt accepts: RFC 3339 (with or without a colon in the
/// offset, any fraction of a second), local times, and times without seconds.
fn datetime(text: &str) -> Vec<String> {
    let with_zone = [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%:z",
        "%Y-%m-%dT%H:%M%z",
    ];
    let local = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"];
    // chrono spells the UTC designator as an offset.
    let zulu = text.strip_suffix(['Z', 'z']).map(|t| format!("{t}+00:00"));
    let text = zulu.as_deref().unwrap_or(text);
    let valid = with_zone
        .iter()
        .any(|f| chrono::DateTime::parse_from_str(text, f).is_ok())
        || local
            .iter()
            .any(|f| chrono::NaiveDateTime::parse_from_str(text, f).is_ok());
    if valid {
        Vec::new()
    } else {
        vec!["invalid datetime".to_owned()]
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::assert_true;

    /// The examples of format.go's documentation and its tests.
    #[test]
    fn formats_as_the_kubernetes_documentation_shows_them() {
        assert_true(&[
            "format.dns1123Label().validate('my-label-name') == optional.none()",
            "format.dns1123Subdomain().validate('apiextensions.k8s.io') == optional.none()",
            "format.dns1035Label().validate('my-label-name') == optional.none()",
            "format.qualifiedName().validate('apiextensions.k8s.io/v1beta1') == optional.none()",
            "format.dns1123LabelPrefix().validate('my-label-prefix-') == optional.none()",
            "format.dns1123SubdomainPrefix().validate('mysubdomain.prefix.-') == optional.none()",
            "format.dns1035LabelPrefix().validate('my-label-prefix-') == optional.none()",
            "format.uri().validate('http://example.com') == optional.none()",
            "format.uuid().validate('123e4567-e89b-12d3-a456-426614174000') == optional.none()",
            "format.byte().validate('aGVsbG8=') == optional.none()",
            "format.date().validate('2021-01-01') == optional.none()",
            "format.datetime().validate('2021-01-01T00:00:00Z') == optional.none()",
            "format.labelValue().validate('') == optional.none()",
            "format.portName().validate('http') == optional.none()",
            "format.named('dns1123Label').hasValue()",
            "!format.named('nope').hasValue()",
            "format.named('dns1123Label').value() == format.dns1123Label()",
            "format.dns1123Label().validate('MY_NAME').hasValue()",
            "format.dns1123Label().validate('MY_NAME').value().size() == 1",
            "format.dns1123Label().validate('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa').value()[0] == 'must be no more than 63 characters'",
            "format.dns1123Subdomain().validate('-bad.example.com').hasValue()",
            "format.dns1035Label().validate('1abc').hasValue()",
            "format.qualifiedName().validate('a/b/c').hasValue()",
            "format.qualifiedName().validate('/name').hasValue()",
            "format.labelValue().validate('-x').hasValue()",
            "format.portName().validate('a--b').hasValue()",
            "format.portName().validate('1234').hasValue()",
            "format.uri().validate('example.com').hasValue()",
            "format.uuid().validate('123e4567').hasValue()",
            "format.byte().validate('not base64!').hasValue()",
            "format.date().validate('2021-02-30').hasValue()",
            "format.date().validate('2021-1-01').hasValue()",
            "format.datetime().validate('2021-01-01').hasValue()",
            "format.datetime().validate('2021-01-01T00:00:00.123+0200') == optional.none()",
            "format.datetime().validate('2021-01-01T00:00') == optional.none()",
        ]);
    }
}
