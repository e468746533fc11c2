//! The sets extension the API server enables (cel-go's `ext.Sets`): `sets.contains`,
//! `sets.equivalent` and `sets.intersects` on lists, elements compared with CEL equality.

use cel::common::types::{CelBool, LIST_TYPE};
use cel::common::value::{CowVal, Val};
use cel::{DeclarationError, Env, ExecutionError};

use super::list_items;

pub fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    let lists = || vec![LIST_TYPE, LIST_TYPE];
    env.add_overload(
        "sets.contains",
        "list_sets_contains_list",
        lists(),
        contains,
    )?;
    env.add_overload(
        "sets.equivalent",
        "list_sets_equivalent_list",
        lists(),
        equivalent,
    )?;
    env.add_overload(
        "sets.intersects",
        "list_sets_intersects_list",
        lists(),
        intersects,
    )?;
    Ok(())
}

fn all_in(items: &[&dyn Val], of: &[&dyn Val]) -> bool {
    items.iter().all(|i| of.iter().any(|o| i.equals(*o)))
}

fn contains<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let a = list_items("sets.contains", args.first())?;
    let b = list_items("sets.contains", args.get(1))?;
    Ok(CowVal::owned(CelBool::from(all_in(&b, &a))))
}

fn equivalent<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let a = list_items("sets.equivalent", args.first())?;
    let b = list_items("sets.equivalent", args.get(1))?;
    Ok(CowVal::owned(CelBool::from(
        all_in(&a, &b) && all_in(&b, &a),
    )))
}

fn intersects<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let a = list_items("sets.intersects", args.first())?;
    let b = list_items("sets.intersects", args.get(1))?;
    let any = a.iter().any(|x| b.iter().any(|y| x.equals(*y)));
    Ok(CowVal::owned(CelBool::from(any)))
}

#[cfg(test)]
mod tests {
    use super::super::tests::assert_true;

    /// The examples of cel-go's sets extension documentation.
    #[test]
    fn sets_as_the_cel_documentation_shows_them() {
        assert_true(&[
            "sets.contains([], [])",
            "sets.contains([1, 2, 3, 4], [2, 3])",
            "!sets.contains([1, 2, 3], [4])",
            "sets.equivalent([], [])",
            "sets.equivalent([1], [1, 1])",
            "sets.equivalent([1, 2, 3], [3, 2, 1])",
            "!sets.equivalent([1, 2], [2, 2, 2, 3])",
            "sets.intersects([1], [1, 2])",
            "!sets.intersects([], [])",
            "!sets.intersects([1], [])",
            "sets.intersects([[1], [2, 3]], [[1, 2], [2, 3]])",
        ]);
    }
}
