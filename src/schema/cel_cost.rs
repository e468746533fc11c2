//! What a CEL validation rule costs on one value, bounded before it runs — the API server's
//! model: it charges every rule a cost that grows with the sizes of the lists, maps and strings
//! it walks, refuses an object when one rule costs more than [`PER_CALL_LIMIT`], and stops when
//! the rules of one object together cost more than [`PER_OBJECT_BUDGET`]. The evaluator has no
//! runtime meter, so kvet estimates from the expression and the *actual* value it will see: an
//! upper bound (a short-circuiting `exists` is charged for every item), exact about the sizes of
//! the object's own fields, and conservative about values built while evaluating (a `map` is as
//! long as its input, a concatenation as long as both sides). A rule whose bound is over the
//! limit is reported, not run, so content alone can never make kvet loop for hours
//! (`self.l.all(a, self.l.all(b, …))` on a long list).

use cel::common::ast::{ComprehensionExpr, EntryExpr, Expr, IdedExpr, operators};
use serde_json::Value;

/// The API server's cost limit for one evaluation of one rule (`PerCallLimit`).
pub const PER_CALL_LIMIT: f64 = 1_000_000.0;
/// The API server's cost budget for all the rules evaluated on one object
/// (`RuntimeCELCostBudget`).
pub const PER_OBJECT_BUDGET: f64 = 10_000_000.0;

/// A bound on what evaluating `expr` with `self` bound to `instance` costs.
pub fn estimate(expr: &IdedExpr, instance: &Value) -> f64 {
    let mut scope: Vec<(&str, Shape)> = vec![("self", Shape::Exact(instance))];
    cost(expr, &mut scope).0
}

/// How large a value can be: the value itself when it is part of the object, or, for a value
/// built while evaluating, the greatest size found at each depth (`[0]` the value's own length,
/// `[1]` its items' and keys', …). A scalar has size 1.
#[derive(Clone, Debug)]
enum Shape<'a> {
    Exact(&'a Value),
    Bound(Vec<f64>),
}

/// Profiles deeper than this are cut; the last depth stands for all below it.
const MAX_DEPTH: usize = 64;

impl<'a> Shape<'a> {
    fn scalar() -> Self {
        Shape::Bound(vec![1.0])
    }

    /// The value's own size: items of a list, entries of a map, bytes of a string.
    fn len(&self) -> f64 {
        match self {
            Shape::Exact(value) => own_size(value),
            Shape::Bound(profile) => profile.first().copied().unwrap_or(1.0),
        }
    }

    /// The size at each depth, the value's own first.
    fn profile(&self) -> Vec<f64> {
        match self {
            Shape::Exact(value) => {
                let mut profile = Vec::new();
                add_profile(value, 0, &mut profile);
                profile
            }
            Shape::Bound(profile) => profile.clone(),
        }
    }

    /// Any item of a list, key of a map, or (for a value built while evaluating) any member.
    fn item(&self) -> Shape<'a> {
        match self {
            Shape::Exact(Value::Array(items)) => {
                let mut profile = Vec::new();
                for item in items {
                    add_profile(item, 0, &mut profile);
                }
                Shape::Bound(profile)
            }
            Shape::Exact(Value::Object(fields)) => Shape::Bound(vec![
                fields.keys().map(|k| k.len() as f64).fold(1.0, f64::max),
            ]),
            Shape::Exact(_) => Shape::scalar(),
            Shape::Bound(profile) => Shape::Bound(match profile.len() {
                0 | 1 => vec![1.0],
                _ => profile[1..].to_vec(),
            }),
        }
    }

    /// The field `name` of a map (any member when the map was built while evaluating).
    fn field(&self, name: &str) -> Shape<'a> {
        match self {
            Shape::Exact(Value::Object(fields)) => {
                fields.get(name).map_or_else(Shape::scalar, Shape::Exact)
            }
            Shape::Exact(_) => Shape::scalar(),
            Shape::Bound(_) => self.item(),
        }
    }

    /// A member picked by a computed key or index: as large as the largest.
    fn member(&self) -> Shape<'a> {
        match self {
            Shape::Exact(Value::Object(fields)) => {
                let mut profile = Vec::new();
                for value in fields.values() {
                    add_profile(value, 0, &mut profile);
                }
                Shape::Bound(profile)
            }
            _ => self.item(),
        }
    }

    /// A value at least as large as both.
    fn max(self, other: Shape<'a>) -> Shape<'a> {
        Shape::Bound(merge(self.profile(), &other.profile()))
    }
}

