//! What one policy evaluation may do, counted so that the verdict never depends on how busy
//! the machine is:
//! - **work**: regorus counts a unit for every expression, statement and loop iteration it
//!   evaluates. Its execution timer compares the clock with a limit every `check_interval`
//!   units; kvet sets the interval to the budget and the limit to zero, so the first check —
//!   after exactly the budget's units — stops the evaluation, however fast the machine is. A
//!   rule may do [`WORK_PER_RULE`] units plus [`WORK_PER_NODE`] per node of its input: linear
//!   rules never reach it, a rule that loops over pairs of a large list does, on every machine.
//! - **memory**: the builtins that can build a value far larger than their arguments
//!   (`numbers.range(1, 1e9)`, `sprintf("%0999999999d")`, `replace` and `concat` of values
//!   shared many times…) are wrapped: before one runs, the size of what it would build is
//!   bounded from its arguments and charged to the evaluation, which may build at most
//!   [`MEMORY_PER_EVALUATION`] bytes that way. What else an evaluation builds takes at least a
//!   unit of work per value, so the work budget bounds it.

use std::cell::Cell;
use std::num::NonZeroU32;
use std::time::Duration;

use regorus::unstable::{BUILTINS, Expr, NodeRef, Source, Span};
use regorus::utils::limits::ExecutionTimerConfig;
use regorus::{Engine, Value};

/// Units of work any rule may use on one object, however small.
pub const WORK_PER_RULE: u64 = 5_000_000;
/// Units of work a rule may use per node (map, list, scalar) of its input.
pub const WORK_PER_NODE: u64 = 100;
/// Bytes the value-building builtins may build in one evaluation.
pub const MEMORY_PER_EVALUATION: u64 = 256 * 1024 * 1024;

/// The timer configuration that stops an evaluation of `rules` rules after their budget of
/// work on an input of `nodes` nodes (the budgets of rules evaluated together add up).
pub fn work(rules: usize, nodes: u64) -> ExecutionTimerConfig {
    units(
        (rules.max(1) as u64)
            .saturating_mul(WORK_PER_RULE.saturating_add(WORK_PER_NODE.saturating_mul(nodes))),
    )
}

/// The timer configuration that stops an evaluation after `units` units of work.
fn units(units: u64) -> ExecutionTimerConfig {
    ExecutionTimerConfig {
        limit: Duration::ZERO,
        check_interval: NonZeroU32::new(u32::try_from(units).unwrap_or(u32::MAX))
            .unwrap_or(NonZeroU32::MAX),
    }
}

/// Whether regorus' error is the work budget running out.
pub fn is_work_exhausted(message: &str) -> bool {
    message.contains("exceeded time limit")
}

/// Nodes of a value: every map, list, set and scalar in it.
pub fn nodes(value: &Value) -> u64 {
    match value {
        Value::Array(items) => 1 + items.iter().map(nodes).sum::<u64>(),
        Value::Set(items) => 1 + items.iter().map(nodes).sum::<u64>(),
        Value::Object(fields) => 1 + fields.iter().map(|(_, v)| 1 + nodes(v)).sum::<u64>(),
        _ => 1,
    }
}

thread_local! {
    /// Bytes the wrapped builtins may still build in the evaluation running on this thread.
    static MEMORY_LEFT: Cell<u64> = const { Cell::new(MEMORY_PER_EVALUATION) };
}

/// Gives the evaluation about to run on this thread its memory allowance. Evaluations run on
/// the thread that asks for them, one at a time, so the allowance is per evaluation.
pub fn start_evaluation() {
    MEMORY_LEFT.with(|left| left.set(MEMORY_PER_EVALUATION));
}

/// A bound on the bytes of the value a builtin returns, from its arguments.
type Bound = fn(&[Value]) -> u64;

/// A regorus builtin, as `BUILTINS` holds it.
type Builtin = fn(&Span, &[NodeRef<Expr>], &[Value], bool) -> anyhow::Result<Value>;

