//! Property tests: no input makes the loader panic, and every position it reports is inside
//! the text.

use kvet::load::spans::{Pos, Span};
use kvet::load::yaml::{Node, Value};
use kvet::load::{decode, load_text};
use proptest::prelude::*;

/// Pieces real and broken YAML is made of, so that generated inputs reach deep into the parser.
const TOKENS: &[&str] = &[
    "\n",
    "\n",
    "  ",
    "    ",
    "- ",
    ": ",
    "---\n",
    "...\n",
    "apiVersion: v1\n",
    "kind: Pod\n",
    "kind: List\n",
    "items:\n",
    "metadata:\n",
    "name: x",
    "{",
    "}",
    "[",
    "]",
    ", ",
    "&a ",
    "*a",
    "&b ",
    "*b",
    "<<: *a\n",
    "|\n",
    ">-\n",
    "\"",
    "'",
    "#",
    "# Source: c/t.yaml\n",
    "!!str ",
    "!tag ",
    "%YAML 1.2\n",
    "?",
    "\t",
    "\r\n",
    "é",
    "key",
    "0x1F",
    "yes",
    "~",
    "spec:\n  containers:\n",
    "- name: c\n",
    "  env: [{name: A}, {name: A}]\n",
    "\\",
    "@",
    "`",
    "\u{feff}",
];

fn yamlish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..80).prop_map(|t| t.concat())
}

fn line_count(text: &str) -> u32 {
    text.split('\n').count() as u32
}

fn assert_in(span: Span, lines: u32) {
    let valid = |p: Pos| p.line >= 1 && p.line <= lines && p.col >= 1;
    assert!(
        valid(span.start) && valid(span.end),
        "{span:?} outside {lines} lines"
    );
    assert!(span.start <= span.end, "{span:?} ends before it starts");
}

fn check_spans(node: &Node, lines: u32) {
    assert_in(node.span, lines);
    match &node.value {
        Value::Seq(items) => items.iter().for_each(|n| check_spans(n, lines)),
        Value::Map(entries) => entries.iter().for_each(|e| {
            assert_in(e.key_span, lines);
            check_spans(&e.value, lines);
        }),
        _ => {}
    }
}

fn load_and_check(text: &str) {
    let loaded = load_text(text);
    let lines = line_count(text);
    for object in &loaded.objects {
        check_spans(&object.root, lines);
        object.root.locate("/spec/containers/0/env/1/name");
        object.root.locate("/metadata/name/deeper/than/exists");
    }
    for issue in &loaded.yaml_issues {
        assert_in(issue.span, lines);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(text) = decode(bytes) {
            load_and_check(&text);
        }
    }

    #[test]
    fn yaml_like_text_never_panics_and_positions_stay_inside(text in yamlish()) {
        load_and_check(&text);
    }

    #[test]
    fn arbitrary_strings_never_panic(text in "\\PC{0,300}") {
        load_and_check(&text);
    }
}