fn own_size(value: &Value) -> f64 {
    match value {
        Value::Array(items) => items.len() as f64,
        Value::Object(fields) => fields.len() as f64,
        Value::String(text) => text.len() as f64,
        _ => 1.0,
    }
    .max(1.0)
}

/// Raises `profile` from `depth` on to the sizes found in `value`.
fn add_profile(value: &Value, depth: usize, profile: &mut Vec<f64>) {
    let depth = depth.min(MAX_DEPTH);
    if profile.len() <= depth {
        profile.resize(depth + 1, 1.0);
    }
    profile[depth] = profile[depth].max(own_size(value));
    match value {
        Value::Array(items) => items
            .iter()
            .for_each(|item| add_profile(item, depth + 1, profile)),
        Value::Object(fields) => {
            for (key, item) in fields {
                add_profile(item, depth + 1, profile);
                let at = (depth + 1).min(MAX_DEPTH);
                profile[at] = profile[at].max(key.len() as f64);
            }
        }
        _ => {}
    }
}

fn merge(mut a: Vec<f64>, b: &[f64]) -> Vec<f64> {
    if a.len() < b.len() {
        a.resize(b.len(), 1.0);
    }
    for (x, y) in a.iter_mut().zip(b) {
        *x = x.max(*y);
    }
    a
}

/// Cost and result shape of `expr`, with the variables in `scope` (innermost last).
fn cost<'e, 'a>(expr: &'e IdedExpr, scope: &mut Vec<(&'e str, Shape<'a>)>) -> (f64, Shape<'a>) {
    match &expr.expr {
        Expr::Unspecified | Expr::Literal(_) => (1.0, literal_shape(expr)),
        Expr::Ident(name) => (1.0, lookup(scope, name)),
        Expr::Select(select) => {
            let (c, operand) = cost(&select.operand, scope);
            (c + 1.0, operand.field(&select.field))
        }
        Expr::List(list) => {
            let mut total = 1.0;
            let mut item = Vec::new();
            for element in &list.elements {
                let (c, shape) = cost(element, scope);
                total += c;
                item = merge(item, &shape.profile());
            }
            let mut profile = vec![list.elements.len().max(1) as f64];
            profile.extend(item);
            (total, Shape::Bound(profile))
        }
        Expr::Map(map) => entries(&map.entries, scope),
        Expr::Struct(object) => entries(&object.entries, scope),
        Expr::Comprehension(comprehension) => comprehension_cost(comprehension, scope),
        Expr::Call(call) => {
            let mut total = 1.0;
            let mut args = Vec::with_capacity(call.args.len() + 1);
            for arg in call.target.as_deref().into_iter().chain(&call.args) {
                let (c, shape) = cost(arg, scope);
                total += c;
                args.push(shape);
            }
            let (c, shape) = call_cost(&call.func_name, call.target.is_some(), args);
            (total + c, shape)
        }
    }
}

fn literal_shape<'a>(expr: &IdedExpr) -> Shape<'a> {
    match &expr.expr {
        Expr::Literal(cel::common::ast::LiteralValue::String(text)) => {
            Shape::Bound(vec![text.inner().len().max(1) as f64])
        }
        Expr::Literal(cel::common::ast::LiteralValue::Bytes(bytes)) => {
            Shape::Bound(vec![bytes.inner().len().max(1) as f64])
        }
        _ => Shape::scalar(),
    }
}

fn lookup<'a>(scope: &[(&str, Shape<'a>)], name: &str) -> Shape<'a> {
    scope
        .iter()
        .rev()
        .find(|(n, _)| *n == name)
        .map_or_else(Shape::scalar, |(_, shape)| shape.clone())
}

