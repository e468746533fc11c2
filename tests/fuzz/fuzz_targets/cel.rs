//! CRD validation rules (`x-kubernetes-validations`) as a stranger's CRD writes them, on values
//! as a stranger's custom resource holds them: the first line of the input is a CEL rule and
//! the rest a YAML stream. The rule is set at the root, on every map value and on every list
//! item of the first document, and goes through compiling, the cost bound and evaluation;
//! the CRDs in the stream are converted and their own rules run on every other document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (rule, rest) = text.split_once('\n').unwrap_or((text, ""));
    let rules = json!([{"rule": rule, "message": "fuzz"}]);
    let mut schema = json!({"x-kubernetes-validations": rules});
    // Two levels of maps and lists under the root carry the rule too.
    for _ in 0..2 {
        schema = json!({
            "x-kubernetes-validations": rules,
            "additionalProperties": schema,
            "items": schema,
        });
    }
    let loaded = kvet::load::load_text(rest);
    if let Some(root) = kvet::load::yaml::first_root(rest) {
        kvet::schema::cel::evaluate(&schema, &root.to_json(), &mut Vec::new());
    }
    for crd in &loaded.objects {
        for converted in kvet::schema::crd::schemas_of(crd, "#/meta", |_, _| true) {
            for object in &loaded.objects {
                kvet::schema::cel::evaluate(
                    &converted.schema,
                    &object.root.to_json(),
                    &mut Vec::new(),
                );
            }
        }
    }
});
