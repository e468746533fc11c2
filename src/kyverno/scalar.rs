//! Scalar helpers shared by kvet's Kyverno modules, each mirroring the Go function Kyverno calls:
//! `time.ParseDuration`, Kyverno's wildcard matcher (`ext/wildcard`: `*` and `?`),
//! `strconv.ParseFloat` / `strconv.ParseInt`, and the way Go's `fmt` prints the JSON values
//! Kyverno reports in its messages (`%v`, `%T`).

use serde_json::Value;

/// Nanoseconds per unit accepted by Go's `time.ParseDuration`.
const DURATION_UNITS: [(&str, u64); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// Go's `time.ParseDuration` largest magnitude (2^63 nanoseconds).
const DURATION_LIMIT: u64 = 1 << 63;

/// Go's time.ParseDuration ("300ms", "-1.5h", "2h45m", "1µs"/"1us", "0"), in seconds. None if not a duration.
pub fn parse_duration(text: &str) -> Option<f64> {
    parse_duration_nanos(text).map(|nanos| nanos as f64 / 1e9)
}

/// Go's `time.ParseDuration` as an exact `time.Duration` (nanoseconds), for comparisons that
/// must agree with Go's integer ones. `None` when Go reports an error (bad syntax, unknown
/// unit, overflow).
pub fn parse_duration_nanos(text: &str) -> Option<i64> {
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, text.get(1..)?),
        Some(b'+') => (false, text.get(1..)?),
        _ => (false, text),
    };
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let (component, remaining) = duration_component(rest)?;
        total = total.checked_add(component)?;
        if total > DURATION_LIMIT {
            return None;
        }
        rest = remaining;
    }
    if negative {
        // -2^63 is representable; anything within the limit negates safely in i128.
        i64::try_from(-i128::from(total)).ok()
    } else {
        i64::try_from(total).ok()
    }
}

/// One `<number><unit>` run of a duration, in nanoseconds, and the text after it.
fn duration_component(text: &str) -> Option<(u64, &str)> {
    let starts_number = text
        .as_bytes()
        .first()
        .is_some_and(|b| *b == b'.' || b.is_ascii_digit());
    if !starts_number {
        return None;
    }
    let whole_len = text.bytes().take_while(u8::is_ascii_digit).count();
    let (whole_digits, mut rest) = text.split_at(whole_len);
    let whole = if whole_digits.is_empty() {
        0
    } else {
        // Go reports an overflow of the integer part as an error.
        let value: u64 = whole_digits.parse().ok()?;
        if value > DURATION_LIMIT {
            return None;
        }
        value
    };
    let mut fraction = (0u64, 1f64);
    let mut has_fraction_digits = false;
    if let Some(after_dot) = rest.strip_prefix('.') {
        let fraction_len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
        let (fraction_digits, after) = after_dot.split_at(fraction_len);
        fraction = leading_fraction(fraction_digits);
        has_fraction_digits = !fraction_digits.is_empty();
        rest = after;
    }
    if whole_digits.is_empty() && !has_fraction_digits {
        return None;
    }
    let unit_len = rest
        .find(|c: char| c == '.' || c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (unit_text, after_unit) = rest.split_at(unit_len);
    let unit = DURATION_UNITS
        .iter()
        .find(|(name, _)| *name == unit_text)
        .map(|(_, nanos)| *nanos)?;
    if whole > DURATION_LIMIT / unit {
        return None;
    }
    let mut nanos = whole * unit;
    let (fraction_value, scale) = fraction;
    if fraction_value > 0 {
        // Go truncates the fractional part the same way: float64(f) * (float64(unit) / scale).
        nanos = nanos.checked_add((fraction_value as f64 * (unit as f64 / scale)) as u64)?;
        if nanos > DURATION_LIMIT {
            return None;
        }
    }
    Some((nanos, after_unit))
}

/// Go's `leadingFraction`: the digits as an integer and the power of ten they are scaled by,
/// ignoring digits that would overflow.
fn leading_fraction(digits: &str) -> (u64, f64) {
    let mut value: u64 = 0;
    let mut scale = 1f64;
    let mut overflowed = false;
    for digit in digits.bytes().map(|b| u64::from(b - b'0')) {
        if overflowed {
            continue;
        }
        match value.checked_mul(10).and_then(|v| v.checked_add(digit)) {
            Some(next) if next <= DURATION_LIMIT => {
                value = next;
                scale *= 10.0;
            }
            _ => overflowed = true,
        }
    }
    (value, scale)
}

/// Kyverno's wildcard match (github.com/kyverno/kyverno/ext/wildcard): `*` any run of characters, `?` one character; the whole text must match.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0usize, 0usize);
    // Position of the last `*` seen and the text position it currently stands for.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                backtrack = Some((p, t));
                p += 1;
            }
            Some(c) if *c == '?' || Some(c) == text.get(t) => {
                p += 1;
                t += 1;
            }
            _ => match backtrack {
                Some((star, matched)) => {
                    backtrack = Some((star, matched + 1));
                    p = star + 1;
                    t = matched + 1;
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|tail| tail.iter().all(|c| *c == '*'))
}