/// A map or message literal: its entries, and 1 for building it.
fn entries<'e, 'a>(
    entries: &'e [cel::common::ast::IdedEntryExpr],
    scope: &mut Vec<(&'e str, Shape<'a>)>,
) -> (f64, Shape<'a>) {
    let mut total = 1.0;
    let mut item = Vec::new();
    for entry in entries {
        let (key, value) = match &entry.expr {
            EntryExpr::MapEntry(e) => (Some(&e.key), &e.value),
            EntryExpr::StructField(f) => (None, &f.value),
        };
        for part in key.into_iter().chain([value]) {
            let (c, shape) = cost(part, scope);
            total += c;
            item = merge(item, &shape.profile());
        }
    }
    let mut profile = vec![entries.len().max(1) as f64];
    profile.extend(item);
    (total, Shape::Bound(profile))
}

/// A comprehension (what `all`, `exists`, `map`, `filter`… expand to): its range once, then
/// the condition and the step once per item; the result sees the accumulator grown by as much
/// as a step adds to it, on every item.
fn comprehension_cost<'e, 'a>(
    c: &'e ComprehensionExpr,
    scope: &mut Vec<(&'e str, Shape<'a>)>,
) -> (f64, Shape<'a>) {
    let (range_cost, range) = cost(&c.iter_range, scope);
    let (init_cost, init) = cost(&c.accu_init, scope);
    let items = range.len();
    let depth = scope.len();
    match &c.iter_var2 {
        // Two variables: index or key, then value.
        Some(second) => {
            scope.push((c.iter_var.as_str(), range.item()));
            scope.push((second.as_str(), range.member()));
        }
        None => scope.push((c.iter_var.as_str(), range.item())),
    }
    // One pass over the body, with the accumulator as it starts: every part of the rule is
    // estimated once, so estimating stays linear in the rule however deep its loops nest. The
    // macros only append to their accumulator (which the evaluator does in place) or combine
    // booleans with it, so a step costs about the same on the grown accumulator.
    scope.push((c.accu_var.as_str(), init.clone()));
    let (cond_cost, _) = cost(&c.loop_cond, scope);
    let (step_cost, step) = cost(&c.loop_step, scope);
    let growth = (step.len() - init.len()).max(0.0);
    let mut grown = init.max(step);
    if let Shape::Bound(profile) = &mut grown {
        profile[0] += items * growth;
    }
    scope.pop();
    scope.push((c.accu_var.as_str(), grown));
    let (result_cost, result) = cost(&c.result, scope);
    scope.truncate(depth);
    let total = range_cost + init_cost + items * (cond_cost + step_cost) + result_cost;
    (total, result)
}

