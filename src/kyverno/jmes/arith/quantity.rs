//! Exact Kubernetes quantities for arithmetic, printed in the canonical
//! form of `resource.Quantity.String()` (`"1536Mi"`, `"1500m"`, `"2k"`).

use std::fmt;

use num_bigint::BigInt;
use num_traits::{Signed, ToPrimitive, Zero};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    BinarySI,
    DecimalSI,
    DecimalExponent,
}

/// `mantissa * 10^exponent`, with the suffix family it was written in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Quantity {
    mantissa: BigInt,
    exponent: i32,
    format: Format,
}

/// Parses a Kubernetes quantity string (`"500m"`, `"1Gi"`, `"1e3"`) to f64.
pub fn quantity_to_f64(text: &str) -> Option<f64> {
    Quantity::parse(text).map(|q| q.to_f64())
}

const DECIMAL_SUFFIXES: [(&str, i32); 9] = [
    ("n", -9),
    ("u", -6),
    ("m", -3),
    ("k", 3),
    ("M", 6),
    ("G", 9),
    ("T", 12),
    ("P", 15),
    ("E", 18),
];

const BINARY_SUFFIXES: [(&str, u32); 6] = [
    ("Ki", 1),
    ("Mi", 2),
    ("Gi", 3),
    ("Ti", 4),
    ("Pi", 5),
    ("Ei", 6),
];

/// Kubernetes keeps at most nanounit precision, rounding away from zero.
const MIN_EXPONENT: i32 = -9;

/// Limits on exponents so hostile input cannot allocate huge integers.
const MAX_EXPONENT: i32 = 1000;

impl Quantity {
    pub(crate) fn parse(text: &str) -> Option<Quantity> {
        let (sign, rest) = match text.as_bytes().first()? {
            b'-' => (-1, text.get(1..)?),
            b'+' => (1, text.get(1..)?),
            _ => (1, text),
        };
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(number_end);
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        if int_part.is_empty() && frac_part.is_empty() || frac_part.contains('.') {
            return None;
        }
        let digits: BigInt = format!("{int_part}{frac_part}").parse().ok()?;
        let frac_len = i32::try_from(frac_part.len()).ok()?;
        let (power, format, binary) = parse_suffix(suffix)?;
        let mut q = Quantity {
            mantissa: digits * sign * BigInt::from(1024u32).pow(binary),
            exponent: power - frac_len,
            format,
        };
        q.round_to_nano();
        Some(q)
    }

    /// Quantity for a Go float64 printed with `%v` (exact decimal of the shortest repr).
    pub(crate) fn from_f64(f: f64) -> Option<Quantity> {
        if !f.is_finite() {
            return None;
        }
        Quantity::parse(&format!("{f}"))
    }

    pub(crate) fn from_int(value: i64, format: Format) -> Quantity {
        Quantity {
            mantissa: BigInt::from(value),
            exponent: 0,
            format,
        }
    }

    pub(crate) fn format(&self) -> Format {
        self.format
    }

    pub(crate) fn to_f64(&self) -> f64 {
        let m = self.mantissa.to_f64().unwrap_or(f64::NAN);
        m * 10f64.powi(self.exponent)
    }

    fn round_to_nano(&mut self) {
        if self.exponent >= MIN_EXPONENT {
            return;
        }
        let divisor = pow10(MIN_EXPONENT - self.exponent);
        let (quot, rem) = (&self.mantissa / &divisor, &self.mantissa % &divisor);
        let away = if rem.is_zero() {
            BigInt::zero()
        } else {
            self.mantissa.signum()
        };
        self.mantissa = quot + away;
        self.exponent = MIN_EXPONENT;
    }

    /// Both mantissas at the smaller exponent.
    fn aligned(&self, other: &Quantity) -> (BigInt, BigInt, i32) {
        let exp = self.exponent.min(other.exponent);
        let a = &self.mantissa * pow10(self.exponent - exp);
        let b = &other.mantissa * pow10(other.exponent - exp);
        (a, b, exp)
    }

    /// `Quantity.Add`: keeps the receiver's format unless the receiver is zero.
    pub(crate) fn add(&self, other: &Quantity) -> Quantity {
        let (a, b, exponent) = self.aligned(other);
        Quantity {
            mantissa: a + b,
            exponent,
            format: self.merged_format(other),
        }
    }

    pub(crate) fn sub(&self, other: &Quantity) -> Quantity {
        let (a, b, exponent) = self.aligned(other);
        Quantity {
            mantissa: a - b,
            exponent,
            format: self.merged_format(other),
        }
    }

