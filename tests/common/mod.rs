//! What the end-to-end test files share. Each file uses part of it.
#![allow(dead_code)]

use assert_cmd::Command;

/// The kvet binary, run from the repository root with stable terminal settings.
pub fn kvet() -> Command {
    let mut cmd = Command::cargo_bin("kvet").unwrap();
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("RUST_BACKTRACE");
    cmd
}

/// Whether `tool version ARGS` runs (`kubectl version` alone also asks a cluster, and fails
/// without one; helm has no `--client`). Outside CI a missing tool skips the test that needs
/// it; in CI (`CI` set), where `.ci/run` installs it, it is a failure.
pub fn tool_available(tool: &str, args: &[&str]) -> bool {
    let mut all = vec!["version"];
    all.extend_from_slice(args);
    command_available(tool, &all)
}

/// Whether `program ARGS` runs, with the same rule as [`tool_available`]: a missing program
/// skips the test outside CI, and fails it in CI.
pub fn command_available(tool: &str, args: &[&str]) -> bool {
    let found = std::process::Command::new(tool)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "{tool} is not installed; .ci/run installs it"
        );
        eprintln!("skipped: {tool} is not on the PATH (`.ci/run` installs it)");
    }
    found
}

/// Runs git in `dir` with a committer identity; it must succeed.
pub fn git(dir: &std::path::Path, args: &[&str]) {
    let status = std::process::Command::new("git")
        .args(["-c", "user.email=ci@example.org", "-c", "user.name=ci"])
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// Copies a folder's files and folders into another.
pub fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Makes a script executable.
pub fn make_executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A diagnostic of the JSON report as `file:line:col rule`.
pub fn placed(d: &serde_json::Value) -> String {
    format!(
        "{}:{}:{} {}",
        d["file"].as_str().unwrap(),
        d["line"],
        d["column"],
        d["rule"].as_str().unwrap()
    )
}
