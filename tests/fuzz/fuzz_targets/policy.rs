//! A user's policy as a stranger's pull request could write it: the input is a Rego file
//! (package `main`), loaded as `--policy` loads it (recursion and network calls refused, the
//! built-in policies beside it) and, when it loads, evaluated on a Deployment and a
//! ConfigMap within kvet's work and memory budgets. The file goes to a scratch folder, never
//! into the repository.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

const OBJECTS: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: app\nspec:\n  template:\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n";

static SCRATCH: OnceLock<tempfile::TempDir> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Ok(policy) = std::str::from_utf8(data) else {
        return;
    };
    let dir = SCRATCH.get_or_init(|| tempfile::tempdir().expect("a scratch folder"));
    let file = dir.path().join("policy.rego");
    if std::fs::write(&file, policy).is_err() {
        return;
    }
    let options = kvet::policy::PolicyOptions {
        policy_paths: vec![file],
        ..Default::default()
    };
    let Ok(policies) = kvet::policy::Policies::load(&options) else {
        return;
    };
    let loaded = kvet::load::load_text(OBJECTS);
    for object in &loaded.objects {
        let _ = policies.evaluate(
            object,
            || kvet::policy::input::from_node(&object.root),
            |_| true,
        );
    }
});