/// The builtins wrapped, with their number of arguments and their [`Bound`].
const WRAPPED: &[(&str, u8, Bound)] = &[
    ("numbers.range", 2, range_bytes),
    ("numbers.range_step", 3, range_bytes),
    ("sprintf", 2, sprintf_bytes),
    ("replace", 3, replace_bytes),
    ("strings.replace_n", 2, replace_n_bytes),
    ("regex.replace", 3, regex_replace_bytes),
    ("concat", 2, concat_bytes),
    ("array.concat", 2, array_concat_bytes),
    ("split", 2, split_bytes),
    ("json.marshal", 1, marshal_bytes),
    ("json.marshal_with_options", 2, marshal_bytes),
    ("yaml.marshal", 1, marshal_bytes),
    ("base64.encode", 1, marshal_bytes),
    ("base64url.encode", 1, marshal_bytes),
    ("base64url.encode_no_pad", 1, marshal_bytes),
    ("hex.encode", 1, marshal_bytes),
    ("urlquery.encode", 1, marshal_bytes),
    ("urlquery.encode_object", 1, marshal_bytes),
];

/// Registers the wrapped builtins on `engine` (they take precedence over regorus' own).
pub fn install(engine: &mut Engine) {
    for &(name, nargs, bound) in WRAPPED {
        // A builtin this regorus lacks stays unwrapped (and unknown, as it was).
        let Some(&(builtin, _)) = BUILTINS.get(name) else {
            continue;
        };
        // Registering fails only when the name is taken, which it is not on a new engine.
        let _ = engine.add_extension(
            name.to_owned(),
            nargs,
            Box::new(move |args: Vec<Value>| call(name, builtin, bound, &args)),
        );
    }
}

fn call(
    name: &'static str,
    builtin: Builtin,
    bound: Bound,
    args: &[Value],
) -> anyhow::Result<Value> {
    let bytes = bound(args);
    let left = MEMORY_LEFT.with(Cell::get);
    if bytes > left {
        MEMORY_LEFT.with(|l| l.set(0));
        anyhow::bail!(
            "{name} would build a value of up to {} MiB, more than the {} MiB left of kvet's memory limit for one rule on one object ({} MiB)",
            bytes.div_ceil(1 << 20),
            left >> 20,
            MEMORY_PER_EVALUATION >> 20
        );
    }
    MEMORY_LEFT.with(|l| l.set(left - bytes));
    // The builtin names its arguments' expressions only in its error messages, which
    // non-strict evaluation (kvet's) turns into an undefined result anyway: stand-ins, made
    // once per thread, do.
    thread_local! {
        static STAND_INS: (Span, Vec<NodeRef<Expr>>) = stand_ins();
    }
    STAND_INS.with(|(span, params)| {
        match builtin(span, &params[..args.len().min(params.len())], args, false) {
            Ok(value) => Ok(value),
            Err(e) if e.downcast_ref::<regorus::LimitError>().is_some() => Err(e),
            Err(_) => Ok(Value::Undefined),
        }
    })
}

/// A span and argument expressions to call a builtin with, outside any policy.
fn stand_ins() -> (Span, Vec<NodeRef<Expr>>) {
    let text = "kvet";
    let span = Span {
        source: Source::from_contents(text.to_owned(), text.to_owned())
            .expect("a four-letter source is within regorus' limits"),
        line: 1,
        col: 1,
        start: 0,
        end: text.len() as u32,
    };
    let params = (0..3)
        .map(|_| {
            NodeRef::new(Expr::Var {
                span: span.clone(),
                value: Value::from(text),
                eidx: 0,
            })
        })
        .collect();
    (span, params)
}

/// What one member of a list takes, besides what it holds.
const MEMBER_BYTES: u64 = 32;

fn len(value: &Value) -> u64 {
    match value {
        Value::String(s) => s.len() as u64,
        Value::Array(items) => items.len() as u64,
        Value::Set(items) => items.len() as u64,
        Value::Object(fields) => fields.len() as u64,
        _ => 1,
    }
}

fn int(value: Option<&Value>) -> Option<i128> {
    value.and_then(|v| v.as_f64().ok()).map(|f| f as i128)
}

fn range_bytes(args: &[Value]) -> u64 {
    let (Some(from), Some(to)) = (int(args.first()), int(args.get(1))) else {
        return 0;
    };
    let step = int(args.get(2)).unwrap_or(1).max(1);
    let count = (to - from).unsigned_abs() / step as u128 + 1;
    u64::try_from(count.saturating_mul(MEMBER_BYTES as u128)).unwrap_or(u64::MAX)
}

