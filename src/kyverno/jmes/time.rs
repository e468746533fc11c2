//! Time functions (Kyverno `time.go`) and Go durations.
//!
//! Times are RFC 3339 strings unless a Go layout is given (`time_parse`,
//! `time_since`). Deviation: `time_now` reports UTC, because kvet's chrono
//! build has no local-timezone support; `time_now_utc` is exact.

mod layout;

use chrono::{DateTime, Datelike, FixedOffset, TimeDelta, Timelike};
use jmespath::functions::ArgumentType;
use serde_json::Value;

use super::types::string;
use super::{FnDef, arg_str, def, generic_error};

pub(super) use layout::parse_time;

/// Seconds between Go's zero time (0001-01-01 UTC) and the Unix epoch.
const ZERO_TIME_TO_UNIX: i128 = 62_135_596_800;
const RFC3339: &str = "2006-01-02T15:04:05Z07:00";

pub(super) fn functions() -> Vec<FnDef> {
    let none: Vec<ArgumentType> = Vec::new();
    vec![
        def("time_since", vec![string(), string(), string()], time_since),
        def("time_now", none.clone(), |_| {
            Ok(Value::String(format_rfc3339(&now())))
        }),
        def("time_now_utc", none, |_| {
            Ok(Value::String(format_rfc3339(&now())))
        }),
        def("time_add", vec![string(), string()], time_add),
        def("time_parse", vec![string(), string()], time_parse),
        def("time_utc", vec![string()], time_utc),
        def("time_diff", vec![string(), string()], time_diff),
        def("time_before", vec![string(), string()], time_before),
        def("time_after", vec![string(), string()], time_after),
        def(
            "time_between",
            vec![string(), string(), string()],
            time_between,
        ),
        def("time_truncate", vec![string(), string()], time_truncate),
        def("time_to_cron", vec![string()], time_to_cron),
    ]
}

fn now() -> DateTime<FixedOffset> {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX);
    DateTime::from_timestamp(secs, elapsed.subsec_nanos())
        .unwrap_or_default()
        .fixed_offset()
}

/// Go's `t.Format(time.RFC3339)`: whole seconds, `Z` for a zero offset.
pub(super) fn format_rfc3339(t: &DateTime<FixedOffset>) -> String {
    let zone = if t.offset().local_minus_utc() == 0 {
        "Z".to_owned()
    } else {
        t.format("%:z").to_string()
    };
    format!("{}{zone}", t.format("%Y-%m-%dT%H:%M:%S"))
}

fn time_arg(name: &str, args: &[Value], index: usize) -> Result<DateTime<FixedOffset>, String> {
    parse_time(RFC3339, arg_str(name, args, index)?)
}

fn duration_arg(name: &str, args: &[Value], index: usize) -> Result<i64, String> {
    let text = arg_str(name, args, index)?;
    parse_go_duration(text).ok_or_else(|| format!("time: invalid duration \"{text}\""))
}

/// Go's `t2.Sub(t1)`, saturating like Go.
fn sub(t2: &DateTime<FixedOffset>, t1: &DateTime<FixedOffset>) -> String {
    let nanos = nanos_since_zero(t2) - nanos_since_zero(t1);
    let clamped = nanos.clamp(i128::from(i64::MIN), i128::from(i64::MAX));
    format_duration(i64::try_from(clamped).unwrap_or(i64::MAX))
}

fn nanos_since_zero(t: &DateTime<FixedOffset>) -> i128 {
    (i128::from(t.timestamp()) + ZERO_TIME_TO_UNIX) * 1_000_000_000
        + i128::from(t.timestamp_subsec_nanos())
}

fn add_nanos(
    t: &DateTime<FixedOffset>,
    nanos: i64,
    name: &str,
) -> Result<DateTime<FixedOffset>, String> {
    t.checked_add_signed(TimeDelta::nanoseconds(nanos))
        .ok_or_else(|| generic_error(name, "time out of range"))
}

fn time_since(args: &[Value]) -> Result<Value, String> {
    let layout = arg_str("time_since", args, 0)?;
    let layout = if layout.is_empty() { RFC3339 } else { layout };
    let t1 = parse_time(layout, arg_str("time_since", args, 1)?)?;
    let end = arg_str("time_since", args, 2)?;
    let t2 = if end.is_empty() {
        now()
    } else {
        parse_time(layout, end)?
    };
    Ok(Value::String(sub(&t2, &t1)))
}

fn time_add(args: &[Value]) -> Result<Value, String> {
    // Kyverno reports time_add argument errors under the time_to_cron name.
    let t = time_arg("time_to_cron", args, 0)?;
    let d = duration_arg("time_to_cron", args, 1)?;
    Ok(Value::String(format_rfc3339(&add_nanos(
        &t, d, "time_add",
    )?)))
}

