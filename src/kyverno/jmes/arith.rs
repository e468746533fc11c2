//! Typed arithmetic (Kyverno `arithmetic.go`): operands are numbers
//! (scalars), Kubernetes quantities (`"100Mi"`) or Go durations (`"1h"`).
//! A string is tried as a quantity first, then as a duration.
//!
//! | op    | Q∘Q       | Q∘S | D∘D      | D∘S | S∘S | S∘Q | S∘D |
//! |-------|-----------|-----|----------|-----|-----|-----|-----|
//! | + -   | Q         | err | D        | err | S   | err | err |
//! | *     | err       | Q   | err      | D   | S   | Q   | D   |
//! | /     | S         | Q   | S        | D   | S   | err | err |
//! | %     | Q (ints)  | err | D        | err | S   | err | err |

mod quantity;

use serde_json::Value;

use super::time::{format_duration, parse_go_duration};
use super::types::{any, array, number};
use super::{FnDef, arg_f64, def, generic_error, int_number, num};
use quantity::Quantity;

pub use quantity::quantity_to_f64;

pub(super) fn functions() -> Vec<FnDef> {
    vec![
        def("add", vec![any(), any()], |a| {
            binary("add", a, Operand::add)
        }),
        def("subtract", vec![any(), any()], |a| {
            binary("subtract", a, Operand::subtract)
        }),
        def("multiply", vec![any(), any()], |a| {
            binary("multiply", a, Operand::multiply)
        }),
        def("divide", vec![any(), any()], |a| {
            binary("divide", a, Operand::divide)
        }),
        def("modulo", vec![any(), any()], |a| {
            binary("modulo", a, Operand::modulo)
        }),
        def("sum", vec![array()], sum),
        def("round", vec![number(), number()], round),
    ]
}

#[derive(Debug, Clone)]
enum Operand {
    Quantity(Quantity),
    /// Nanoseconds, like Go's `time.Duration`.
    Duration(i64),
    Scalar(f64),
}

fn parse_operand(value: &Value) -> Option<Operand> {
    match value {
        Value::Number(n) => n.as_f64().map(Operand::Scalar),
        Value::String(s) => Quantity::parse(s)
            .map(Operand::Quantity)
            .or_else(|| parse_go_duration(s).map(Operand::Duration)),
        _ => None,
    }
}

/// 2^63: the first float outside i64's range.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

type Op = fn(Operand, Operand, &str) -> Result<Value, String>;

fn binary(name: &str, args: &[Value], op: Op) -> Result<Value, String> {
    let parsed = (
        args.first().and_then(parse_operand),
        args.get(1).and_then(parse_operand),
    );
    match parsed {
        (Some(a), Some(b)) => op(a, b, name),
        _ => Err(generic_error(name, "invalid operands")),
    }
}

fn mismatch(name: &str) -> String {
    generic_error(name, "types mismatch")
}

fn zero_division(name: &str) -> String {
    generic_error(name, "Zero divisor passed")
}

fn non_int_modulo(name: &str) -> String {
    generic_error(name, "Non-integer argument(s) passed for modulo")
}

fn duration(nanos: Option<i64>, name: &str) -> Result<Value, String> {
    nanos
        .map(|n| Value::String(format_duration(n)))
        .ok_or_else(|| generic_error(name, "duration overflow"))
}

/// Go's `time.Duration(seconds * float64(time.Second))` (truncating).
fn duration_from_seconds(seconds: f64) -> Option<i64> {
    let nanos = seconds * 1e9;
    // i64::MAX as f64 rounds up to 2^63, which is itself out of range.
    (nanos.is_finite() && nanos.abs() < TWO_POW_63).then_some(nanos as i64)
}

fn seconds(nanos: i64) -> f64 {
    nanos as f64 / 1e9
}

impl Operand {
    fn add(self, other: Operand, name: &str) -> Result<Value, String> {
        match (self, other) {
            (Operand::Quantity(a), Operand::Quantity(b)) => {
                Ok(Value::String(a.add(&b).to_string()))
            }
            (Operand::Duration(a), Operand::Duration(b)) => duration(a.checked_add(b), name),
            (Operand::Scalar(a), Operand::Scalar(b)) => Ok(num(a + b)),
            _ => Err(mismatch(name)),
        }
    }

    fn subtract(self, other: Operand, name: &str) -> Result<Value, String> {
        match (self, other) {
            (Operand::Quantity(a), Operand::Quantity(b)) => {
                Ok(Value::String(a.sub(&b).to_string()))
            }
            (Operand::Duration(a), Operand::Duration(b)) => duration(a.checked_sub(b), name),
            (Operand::Scalar(a), Operand::Scalar(b)) => Ok(num(a - b)),
            _ => Err(mismatch(name)),
        }
    }

