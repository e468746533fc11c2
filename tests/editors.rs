//! `kvet lsp` in real clients: pytest-lsp replaying the recorded capabilities of VS Code,
//! Neovim and Emacs (tests/lsp_clients/test_clients.py), and a headless Neovim that attaches
//! the server to a manifest (tests/lsp_clients/nvim_smoke.lua). Each skips with a printed
//! reason outside CI when its tool is missing, and fails in CI, where `.ci/run` installs it.

mod common;

use std::process::Command;

use common::command_available;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn kvet_binary() -> std::path::PathBuf {
    std::path::PathBuf::from(assert_cmd::cargo::cargo_bin!("kvet"))
}

#[test]
fn real_clients_capabilities_replayed_by_pytest_lsp() {
    if !command_available("python3", &["-c", "import pytest_lsp"]) {
        return;
    }
    let output = Command::new("python3")
        .args([
            "-m",
            "pytest",
            "tests/lsp_clients",
            "-q",
            "-p",
            "no:cacheprovider",
        ])
        .args(["-o", "asyncio_mode=auto"])
        .args(["-o", "asyncio_default_fixture_loop_scope=function"])
        .current_dir(ROOT)
        .env("KVET", kvet_binary())
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("8 passed"), "{stdout}");
}

#[test]
fn headless_neovim_shows_the_findings() {
    if !command_available("nvim", &["--headless", "--clean", "+qa!"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pod.yaml");
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: nginx:latest\n";
    std::fs::write(&file, pod).unwrap();
    let out = dir.path().join("diagnostics.txt");
    let script = format!("{ROOT}/tests/lsp_clients/nvim_smoke.lua");
    let status = Command::new("nvim")
        .args(["--headless", "--clean", "-c"])
        .arg(format!("luafile {script}"))
        .current_dir(dir.path())
        .env("KVET", kvet_binary())
        .env("KVET_FILE", &file)
        .env("KVET_OUT", &out)
        .env_remove("RUST_BACKTRACE")
        .status()
        .unwrap();
    assert!(status.success());
    let received = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = received.lines().collect();
    assert_eq!(
        lines,
        [
            "automount-service-account-token 5:2",
            "image-tag-latest 7:11",
            "missing-probes 6:4",
            "missing-resources 6:4",
            "privilege-escalation 6:4",
            "run-as-root 6:4",
            "writable-root-fs 6:4",
        ]
    );
    // The file is as written.
    assert_eq!(std::fs::read_to_string(&file).unwrap(), pod);
}
