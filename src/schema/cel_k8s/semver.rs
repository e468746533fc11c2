//! Kubernetes' semver library (k8s.io/apiserver/pkg/cel/library/semverlib.go): `semver()`,
//! `isSemver()` (each optionally normalizing: a leading `v`, missing minor or patch, leading
//! zeros), and a `Semver`'s `major`, `minor`, `patch`, `isGreaterThan`, `isLessThan`,
//! `compareTo`, with versions ordered as Semantic Versioning 2.0 orders them.

use std::cmp::Ordering;

use cel::common::types::{CelBool, CelInt, CelString, Kind, Type};
use cel::{DeclarationError, Env, ExecutionError};

static SEMVER_TYPE: Type = Type::simple_type(Kind::Opaque, "kubernetes.Semver");

#[derive(Debug, Clone)]
pub struct Semver(semver::Version);

impl PartialEq for Semver {
    /// Equal in precedence: build metadata does not count.
    fn eq(&self, other: &Self) -> bool {
        self.0.cmp_precedence(&other.0) == Ordering::Equal
    }
}
super::opaque_value!(Semver, SEMVER_TYPE);

pub fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_type(SEMVER_TYPE.to_owned())?;
    cel::add_overload!(env, fn is_semver: (CelString) -> CelBool, name = "isSemver")?;
    cel::add_overload!(env, fn is_semver_normalized: (CelString, CelBool) -> CelBool, name = "isSemver")?;
    cel::add_overload!(env, fn to_semver: (CelString) -> Result<Semver>, name = "semver")?;
    cel::add_overload!(env, fn to_semver_normalized: (CelString, CelBool) -> Result<Semver>, name = "semver")?;
    cel::add_member_overload!(env, fn major: (Semver) -> CelInt)?;
    cel::add_member_overload!(env, fn minor: (Semver) -> CelInt)?;
    cel::add_member_overload!(env, fn patch: (Semver) -> CelInt)?;
    cel::add_member_overload!(env, fn is_greater_than: (Semver, Semver) -> CelBool)?;
    cel::add_member_overload!(env, fn is_less_than: (Semver, Semver) -> CelBool)?;
    cel::add_member_overload!(env, fn compare_to: (Semver, Semver) -> CelInt)?;
    Ok(())
}

/// `v1.2` → `1.2.0`, `01.02.03` → `1.2.3`: what the `normalize` argument accepts besides
/// strict versions.
fn normalized(text: &str) -> String {
    let text = text.strip_prefix('v').unwrap_or(text);
    let split = text.find(['-', '+']).unwrap_or(text.len());
    let (core, rest) = text.split_at(split);
    let mut parts: Vec<String> = core
        .split('.')
        .map(|p| match p.trim_start_matches('0') {
            "" if !p.is_empty() => "0".to_owned(),
            trimmed => trimmed.to_owned(),
        })
        .collect();
    while parts.len() < 3 {
        parts.push("0".to_owned());
    }
    format!("{}{rest}", parts.join("."))
}

fn parse(text: &str, normalize: bool) -> Option<semver::Version> {
    let text = if normalize {
        normalized(text)
    } else {
        text.to_owned()
    };
    semver::Version::parse(&text).ok()
}

fn is_semver(text: &CelString<'_>) -> CelBool {
    parse(text, false).is_some().into()
}

fn is_semver_normalized(text: &CelString<'_>, normalize: &CelBool) -> CelBool {
    parse(text, *normalize.inner()).is_some().into()
}

fn to_semver(text: &CelString<'_>) -> Result<Semver, ExecutionError> {
    to_semver_normalized(text, &false.into())
}

fn to_semver_normalized(
    text: &CelString<'_>,
    normalize: &CelBool,
) -> Result<Semver, ExecutionError> {
    parse(text, *normalize.inner()).map(Semver).ok_or_else(|| {
        ExecutionError::function_error(
            "semver",
            format!("invalid semantic version: {}", text.inner()),
        )
    })
}

fn major(v: &Semver) -> CelInt {
    CelInt::from(v.0.major as i64)
}

fn minor(v: &Semver) -> CelInt {
    CelInt::from(v.0.minor as i64)
}

fn patch(v: &Semver) -> CelInt {
    CelInt::from(v.0.patch as i64)
}

fn is_greater_than(a: &Semver, b: &Semver) -> CelBool {
    (a.0.cmp_precedence(&b.0) == Ordering::Greater).into()
}

fn is_less_than(a: &Semver, b: &Semver) -> CelBool {
    (a.0.cmp_precedence(&b.0) == Ordering::Less).into()
}

fn compare_to(a: &Semver, b: &Semver) -> CelInt {
    CelInt::from(a.0.cmp_precedence(&b.0) as i64)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_errors, assert_true};

    /// The examples of semverlib.go's documentation.
    #[test]
    fn semvers_as_the_kubernetes_documentation_shows_them() {
        assert_true(&[
            "isSemver('1.0.0')",
            "!isSemver('v1.0')",
            "isSemver('v1.0', true)",
            "!isSemver('hello')",
            "semver('1.0.0') == semver('1.0.0')",
            "semver('1.0.0+build') == semver('1.0.0')",
            "semver('v01.01', true) == semver('1.1.0')",
            "semver('1.2.3').major() == 1",
            "semver('1.2.3').minor() == 2",
            "semver('1.2.3').patch() == 3",
            "semver('1.2.3').isGreaterThan(semver('1.2.2'))",
            "!semver('1.2.3').isGreaterThan(semver('1.2.3'))",
            "semver('1.2.3').isLessThan(semver('1.2.4'))",
            "semver('1.0.0-alpha').isLessThan(semver('1.0.0'))",
            "semver('1.2.3').compareTo(semver('1.2.3')) == 0",
            "semver('1.2.3').compareTo(semver('2.0.0')) == -1",
            "semver('1.2.3').compareTo(semver('0.1.2')) == 1",
        ]);
        assert_errors(&[
            "semver('hello').major() == 0",
            "semver('v1.0').major() == 1",
        ]);
    }
}
