//! Tests; expected values follow Kyverno's `functions_test.go`,
//! `arithmetic_test.go` and `time_test.go` where those exist.

use serde_json::{Value, json};

use super::*;

fn ev(expr: &str, data: &Value) -> Value {
    match search(expr, data) {
        Ok(v) => v,
        Err(e) => panic!("{expr}: {e}"),
    }
}

fn ev0(expr: &str) -> Value {
    ev(expr, &Value::Null)
}

fn fails(expr: &str) -> String {
    match search(expr, &Value::Null) {
        Ok(v) => panic!("{expr}: expected error, got {v}"),
        Err(e) => e.reason,
    }
}

// ---------------------------------------------------------------- builtins

#[test]
fn builtins_still_work() {
    let data = json!({"a": [3, 1, 2], "o": {"x": 1, "y": 2}, "s": "hello"});
    assert_eq!(ev("length(a)", &data), json!(3));
    assert_eq!(ev("length(s)", &data), json!(5));
    assert_eq!(ev("keys(o)", &data), json!(["x", "y"]));
    assert_eq!(ev("contains(a, `2`)", &data), json!(true));
    assert_eq!(ev("contains(s, 'ell')", &data), json!(true));
    assert_eq!(ev("starts_with(s, 'he')", &data), json!(true));
    assert_eq!(ev("ends_with('Amigo', 'go')", &data), json!(true));
    assert_eq!(ev("join(',', ['a', 'b'])", &data), json!("a,b"));
    assert_eq!(ev("max(a)", &data), json!(3));
    assert_eq!(ev("sort(a)", &data), json!([1, 2, 3]));
    assert_eq!(
        ev("merge(o, `{\"z\": 3}`)", &data),
        json!({"x": 1, "y": 2, "z": 3})
    );
    assert_eq!(ev("not_null(missing, s)", &data), json!("hello"));
    assert_eq!(ev("to_number('42')", &data), json!(42));
    assert_eq!(ev("abs(`-2`)", &data), json!(2));
    assert_eq!(ev("floor(`1.5`)", &data), json!(1));
    assert_eq!(ev("avg(a)", &data), json!(2));
    assert_eq!(ev("type(o)", &data), json!("object"));
    assert_eq!(ev("values(o)", &data), json!([1, 2]));
    assert_eq!(ev("reverse(a)", &data), json!([2, 1, 3]));
    assert_eq!(ev("map(&to_string(@), a)", &data), json!(["3", "1", "2"]));
}

#[test]
fn sort_by_and_max_by() {
    let data = json!({"c": [{"n": "b", "v": 2}, {"n": "a", "v": 1}]});
    assert_eq!(ev("sort_by(c, &n)[].n", &data), json!(["a", "b"]));
    assert_eq!(ev("max_by(c, &v).n", &data), json!("b"));
}

