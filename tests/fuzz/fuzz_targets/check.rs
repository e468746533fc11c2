//! Arbitrary bytes through decoding and loading, then every object rule on every object.
//! Nothing is written to disk.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = kvet::load::decode(data.to_vec()) else {
        return;
    };
    let loaded = kvet::load::load_text(&text);
    let crds = kvet::schema::store::CrdStore::default();
    let locations = kvet::schema::location::SchemaLocations::default();
    let context = kvet::rules::Context {
        kubernetes_version: kvet::schema::builtin::latest(),
        crds: &crds,
        crds_complete: true,
        locations: &locations,
    };
    for object in &loaded.objects {
        let _ = object.root.locate("/spec/template/spec/containers/0");
        let _ = object.root.locate("/metadata/name");
        for rule in kvet::rules::RULES {
            if let kvet::rules::Check::Object(f) = rule.check {
                f(object, &context, &mut Vec::new());
            }
        }
    }
});