/// Kyverno's `wildcard.ContainsWildcard`: whether `text` has a `*` or a `?`.
pub fn contains_wildcard(text: &str) -> bool {
    text.contains(['*', '?'])
}

/// Go's `strconv.ParseFloat(text, 64)`: decimal or `inf`/`nan` spellings; `None` on a syntax
/// error or when the value is out of range (Go returns an error there too).
pub fn go_parse_float(text: &str) -> Option<f64> {
    let value: f64 = text.parse().ok()?;
    let spelled_infinite = text.to_ascii_lowercase().contains("inf");
    if value.is_infinite() && !spelled_infinite {
        return None;
    }
    Some(value)
}

/// Go's `strconv.ParseInt(text, 10, 64)`: an optional sign and decimal digits only.
pub fn go_parse_int(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Go's `fmt` `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)` with Go's exponent
/// threshold): `80`, `1.5`, `1e+06`, `1e-05`.
pub fn go_format_float(value: f64) -> String {
    if !value.is_finite() {
        return go_special_float(value);
    }
    let (mantissa, exponent) = shortest_scientific(value);
    // Go's %v switches to exponent form outside [1e-4, 1e6) for shortest formatting.
    if (-4..6).contains(&exponent) {
        format!("{value}")
    } else {
        format!("{mantissa}e{}", go_exponent(exponent))
    }
}

/// Go's `strconv.FormatFloat(f, 'E', -1, 64)`: `8E+01`, `1.5E+00`.
pub fn go_format_float_upper_e(value: f64) -> String {
    if !value.is_finite() {
        return go_special_float(value);
    }
    let (mantissa, exponent) = shortest_scientific(value);
    format!("{mantissa}E{}", go_exponent(exponent))
}

fn go_special_float(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_string()
    } else if value > 0.0 {
        "+Inf".to_string()
    } else {
        "-Inf".to_string()
    }
}

/// Shortest round-trip mantissa (`1.5`, `-8`) and decimal exponent of `value`.
fn shortest_scientific(value: f64) -> (String, i32) {
    let text = format!("{value:e}");
    match text.split_once('e') {
        Some((mantissa, exponent)) => (mantissa.to_string(), exponent.parse().unwrap_or(0)),
        None => (text, 0),
    }
}

/// Go prints exponents with a sign and at least two digits.
fn go_exponent(exponent: i32) -> String {
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{sign}{:02}", exponent.unsigned_abs())
}

