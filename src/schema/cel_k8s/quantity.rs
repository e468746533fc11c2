//! Kubernetes' quantity library (k8s.io/apiserver/pkg/cel/library/quantity.go): `quantity()`,
//! `isQuantity()` and a `Quantity`'s `isInteger`, `asInteger`, `asApproximateFloat`, `sign`,
//! `add`, `sub`, `isGreaterThan`, `isLessThan` and `compareTo`, with values parsed as
//! `resource.ParseQuantity` parses them: exact decimals (`1.5Gi`, `200m`, `1e3`), rounded up
//! to nano units, binary-suffixed ones capped at 2^63-1.

use std::cmp::Ordering;

use cel::common::types::{CelBool, CelDouble, CelInt, CelString, Kind, Type};
use cel::{DeclarationError, Env, ExecutionError};
use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};

static QUANTITY_TYPE: Type = Type::simple_type(Kind::Opaque, "kubernetes.Quantity");

/// Aligning two quantities multiplies by 10 to the difference of their scales: past this many
/// digits (values no resource comes near), arithmetic is an evaluation error, not a slow one.
const MAX_ALIGN_DIGITS: i64 = 1_000;

/// `mantissa × 10^scale`, exactly.
#[derive(Debug, Clone)]
pub struct Quantity {
    mantissa: BigInt,
    scale: i64,
}

impl PartialEq for Quantity {
    /// Equal in value: `1Gi` is `1024Mi`.
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
super::opaque_value!(Quantity, QUANTITY_TYPE);

pub fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_type(QUANTITY_TYPE.to_owned())?;
    cel::add_overload!(env, fn quantity: (CelString) -> Result<Quantity>)?;
    cel::add_overload!(env, fn is_quantity: (CelString) -> CelBool, name = "isQuantity")?;
    cel::add_member_overload!(env, fn is_integer: (Quantity) -> CelBool)?;
    cel::add_member_overload!(env, fn as_integer: (Quantity) -> Result<CelInt>)?;
    cel::add_member_overload!(env, fn as_approximate_float: (Quantity) -> CelDouble)?;
    // The API server declares `sign` as a global function and documents it as a method.
    cel::add_member_overload!(env, fn sign: (Quantity) -> CelInt)?;
    cel::add_overload!(env, fn sign: (Quantity) -> CelInt, id = "quantity_sign")?;
    cel::add_member_overload!(env, fn is_greater_than: (Quantity, Quantity) -> CelBool)?;
    cel::add_member_overload!(env, fn is_less_than: (Quantity, Quantity) -> CelBool)?;
    cel::add_member_overload!(env, fn compare_to: (Quantity, Quantity) -> CelInt)?;
    cel::add_member_overload!(env, fn add: (Quantity, Quantity) -> Result<Quantity>)?;
    cel::add_member_overload!(env, fn add_int: (Quantity, CelInt) -> Result<Quantity>, name = "add")?;
    cel::add_member_overload!(env, fn sub: (Quantity, Quantity) -> Result<Quantity>)?;
    cel::add_member_overload!(env, fn sub_int: (Quantity, CelInt) -> Result<Quantity>, name = "sub")?;
    Ok(())
}

