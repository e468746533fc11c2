//! Kubernetes' lists library (k8s.io/apiserver/pkg/cel/library/lists.go): a list's
//! `isSorted`, `sum`, `min`, `max`, `indexOf` and `lastIndexOf`, beside the lists extension's
//! `slice`, `sort`, `distinct`, ... that the cel crate brings.

use std::cmp::Ordering;

use cel::common::types::{CelBool, CelDouble, CelDuration, CelInt, CelUInt, DYN_TYPE, LIST_TYPE};
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env, ExecutionError};

pub fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    // By hand: they take any list, as the standard library's list functions do.
    env.add_member_overload("isSorted", "list.isSorted()", LIST_TYPE, vec![], is_sorted)?;
    env.add_member_overload("sum", "list.sum()", LIST_TYPE, vec![], sum)?;
    env.add_member_overload("min", "list.min()", LIST_TYPE, vec![], min)?;
    env.add_member_overload("max", "list.max()", LIST_TYPE, vec![], max)?;
    env.add_member_overload(
        "indexOf",
        "list.indexOf(dyn)",
        LIST_TYPE,
        vec![DYN_TYPE],
        index_of,
    )?;
    env.add_member_overload(
        "lastIndexOf",
        "list.lastIndexOf(dyn)",
        LIST_TYPE,
        vec![DYN_TYPE],
        last_index_of,
    )?;
    Ok(())
}

/// The elements of the list a function is called on (its first argument).
fn elements<'b, 'v>(
    function: &str,
    args: &'b [CowVal<'b, 'v>],
) -> Result<Vec<&'b (dyn Val + 'v)>, ExecutionError> {
    super::list_items(function, args.first())
}

fn compare(function: &str, a: &dyn Val, b: &dyn Val) -> Result<Ordering, ExecutionError> {
    a.as_comparer()
        .ok_or_else(|| {
            ExecutionError::function_error(
                function,
                format!("{} values cannot be ordered", a.get_type().name()),
            )
        })?
        .compare(b)
}

fn is_sorted<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let items = elements("isSorted", &args)?;
    for pair in items.windows(2) {
        if compare("isSorted", pair[0], pair[1])? == Ordering::Greater {
            return Ok(CowVal::owned(CelBool::from(false)));
        }
    }
    Ok(CowVal::owned(CelBool::from(true)))
}

/// The sum of ints, uints, doubles or durations; 0 for an empty list.
fn sum<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let items = elements("sum", &args)?;
    let overflow = || ExecutionError::function_error("sum", "integer overflow");
    let Some(first) = items.first() else {
        return Ok(CowVal::owned(CelInt::from(0)));
    };
    let mismatch = |item: &dyn Val| {
        ExecutionError::function_error(
            "sum",
            format!(
                "cannot add {} to {}",
                item.get_type().name(),
                first.get_type().name()
            ),
        )
    };
    macro_rules! total {
        ($t:ty, $zero:expr, $add:expr, $wrap:expr) => {{
            let mut total = $zero;
            for item in &items {
                let value = item.downcast_ref::<$t>().ok_or_else(|| mismatch(*item))?;
                total = $add(total, *value.inner()).ok_or_else(overflow)?;
            }
            return Ok(CowVal::owned($wrap(total)));
        }};
    }
    if first.downcast_ref::<CelInt>().is_some() {
        total!(CelInt, 0i64, i64::checked_add, CelInt::from)
    }
    if first.downcast_ref::<CelUInt>().is_some() {
        total!(CelUInt, 0u64, u64::checked_add, CelUInt::from)
    }
    if first.downcast_ref::<CelDouble>().is_some() {
        total!(
            CelDouble,
            0f64,
            |a: f64, b: f64| Some(a + b),
            CelDouble::from
        )
    }
    if first.downcast_ref::<CelDuration>().is_some() {
        total!(
            CelDuration,
            chrono::Duration::zero(),
            |a: chrono::Duration, b: chrono::Duration| a.checked_add(&b),
            CelDuration::from
        )
    }
    Err(mismatch(*first))
}

/// The least (or greatest) element; an error on an empty list.
fn extreme<'b, 'v>(
    function: &str,
    args: Vec<CowVal<'b, 'v>>,
    wanted: Ordering,
) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let items = elements(function, &args)?;
    let mut best = *items.first().ok_or_else(|| {
        ExecutionError::function_error(function, format!("{function} called on an empty list"))
    })?;
    for item in &items[1..] {
        if compare(function, *item, best)? == wanted {
            best = *item;
        }
    }
    Ok(CowVal::Owned(best.clone_as_boxed()))
}

fn min<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    extreme("min", args, Ordering::Less)
}

fn max<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    extreme("max", args, Ordering::Greater)
}

/// The index of the first (or last) element equal to the argument, or -1.
fn position<'b, 'v>(
    function: &str,
    args: Vec<CowVal<'b, 'v>>,
    last: bool,
) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let items = elements(function, &args)?;
    let wanted = args
        .get(1)
        .ok_or_else(|| ExecutionError::invalid_argument_count(2, args.len()))?;
    let found = |(_, item): &(usize, &&(dyn Val + 'v))| item.equals(wanted.as_ref());
    let index = if last {
        items.iter().enumerate().rev().find(found)
    } else {
        items.iter().enumerate().find(found)
    };
    let index = index.map_or(-1, |(i, _)| i as i64);
    Ok(CowVal::owned(CelInt::from(index)))
}

fn index_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    position("indexOf", args, false)
}

fn last_index_of<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    position("lastIndexOf", args, true)
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_errors, assert_true};

    /// The examples of lists.go's documentation.
    #[test]
    fn lists_as_the_kubernetes_documentation_shows_them() {
        assert_true(&[
            "[1, 2, 3].isSorted()",
            "![1, 3, 2].isSorted()",
            "['a', 'b', 'b', 'c'].isSorted()",
            "[].isSorted()",
            "[1, 2, 3].sum() == 6",
            "[1.0, 2.5].sum() == 3.5",
            "[1u, 2u].sum() == 3u",
            "[duration('1m'), duration('30s')].sum() == duration('90s')",
            "[].sum() == 0",
            "[1, 2, 3].min() == 1",
            "[3, 1, 2].max() == 3",
            "['b', 'a', 'c'].min() == 'a'",
            "[1, 2, 2, 3].indexOf(2) == 1",
            "[1, 2, 2, 3].lastIndexOf(2) == 2",
            "['a', 'b'].indexOf('c') == -1",
            "[[1], [2]].indexOf([2]) == 1",
            "'abcab'.indexOf('b') == 1",
            "'abcab'.lastIndexOf('b') == 4",
        ]);
        assert_errors(&[
            "[].min() == 0",
            "[].max() == 0",
            "[1, 'a'].isSorted()",
            "[1, 'a'].sum() == 1",
            "[9223372036854775807, 1].sum() == 0",
        ]);
    }
}