/// Bytes of a value written out (JSON, YAML, base64, `%v`): sizes of strings and members,
/// counted once for every time a shared value appears; counting stops past `cap`.
fn written_bytes(value: &Value, cap: u64) -> u64 {
    fn add(value: &Value, total: &mut u64, cap: u64) {
        if *total > cap {
            return;
        }
        *total += 8;
        match value {
            Value::String(s) => *total += s.len() as u64,
            Value::Array(items) => items.iter().for_each(|v| add(v, total, cap)),
            Value::Set(items) => items.iter().for_each(|v| add(v, total, cap)),
            Value::Object(fields) => fields.iter().for_each(|(k, v)| {
                add(k, total, cap);
                add(v, total, cap);
            }),
            _ => *total += 24,
        }
    }
    let mut total = 0;
    add(value, &mut total, cap);
    total
}

fn marshal_bytes(args: &[Value]) -> u64 {
    // base64 and hex grow a text by at most 2×, URL escaping by 3×.
    args.first().map_or(0, |v| {
        written_bytes(v, MEMORY_PER_EVALUATION).saturating_mul(3)
    })
}

fn sprintf_bytes(args: &[Value]) -> u64 {
    let format = args.first().and_then(|f| f.as_string().ok());
    let mut widths = 0u64;
    if let Some(format) = format {
        let mut digits = 0u64;
        for c in format.chars() {
            match c.to_digit(10) {
                // Non-ASCII digits are not widths; regorus panics on them.
                Some(d) if c.is_ascii_digit() => digits = digits.saturating_mul(10) + d as u64,
                _ if c.is_numeric() => return u64::MAX,
                _ => {
                    widths = widths.saturating_add(digits);
                    digits = 0;
                }
            }
        }
        widths = widths.saturating_add(digits);
    }
    let values = args
        .get(1)
        .map_or(0, |v| written_bytes(v, MEMORY_PER_EVALUATION));
    let format = args.first().map_or(0, len);
    format
        .saturating_add(widths)
        .saturating_add(values.saturating_mul(2))
}

fn replace_bytes(args: &[Value]) -> u64 {
    let text = args.first().map_or(0, len);
    let new = args.get(2).map_or(0, len);
    // At most one replacement per byte, and one more for an empty pattern.
    text.saturating_add((text + 1).saturating_mul(new))
}

fn replace_n_bytes(args: &[Value]) -> u64 {
    let text = args.get(1).map_or(0, len);
    let longest = match args.first() {
        Some(Value::Object(patterns)) => patterns.iter().map(|(_, v)| len(v)).max().unwrap_or(0),
        _ => 0,
    };
    text.saturating_add((text + 1).saturating_mul(longest))
}

fn regex_replace_bytes(args: &[Value]) -> u64 {
    let text = args.first().map_or(0, len);
    let value = args.get(2).map_or(0, len);
    // `$1` in the replacement repeats matched text: all matches together are at most the text.
    let references = match args.get(2) {
        Some(Value::String(s)) => s.matches('$').count() as u64,
        _ => 0,
    };
    text.saturating_mul(1 + references)
        .saturating_add((text + 1).saturating_mul(value))
}

fn concat_bytes(args: &[Value]) -> u64 {
    let delimiter = args.first().map_or(0, len);
    let parts = match args.get(1) {
        Some(Value::Array(items)) => items.iter().map(len).fold(0u64, u64::saturating_add),
        Some(Value::Set(items)) => items.iter().map(len).fold(0u64, u64::saturating_add),
        _ => 0,
    };
    let count = args.get(1).map_or(0, len);
    parts.saturating_add(count.saturating_mul(delimiter + MEMBER_BYTES))
}

fn array_concat_bytes(args: &[Value]) -> u64 {
    args.iter()
        .map(len)
        .fold(0u64, u64::saturating_add)
        .saturating_mul(MEMBER_BYTES)
}

