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

/// Pieces of kustomizations and patches, for the repository readers.
const KUSTOMIZE_TOKENS: &[&str] = &[
    "\n",
    "  ",
    "- ",
    "resources:\n",
    "components:\n",
    "patches:\n",
    "- path: p.yaml\n",
    "  target: {kind: Deployment, name: \"w.*\"}\n",
    "  patch: |-\n",
    "    - op: add\n",
    "      path: /spec/template/spec/containers/0/volumeMounts/-\n",
    "      path: /data/1\n",
    "      path: ~1~0/-/x\n",
    "      value: {name: a, mountPath: /a}\n",
    "- op: remove\n",
    "  from: /spec\n",
    "images: [{name: nginx, newTag: latest}]\n",
    "configMapGenerator: [{name: c, literals: [A=1], files: [k=v.txt]}]\n",
    "transformers: [\"apiVersion: builtin\\nkind: X\"]\n",
    "helmCharts: [{name: redis, version: 1}]\n",
    "apiVersion: apps/v1\n",
    "kind: Deployment\n",
    "metadata: {name: web}\n",
    "spec:\n  template:\n    spec:\n      containers:\n",
    "      - name: web\n        $patch: delete\n",
    "$setElementOrder/containers: [{name: web}]\n",
    "$retainKeys: x\n",
    "[{\"op\": \"replace\", \"path\": \"/spec/replicas\", \"value\": 3}]",
    "---\n",
    "{",
    "]",
    "é",
    "\t",
];

fn kustomize_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(KUSTOMIZE_TOKENS), 0..60).prop_map(|t| t.concat())
}

/// The text read as a kustomization (its checks and inline patches) and as a patch of each
/// format: nothing panics, and every position is inside the text.
fn repository_readers(text: &str) {
    use kvet::repo::kustomization::{Kustomization, Offset, PatchFormat, Target};
    let crds = kvet::schema::store::CrdStore::default();
    let locations = kvet::schema::location::SchemaLocations::default();
    let context = kvet::rules::Context {
        kubernetes_version: kvet::schema::builtin::latest(),
        crds: &crds,
        crds_complete: true,
        catalog: true,
        locations: &locations,
    };
    let lines = line_count(text);
    if let Some(root) = kvet::load::yaml::first_root(text) {
        let k = Kustomization::read("k/kustomization.yaml".into(), "/nowhere/k".into(), root);
        for found in kvet::repo::check::check(&k) {
            assert_in(found.span, lines);
        }
        for patch in &k.patches {
            if let Some(node) = patch.inline.as_ref().and_then(|p| k.root.pointer(p)) {
                let offset = Offset::of(text, node);
                let inline = node.as_str().unwrap_or_default();
                for found in kvet::repo::patch::check(inline, patch.format, None, &context) {
                    assert_in(offset.apply(found.span), lines);
                }
            }
        }
    }
    let deployment = Target {
        kind: Some("Deployment".into()),
        ..Target::default()
    };
    for format in [
        PatchFormat::Either,
        PatchFormat::Json6902,
        PatchFormat::StrategicMerge,
    ] {
        for found in kvet::repo::patch::check(text, format, Some(&deployment), &context) {
            assert_in(found.span, lines);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn kustomizations_and_patches_never_panic(text in kustomize_text()) {
        repository_readers(&text);
    }

    #[test]
    fn arbitrary_text_as_a_kustomization_or_patch_never_panics(text in "\\PC{0,200}") {
        repository_readers(&text);
    }
}
