//! What GitHub reads from this repository, checked as GitHub would: the release workflow with
//! actionlint (and the shellcheck of its scripts), both files against the schemas GitHub's
//! editors use (SchemaStore's, as check-jsonschema ships them). `.ci/run` installs actionlint,
//! shellcheck and check-jsonschema from PyPI; outside CI a missing tool skips.

use std::path::Path;
use std::process::{Command, Output};

mod common;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

fn report(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn actionlint_finds_nothing_wrong_with_the_release_workflow() {
    if !common::command_available("actionlint", &["-version"]) {
        return;
    }
    // shellcheck checks the `run:` scripts when it is on the PATH; in CI it must be.
    common::command_available("shellcheck", &["--version"]);
    let out = run("actionlint", &[".github/workflows/release.yml"]);
    assert!(out.status.success(), "{}", report(&out));
    // The check is live: a workflow on a runner GitHub does not have fails.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("broken.yml");
    let text = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    std::fs::write(&broken, text.replace("macos-15-intel", "macos-12")).unwrap();
    let out = run("actionlint", &[broken.to_str().unwrap()]);
    assert!(
        !out.status.success() && report(&out).contains("macos-12"),
        "{}",
        report(&out)
    );
}

#[test]
fn the_action_and_the_workflow_are_valid_against_githubs_schemas() {
    if !common::command_available("check-jsonschema", &["--version"]) {
        return;
    }
    for (schema, file) in [
        ("vendor.github-actions", "action.yml"),
        ("vendor.github-workflows", ".github/workflows/release.yml"),
    ] {
        let out = run("check-jsonschema", &["--builtin-schema", schema, file]);
        assert!(out.status.success(), "{file}: {}", report(&out));
    }
    // The check is live: an action without `runs.using` is refused.
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("action.yml");
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    std::fs::write(&broken, text.replace("  using: composite\n", "")).unwrap();
    let args = [
        "--builtin-schema",
        "vendor.github-actions",
        broken.to_str().unwrap(),
    ];
    let out = run("check-jsonschema", &args);
    assert!(!out.status.success(), "{}", report(&out));
}