impl Quantity {
    /// Parses `text` as `resource.ParseQuantity` does: a signed decimal number (`1`, `1.5`,
    /// `.5`, `1.`) and a suffix: none, `n`, `u`, `m`, `k`, `M`, `G`, `T`, `P`, `E`, `Ki` … `Ei`,
    /// or an exponent (`e3`, `E-2`).
    pub fn parse(text: &str) -> Option<Quantity> {
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(number_end);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        if whole.is_empty() && fraction.is_empty() || fraction.contains('.') {
            return None;
        }
        let digits: BigInt = format!("0{whole}{fraction}").parse().ok()?;
        let mut quantity = Quantity {
            mantissa: if negative { -digits } else { digits },
            scale: -(fraction.len() as i64),
        };
        match suffix {
            "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => {
                let power = 1 + "KMGTPE".find(&suffix[..1])? as u32;
                quantity.mantissa *= BigInt::from(1) << (10 * power);
                // Binary quantities are capped at the largest int64, as the API server does.
                let max = Quantity {
                    mantissa: BigInt::from(i64::MAX),
                    scale: 0,
                };
                if quantity.cmp(&max) == Ordering::Greater {
                    quantity = max;
                }
            }
            _ => quantity.scale += decimal_exponent(suffix)?,
        }
        quantity.round_up_to_nanos();
        Some(quantity)
    }

    /// Values finer than a nano unit are rounded up, away from zero (`0.1n` is `1n`).
    fn round_up_to_nanos(&mut self) {
        if self.scale >= -9 {
            return;
        }
        let drop = (-9 - self.scale).min(MAX_ALIGN_DIGITS);
        let divisor = BigInt::from(10).pow(drop as u32);
        let (quotient, remainder) = (&self.mantissa / &divisor, &self.mantissa % &divisor);
        self.mantissa = if remainder.is_zero() {
            quotient
        } else if self.mantissa.is_negative() {
            quotient - 1
        } else {
            quotient + 1
        };
        self.scale = -9;
    }

    fn sign(&self) -> i64 {
        match self.mantissa.sign() {
            num_bigint::Sign::Minus => -1,
            num_bigint::Sign::NoSign => 0,
            num_bigint::Sign::Plus => 1,
        }
    }

    /// How many digits the integer part has, give or take one: compares quantities whose
    /// scales are too far apart to align.
    fn magnitude(&self) -> i64 {
        self.mantissa.abs().to_string().len() as i64 + self.scale
    }

    /// Compares by value: `1Gi` equals `1024Mi`.
    pub fn compare(&self, other: &Quantity) -> Ordering {
        self.cmp(other)
    }

    fn cmp(&self, other: &Quantity) -> Ordering {
        let (a, b) = (self.sign(), other.sign());
        if a != b || a == 0 {
            return a.cmp(&b);
        }
        let (ma, mb) = (self.magnitude(), other.magnitude());
        if (ma - mb).abs() > 1 {
            let larger = ma.cmp(&mb);
            return if a > 0 { larger } else { larger.reverse() };
        }
        match self.aligned(other) {
            Some((x, y)) => x.cmp(&y),
            None => Ordering::Equal,
        }
    }

    /// Both mantissas at the smaller scale, and that scale.
    fn aligned(&self, other: &Quantity) -> Option<(BigInt, BigInt)> {
        let scale = self.scale.min(other.scale);
        let shift = |q: &Quantity| -> Option<BigInt> {
            let by = q.scale - scale;
            (by <= MAX_ALIGN_DIGITS).then(|| &q.mantissa * BigInt::from(10).pow(by as u32))
        };
        Some((shift(self)?, shift(other)?))
    }

    fn plus(&self, other: &Quantity, function: &str) -> Result<Quantity, ExecutionError> {
        let (x, y) = self
            .aligned(other)
            .ok_or_else(|| ExecutionError::function_error(function, "quantity out of range"))?;
        Ok(Quantity {
            mantissa: x + y,
            scale: self.scale.min(other.scale),
        })
    }

    fn negated(&self) -> Quantity {
        Quantity {
            mantissa: -self.mantissa.clone(),
            scale: self.scale,
        }
    }

    /// The value as an int64, when it is a whole number that fits.
    fn as_i64(&self) -> Option<i64> {
        if self.scale >= 0 {
            if self.mantissa.is_zero() {
                return Some(0);
            }
            if self.scale > 18 {
                return None;
            }
            return (&self.mantissa * BigInt::from(10).pow(self.scale as u32)).to_i64();
        }
        let divisor = BigInt::from(10).pow((-self.scale).min(MAX_ALIGN_DIGITS) as u32);
        (&self.mantissa % &divisor)
            .is_zero()
            .then(|| (&self.mantissa / &divisor).to_i64())
            .flatten()
    }
}

impl From<i64> for Quantity {
    fn from(value: i64) -> Self {
        Quantity {
            mantissa: BigInt::from(value),
            scale: 0,
        }
    }
}

/// The power of ten a decimal suffix stands for.
fn decimal_exponent(suffix: &str) -> Option<i64> {
    let exponent = match suffix {
        "" => 0,
        "n" => -9,
        "u" => -6,
        "m" => -3,
        "k" => 3,
        "M" => 6,
        "G" => 9,
        "T" => 12,
        "P" => 15,
        "E" => 18,
        _ => {
            let digits = suffix.strip_prefix(['e', 'E'])?;
            let unsigned = digits.strip_prefix(['+', '-']).unwrap_or(digits);
            if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            i64::from(digits.parse::<i32>().ok()?)
        }
    };
    Some(exponent)
}

fn quantity(text: &CelString<'_>) -> Result<Quantity, ExecutionError> {
    Quantity::parse(text).ok_or_else(|| {
        ExecutionError::function_error(
            "quantity",
            format!("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {}", text.inner()),
        )
    })
}

fn is_quantity(text: &CelString<'_>) -> CelBool {
    Quantity::parse(text).is_some().into()
}