    fn multiply(self, other: Operand, name: &str) -> Result<Value, String> {
        match (self, other) {
            (Operand::Scalar(a), Operand::Scalar(b)) => Ok(num(a * b)),
            (Operand::Quantity(q), Operand::Scalar(s))
            | (Operand::Scalar(s), Operand::Quantity(q)) => {
                let factor =
                    Quantity::from_f64(s).ok_or_else(|| generic_error(name, "invalid operands"))?;
                Ok(Value::String(q.mul(&factor).to_string()))
            }
            (Operand::Duration(d), Operand::Scalar(s))
            | (Operand::Scalar(s), Operand::Duration(d)) => {
                duration(duration_from_seconds(seconds(d) * s), name)
            }
            _ => Err(mismatch(name)),
        }
    }

    fn divide(self, other: Operand, name: &str) -> Result<Value, String> {
        match (self, other) {
            (Operand::Quantity(a), Operand::Quantity(b)) => {
                let divisor = b.to_f64();
                if divisor == 0.0 {
                    return Err(zero_division(name));
                }
                Ok(num(a.to_f64() / divisor))
            }
            (Operand::Quantity(q), Operand::Scalar(s)) => {
                if s == 0.0 {
                    return Err(zero_division(name));
                }
                let divisor =
                    Quantity::from_f64(s).ok_or_else(|| generic_error(name, "invalid operands"))?;
                q.div_round_down(&divisor)
                    .map(|r| Value::String(r.to_string()))
                    .ok_or_else(|| zero_division(name))
            }
            (Operand::Duration(a), Operand::Duration(b)) => {
                if b == 0 {
                    return Err(zero_division(name));
                }
                Ok(num(seconds(a) / seconds(b)))
            }
            (Operand::Duration(d), Operand::Scalar(s)) => {
                if s == 0.0 {
                    return Err(zero_division(name));
                }
                duration(duration_from_seconds(seconds(d) / s), name)
            }
            (Operand::Scalar(a), Operand::Scalar(b)) => {
                if b == 0.0 {
                    return Err(zero_division(name));
                }
                Ok(num(a / b))
            }
            _ => Err(mismatch(name)),
        }
    }

    fn modulo(self, other: Operand, name: &str) -> Result<Value, String> {
        match (self, other) {
            (Operand::Quantity(a), Operand::Quantity(b)) => {
                let (x, y) = (exact_int(a.to_f64(), name)?, exact_int(b.to_f64(), name)?);
                let r = x.checked_rem(y).ok_or_else(|| zero_division(name))?;
                Ok(Value::String(Quantity::from_int(r, a.format()).to_string()))
            }
            (Operand::Duration(a), Operand::Duration(b)) => {
                if b == 0 {
                    return Err(zero_division(name));
                }
                duration(a.checked_rem(b), name)
            }
            (Operand::Scalar(a), Operand::Scalar(b)) => {
                let (x, y) = (exact_int(a, name)?, exact_int(b, name)?);
                let r = x.checked_rem(y).ok_or_else(|| zero_division(name))?;
                Ok(num(r as f64))
            }
            _ => Err(mismatch(name)),
        }
    }
}

/// Go's `int64(f)` round-trip check used by modulo.
fn exact_int(f: f64, name: &str) -> Result<i64, String> {
    if f.is_finite() && f.trunc() == f && f.abs() < TWO_POW_63 {
        Ok(f as i64)
    } else {
        Err(non_int_modulo(name))
    }
}

fn sum(args: &[Value]) -> Result<Value, String> {
    let items = args
        .first()
        .and_then(Value::as_array)
        .ok_or_else(|| mismatch("sum"))?;
    let (first, rest) = items
        .split_first()
        .ok_or_else(|| generic_error("sum", "at least one element in the array is required"))?;
    rest.iter().try_fold(first.clone(), |acc, item| {
        binary("sum", &[acc, item.clone()], Operand::add)
    })
}

fn round(args: &[Value]) -> Result<Value, String> {
    let value = arg_f64("round", args, 0)?;
    let digits = int_number(arg_f64("round", args, 1)?)
        .map_err(|_| generic_error("round", "Non-integer argument(s) passed for round off"))?;
    if digits < 0 {
        return Err(generic_error("round", "2 argument is out of bounds (0)"));
    }
    let shift = 10f64.powi(i32::try_from(digits).unwrap_or(i32::MAX));
    // Go's math.Round rounds half away from zero, like f64::round.
    Ok(num((value * shift).round() / shift))
}