/// The cost of one call beyond its arguments', and its result's shape, from the arguments'
/// shapes (target first). Traversing a string, list or map costs 1 per 10 members or bytes, as
/// the API server charges; building one costs its size.
fn call_cost<'a>(name: &str, has_target: bool, args: Vec<Shape<'a>>) -> (f64, Shape<'a>) {
    let lens: Vec<f64> = args.iter().map(Shape::len).collect();
    let all: f64 = lens.iter().sum();
    let longest = lens.iter().copied().fold(1.0, f64::max);
    let traverse = all / 10.0;
    let mut args = args.into_iter();
    let first = args.next().unwrap_or_else(Shape::scalar);
    match name {
        // Concatenation builds a value as long as both sides.
        operators::ADD => {
            let second = args.next().unwrap_or_else(Shape::scalar);
            let mut profile = merge(first.profile(), &second.profile());
            profile[0] = all;
            (all / 10.0, Shape::Bound(profile))
        }
        operators::CONDITIONAL => {
            let yes = args.next().unwrap_or_else(Shape::scalar);
            let no = args.next().unwrap_or_else(Shape::scalar);
            (0.0, yes.max(no))
        }
        operators::INDEX | operators::OPT_INDEX => (1.0, first.member()),
        operators::OPT_SELECT => (1.0, first.member()),
        // Comparing, searching and testing walk their operands.
        operators::EQUALS | operators::NOT_EQUALS | operators::IN => (traverse, Shape::scalar()),
        "contains" | "startsWith" | "endsWith" | "indexOf" | "lastIndexOf" => {
            (traverse, Shape::scalar())
        }
        // A regular expression runs in time linear in the text, once per pattern byte at most.
        "matches" | "find" => (lens.iter().product::<f64>() / 10.0, Shape::scalar()),
        "findAll" | "split" => (traverse, Shape::Bound(vec![longest, longest])),
        "replace" => {
            let grown = lens.first().copied().unwrap_or(1.0) * longest;
            (grown / 10.0, Shape::Bound(vec![grown]))
        }
        "join" => {
            let profile = first.profile();
            let text: f64 = profile.iter().take(2).product::<f64>() * longest;
            (text / 10.0, Shape::Bound(vec![text]))
        }
        "lowerAscii" | "upperAscii" | "trim" | "substring" | "string" | "bytes" | "reverse" => {
            (traverse, Shape::Bound(vec![longest]))
        }
        // Members of a list or map are as large as its items; its keys are its items.
        "sort" | "distinct" | "flatten" | "slice" => (traverse, first),
        _ if has_target && name == "keys" => (traverse, first),
        // Everything else (size, arithmetic, conversions, the Kubernetes libraries) gives a
        // scalar after reading its arguments at most once.
        _ => (traverse, Shape::scalar()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule_cost(rule: &str, instance: Value) -> f64 {
        let program = cel::Program::compile(rule).unwrap();
        estimate(program.expression(), &instance)
    }

    fn list(n: usize) -> Value {
        json!({"l": (0..n).collect::<Vec<_>>(), "s": "x".repeat(n)})
    }

    #[test]
    fn ordinary_rules_cost_little() {
        for rule in [
            "self.minReplicas <= self.maxReplicas",
            "has(self.name) && self.name.startsWith('a')",
            "self.l.all(x, x >= 0)",
            "self.l.map(x, x * 2).filter(y, y > 2).size() > 0",
            "self.s.matches('^[a-z]+$')",
        ] {
            let c = rule_cost(rule, list(100));
            assert!(c < 2_000.0, "{rule}: {c}");
        }
    }

    #[test]
    fn the_cost_grows_with_the_lists_walked_nested_loops_multiply() {
        let one = rule_cost("self.l.all(a, a >= 0)", list(300));
        let two = rule_cost("self.l.all(a, self.l.all(b, a + b >= 0))", list(300));
        let four = rule_cost(
            "self.l.all(a, self.l.all(b, self.l.all(c, self.l.all(d, a+b+c+d >= 0))))",
            list(300),
        );
        assert!(one > 300.0 && one < 10_000.0, "{one}");
        assert!(two > 90_000.0 && two < PER_CALL_LIMIT, "{two}");
        assert!(four > 100.0 * PER_CALL_LIMIT, "{four}");
    }

    #[test]
    fn values_built_while_evaluating_are_as_large_as_what_built_them() {
        // The inner lists come from `map`: 400 × 400 × 400 members are built.
        let three = rule_cost(
            "self.l.map(a, self.l.map(b, self.l.map(c, a + b + c))).size() > 0",
            list(400),
        );
        assert!(three > 10.0 * PER_CALL_LIMIT, "{three}");
        // A list of the list, walked twice: its members are as long as the list.
        let built = rule_cost(
            "self.l.map(a, self.l).all(x, x.all(y, x.all(z, y + z >= 0)))",
            list(200),
        );
        assert!(built > 200.0 * 200.0 * 200.0, "{built}");
        // Strings made longer by `+` are charged for their length.
        let text = rule_cost(
            "self.l.map(a, self.s + self.s).all(t, t.contains('y'))",
            list(1000),
        );
        assert!(text > 1000.0 * 2000.0 / 10.0, "{text}");
    }

    #[test]
    fn estimating_visits_each_part_of_the_rule_once_however_deep_loops_nest() {
        let mut rule = "v0 >= 0".to_owned();
        for depth in 1..=12 {
            rule = format!("self.l.all(v{depth}, {rule})");
        }
        let started = std::time::Instant::now();
        let c = rule_cost(&rule, list(10));
        assert!(c > 1e12, "{c}");
        // Exponential work would take minutes; linear work takes microseconds.
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn sizes_come_from_the_field_read_not_the_largest_anywhere() {
        let instance = json!({"small": [1, 2], "big": (0..100_000).collect::<Vec<_>>()});
        let c = rule_cost("self.small.all(a, self.small.all(b, a != b))", instance);
        assert!(c < 100.0, "{c}");
    }
}