fn split_bytes(args: &[Value]) -> u64 {
    let text = args.first().map_or(0, len);
    // An empty delimiter splits at every character: one string per byte at most.
    text.saturating_add((text + 1).saturating_mul(MEMBER_BYTES))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(rule: &str) -> Engine {
        let mut engine = Engine::new();
        install(&mut engine);
        engine
            .add_policy(
                "p.rego".into(),
                format!("package p\nimport rego.v1\n{rule}\n"),
            )
            .unwrap();
        engine
    }

    fn eval(engine: &mut Engine, budget: u64) -> Result<Value, String> {
        engine.set_execution_timer_config(units(budget));
        start_evaluation();
        engine
            .eval_rule("data.p.x".into())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn wrapped_builtins_give_what_regorus_gives() {
        let mut e = engine(
            r#"x := [numbers.range(1, 3), numbers.range_step(10, 1, 4), sprintf("%s-%d", ["a", 5]),
                replace("aXbX", "X", "-"), strings.replace_n({"a": "1"}, "banana"), concat("/", ["a", "b"]),
                array.concat([1], [2]), split("a,b", ","), json.marshal({"a": [1]}), base64.encode("hi"),
                regex.replace("abc", "b", "[$0]")]"#,
        );
        let value = eval(&mut e, WORK_PER_RULE).unwrap();
        assert_eq!(
            value.to_json_str().unwrap().replace(['\n', ' '], ""),
            r#"[[1,2,3],[10,6,2],"a-5","a-b-","b1n1n1","a/b",[1,2],["a","b"],"{\"a\":[1]}","aGk=","a[b]c"]"#
        );
        // A wrong argument is undefined, as regorus' own builtins are in non-strict mode.
        let mut e = engine(r#"x := 1 if { not sprintf(1, []) }"#);
        assert_eq!(eval(&mut e, WORK_PER_RULE).unwrap(), Value::from(1u64));
    }

    #[test]
    fn builtins_that_would_build_too_much_stop_before_they_do() {
        for rule in [
            "x := count(numbers.range(1, 100000000))",
            r#"x := sprintf("%0999999999d", [1])"#,
            r#"x := count(replace(concat("", [c | some i in numbers.range(1, 100000); c := "a"]), "a", concat("", [c | some i in numbers.range(1, 100000); c := "b"])))"#,
            r#"x := sprintf("%٣d", [1])"#,
        ] {
            let mut e = engine(rule);
            let error = eval(&mut e, WORK_PER_RULE).unwrap_err();
            assert!(
                error.contains("more than the") && error.contains("memory limit"),
                "{rule}: {error}"
            );
        }
    }

    #[test]
    fn what_is_built_a_little_at_a_time_adds_up_to_the_limit() {
        // Each concat doubles the text: 2^30 bytes by the last.
        let steps: Vec<String> = (1..=30)
            .map(|i| format!("s{i} := concat(\"\", [s{}, s{}])", i - 1, i - 1))
            .collect();
        let mut e = engine(&format!(
            "x := count(s30) if {{\n s0 := \"a\"\n {}\n}}",
            steps.join("\n ")
        ));
        let error = eval(&mut e, WORK_PER_RULE).unwrap_err();
        assert!(error.contains("concat would build"), "{error}");
    }

    #[test]
    fn work_is_counted_not_timed_so_the_same_rule_stops_at_the_same_place() {
        // A pair loop over 300 numbers (90,000 iterations) on a budget of 100,000 units stops,
        // every time; over 30 numbers it does not.
        let mut e = engine(
            "x := count([1 | some a in numbers.range(1, 300); some b in numbers.range(1, 300); a < b])",
        );
        for _ in 0..2 {
            let error = eval(&mut e, 100_000).unwrap_err();
            assert!(is_work_exhausted(&error), "{error}");
        }
        let mut e = engine(
            "x := count([1 | some a in numbers.range(1, 30); some b in numbers.range(1, 30); a < b])",
        );
        assert_eq!(eval(&mut e, 100_000).unwrap(), Value::from(435u64));
    }

    #[test]
    fn the_work_budget_grows_with_the_input() {
        let small = work(1, 10).check_interval.get();
        let large = work(1, 1_000_000).check_interval.get();
        assert!(large > small * 5, "{small} {large}");
        assert_eq!(work(2, 10).check_interval.get(), small * 2);
        assert_eq!(work(1, u64::MAX).check_interval, NonZeroU32::MAX);
    }
}