/// Go's `%v` of a decoded JSON value: strings bare, `<nil>`, `[a b]`, `map[k:v]` (keys sorted,
/// as `fmt` sorts them). Integers print as integers, other numbers as Go floats.
pub fn go_format_value(value: &Value) -> String {
    match value {
        Value::Null => "<nil>".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.to_string(),
            (None, Some(u)) => u.to_string(),
            _ => go_format_float(n.as_f64().unwrap_or(0.0)),
        },
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(go_format_value).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let parts: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{k}:{}", go_format_value(v)))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Go's `%T` of a value decoded by Kubernetes' unstructured JSON decoder (integers are `int64`).
pub fn go_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_i64() => "int64",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("300ms"), Some(0.3));
        assert_eq!(parse_duration("-1.5h"), Some(-5400.0));
        assert_eq!(parse_duration("2h45m"), Some(9900.0));
        assert_eq!(parse_duration("1µs"), Some(1e-6));
        assert_eq!(parse_duration("1μs"), Some(1e-6));
        assert_eq!(parse_duration("1us"), Some(1e-6));
        assert_eq!(parse_duration("0"), Some(0.0));
        assert_eq!(parse_duration("-0"), Some(0.0));
        assert_eq!(parse_duration("+5s"), Some(5.0));
        assert_eq!(parse_duration(".5s"), Some(0.5));
        assert_eq!(parse_duration("1.s"), Some(1.0));
        assert_eq!(parse_duration_nanos("1.000000001s"), Some(1_000_000_001));
        assert_eq!(
            parse_duration_nanos("2562047h47m16.854775807s"),
            Some(i64::MAX)
        );
        assert_eq!(
            parse_duration_nanos("-2562047h47m16.854775808s"),
            Some(i64::MIN)
        );
    }

    #[test]
    fn non_durations_are_rejected() {
        for text in [
            "",
            "1",
            "80",
            "0.0",
            ".s",
            "s",
            "1x",
            "1hm",
            "1h ",
            " 1h",
            "-",
            "1.5.5s",
            "3000000h",
            "80.000000",
        ] {
            assert_eq!(parse_duration(text), None, "{text:?}");
        }
    }

    #[test]
    fn wildcard_star_and_question_mark() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("*", "anything"));
        assert!(wildcard_match("", ""));
        assert!(!wildcard_match("", "x"));
        assert!(wildcard_match("s3:*", "s3:ListMultipartUploadParts"));
        assert!(wildcard_match(
            "my-bucket/In*/Ka*/Ban",
            "my-bucket/India/Karnataka/Ban/Ban/Ban"
        ));
        assert!(!wildcard_match(
            "my-bucket/In*/Ka*/Ban",
            "my-bucket/India/Karnataka/Bangalore"
        ));
        assert!(wildcard_match("my-?-bucket/abc*", "my-k-bucket/abc"));
        assert!(!wildcard_match("my-?-bucket/abc*", "my--bucket/abc"));
        assert!(!wildcard_match("my-bucket/abc?", "my-bucket/abc"));
        assert!(!wildcard_match("my-bucket/abc?", "my-bucket/abcde"));
        assert!(!wildcard_match("my-bucket/mnop*?", "my-bucket/mnop"));
        assert!(wildcard_match(
            "my-bucket/mnop*?and?",
            "my-bucket/mnopqanda"
        ));
        assert!(!wildcard_match("?*", ""));
        assert!(wildcard_match("?*", "a"));
        assert!(wildcard_match("é?", "éü"));
        // `.` is an ordinary character.
        assert!(!wildcard_match("a.b", "axb"));
    }

    #[test]
    fn go_number_parsing() {
        assert_eq!(go_parse_float("80"), Some(80.0));
        assert_eq!(go_parse_float("8e1"), Some(80.0));
        assert_eq!(go_parse_float("+1.5"), Some(1.5));
        assert_eq!(go_parse_float("1e400"), None);
        assert_eq!(go_parse_float("Inf"), Some(f64::INFINITY));
        assert_eq!(go_parse_float(" 1"), None);
        assert_eq!(go_parse_int("-42"), Some(-42));
        assert_eq!(go_parse_int("4.0"), None);
        assert_eq!(go_parse_int("99999999999999999999"), None);
        assert_eq!(go_parse_int("+"), None);
    }

    #[test]
    fn go_float_formatting() {
        assert_eq!(go_format_float(80.0), "80");
        assert_eq!(go_format_float(1.5), "1.5");
        assert_eq!(go_format_float(123456.0), "123456");
        assert_eq!(go_format_float(1_000_000.0), "1e+06");
        assert_eq!(go_format_float(1_234_567.0), "1.234567e+06");
        assert_eq!(go_format_float(0.0001), "0.0001");
        assert_eq!(go_format_float(0.00001), "1e-05");
        assert_eq!(go_format_float(0.0), "0");
        assert_eq!(go_format_float_upper_e(80.0), "8E+01");
        assert_eq!(go_format_float_upper_e(1.5), "1.5E+00");
        assert_eq!(go_format_float_upper_e(-0.025), "-2.5E-02");
    }

    #[test]
    fn go_value_formatting() {
        let value = json!({"b": [1, "x", null], "a": true, "c": 2.5});
        assert_eq!(go_format_value(&value), "map[a:true b:[1 x <nil>] c:2.5]");
        assert_eq!(go_type_name(&json!(1)), "int64");
        assert_eq!(go_type_name(&json!(1.5)), "float64");
        assert_eq!(go_type_name(&json!(null)), "<nil>");
        assert_eq!(go_type_name(&json!([])), "[]interface {}");
    }

    #[test]
    fn contains_wildcard_detects_star_and_question_mark() {
        assert!(contains_wildcard("app.kubernetes.io/*"));
        assert!(contains_wildcard("a?"));
        assert!(!contains_wildcard("plain"));
    }
}