fn is_integer(q: &Quantity) -> CelBool {
    q.as_i64().is_some().into()
}

fn as_integer(q: &Quantity) -> Result<CelInt, ExecutionError> {
    q.as_i64().map(CelInt::from).ok_or_else(|| {
        ExecutionError::function_error("asInteger", "cannot convert value to integer")
    })
}

fn as_approximate_float(q: &Quantity) -> CelDouble {
    let value: f64 = format!("{}e{}", q.mantissa, q.scale)
        .parse()
        .unwrap_or(f64::NAN);
    value.into()
}

fn sign(q: &Quantity) -> CelInt {
    q.sign().into()
}

fn is_greater_than(a: &Quantity, b: &Quantity) -> CelBool {
    (a.cmp(b) == Ordering::Greater).into()
}

fn is_less_than(a: &Quantity, b: &Quantity) -> CelBool {
    (a.cmp(b) == Ordering::Less).into()
}

fn compare_to(a: &Quantity, b: &Quantity) -> CelInt {
    (a.cmp(b) as i64).into()
}

fn add(a: &Quantity, b: &Quantity) -> Result<Quantity, ExecutionError> {
    a.plus(b, "add")
}

fn add_int(a: &Quantity, b: &CelInt) -> Result<Quantity, ExecutionError> {
    a.plus(&Quantity::from(*b.inner()), "add")
}

fn sub(a: &Quantity, b: &Quantity) -> Result<Quantity, ExecutionError> {
    a.plus(&b.negated(), "sub")
}

fn sub_int(a: &Quantity, b: &CelInt) -> Result<Quantity, ExecutionError> {
    a.plus(&Quantity::from(*b.inner()).negated(), "sub")
}

#[cfg(test)]
mod tests {
    use super::super::tests::{assert_errors, assert_true};

    /// The examples of quantity.go's documentation, and the parsing rules of
    /// resource.ParseQuantity.
    #[test]
    fn quantities_as_the_kubernetes_documentation_shows_them() {
        assert_true(&[
            "isQuantity('1.3G')",
            "isQuantity('1.3Gi')",
            "!isQuantity('1,3G')",
            "isQuantity('10000k')",
            "!isQuantity('200K')",
            "!isQuantity('Three')",
            "!isQuantity('Mi')",
            "!isQuantity('')",
            "!isQuantity('1e')",
            "isQuantity('1E')",
            "isQuantity('.5')",
            "isQuantity('-1.5e-3')",
            "isQuantity('100n')",
            "quantity('50000000G').isInteger()",
            "quantity('50k').isInteger()",
            "!quantity('9999999999999999999999999999999999999G').isInteger()",
            "!quantity('0.5').isInteger()",
            "quantity('50k').asInteger() == 50000",
            "quantity('50k').sub(20000).asApproximateFloat() == 30000.0",
            "quantity('50k').add(quantity('20k')) == quantity('70k')",
            "quantity('50k').add(20) == quantity('50020')",
            "quantity('50k').sub(quantity('20k')) == quantity('30k')",
            "quantity('50k').sub(20000) == quantity('30k')",
            "quantity('50k').add(20).sub(quantity('100k')).sub(-50000) == quantity('20')",
            "quantity('200M').compareTo(quantity('0.2G')) == 0",
            "quantity('50M').compareTo(quantity('50Mi')) == -1",
            "quantity('50Mi').compareTo(quantity('50M')) == 1",
            "quantity('150Mi').isGreaterThan(quantity('100Mi'))",
            "!quantity('50Mi').isGreaterThan(quantity('100Mi'))",
            "quantity('50M').isLessThan(quantity('100M'))",
            "!quantity('100M').isLessThan(quantity('50M'))",
            "quantity('1Gi') == quantity('1024Mi')",
            "quantity('1') == quantity('1000m')",
            "quantity('0.1n') == quantity('1n')",
            "quantity('1e3') == quantity('1k')",
            "quantity('-5').sign() == -1 && quantity('0').sign() == 0 && sign(quantity('5')) == 1",
            "quantity('1Ei').isGreaterThan(quantity('1E'))",
            "quantity('100Ei').asInteger() == 9223372036854775807",
            "quantity('1e400').isGreaterThan(quantity('1e399'))",
            "quantity('-1e400').isLessThan(quantity('1'))",
        ]);
        assert_errors(&[
            "quantity('200K') == quantity('200k')",
            "quantity('Three').sign() == 0",
            "quantity('0.5').asInteger() == 0",
            "quantity('9999999999999999999999999999999999999G').asInteger() == 0",
        ]);
    }
}
