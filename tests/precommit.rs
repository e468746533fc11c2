//! The hook in `.pre-commit-hooks.yaml`, run by the real `pre-commit` (from PyPI; `.ci/run`
//! installs it into a virtualenv) against a throw-away Git repository, as a user's
//! `pre-commit try-repo` would: pre-commit builds kvet with `cargo install` and runs the hook.
//!
//! Without `pre-commit` on the PATH the test says so and passes, except in CI (`CI` set),
//! where a missing pre-commit is a failure.

use std::path::Path;
use std::process::Command;

fn pre_commit_available() -> bool {
    Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

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

#[test]
fn pre_commit_try_repo_runs_the_hook_and_fails_on_a_bad_manifest() {
    if !pre_commit_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "pre-commit is not installed; .ci/run installs it"
        );
        eprintln!("skipped: pre-commit is not on the PATH (`.ci/run` installs it)");
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
    for args in [
        &["init", "-q"][..],
        &[
            "-c",
            "user.email=ci@example.org",
            "-c",
            "user.name=ci",
            "add",
            ".",
        ],
        &[
            "-c",
            "user.email=ci@example.org",
            "-c",
            "user.name=ci",
            "commit",
            "-qm",
            "manifests",
        ],
    ] {
        assert!(run(work, "git", args).status.success(), "git {args:?}");
    }
    let repo = env!("CARGO_MANIFEST_DIR");
    let good = run(
        work,
        "pre-commit",
        &["try-repo", repo, "kvet", "--files", "good.yaml"],
    );
    let good_out = String::from_utf8_lossy(&good.stdout);
    assert!(
        good.status.success(),
        "{good_out}\n{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(good_out.contains("Passed"), "{good_out}");

    let bad = run(
        work,
        "pre-commit",
        &["try-repo", repo, "kvet", "--files", "bad.yaml"],
    );
    let bad_out = String::from_utf8_lossy(&bad.stdout);
    assert!(!bad.status.success(), "{bad_out}");
    assert!(bad_out.contains("Failed"), "{bad_out}");
    assert!(
        bad_out.contains("duplicate-key") && bad_out.contains("bad.yaml:6:3"),
        "the diagnostic and its line are shown:\n{bad_out}"
    );
}
