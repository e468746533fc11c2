//! kvet as a Python wheel, installed as a user would: maturin builds it from
//! `.ci/wheel/pyproject.toml`; pip installs it into a fresh virtualenv from the wheel file alone
//! (no index); the pre-commit mirror's hook (`.ci/pre-commit-mirror`) installs the same wheel
//! and runs without compiling anything; the `kvet-system` hook runs the kvet on the PATH.
//!
//! Needs python3, maturin and pre-commit (`.ci/run` installs them, and downloads setuptools
//! for the mirror's own build into `target/ci-wheels`). Outside CI a missing tool skips.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

use common::git;

mod common;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Where the wheel was built (with setuptools beside it, for pip's `--find-links`), and the
/// virtualenv it was installed into.
struct Installed {
    wheels: PathBuf,
    venv: PathBuf,
}

fn run(program: impl AsRef<std::ffi::OsStr>, args: &[&str], dir: &Path) -> Output {
    let program = program.as_ref();
    Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap_or_else(|e| panic!("{program:?}: {e}"))
}

fn succeeded(out: Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what}:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// Builds the wheel and installs it, once for the tests of this file; `None` when a tool is
/// missing outside CI.
fn installed() -> Option<&'static Installed> {
    static INSTALLED: OnceLock<Option<Installed>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            if !common::command_available("maturin", &["--version"])
                || !common::command_available("python3", &["--version"])
            {
                return None;
            }
            let work = root().join("target/wheel-test");
            let _ = std::fs::remove_dir_all(&work);
            let wheels = work.join("wheels");
            std::fs::create_dir_all(&wheels).unwrap();
            // The wheel only has to work here: a quick profile, and the build folder the
            // pre-commit test's `cargo install` uses too. The release workflow builds it for real.
            let out = Command::new("maturin")
                .args(["build", "--release", "--out"])
                .arg(&wheels)
                .current_dir(root().join(".ci/wheel"))
                .env("CARGO_TARGET_DIR", root().join("target/pre-commit-build"))
                .env("CARGO_PROFILE_RELEASE_LTO", "off")
                .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "0")
                .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
                .env("CARGO_PROFILE_RELEASE_INCREMENTAL", "true")
                .output()
                .unwrap();
            succeeded(out, "maturin build");
            setuptools_into(&wheels);
            let venv = work.join("venv");
            succeeded(
                run("python3", &["-m", "venv", venv.to_str().unwrap()], &work),
                "python3 -m venv",
            );
            let pip = venv.join("bin/pip");
            let find_links = wheels.to_str().unwrap();
            let args = ["install", "--no-index", "--find-links", find_links, "kvet"];
            succeeded(run(&pip, &args, &work), "pip install kvet");
            Some(Installed { wheels, venv })
        })
        .as_ref()
}

/// The mirror's package is built with setuptools; with `--no-index`, pip finds it beside the
/// wheel. `.ci/run` downloads it into `target/ci-wheels`; elsewhere it is downloaded here.
fn setuptools_into(wheels: &Path) {
    let cached = root().join("target/ci-wheels");
    let has = |dir: &Path| {
        std::fs::read_dir(dir).is_ok_and(|mut d| {
            d.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("setuptools-")))
        })
    };
    if !has(&cached) {
        assert!(
            std::env::var_os("CI").is_none(),
            "target/ci-wheels has no setuptools wheel; .ci/run downloads it"
        );
        let args = [
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "-d",
        ];
        let mut all = args.to_vec();
        all.extend([cached.to_str().unwrap(), "setuptools"]);
        succeeded(run("python3", &all, root()), "pip download setuptools");
    }
    for entry in std::fs::read_dir(&cached).unwrap().flatten() {
        std::fs::copy(entry.path(), wheels.join(entry.file_name())).unwrap();
    }
}

const GOOD: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: fast}\n";
const BAD: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata:\n  mode: fast\n  mode: slow\n";

/// A Git repository with a good and a bad manifest, committed.
fn manifests() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.yaml"), GOOD).unwrap();
    std::fs::write(dir.path().join("bad.yaml"), BAD).unwrap();
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-qm", "manifests"]);
    dir
}

#[test]
fn the_wheel_puts_a_working_kvet_on_the_path_without_an_index() {
    let Some(installed) = installed() else { return };
    let kvet = installed.venv.join("bin/kvet");
    let version = succeeded(run(&kvet, &["--version"], root()), "kvet --version");
    assert_eq!(
        version.trim(),
        format!("kvet {}", env!("CARGO_PKG_VERSION"))
    );
    let work = manifests();
    let out = run(
        &kvet,
        &["check", "--format", "compact", "bad.yaml"],
        work.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("bad.yaml:6:3: error[duplicate-key]"),
        "{stdout}"
    );
    let out = run(&kvet, &["check", "good.yaml"], work.path());
    assert_eq!(out.status.code(), Some(0));
}

/// `pre-commit try-repo` on the mirror in `.ci/pre-commit-mirror`, as a user's config pointing
/// at the mirror repository would run it: pip installs the hook's package, which needs the kvet
/// wheel (found with `PIP_FIND_LINKS`, no index).
fn try_mirror(mirror: &Path, work: &Path, file: &str, wheels: &Path) -> (Output, f64) {
    let started = Instant::now();
    let out = Command::new("pre-commit")
        .args([
            "try-repo",
            mirror.to_str().unwrap(),
            "kvet",
            "--files",
            file,
        ])
        .current_dir(work)
        .env("PRE_COMMIT_HOME", work.join(".pre-commit-home"))
        .env("PIP_NO_INDEX", "1")
        .env("PIP_FIND_LINKS", wheels)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    (out, started.elapsed().as_secs_f64())
}

