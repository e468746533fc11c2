//! The hook in `.pre-commit-hooks.yaml`, run by the real `pre-commit` (from PyPI; `.ci/run`
//! installs it into a virtualenv) against a throw-away Git repository, as a user's
//! `pre-commit try-repo` would: pre-commit builds kvet with `cargo install` and runs the hook.
//!
//! Without `pre-commit` on the PATH the test says so and passes, except in CI (`CI` set),
//! where a missing pre-commit is a failure.

use std::path::Path;
use std::process::Command;

use common::git;

mod common;

fn run(dir: &Path, program: &str, args: &[&str]) -> std::process::Output {
    // pre-commit's `cargo install` builds in release mode, which is what users get. Here the
    // build only has to work: a quick profile, and a target folder kept between runs.
    let build = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/pre-commit-build");
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("PRE_COMMIT_HOME", dir.join(".pre-commit-home"))
        .env("CARGO_TARGET_DIR", build)
        .env("CARGO_PROFILE_RELEASE_LTO", "off")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
        .env("CARGO_PROFILE_RELEASE_INCREMENTAL", "true")
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

/// Whether the hook can be tried here; in CI it must.
fn available() -> bool {
    common::command_available("pre-commit", &["--version"])
}

/// `pre-commit try-repo <this repository> kvet ARGS` in `work`, which must pass (or fail): its
/// output.
fn try_repo(work: &Path, args: &[&str], passes: bool) -> String {
    let repo = env!("CARGO_MANIFEST_DIR");
    let mut all = vec!["try-repo", repo, "kvet"];
    all.extend_from_slice(args);
    let out = run(work, "pre-commit", &all);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.success(), passes, "{stdout}\n{stderr}");
    let verdict = if passes { "Passed" } else { "Failed" };
    assert!(stdout.contains(verdict), "{stdout}");
    stdout
}

#[test]
fn pre_commit_try_repo_runs_the_hook_and_fails_on_a_bad_manifest() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    std::fs::write(
        work.join("good.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: fast}\n",
    )
    .unwrap();
    std::fs::write(
        work.join("bad.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata:\n  mode: fast\n  mode: slow\n",
    )
    .unwrap();
    git(work, &["init", "-q"]);
    git(work, &["add", "."]);
    git(work, &["commit", "-qm", "manifests"]);
    try_repo(work, &["--files", "good.yaml"], true);
    let bad_out = try_repo(work, &["--files", "bad.yaml"], false);
    assert!(
        bad_out.contains("duplicate-key") && bad_out.contains("bad.yaml:6:3"),
        "the diagnostic and its line are shown:\n{bad_out}"
    );
}

/// The hook on a Kustomize repository (testdata/render/gitops): a staged correct patch passes;
/// a staged base change that breaks an overlay fails, on the base's line.
#[test]
fn pre_commit_checks_what_a_staged_kustomize_file_does_to_the_overlays() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/render/gitops");
    common::copy_tree(&source, work);
    git(work, &["init", "-q"]);
    git(work, &["add", "."]);
    git(work, &["commit", "-qm", "repository"]);

    // A correct patch, changed and staged.
    let env = work.join("overlays/prod/env.yaml");
    let text = std::fs::read_to_string(&env)
        .unwrap()
        .replace("eu-west-1", "eu-west-2");
    std::fs::write(&env, text).unwrap();
    git(work, &["add", "overlays/prod/env.yaml"]);
    try_repo(work, &[], true);
    git(work, &["commit", "-qm", "region"]);

    // The base now mounts /tmp, which the prod overlay's JSON patch mounts first.
    let deployment = work.join("base/deployment.yaml");
    let text = std::fs::read_to_string(&deployment).unwrap().replace(
        "              mountPath: /var/cache/web\n",
        "              mountPath: /var/cache/web\n            - name: cache\n              mountPath: /tmp\n",
    );
    std::fs::write(&deployment, text).unwrap();
    git(work, &["add", "base/deployment.yaml"]);
    let bad_out = try_repo(work, &[], false);
    assert!(
        bad_out.contains("duplicate-volume-mount")
            && bad_out.contains("base/deployment.yaml:45:26"),
        "the base's line is shown:\n{bad_out}"
    );
}