    fn merged_format(&self, other: &Quantity) -> Format {
        if self.mantissa.is_zero() {
            other.format
        } else {
            self.format
        }
    }

    pub(crate) fn mul(&self, other: &Quantity) -> Quantity {
        Quantity {
            mantissa: &self.mantissa * &other.mantissa,
            exponent: self.exponent.saturating_add(other.exponent),
            format: self.format,
        }
    }

    /// `inf.Dec.QuoRound(a, b, max(scales), RoundDown)`.
    pub(crate) fn div_round_down(&self, divisor: &Quantity) -> Option<Quantity> {
        if divisor.mantissa.is_zero() {
            return None;
        }
        let exponent = self.exponent.min(divisor.exponent);
        // self / divisor = (ma * 10^ea) / (mb * 10^eb); express at 10^exponent.
        let shift = self.exponent - divisor.exponent - exponent;
        let (num, den) = if shift >= 0 {
            (&self.mantissa * pow10(shift), divisor.mantissa.clone())
        } else {
            (self.mantissa.clone(), &divisor.mantissa * pow10(-shift))
        };
        Some(Quantity {
            // BigInt division truncates toward zero, which is RoundDown.
            mantissa: num / den,
            exponent,
            format: self.format,
        })
    }

    /// Mantissa/exponent with all factors of ten moved to an exponent that is a multiple of 3.
    fn canonical_decimal(&self) -> (BigInt, i32) {
        let mut mantissa = self.mantissa.clone();
        let mut exponent = self.exponent;
        let ten = BigInt::from(10);
        while !mantissa.is_zero() && (&mantissa % &ten).is_zero() {
            mantissa /= &ten;
            exponent += 1;
        }
        while exponent.rem_euclid(3) != 0 {
            mantissa *= &ten;
            exponent -= 1;
        }
        (mantissa, exponent)
    }

    /// Integral value, when the quantity has no fractional part.
    fn as_integer(&self) -> Option<BigInt> {
        if self.exponent >= 0 {
            return Some(&self.mantissa * pow10(self.exponent));
        }
        let divisor = pow10(-self.exponent);
        (&self.mantissa % &divisor)
            .is_zero()
            .then(|| &self.mantissa / &divisor)
    }
}

fn parse_suffix(suffix: &str) -> Option<(i32, Format, u32)> {
    if suffix.is_empty() {
        return Some((0, Format::DecimalSI, 0));
    }
    if let Some((_, power)) = BINARY_SUFFIXES.iter().find(|(s, _)| *s == suffix) {
        return Some((0, Format::BinarySI, *power));
    }
    if let Some((_, power)) = DECIMAL_SUFFIXES.iter().find(|(s, _)| *s == suffix) {
        return Some((*power, Format::DecimalSI, 0));
    }
    let exp = suffix.strip_prefix(['e', 'E'])?;
    let value: i32 = exp.parse().ok()?;
    (value.abs() <= MAX_EXPONENT).then_some((value, Format::DecimalExponent, 0))
}

fn pow10(exp: i32) -> BigInt {
    BigInt::from(10).pow(u32::try_from(exp.clamp(0, MAX_EXPONENT * 4)).unwrap_or(0))
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mantissa.is_zero() {
            return f.write_str("0");
        }
        // Binary suffixes only for integral values outside (-1024, 1024).
        if self.format == Format::BinarySI
            && let Some(int) = self.as_integer().filter(|i| i.abs() >= BigInt::from(1024))
        {
            return write_binary(f, int);
        }
        let (mantissa, exponent) = self.canonical_decimal();
        let suffix = match (self.format, exponent) {
            (_, 0) => String::new(),
            (Format::DecimalExponent, e) => format!("e{e}"),
            (_, e) => DECIMAL_SUFFIXES
                .iter()
                .find(|(_, p)| *p == e)
                .map_or_else(|| format!("e{e}"), |(s, _)| (*s).to_owned()),
        };
        write!(f, "{mantissa}{suffix}")
    }
}

fn write_binary(f: &mut fmt::Formatter<'_>, mut value: BigInt) -> fmt::Result {
    let base = BigInt::from(1024);
    let mut power = 0usize;
    while power < BINARY_SUFFIXES.len() && (&value % &base).is_zero() {
        value /= &base;
        power += 1;
    }
    let suffix = power
        .checked_sub(1)
        .and_then(|i| BINARY_SUFFIXES.get(i))
        .map_or("", |(s, _)| s);
    write!(f, "{value}{suffix}")
}