#[test]
fn the_pre_commit_mirror_installs_the_wheel_instead_of_compiling() {
    let Some(installed) = installed() else { return };
    if !common::command_available("pre-commit", &["--version"]) {
        return;
    }
    // The mirror pins the crate's version.
    let pyproject =
        std::fs::read_to_string(root().join(".ci/pre-commit-mirror/pyproject.toml")).unwrap();
    let pin = format!("\"kvet=={}\"", env!("CARGO_PKG_VERSION"));
    assert!(pyproject.contains(&pin), "the mirror pins {pin}");

    let mirror = tempfile::tempdir().unwrap();
    for file in ["pyproject.toml", ".pre-commit-hooks.yaml"] {
        let from = root().join(".ci/pre-commit-mirror").join(file);
        std::fs::copy(from, mirror.path().join(file)).unwrap();
    }
    git(mirror.path(), &["init", "-q"]);
    git(mirror.path(), &["add", "."]);
    git(mirror.path(), &["commit", "-qm", "mirror"]);

    let work = manifests();
    let (out, seconds) = try_mirror(mirror.path(), work.path(), "good.yaml", &installed.wheels);
    let stdout = succeeded(out, "the mirror's hook on good.yaml");
    assert!(stdout.contains("Passed"), "{stdout}");
    // The figure the issue asks for; not asserted (machines differ), printed for the record.
    eprintln!("first run of the mirror's hook, installing kvet from the wheel: {seconds:.1} s");
    let (out, _) = try_mirror(mirror.path(), work.path(), "bad.yaml", &installed.wheels);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("Failed")
            && stdout.contains("bad.yaml:6:3")
            && stdout.contains("duplicate-key"),
        "{stdout}"
    );
}

#[test]
fn the_system_hook_runs_the_kvet_on_the_path() {
    let Some(installed) = installed() else { return };
    if !common::command_available("pre-commit", &["--version"]) {
        return;
    }
    let work = manifests();
    let path = format!(
        "{}:{}",
        installed.venv.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let hook = |file: &str| {
        Command::new("pre-commit")
            .args([
                "try-repo",
                root().to_str().unwrap(),
                "kvet-system",
                "--files",
                file,
            ])
            .current_dir(work.path())
            .env("PRE_COMMIT_HOME", work.path().join(".pre-commit-home"))
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let out = hook("good.yaml");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = hook("bad.yaml");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() && stdout.contains("bad.yaml:6:3"),
        "{stdout}"
    );
}

/// The `run` scripts of `action.yml`'s steps, in order.
fn action_steps() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let action = kvet::load::yaml::first_root(&text).expect("action.yml is YAML");
    let steps = action.get("runs").and_then(|r| r.get("steps")).unwrap();
    steps
        .as_seq()
        .unwrap()
        .iter()
        .map(|s| s.get("run").and_then(|r| r.as_str()).unwrap().to_owned())
        .collect()
}

/// The composite action's two steps, run as a GitHub runner runs them (`bash -eo pipefail`,
/// `RUNNER_TEMP`, `GITHUB_PATH`), the install step finding the wheel built here instead of PyPI.
#[test]
fn the_action_installs_kvet_and_gates_on_its_findings() {
    let Some(installed) = installed() else { return };
    let steps = action_steps();
    assert_eq!(steps.len(), 2, "install, then check");
    let work = manifests();
    let runner = work.path().join(".runner");
    std::fs::create_dir_all(&runner).unwrap();
    let github_path = runner.join("github_path");
    std::fs::write(&github_path, "").unwrap();
    let step = |script: &str, inputs: &[(&str, &str)], path: &str| {
        let mut command = Command::new("bash");
        command
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .current_dir(work.path())
            .env("RUNNER_TEMP", &runner)
            .env("RUNNER_OS", "Linux")
            .env("GITHUB_PATH", &github_path)
            .env("PIP_NO_INDEX", "1")
            .env("PIP_FIND_LINKS", &installed.wheels)
            .env("PATH", path)
            .env("NO_COLOR", "1")
            .env_remove("RUST_BACKTRACE");
        for (name, value) in inputs {
            command.env(name, value);
        }
        command.output().unwrap()
    };
    let system_path = std::env::var("PATH").unwrap_or_default();
    let version = env!("CARGO_PKG_VERSION");
    succeeded(
        step(&steps[0], &[("KVET_VERSION", version)], &system_path),
        "install step",
    );
    let added = std::fs::read_to_string(&github_path).unwrap();
    let path = format!("{}:{system_path}", added.trim());
    let inputs = [
        ("KVET_PATHS", "good.yaml bad.yaml"),
        ("KVET_SARIF", "kvet.sarif"),
        ("KVET_JUNIT", "kvet.xml"),
        ("KVET_FAIL_LEVEL", "error"),
        ("KVET_ARGS", "--kubernetes-version 1.33"),
    ];
    let out = step(&steps[1], &inputs, &path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("::error file=bad.yaml,line=6,col=3,")
            && stdout.contains("title=duplicate-key"),
        "{stdout}"
    );
    for report in ["kvet.sarif", "kvet.xml"] {
        let text = std::fs::read_to_string(work.path().join(report)).unwrap();
        assert!(text.contains("duplicate-key"), "{report}: {text}");
    }
    let clean = [("KVET_PATHS", "good.yaml"), ("KVET_FAIL_LEVEL", "error")];
    let out = step(&steps[1], &clean, &path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
