//! Arbitrary bytes through decoding and loading, suppression comments and the Helm template
//! lookup, the text as a kustomization and as a patch of each format, then every object rule,
//! every built-in policy, the annotations and the CRD conversion on every object. Nothing is
//! written to disk.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

static POLICIES: OnceLock<kvet::policy::Policies> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(text) = kvet::load::decode(data.to_vec()) else {
        return;
    };
    let loaded = kvet::load::load_text(&text);
    let _ = kvet::diag::suppress::in_comments("fuzz.yaml", &text, &loaded.objects);
    // The text as a Helm template, looked up as --helm does.
    let _ = kvet::load::render::locate_in_template(&text, "/spec/template/spec/containers/1/image");
    let crds = kvet::schema::store::CrdStore::default();
    let locations = kvet::schema::location::SchemaLocations::default();
    let context = kvet::rules::Context {
        kubernetes_version: kvet::schema::builtin::latest(),
        crds: &crds,
        crds_complete: true,
        locations: &locations,
    };
    // The text as a kustomization (its checks, its inline patches) and as a patch.
    if let Some(root) = kvet::load::yaml::first_root(&text) {
        use kvet::repo::kustomization::Kustomization;
        let k = Kustomization::read("k/kustomization.yaml".into(), "/nowhere/k".into(), root);
        let _ = kvet::repo::check::check(&k);
        for patch in &k.patches {
            if let Some(inline) = patch.inline.as_ref().and_then(|p| k.root.pointer(p)) {
                let _ = kvet::repo::kustomization::Offset::of(&text, inline);
                let inline = inline.as_str().unwrap_or_default();
                let _ = kvet::repo::patch::check(inline, patch.format, None, &context);
            }
        }
    }
    for format in [
        kvet::repo::kustomization::PatchFormat::Either,
        kvet::repo::kustomization::PatchFormat::Json6902,
        kvet::repo::kustomization::PatchFormat::StrategicMerge,
    ] {
        let _ = kvet::repo::patch::check(&text, format, None, &context);
    }
    for object in &loaded.objects {
        let _ = object.root.locate("/spec/template/spec/containers/0");
        let _ = object.root.locate("/metadata/name");
        let _ = kvet::diag::suppress::in_annotations("fuzz.yaml", object);
        for rule in kvet::rules::RULES {
            if let kvet::rules::Check::Object(f) = rule.check {
                f(object, &context, &mut Vec::new());
            }
        }
        let policies = POLICIES.get_or_init(|| {
            kvet::policy::Policies::load(&Default::default()).expect("built-in policies load")
        });
        let _ = policies.evaluate(
            object,
            || kvet::policy::input::from_node(&object.root),
            |_| true,
        );
        let _ = kvet::schema::crd::schemas_of(object, "#/meta", |_, _| true);
    }
});
