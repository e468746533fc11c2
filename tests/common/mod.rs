//! What the end-to-end test files share.

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
