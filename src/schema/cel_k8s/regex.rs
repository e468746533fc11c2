//! Kubernetes' regex library (k8s.io/apiserver/pkg/cel/library/regex.go): a string's
//! `find(regex)` (the first match, or '') and `findAll(regex)` / `findAll(regex, n)`.

use cel::common::types::{CelInt, CelList, CelString};
use cel::common::value::Val;
use cel::{DeclarationError, Env, ExecutionError};

pub fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    cel::add_member_overload!(env, fn find: (CelString, CelString) -> Result<CelString>)?;
    cel::add_member_overload!(env, fn find_all: (CelString, CelString) -> Result<CelList>)?;
    cel::add_member_overload!(env, fn find_all_n: (CelString, CelString, CelInt) -> Result<CelList>, name = "findAll")?;
    Ok(())
}

fn compiled(function: &str, pattern: &str) -> Result<regex::Regex, ExecutionError> {
    regex::Regex::new(pattern).map_err(|e| ExecutionError::function_error(function, e))
}

fn find(
    text: &CelString<'_>,
    pattern: &CelString<'_>,
) -> Result<CelString<'static>, ExecutionError> {
    let found = compiled("find", pattern)?
        .find(text)
        .map(|m| m.as_str().to_owned());
    Ok(found.unwrap_or_default().into())
}

fn matches(
    function: &str,
    text: &str,
    pattern: &str,
    limit: i64,
) -> Result<CelList<'static>, ExecutionError> {
    let regex = compiled(function, pattern)?;
    // A negative limit means every match, as in Go's FindAllString.
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let found: Vec<Box<dyn Val>> = regex
        .find_iter(text)
        .take(limit)
        .map(|m| Box::new(CelString::from(m.as_str().to_owned())) as Box<dyn Val>)
        .collect();
    Ok(found.into())
}

fn find_all(
    text: &CelString<'_>,
    pattern: &CelString<'_>,
) -> Result<CelList<'static>, ExecutionError> {
    matches("findAll", text, pattern, -1)
}

fn find_all_n(
    text: &CelString<'_>,
    pattern: &CelString<'_>,
    limit: &CelInt,
) -> Result<CelList<'static>, ExecutionError> {
    matches("findAll", text, pattern, *limit.inner())
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_errors, assert_true};

    /// The examples of regex.go's documentation.
    #[test]
    fn regexes_as_the_kubernetes_documentation_shows_them() {
        assert_true(&[
            "'abc 123'.find('[0-9]+') == '123'",
            "'abc 123'.find('xyz') == ''",
            "'123 abc 456'.findAll('[0-9]+') == ['123', '456']",
            "'123 abc 456'.findAll('[0-9]+', 1) == ['123']",
            "'123 abc 456'.findAll('[0-9]+', 0) == []",
            "'123 abc 456'.findAll('[0-9]+', -1) == ['123', '456']",
            "'123 abc 456'.findAll('xyz') == []",
        ]);
        assert_errors(&["'abc'.find('[') == ''"]);
    }
}