fn time_parse(args: &[Value]) -> Result<Value, String> {
    let layout = arg_str("time_parse", args, 0)?;
    let value = arg_str("time_parse", args, 1)?;
    // A numeric layout means the value is Unix epoch seconds.
    if layout.parse::<i64>().is_ok() {
        let secs: i64 = value
            .parse()
            .map_err(|_| format!("strconv.ParseInt: parsing \"{value}\": invalid syntax"))?;
        let t = DateTime::from_timestamp(secs, 0)
            .ok_or_else(|| generic_error("time_parse", "time out of range"))?;
        return Ok(Value::String(format_rfc3339(&t.fixed_offset())));
    }
    Ok(Value::String(format_rfc3339(&parse_time(layout, value)?)))
}

fn time_utc(args: &[Value]) -> Result<Value, String> {
    let t = time_arg("time_utc", args, 0)?;
    Ok(Value::String(format_rfc3339(&t.to_utc().fixed_offset())))
}

fn time_diff(args: &[Value]) -> Result<Value, String> {
    let t1 = time_arg("time_diff", args, 0)?;
    let t2 = time_arg("time_diff", args, 1)?;
    Ok(Value::String(sub(&t2, &t1)))
}

fn time_before(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Bool(
        time_arg("time_before", args, 0)? < time_arg("time_before", args, 1)?,
    ))
}

fn time_after(args: &[Value]) -> Result<Value, String> {
    Ok(Value::Bool(
        time_arg("time_after", args, 0)? > time_arg("time_after", args, 1)?,
    ))
}

fn time_between(args: &[Value]) -> Result<Value, String> {
    let t = time_arg("time_between", args, 0)?;
    let start = time_arg("time_between", args, 1)?;
    let end = time_arg("time_between", args, 2)?;
    // Exclusive at both ends, as in Kyverno.
    Ok(Value::Bool(t > start && t < end))
}

fn time_truncate(args: &[Value]) -> Result<Value, String> {
    let t = time_arg("time_truncate", args, 0)?;
    let d = duration_arg("time_truncate", args, 1)?;
    if d <= 0 {
        return Ok(Value::String(format_rfc3339(&t)));
    }
    // Go truncates relative to its zero time, not the Unix epoch.
    let remainder = nanos_since_zero(&t).rem_euclid(i128::from(d));
    let back = i64::try_from(remainder).unwrap_or(0);
    Ok(Value::String(format_rfc3339(&add_nanos(
        &t,
        -back,
        "time_truncate",
    )?)))
}

fn time_to_cron(args: &[Value]) -> Result<Value, String> {
    let t = time_arg("time_to_cron", args, 0)?;
    Ok(Value::String(format!(
        "{} {} {} {} {}",
        t.minute(),
        t.hour(),
        t.day(),
        t.month(),
        t.weekday().num_days_from_sunday()
    )))
}

const NANOS_PER_SECOND: u64 = 1_000_000_000;

/// Go's `time.ParseDuration`, in nanoseconds.
pub(super) fn parse_go_duration(text: &str) -> Option<i64> {
    crate::kyverno::scalar::parse_duration_nanos(text)
}

/// Go's `time.Duration.String()` (`"1h30m0s"`, `"1.5s"`, `"250ms"`, `"0s"`).
pub(super) fn format_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".to_owned();
    }
    let sign = if nanos < 0 { "-" } else { "" };
    let u = nanos.unsigned_abs();
    let body = if u < NANOS_PER_SECOND {
        let (precision, unit) = match u {
            0..1_000 => (0, "ns"),
            1_000..1_000_000 => (3, "\u{b5}s"),
            _ => (6, "ms"),
        };
        let divisor = 10u64.pow(precision);
        format!("{}{}{unit}", u / divisor, fraction(u % divisor, precision))
    } else {
        let secs = u / NANOS_PER_SECOND;
        let secs_text = format!("{}{}s", secs % 60, fraction(u % NANOS_PER_SECOND, 9));
        let (minutes, hours) = ((secs / 60) % 60, secs / 3600);
        match (hours, secs / 60) {
            (0, 0) => secs_text,
            (0, _) => format!("{minutes}m{secs_text}"),
            _ => format!("{hours}h{minutes}m{secs_text}"),
        }
    };
    format!("{sign}{body}")
}

/// `.ddd` with trailing zeros removed, or nothing for a zero fraction.
fn fraction(value: u64, precision: u32) -> String {
    if value == 0 {
        return String::new();
    }
    let digits = format!("{value:0width$}", width = precision as usize);
    format!(".{}", digits.trim_end_matches('0'))
}