#[test]
fn to_string_matches_go_json_marshal() {
    assert_eq!(ev0("to_string(`3`)"), json!("3"));
    assert_eq!(ev0("to_string(`1.5`)"), json!("1.5"));
    assert_eq!(ev0("to_string(floor(`2.5`))"), json!("2"));
    assert_eq!(ev0("to_string('x')"), json!("x"));
    assert_eq!(
        ev0("to_string(`{\"b\":1,\"a\":\"<&>\"}`)"),
        json!(r#"{"a":"\u003c\u0026\u003e","b":1}"#)
    );
    assert_eq!(ev0("to_string(`null`)"), json!("null"));
}

#[test]
fn integral_results_are_integers() {
    assert_eq!(ev0("sum(`[1, 2, 3]`)"), json!(6));
    assert_eq!(ev0("add(`1`, `2`)"), json!(3));
    assert_eq!(ev0("divide(`1`, `4`)"), json!(0.25));
    let out = ev("a", &json!({"a": 1.0}));
    assert_eq!(out.to_string(), "1");
}

#[test]
fn functions_after_dot_apply_to_the_left_side() {
    let data = json!({"m": {"b": 1, "a": 2}, "p": ["/etc/x", "/var"]});
    assert_eq!(ev("m.keys(@)", &data), json!(["a", "b"]));
    assert_eq!(ev("m.keys(@) | length(@)", &data), json!(2));
    assert_eq!(ev("p[].contains(@, '/etc')", &data), json!([true, false]));
}

#[test]
fn literals_and_raw_strings() {
    assert_eq!(ev0("`[1, \"a\"]`"), json!([1, "a"]));
    assert_eq!(ev0("'it\\'s'"), json!("it's"));
    // Raw strings keep backslashes, so regexes need no double escaping.
    assert_eq!(ev0("regex_match('\\bps\\b', 'ps aux')"), json!(true));
    assert!(search("`not json`", &Value::Null).is_err());
}

#[test]
fn errors_carry_expression() {
    let err = match search("foo[", &Value::Null) {
        Err(e) => e,
        Ok(v) => panic!("parsed: {v}"),
    };
    assert_eq!(err.expression, "foo[");
    assert!(err.to_string().contains("foo["));
    assert!(fails("no_such_fn(`1`)").contains("no_such_fn"));
    assert!(fails("to_upper(`1`)").contains("string"));
}

// ---------------------------------------------------------------- strings

#[test]
fn compare_and_equal_fold() {
    assert_eq!(ev0("compare('a', 'a')"), json!(0));
    assert_eq!(ev0("compare('a', 'b')"), json!(-1));
    assert_eq!(ev0("compare('b', 'a')"), json!(1));
    assert_eq!(ev0("equal_fold('Go', 'go')"), json!(true));
    assert_eq!(ev0("equal_fold('a', 'b')"), json!(false));
    assert_eq!(ev0("equal_fold('1', 'b')"), json!(false));
}

#[test]
fn replace_functions() {
    assert_eq!(
        ev0("replace('Lorem ipsum dolor sit amet', 'ipsum', 'muspi', `-1`)"),
        json!("Lorem muspi dolor sit amet")
    );
    assert_eq!(
        ev0("replace('Lorem ipsum ipsum ipsum dolor sit amet', 'ipsum', 'muspi', `-1`)"),
        json!("Lorem muspi muspi muspi dolor sit amet")
    );
    assert_eq!(
        ev0("replace('Lorem ipsum ipsum ipsum dolor sit amet', 'ipsum', 'muspi', `1`)"),
        json!("Lorem muspi ipsum ipsum dolor sit amet")
    );
    assert_eq!(
        ev0("replace_all('Lorem ipsum dolor sit amet', 'ipsum', 'muspi')"),
        json!("Lorem muspi dolor sit amet")
    );
}

#[test]
fn case_and_trim() {
    assert_eq!(ev0("to_upper('a#%&123Bc')"), json!("A#%&123BC"));
    assert_eq!(ev0("to_lower('a#%&123Bc')"), json!("a#%&123bc"));
    assert_eq!(
        ev0("trim('¡¡¡Hello, Gophers!!!', '!¡')"),
        json!("Hello, Gophers")
    );
    assert_eq!(
        ev0("trim_prefix('¡¡¡Hello, Gophers!!!', '¡¡¡Hello, ')"),
        json!("Gophers!!!")
    );
    assert_eq!(
        ev0("trim_prefix('¡¡¡Hello, Gophers!!!', '¡¡¡Hola, ')"),
        json!("¡¡¡Hello, Gophers!!!")
    );
    assert!(fails("trim_prefix(`1`, 'x')").contains("string"));
}

#[test]
fn split_function() {
    assert_eq!(
        ev0("split('Hello, Gophers', ', ')"),
        json!(["Hello", "Gophers"])
    );
    assert_eq!(ev0("split('abc', '')"), json!(["a", "b", "c"]));
    assert_eq!(ev0("split('', ',')"), json!([""]));
}

#[test]
fn regex_functions() {
    let data = json!({"foo": "hgf'b1a2r'b12g", "n": -12.0,
        "spec": {"field": "Hello world, helworldlo"}});
    assert_eq!(ev("regex_match('12.*', foo)", &data), json!(true));
    assert_eq!(ev("regex_match('12.*', abs(n))", &data), json!(true));
    assert_eq!(ev("regex_match('^x', foo)", &data), json!(false));
    assert_eq!(
        ev(
            "regex_replace_all('([Hh]e|G)l', spec.field, '${2}G')",
            &data
        ),
        json!("Glo world, Gworldlo")
    );
    assert_eq!(
        ev(
            "regex_replace_all_literal('[Hh]el?', spec.field, 'G')",
            &data
        ),
        json!("Glo world, Gworldlo")
    );
    assert_eq!(
        ev0("regex_replace_all('(a)', 'abc', '<$1>')"),
        json!("<a>bc")
    );
    assert_eq!(
        ev0("regex_replace_all_literal('(a)', 'abc', '<$1>')"),
        json!("<$1>bc")
    );
    assert_eq!(ev0("regex_replace_all('1', `1.5`, `2`)"), json!("2.5"));
    assert!(fails("regex_match('(', 'x')").contains("regex_match"));
}

#[test]
fn pattern_match_function() {
    let data = json!({"foo": "prefix-foo", "n": -12.0});
    assert_eq!(ev("pattern_match('prefix-*', foo)", &data), json!(true));
    assert_eq!(ev("pattern_match('12*', abs(n))", &data), json!(true));
    assert_eq!(ev("pattern_match('x?', 'xy')", &data), json!(true));
    assert_eq!(ev("pattern_match('x?', 'xyz')", &data), json!(false));
}

#[test]
fn to_boolean_function() {
    assert_eq!(ev0("to_boolean('true')"), json!(true));
    assert_eq!(ev0("to_boolean('TRue')"), json!(true));
    assert_eq!(ev0("to_boolean('FaLse')"), json!(false));
    assert!(fails("to_boolean('FaLsee')").contains("must be 'true' or 'false'"));
    assert!(fails("to_boolean(`1`)").contains("string"));
    assert!(fails("to_boolean(`null`)").contains("string"));
}

#[test]
fn base64_functions() {
    assert_eq!(
        ev0("base64_decode('SGVsbG8sIHdvcmxkIQ==')"),
        json!("Hello, world!")
    );
    assert_eq!(
        ev0("base64_encode('Hello, world!')"),
        json!("SGVsbG8sIHdvcmxkIQ==")
    );
    let secret = json!({"data": {"example1": "SGVsbG8sIHdvcmxkIQ==", "example2": "Rm9vQmFy"}});
    assert_eq!(ev("base64_decode(data.example2)", &secret), json!("FooBar"));
    assert!(search("base64_decode('!!')", &Value::Null).is_err());
}

#[test]
fn path_canonicalize_function() {
    let cases = [
        ("///", "/"),
        (
            "///var/run/containerd/containerd.sock",
            "/var/run/containerd/containerd.sock",
        ),
        (
            "/var/run///containerd/containerd.sock",
            "/var/run/containerd/containerd.sock",
        ),
        ("/var/run///containerd////", "/var/run/containerd"),
        ("/run///", "/run"),
        ("/run/../etc", "/etc"),
        ("///etc*", "/etc*"),
        ("/../../", "/"),
        ("a/../..", ".."),
        ("", ""),
    ];
    for (input, want) in cases {
        assert_eq!(
            ev0(&format!("path_canonicalize('{input}')")),
            json!(want),
            "{input}"
        );
    }
}

#[test]
fn truncate_function() {
    assert_eq!(
        ev0("truncate('Lorem ipsum dolor sit amet', `5`)"),
        json!("Lorem")
    );
    assert_eq!(
        ev0("truncate('Lorem ipsum ipsum ipsum dolor sit amet', `11`)"),
        json!("Lorem ipsum")
    );
    assert_eq!(
        ev0("truncate('Lorem ipsum ipsum ipsum dolor sit amet', `40`)"),
        json!("Lorem ipsum ipsum ipsum dolor sit amet")
    );
    assert_eq!(ev0("truncate('Lorem ipsum', `2.6`)"), json!("Lo"));
    assert_eq!(ev0("truncate('Lorem ipsum', `0`)"), json!(""));
    assert_eq!(ev0("truncate('Lorem ipsum', `-1`)"), json!(""));
}

#[test]
fn semver_compare_function() {
    assert_eq!(ev0("semver_compare('4.1.3','>=4.1.x')"), json!(true));
    assert_eq!(ev0("semver_compare('4.1.3','!4.x.x')"), json!(false));
    assert_eq!(ev0("semver_compare('1.8.6','>1.0.0 <2.0.0')"), json!(true));
    assert_eq!(
        ev0("semver_compare('2.1.5','<2.0.0 || >=3.0.0')"),
        json!(false)
    );
    assert_eq!(
        ev0("semver_compare('3.1.5','<2.0.0 || >=3.0.0')"),
        json!(true)
    );
    assert_eq!(ev0("semver_compare('1.2.3','1.2.x')"), json!(true));
    assert_eq!(ev0("semver_compare('1.3.0','1.2.x')"), json!(false));
    assert_eq!(ev0("semver_compare('1.2.3','>= 1.2.3')"), json!(true));
    assert_eq!(ev0("semver_compare('garbage','<1.0.0')"), json!(true));
    assert!(fails("semver_compare('1.0.0','>=banana')").contains("Range"));
}

#[test]
fn sha256_function() {
    assert_eq!(
        ev0("sha256('')"),
        json!("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    assert_eq!(
        ev0("sha256('abc')"),
        json!("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    let long = "a".repeat(200);
    assert_eq!(
        ev0(&format!("sha256('{long}')")),
        json!("c2a908d98f5df987ade41b5fce213067efbcc21ef2240212a41e54b5e7c28ae5")
    );
}

#[test]
fn random_function() {
    let out = ev0("random('[0-9a-z]{5}')");
    let text = out.as_str().unwrap_or_default();
    assert_eq!(text.len(), 5);
    assert!(
        text.chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
    );
    let out = ev0("random('(foo|bar)-\\d{3}')");
    let re = Regex::new(r"^(foo|bar)-\d{3}$");
    assert!(
        re.is_ok_and(|re| re.is_match(out.as_str().unwrap_or_default())),
        "{out}"
    );
    assert!(search("random('')", &Value::Null).is_err());
    assert!(search("random('a{2,1}')", &Value::Null).is_err());
}

use regex::Regex;

// ---------------------------------------------------------------- arithmetic

#[test]
fn arithmetic_scalars() {
    assert_eq!(ev0("add(`12`, `13`)"), json!(25));
    assert_eq!(ev0("subtract(`12`, `13`)"), json!(-1));
    assert_eq!(ev0("multiply(`12`, `13`)"), json!(156));
    assert_eq!(ev0("divide(`12`, `13`)"), json!(12.0 / 13.0));
    assert_eq!(ev0("modulo(`12`, `13`)"), json!(12));
    assert_eq!(ev0("modulo(`-13`, `5`)"), json!(-3));
    assert!(fails("divide(`12`, `0`)").contains("Zero divisor passed"));
    assert!(fails("modulo(`12`, `0`)").contains("Zero divisor passed"));
    assert!(fails("modulo(`1.5`, `1`)").contains("Non-integer"));
}

#[test]
fn arithmetic_quantities() {
    assert_eq!(ev0("add('12Ki', '13Ki')"), json!("25Ki"));
    assert_eq!(ev0("add('1Gi', '512Mi')"), json!("1536Mi"));
    assert_eq!(ev0("add('12m', '13m')"), json!("25m"));
    assert_eq!(ev0("add('500m', '500m')"), json!("1"));
    assert_eq!(ev0("add('1', '1.5')"), json!("2500m"));
    assert_eq!(ev0("add('1k', '1k')"), json!("2k"));
    assert_eq!(ev0("subtract('12Ki', '13Ki')"), json!("-1Ki"));
    assert_eq!(ev0("subtract('1Ki', '1000')"), json!("24"));
    assert_eq!(ev0("multiply('12Ki', `2`)"), json!("24Ki"));
    assert_eq!(ev0("multiply(`2`, '12Ki')"), json!("24Ki"));
    assert_eq!(ev0("multiply('250m', `3`)"), json!("750m"));
    assert_eq!(ev0("multiply('1.5', `0.5`)"), json!("750m"));
    assert_eq!(ev0("divide('12Ki', '3Ki')"), json!(4));
    assert_eq!(ev0("divide('12Ki', `3`)"), json!("4Ki"));
    assert_eq!(ev0("divide('25Mi', `2`)"), json!("12800Ki"));
    assert_eq!(ev0("divide('1', `3`)"), json!("0"));
    assert_eq!(ev0("modulo('12Ki', '5Ki')"), json!("2Ki"));
    assert_eq!(ev0("sum(`[\"1Gi\", \"1Gi\", \"2Gi\"]`)"), json!("4Gi"));
    assert_eq!(ev0("add('1e3', '1e3')"), json!("2e3"));
    assert!(fails("add('12Ki', `1`)").contains("types mismatch"));
    assert!(fails("divide('12Ki', '0')").contains("Zero divisor"));
    assert!(fails("add('foo', `1`)").contains("invalid operands"));
}

#[test]
fn arithmetic_durations() {
    assert_eq!(ev0("add('12s', '13s')"), json!("25s"));
    assert_eq!(ev0("add('1h', '1800s')"), json!("1h30m0s"));
    // As in Kyverno, "30m" is a quantity (30 milli), not 30 minutes.
    assert!(fails("add('1h', '30m')").contains("types mismatch"));
    assert_eq!(ev0("subtract('12s', '13s')"), json!("-1s"));
    assert_eq!(ev0("multiply('12s', `2`)"), json!("24s"));
    assert_eq!(ev0("multiply(`1.5`, '1s')"), json!("1.5s"));
    assert_eq!(ev0("divide('12s', '3s')"), json!(4));
    assert_eq!(ev0("divide('12s', `8`)"), json!("1.5s"));
    assert_eq!(ev0("modulo('13s', '5s')"), json!("3s"));
    assert_eq!(
        ev0("sum(`[\"1m0s\", \"30s\", \"500ms\"]`)"),
        json!("1m30.5s")
    );
    assert!(fails("add('1h', '1Gi')").contains("types mismatch"));
    assert!(fails("multiply('1h', '1h')").contains("types mismatch"));
    assert!(fails("modulo('1h', '0s')").contains("Zero divisor"));
}

#[test]
fn sum_edge_cases() {
    assert!(fails("sum(`[]`)").contains("at least one element"));
    assert_eq!(ev0("sum(`[\"x\"]`)"), json!("x"));
    assert_eq!(ev0("sum(`[1.5, 2.5]`)"), json!(4));
    assert!(fails("sum(`[1, \"1Ki\"]`)").contains("types mismatch"));
}

#[test]
fn round_function() {
    assert_eq!(ev0("round(`2.71828`, `2`)"), json!(2.72));
    assert_eq!(ev0("round(`2.5`, `0`)"), json!(3));
    assert_eq!(ev0("round(`-2.5`, `0`)"), json!(-3));
    assert!(fails("round(`1`, `1.5`)").contains("Non-integer"));
    assert!(fails("round(`1`, `-1`)").contains("out of bounds"));
}

#[test]
fn quantity_to_f64_parses() {
    assert_eq!(quantity_to_f64("500m"), Some(0.5));
    assert_eq!(quantity_to_f64("1Gi"), Some(1073741824.0));
    assert_eq!(quantity_to_f64("1e3"), Some(1000.0));
    assert_eq!(quantity_to_f64("-1.5k"), Some(-1500.0));
    assert_eq!(quantity_to_f64("1h"), None);
    assert_eq!(quantity_to_f64(""), None);
    assert_eq!(quantity_to_f64("."), None);
}

// ---------------------------------------------------------------- time

#[test]
fn time_functions() {
    assert_eq!(
        ev0("time_add('2021-01-02T15:04:05Z', '1h')"),
        json!("2021-01-02T16:04:05Z")
    );
    assert_eq!(
        ev0("time_add('2021-01-02T15:04:05-07:00', '-30m')"),
        json!("2021-01-02T14:34:05-07:00")
    );
    assert_eq!(
        ev0("time_utc('2021-01-02T18:04:05+05:30')"),
        json!("2021-01-02T12:34:05Z")
    );
    assert_eq!(
        ev0("time_diff('2021-01-02T15:04:05Z', '2021-01-02T16:04:06Z')"),
        json!("1h0m1s")
    );
    assert_eq!(
        ev0("time_diff('2021-01-02T16:04:05Z', '2021-01-02T15:04:05Z')"),
        json!("-1h0m0s")
    );
    assert_eq!(
        ev0("time_before('2021-01-02T15:04:05Z', '2021-01-02T16:04:05Z')"),
        json!(true)
    );
    assert_eq!(
        ev0("time_after('2021-01-02T15:04:05Z', '2021-01-02T16:04:05Z')"),
        json!(false)
    );
    assert_eq!(
        ev0("time_between('2021-01-02T15:00:00Z', '2021-01-02T14:00:00Z', '2021-01-02T16:00:00Z')"),
        json!(true)
    );
    assert_eq!(
        ev0("time_between('2021-01-02T14:00:00Z', '2021-01-02T14:00:00Z', '2021-01-02T16:00:00Z')"),
        json!(false)
    );
    assert_eq!(
        ev0("time_truncate('2021-01-02T15:04:05Z', '1h')"),
        json!("2021-01-02T15:00:00Z")
    );
    assert_eq!(
        ev0("time_truncate('2023-02-02T15:04:05Z', '168h')"),
        json!("2023-01-30T00:00:00Z")
    );
    assert_eq!(
        ev0("time_to_cron('2023-02-02T15:04:05Z')"),
        json!("4 15 2 2 4")
    );
    assert!(fails("time_add('nope', '1h')").contains("nope"));
    assert!(fails("time_add('2021-01-02T15:04:05Z', '1x')").contains("invalid duration"));
}

#[test]
fn time_parse_layouts() {
    assert_eq!(
        ev0("time_parse('2006-01-02T15:04:05Z07:00', '2021-01-02T15:04:05-07:00')"),
        json!("2021-01-02T15:04:05-07:00")
    );
    assert_eq!(
        ev0("time_parse('1702691171', '1702691171')"),
        json!("2023-12-16T01:46:11Z")
    );
    assert_eq!(
        ev0("time_parse('Mon Jan 02 2006 15:04:05 -0700', 'Sat Jan 02 2021 15:04:05 -0700')"),
        json!("2021-01-02T15:04:05-07:00")
    );
    assert_eq!(
        ev0("time_parse('2006-01-02', '2021-03-04')"),
        json!("2021-03-04T00:00:00Z")
    );
    assert_eq!(
        ev0("time_parse('02 Jan 06 15:04 MST', '05 Mar 21 10:30 UTC')"),
        json!("2021-03-05T10:30:00Z")
    );
    assert_eq!(
        ev0("time_parse('3:04PM', '9:15PM')"),
        json!("0000-01-01T21:15:00Z")
    );
    assert_eq!(
        ev0("time_parse('2006-01-02 15:04:05.000', '2021-01-02 15:04:05.123')"),
        json!("2021-01-02T15:04:05Z")
    );
    assert!(search("time_parse('2006-01-02', 'x')", &Value::Null).is_err());
}

#[test]
fn time_since_and_now() {
    assert_eq!(
        ev0("time_since('', '2021-01-02T15:04:05Z', '2021-01-02T15:04:06.5Z')"),
        json!("1.5s")
    );
    assert_eq!(
        ev0(
            "time_since('2006-01-02 15:04:05 -0700', '2021-01-02 15:04:05 +0000', '2021-01-02 15:04:05 -0100')"
        ),
        json!("1h0m0s")
    );
    let now = ev0("time_now_utc()");
    assert!(
        now.as_str()
            .is_some_and(|s| s.ends_with('Z') && s.len() == 20),
        "{now}"
    );
    assert!(ev0("time_now()").is_string());
    let since = ev0("time_since('', '2000-01-01T00:00:00Z', '')");
    assert!(
        since
            .as_str()
            .is_some_and(|s| s.ends_with('s') && s.contains('h'))
    );
}

#[test]
fn go_durations_round_trip() {
    use super::time::{format_duration, parse_go_duration};
    let cases = [
        ("0", 0, "0s"),
        ("1h", 3_600_000_000_000, "1h0m0s"),
        ("1.5h", 5_400_000_000_000, "1h30m0s"),
        ("90s", 90_000_000_000, "1m30s"),
        ("-1m", -60_000_000_000, "-1m0s"),
        ("250ms", 250_000_000, "250ms"),
        ("1.5us", 1_500, "1.5\u{b5}s"),
        ("3ns", 3, "3ns"),
        ("1h2m3.004s", 3_723_004_000_000, "1h2m3.004s"),
        (".5s", 500_000_000, "500ms"),
    ];
    for (text, nanos, printed) in cases {
        assert_eq!(parse_go_duration(text), Some(nanos), "{text}");
        assert_eq!(format_duration(nanos), printed, "{text}");
    }
    for bad in ["", "1", "h", "1x", ".s", "-", "9999999999999h"] {
        assert_eq!(parse_go_duration(bad), None, "{bad}");
    }
}

// ---------------------------------------------------------------- data

#[test]
fn label_match_function() {
    let resource =
        json!({"metadata": {"labels": {"app": "test-app", "controller-name": "test-controller"}}});
    let cases = [
        (r#"{ "app": "test-app" }"#, true),
        (
            r#"{ "app": "test-app", "controller-name": "test-controller" }"#,
            true,
        ),
        (r#"{ "app": "test-app2" }"#, false),
        (r#"{ "app.kubernetes.io/name": "test-app" }"#, false),
    ];
    for (labels, want) in cases {
        assert_eq!(
            ev(
                &format!("label_match(`{labels}`, metadata.labels)"),
                &resource
            ),
            json!(want)
        );
    }
}

#[test]
fn lookup_function() {
    let cases = [
        ("{}", "\"key1\"", json!(null)),
        ("{\"key1\": \"value1\"}", "\"key1\"", json!("value1")),
        ("{\"\": \"value1\"}", "\"\"", json!("value1")),
        ("{\"k\": 12.34}", "\"k\"", json!(12.34)),
        ("{\"k\": [7, \"x\", true]}", "\"k\"", json!([7, "x", true])),
        ("[]", "0", json!(null)),
        ("[\"item0\"]", "-1", json!(null)),
        ("[\"item0\"]", "1", json!(null)),
        ("[\"item0\", \"item1\", \"item2\"]", "2", json!("item2")),
        (
            "[\"item0\", \"item1\"]",
            "0.99999999999999999999999999999999999999999999",
            json!("item1"),
        ),
        ("[{\"key1\":true}]", "0", json!({"key1": true})),
    ];
    for (collection, key, want) in cases {
        assert_eq!(
            ev0(&format!("lookup(`{collection}`, `{key}`)")),
            want,
            "{collection}[{key}]"
        );
    }
    assert!(fails("lookup(`{}`, `123`)").contains("argument #2 is not of type String"));
    assert!(fails("lookup(`[]`, `\"abc\"`)").contains("argument #2 is not of type Number"));
    assert!(fails("lookup(`[]`, `1.5`)").contains("expected an integer number but got: 1.5"));
}

#[test]
fn items_function() {
    assert_eq!(
        ev0("items(`{\"key2\": \"value2\", \"key1\": \"value1\"}`, 'key', 'value')"),
        json!([{"key": "key1", "value": "value1"}, {"key": "key2", "value": "value2"}])
    );
    assert_eq!(
        ev0("items(`[\"A\", \"B\"]`, 'myKey', 'myValue')"),
        json!([{"myKey": 0, "myValue": "A"}, {"myKey": 1, "myValue": "B"}])
    );
}

#[test]
fn object_from_lists_function() {
    assert_eq!(
        ev0("object_from_lists(`[\"key1\", \"key2\"]`, `[\"1\", \"2\"]`)"),
        json!({"key1": "1", "key2": "2"})
    );
    assert_eq!(
        ev0("object_from_lists(`[\"key1\", \"key2\"]`, `[1]`)"),
        json!({"key1": 1, "key2": null})
    );
    assert_eq!(
        ev0("object_from_lists(`[1, true]`, `[\"a\", \"b\"]`)"),
        json!({"1": "a", "true": "b"})
    );
    assert!(fails("object_from_lists(`[{}]`, `[1]`)").contains("StringArray"));
}

#[test]
fn parse_json_function() {
    for text in [
        r#"{"a":"b"}"#,
        "true",
        r#"[1,2,3,{"a":"b"}]"#,
        "null",
        "[]",
        "{}",
        "0",
        "1.2",
        r#"[1.2,true,{"a":{"a":"b"}}]"#,
    ] {
        assert_eq!(
            ev0(&format!("to_string(parse_json('{text}'))")),
            json!(text)
        );
    }
    assert_eq!(ev0(r#"parse_json('{"a": "b"}').a"#), json!("b"));
    assert_eq!(
        ev0(r#"parse_json('[1, 2, {"a": {"b": {"c": [1, 2]}}}]')[2].a.b.c[1]"#),
        json!(2)
    );
    assert!(search("parse_json('{')", &Value::Null).is_err());
}

#[test]
fn parse_yaml_function() {
    assert_eq!(
        ev0(r#"parse_yaml('{"spec": {"test": 1, "test2": [2, 3]}}')"#),
        json!({"spec": {"test": 1, "test2": [2, 3]}})
    );
    assert_eq!(ev0("parse_yaml('')"), json!(null));
}

#[test]
fn is_external_url_function() {
    assert_eq!(
        ev0("is_external_url('http://10.1.2.3:8080/x')"),
        json!(false)
    );
    assert_eq!(ev0("is_external_url('https://127.0.0.1')"), json!(false));
    assert_eq!(ev0("is_external_url('https://[::1]:443/')"), json!(false));
    assert_eq!(ev0("is_external_url('https://[fd00::1]/')"), json!(false));
    assert_eq!(ev0("is_external_url('https://user@8.8.8.8/')"), json!(true));
    assert_eq!(ev0("is_external_url('http://localhost:80')"), json!(false));
    assert!(fails("is_external_url('https://example.com')").contains("DNS"));
    assert!(fails("is_external_url('10.0.0.1')").contains("DNS"));
}

#[test]
fn x509_decode_is_reported_unsupported() {
    assert!(fails("x509_decode('-----BEGIN CERTIFICATE-----')").contains("not supported"));
}

// ---------------------------------------------------------------- cache / threads

#[test]
fn cache_is_reused_and_bounded() {
    let expr = "length(cache_probe_unique_field)";
    let data = json!({"cache_probe_unique_field": [1, 2]});
    assert_eq!(ev(expr, &data), json!(2));
    let first = compile(expr).ok();
    let second = compile(expr).ok();
    assert!(matches!((first, second), (Some(a), Some(b)) if Arc::ptr_eq(&a, &b)));
    for i in 0..(CACHE_LIMIT + 10) {
        assert_eq!(ev(&format!("`{i}`"), &Value::Null), json!(i));
    }
    assert!(cache_len() <= CACHE_LIMIT);
}

#[test]
fn concurrent_evaluation() {
    let handles: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                (0..200).all(|i| {
                    let data = json!({"items": vec![t; i % 7]});
                    let expr = format!("add(length(items), `{t}`)");
                    search(&expr, &data) == Ok(json!(i % 7 + t))
                })
            })
        })
        .collect();
    for handle in handles {
        assert!(handle.join().unwrap_or(false));
    }
}

// ---------------------------------------------------------------- corpus expressions

fn pod_request() -> Value {
    json!({
        "request": {
            "operation": "CREATE",
            "namespace": "prod",
            "object": {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": "web-0",
                    "namespace": "prod",
                    "uid": "1234",
                    "labels": {"app": "web", "dataprotection": "daily"},
                    "annotations": {
                        "external-dns.alpha.kubernetes.io/hostname": "web.example.com",
                        "fluxcd.io/automated": "true",
                        "pod.kubernetes.io/lifetime": "4h"
                    },
                    "ownerReferences": [{"kind": "ReplicaSet", "uid": "rs-1", "name": "web-abc"}]
                },
                "spec": {
                    "priorityClassName": "high",
                    "terminationGracePeriodSeconds": 30,
                    "containers": [
                        {
                            "name": "app",
                            "image": "nginx:1.25",
                            "securityContext": {"runAsUser": 1000, "capabilities": {"drop": ["ALL"], "add": ["NET_ADMIN"]}},
                            "resources": {"requests": {"memory": "128Mi", "cpu": "250m"}, "limits": {"memory": "256Mi"}},
                            "livenessProbe": {"exec": {"command": ["sh", "-c", "ps aux | grep app"]}},
                            "env": [{"name": "PW", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}],
                            "volumeMounts": [{"name": "data"}]
                        },
                        {
                            "name": "sidecar",
                            "image": "busybox",
                            "resources": {"requests": {"memory": "64Mi"}, "limits": {"memory": "64Mi"}}
                        }
                    ],
                    "initContainers": [{"name": "init", "image": "alpine", "envFrom": [{"secretRef": {"name": "s"}}]}],
                    "volumes": [
                        {"name": "data", "persistentVolumeClaim": {"claimName": "pvc"}},
                        {"name": "tmp", "emptyDir": {}},
                        {"name": "host", "hostPath": {"path": "/var/run"}},
                        {"name": "sec", "secret": {"secretName": "s"}}
                    ],
                    "tolerations": [{"key": "dedicated"}]
                }
            }
        },
        "element": {"name": "app", "verbs": ["get", "*"], "path": "/etc/config", "image": "nginx:1.25"}
    })
}

#[test]
fn corpus_expressions_on_pod() {
    let data = pod_request();
    let cases: Vec<(&str, Value)> = vec![
        ("request.operation || 'BACKGROUND'", json!("CREATE")),
        ("request.namespace", json!("prod")),
        ("request.object.metadata.name", json!("web-0")),
        ("element.image", json!("nginx:1.25")),
        (
            "element.keys(@)[]",
            json!(["image", "name", "path", "verbs"]),
        ),
        ("contains(element.verbs[], '*')", json!(true)),
        (
            "element.verbs[]  | contains(@, 'use') || contains(@, '*')",
            json!(true),
        ),
        (
            "request.object.metadata.labels.dataprotection",
            json!("daily"),
        ),
        (
            "request.object.spec.terminationGracePeriodSeconds || `0`",
            json!(30),
        ),
        (
            "request.object.metadata.keys(@)",
            json!([
                "annotations",
                "labels",
                "name",
                "namespace",
                "ownerReferences",
                "uid"
            ]),
        ),
        (
            "request.object.metadata.annotations.\"external-dns.alpha.kubernetes.io/hostname\"",
            json!("web.example.com"),
        ),
        // `""` is a quoted (empty) identifier, not a string, in both implementations.
        (
            "request.object.metadata.annotations.\"inject-certs\" || \"\"",
            json!(null),
        ),
        (
            "request.object.metadata.annotations.\"inject-certs\" || ''",
            json!(""),
        ),
        (
            "request.object.spec.volumes[?hostPath] | length(@)",
            json!(1),
        ),
        (
            "request.object.spec.volumes[?contains(keys(@), 'persistentVolumeClaim')] | length(@)",
            json!(1),
        ),
        (
            "request.object.spec.volumes[?contains(keys(@), 'emptyDir')] || `[]` | length(@)",
            json!(1),
        ),
        (
            "request.object.spec.volumes[].secret || '' | length(@)",
            json!(1),
        ),
        (
            "request.object.spec.tolerations[].key || `[]`",
            json!(["dedicated"]),
        ),
        // No null short-circuit on sub-expressions (go-jmespath neither): the
        // sidecar without securityContext yields to_string(null) = "null".
        (
            "request.object.spec.containers[].securityContext.to_string(runAsUser)",
            json!(["1000", "null"]),
        ),
        (
            "request.object.spec.containers[].livenessProbe.exec.command[].regex_match('\\bps\\b',@)",
            json!([false, false, true]),
        ),
        (
            "request.object.spec.containers[?resources.requests.memory!=resources.limits.memory] | length(@)",
            json!(1),
        ),
        (
            "request.object.spec.[ephemeralContainers, initContainers, containers][].securityContext.capabilities.add[]",
            json!(["NET_ADMIN"]),
        ),
        (
            "request.object.spec.[containers, initContainers, ephemeralContainers][].env[].valueFrom.secretKeyRef || '' | length(@)",
            json!(1),
        ),
        (
            "request.object.spec.[containers, initContainers, ephemeralContainers][].envFrom[].secretRef || '' | length(@)",
            json!(1),
        ),
        (
            "request.object.metadata.ownerReferences[0].kind || ''",
            json!("ReplicaSet"),
        ),
        (
            "request.object.metadata.keys(@).contains(@, 'ownerReferences') && request.object.metadata.ownerReferences[0].uid",
            json!("rs-1"),
        ),
        (
            "request.object.metadata.annotations.keys(@)[?contains(@, 'fluxcd.io/')]",
            json!(["fluxcd.io/automated"]),
        ),
        (
            "request.object.metadata.annotations.\"pod.kubernetes.io/lifetime\" || '0s'",
            json!("4h"),
        ),
        (
            "length(request.object.spec.containers[].livenessProbe.exec.command[] || `[]`)",
            json!(3),
        ),
        (
            "keys(request.object.spec) | contains(@, 'tls')",
            json!(false),
        ),
        (
            "element.securityContext.capabilities.drop[] || `[]`",
            json!([]),
        ),
        (
            "element.path  | to_string(@) | split(@, '/') | [1]",
            json!("etc"),
        ),
        (
            "request.object.spec.initContainers[] || '' | length(@)",
            json!(1),
        ),
        ("contains(to_array(element.verbs[]), '*')", json!(true)),
        (
            "request.object.spec.containers[0].resources.requests.memory || '1m'",
            json!("128Mi"),
        ),
        ("divide('256Mi', '128Mi')", json!(2)),
        (
            "request.object.metadata.name | truncate(@, `3`)",
            json!("web"),
        ),
        ("request.object.spec.missing.field", json!(null)),
    ];
    for (expr, want) in cases {
        assert_eq!(ev(expr, &data), want, "{expr}");
    }
}

#[test]
fn corpus_cron_schedule_regex() {
    let field = r"((?:\*|[0-5]?[0-9](?:(?:-[0-5]?[0-9])|(?:,[0-5]?[0-9])+)?)(?:\/[0-9]+)?)";
    let hour = r"((?:\*|(?:1?[0-9]|2[0-3])(?:(?:-(?:1?[0-9]|2[0-3]))|(?:,(?:1?[0-9]|2[0-3]))+)?)(?:\/[0-9]+)?)";
    let rest = r"((?:\*|(?:[1-9]|[1-2][0-9]|3[0-1])(?:(?:-(?:[1-9]|[1-2][0-9]|3[0-1]))|(?:,(?:[1-9]|[1-2][0-9]|3[0-1]))+)?)(?:\/[0-9]+)?)\s+((?:\*|(?:[1-9]|1[0-2])(?:(?:-(?:[1-9]|1[0-2]))|(?:,(?:[1-9]|1[0-2]))+)?)(?:\/[0-9]+)?)\s+((?:\*|[0-7](?:-[0-7]|(?:,[0-7])+)?)(?:\/[0-9]+)?)";
    let pattern = format!(r"^{field}\s+{hour}\s+{rest}$");
    let data = json!({"schedule": "*/5 0 * * 1-5", "bad": "every day"});
    assert_eq!(
        ev(&format!("regex_match('{pattern}', schedule)"), &data),
        json!(true)
    );
    assert_eq!(
        ev(&format!("regex_match('{pattern}', bad)"), &data),
        json!(false)
    );
    assert_eq!(ev0("regex_match('^[0-9]+%$', '50%')"), json!(true));
    assert_eq!(
        ev0("regex_match('^([5-9][0-9]|100)%$', '40%')"),
        json!(false)
    );
}

#[test]
fn corpus_deployment_expressions() {
    let data = json!({"request": {"operation": "UPDATE", "object": {
        "kind": "Deployment",
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"topologySpreadConstraints": [{"topologyKey": "kubernetes.io/hostname"}]}
            }
        }
    }}});
    assert_eq!(ev("request.object.spec.replicas", &data), json!(3));
    assert_eq!(
        ev(
            "request.object.spec.template.metadata.labels.app || ''",
            &data
        ),
        json!("web")
    );
    assert_eq!(
        ev(
            "request.object.spec.template.spec.topologySpreadConstraints[?topologyKey=='kubernetes.io/hostname' || topologyKey=='topology.kubernetes.io/zone'] || `[]` | length(@)",
            &data
        ),
        json!(1)
    );
    assert_eq!(
        ev(
            "label_match(request.object.spec.selector.matchLabels, request.object.spec.template.metadata.labels)",
            &data
        ),
        json!(true)
    );
    assert_eq!(
        ev("request.object.spec.selector.keys(@) | length(@)", &data),
        json!(1)
    );
    assert_eq!(
        ev("request.object.spec.dnsNames || `[]` | length(@)", &data),
        json!(0)
    );
}
