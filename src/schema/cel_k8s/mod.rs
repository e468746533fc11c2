//! Kubernetes' own CEL libraries, as the API server defines them for CRD validation rules
//! (k8s.io/apiserver/pkg/cel/library), each in its module: URLs, IPs and CIDRs, quantities,
//! lists, regexes, named formats, semantic versions, and cel-go's sets extension. The authorizer library is left
//! out: it needs a cluster.

mod format;
mod ip;
mod lists;
pub mod quantity;
mod regex;
mod semver;
mod sets;
mod url;

use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env, ExecutionError};

/// Makes a Rust type a CEL value of an opaque type (`$cel`, a static `Type`): equal by its
/// `PartialEq`, cloned, and recoverable by the overloads that take it.
macro_rules! opaque_value {
    ($rust:ty, $cel:expr) => {
        impl cel::common::value::Val for $rust {
            fn get_type(&self) -> &cel::common::types::Type {
                &$cel
            }
            fn cel_type() -> &'static cel::common::types::Type {
                &$cel
            }
            fn equals(&self, other: &dyn cel::common::value::Val) -> bool {
                other.downcast_ref::<$rust>().is_some_and(|o| o == self)
            }
            fn clone_as_boxed<'v>(&self) -> Box<dyn cel::common::value::Val + 'v> {
                Box::new(self.clone())
            }
            fn as_any(&self) -> Option<&dyn std::any::Any> {
                Some(self)
            }
        }
        impl cel::common::value::StaticVal for $rust {}
    };
}
use opaque_value;

/// Adds every library to an environment.
pub fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    url::extension(env)?;
    ip::extension(env)?;
    quantity::extension(env)?;
    lists::extension(env)?;
    regex::extension(env)?;
    format::extension(env)?;
    semver::extension(env)?;
    sets::extension(env)?;
    Ok(())
}

/// The elements of a function's list argument.
fn list_items<'b, 'v>(
    function: &str,
    list: Option<&'b CowVal<'b, 'v>>,
) -> Result<Vec<&'b (dyn Val + 'v)>, ExecutionError> {
    let list = list
        .and_then(|l| l.as_iterable())
        .ok_or_else(|| ExecutionError::function_error(function, "takes a list"))?;
    let mut items = list.iter();
    let mut out = Vec::new();
    while let Some(item) = items.next() {
        out.push(item);
    }
    Ok(out)
}

#[cfg(test)]
pub(super) mod tests {
    use std::sync::Arc;

    use cel::{Context, ExecutionError, Value};

    fn run(rule: &str) -> Result<Value, ExecutionError> {
        let env = super::super::cel::env();
        let program = env
            .compile(rule)
            .unwrap_or_else(|e| panic!("{rule}: {e:?}"));
        program.execute(&Context::with_env(Arc::clone(env)))
    }

    /// Each rule evaluates to true in kvet's CEL environment.
    pub fn assert_true(rules: &[&str]) {
        for rule in rules {
            assert_eq!(run(rule), Ok(Value::Bool(true)), "{rule}");
        }
    }

    /// Each rule fails to evaluate (which kvet does not count as a violation).
    pub fn assert_errors(rules: &[&str]) {
        for rule in rules {
            assert!(
                run(rule).is_err(),
                "{rule} should fail, got {:?}",
                run(rule)
            );
        }
    }
}
