//! `cel.bind(name, value, expr)`, cel-go's bindings extension that the API server enables:
//! `expr` evaluated with `name` bound to `value`, computed once. Expanded, as cel-go does, to
//! a comprehension over an empty list whose accumulator is the binding.

use cel::common::ast::{ComprehensionExpr, Expr, IdedExpr, ListExpr, LiteralValue};
use cel::parser::{Macro, MacroExprHelper, ParseError};
use cel::{DeclarationError, Env};

pub fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_macro(Macro::receiver("bind", 3, bind))
}

fn bind(
    helper: &mut MacroExprHelper<'_>,
    target: &mut Option<IdedExpr>,
    args: &mut Vec<IdedExpr>,
) -> Result<Option<IdedExpr>, ParseError> {
    // Only `cel.bind`: a `bind` method on anything else is left as a call.
    if !matches!(target.as_ref().map(|t| &t.expr), Some(Expr::Ident(name)) if name == "cel") {
        return Ok(None);
    }
    let (Some(result), Some(value), Some(variable)) = (args.pop(), args.pop(), args.pop()) else {
        return Ok(None);
    };
    let Expr::Ident(name) = variable.expr else {
        return Err(helper.new_error(
            variable.id,
            "cel.bind() variable names must be simple identifiers",
        ));
    };
    let empty = helper.next_expr(Expr::List(ListExpr::new(Vec::new())));
    let stop = helper.next_expr(Expr::Literal(LiteralValue::Boolean(false.into())));
    let step = helper.next_expr(Expr::Ident(name.clone()));
    let comprehension = ComprehensionExpr {
        iter_range: empty,
        iter_var: "#unused".to_owned(),
        iter_var2: None,
        accu_var: name,
        accu_init: value,
        loop_cond: stop,
        loop_step: step,
        result,
    };
    Ok(Some(
        helper.next_expr(Expr::Comprehension(Box::new(comprehension))),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::cel_k8s::tests::{assert_errors, assert_true};

    /// The examples of cel-go's bindings extension documentation.
    #[test]
    fn bindings_as_the_cel_documentation_shows_them() {
        assert_true(&[
            "cel.bind(a, 'hello', cel.bind(b, 'world', a + b + b + a)) == 'helloworldworldhello'",
            "cel.bind(valid_elems, [1, 2, 3], [3, 4, 5].exists(e, e in valid_elems))",
            "cel.bind(x, [1, 2], x.size()) == 2",
        ]);
        assert_errors(&["cel.bind(x, 1, y) == 1"]);
    }
}
