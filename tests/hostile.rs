//! Hostile input (issue 18): each case runs the real binary on input made here, and asserts the
//! exit code, the diagnostic, and generous bounds on the time and memory the run took (from the
//! child process). Bounds only catch runaways (a blocked read, memory without end): they are
//! never what a verdict depends on.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a run did: exit code, stdout, stderr, wall time, peak memory (KiB, from
/// `/proc/PID/status`, polled while it runs; 0 where there is no `/proc`).
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
    peak_kib: u64,
}

/// Runs kvet with `args` in `dir`, stdin from `stdin` (a file) or nothing, killing it after a
/// minute.
fn kvet(dir: &Path, args: &[&str], stdin: Option<&Path>) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kvet"));
    command
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.stdin(match stdin {
        Some(file) => Stdio::from(std::fs::File::open(file).unwrap()),
        None => Stdio::null(),
    });
    let start = Instant::now();
    let mut child = command.spawn().unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    // Pipes are drained on threads, so a chatty child never blocks on a full pipe.
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out_pipe, &mut s).ok();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err_pipe, &mut s).ok();
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if let Ok(text) = std::fs::read_to_string(&status_file)
            && let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kib = peak_kib.max(kib);
        }
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().ok();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        took: start.elapsed(),
        peak_kib,
    }
}

/// Generous bounds: a runaway takes minutes or gigabytes.
fn bounded(run: &Run) {
    assert!(run.took < Duration::from_secs(30), "took {:?}", run.took);
    assert!(
        run.peak_kib < 1024 * 1024,
        "peak memory {} KiB",
        run.peak_kib
    );
}

/// Asserts that the run's output has every one of `lines` (or parts of lines).
fn says(run: &Run, lines: &[&str]) {
    for said in lines {
        assert!(run.stdout.contains(said), "{said}\n{}", run.stdout);
    }
}

const MANIFEST: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: app\ndata:\n  mode: fast\n";

fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ok.yaml"), MANIFEST).unwrap();
    dir
}

fn fifo(dir: &Path, name: &str) {
    let status = Command::new("mkfifo").arg(dir.join(name)).status().unwrap();
    assert!(status.success());
}

#[test]
fn what_is_not_a_regular_file_is_refused_not_read() {
    let dir = folder();
    fifo(dir.path(), "fifo.yaml");
    // Named as input: a finding on it, the rest checked.
    for path in ["fifo.yaml", "/dev/zero"] {
        let run = kvet(
            dir.path(),
            &["check", "--format", "compact", path, "ok.yaml"],
            None,
        );
        bounded(&run);
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stdout.contains(&format!(
                "{path}:1:1: error[unreadable-file] not a regular file (a FIFO, device or socket is not read)"
            )),
            "{}",
            run.stdout
        );
    }
    // As a config, baseline, CRDs or policy: the run cannot do what it was asked (exit 2).
    for (flag, says) in [
        (
            "--config",
            "cannot read config file fifo.yaml: not a regular file",
        ),
        (
            "--baseline",
            "cannot read the baseline fifo.yaml: not a regular file",
        ),
        ("--crds", "cannot read --crds fifo.yaml: not a regular file"),
        (
            "--policy",
            "cannot read policy fifo.yaml: not a regular file",
        ),
    ] {
        let run = kvet(dir.path(), &["check", flag, "fifo.yaml", "ok.yaml"], None);
        bounded(&run);
        assert_eq!(run.code, 2, "{flag}: {}", run.stderr);
        let stderr = run.stderr.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(stderr.contains(says), "{flag}: {stderr}");
    }
    let run = kvet(
        dir.path(),
        &["check", "--config", "/dev/zero", "ok.yaml"],
        None,
    );
    bounded(&run);
    assert_eq!(run.code, 2);
    // Met in a folder: said once, as an info, and not read.
    let run = kvet(dir.path(), &["check", "--format", "compact", "."], None);
    bounded(&run);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "fifo.yaml:1:1: info[unreadable-file] not a regular file (a FIFO, device or socket is not read)"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn stdin_is_read_no_further_than_the_size_limit() {
    let dir = folder();
    let run = kvet(
        dir.path(),
        &["check", "--format", "compact", "-"],
        Some(Path::new("/dev/zero")),
    );
    bounded(&run);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout
            .contains("<stdin>:1:1: error[input-limit] larger than the 64 MiB limit; not checked"),
        "{}",
        run.stdout
    );
}

#[test]
fn jobs_are_capped_at_four_per_cpu() {
    let dir = folder();
    let run = kvet(dir.path(), &["check", "--jobs", "100000", "ok.yaml"], None);
    bounded(&run);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("is more than 4 per CPU; using"),
        "{}",
        run.stderr
    );
    assert!(run.peak_kib < 512 * 1024, "peak {} KiB", run.peak_kib);
    let run = kvet(dir.path(), &["check", "--jobs", "0", "ok.yaml"], None);
    assert_eq!(run.code, 2);
}

#[test]
fn a_report_or_baseline_never_replaces_a_file_the_run_reads() {
    let dir = folder();
    for args in [
        &["check", "--format", "sarif=ok.yaml", "."][..],
        &["check", "--write-baseline", "ok.yaml", "."][..],
    ] {
        let run = kvet(dir.path(), args, None);
        bounded(&run);
        assert_eq!(run.code, 2, "{args:?}");
        assert!(
            run.stderr
                .contains("will not write to ok.yaml: it is a file this run reads"),
            "{}",
            run.stderr
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("ok.yaml")).unwrap(),
            MANIFEST
        );
    }
    // Elsewhere is fine.
    let run = kvet(
        dir.path(),
        &["check", "--format", "sarif=report.sarif", "."],
        None,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(dir.path().join("report.sarif").is_file());
}

#[test]
fn symbolic_links_are_followed_only_inside_the_folder_given() {
    let dir = folder();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(
        elsewhere.path().join("outside.yaml"),
        MANIFEST.replace("settings", "outside"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("repo/apps")).unwrap();
    std::fs::write(dir.path().join("repo/apps/app.yaml"), MANIFEST).unwrap();
    std::os::unix::fs::symlink("/", dir.path().join("repo/evil")).unwrap();
    std::os::unix::fs::symlink(
        elsewhere.path().join("outside.yaml"),
        dir.path().join("repo/outside.yaml"),
    )
    .unwrap();
    // A link that stays inside is followed.
    std::os::unix::fs::symlink("apps", dir.path().join("repo/current")).unwrap();
    let run = kvet(dir.path(), &["check", "--format", "json", "repo"], None);
    bounded(&run);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let skipped: Vec<String> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{} {} {}", d["file"], d["level"], d["message"]))
        .collect();
    assert_eq!(
        skipped,
        [
            "\"repo/evil\" \"info\" \"a symbolic link out of the folder given: not followed\"",
            "\"repo/outside.yaml\" \"info\" \"a symbolic link out of the folder given: not followed\"",
        ]
    );
    assert_eq!(doc["summary"]["files"], 1, "{}", run.stdout);
}

#[test]
fn an_api_version_or_kind_never_leads_a_schema_location_out_of_its_folder() {
    let dir = folder();
    std::fs::create_dir_all(dir.path().join("schemas")).unwrap();
    std::fs::create_dir_all(dir.path().join("secretdir")).unwrap();
    std::fs::write(
        dir.path().join("secretdir/leak.json"),
        r#"{"type": "object", "properties": {"data": {"enum": ["SECRET-VALUE"]}}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("evil.yaml"),
        "apiVersion: v1\nkind: ../secretdir/leak\nmetadata: {name: x}\ndata: 1\n",
    )
    .unwrap();
    let location = format!(
        "{}/schemas/{{{{ .ResourceKind }}}}.json",
        dir.path().display()
    );
    let run = kvet(
        dir.path(),
        &[
            "check",
            "--format",
            "compact",
            "--schema-location",
            &location,
            "evil.yaml",
        ],
        None,
    );
    bounded(&run);
    assert!(!run.stdout.contains("SECRET-VALUE"), "{}", run.stdout);
}

#[test]
fn a_crds_file_that_gives_no_crd_is_said_not_dropped() {
    let dir = folder();
    std::fs::create_dir_all(dir.path().join("crds")).unwrap();
    let crd = |schema: &str| {
        format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gadgets.example.com\nspec:\n  group: example.com\n  names: {{kind: Gadget, plural: gadgets}}\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema: {schema}\n"
        )
    };
    std::fs::write(dir.path().join("crds/string.yaml"), crd("\"object\"")).unwrap();
    std::fs::write(dir.path().join("crds/list.yaml"), crd("[a, b]")).unwrap();
    std::fs::write(dir.path().join("crds/broken.yaml"), "spec: [unclosed\n").unwrap();
    std::fs::write(dir.path().join("crds/binary.yaml"), b"\x00\x01\x02").unwrap();
    std::fs::write(dir.path().join("crds/deep.yaml"), "[".repeat(10_000)).unwrap();
    let run = kvet(
        dir.path(),
        &["check", "--format", "compact", "--crds", "crds", "ok.yaml"],
        None,
    );
    bounded(&run);
    assert_eq!(run.code, 1, "{}", run.stderr);
    says(
        &run,
        &[
            "crds/binary.yaml:1:1: error[unreadable-file]",
            "crds/broken.yaml:2:1: error[yaml-syntax]",
            "crds/deep.yaml:1:",
            "crds/list.yaml:14:26: error[schema] the openAPIV3Schema of version v1 is not a mapping",
            "crds/string.yaml:14:26: error[schema] the openAPIV3Schema of version v1 is not a mapping",
        ],
    );
}

#[test]
fn numbers_json_cannot_hold_lists_without_objects_and_folders_with_nothing_are_said() {
    let dir = folder();
    std::fs::write(
        dir.path().join("numbers.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: nums, namespace: app}\ndata: {}\nbinaryData: {}\nimmutable: .nan\n---\napiVersion: v1\nkind: ReplicationController\nmetadata: {name: r, namespace: app}\nspec:\n  replicas: 99999999999999999999999999999999\n  minReadySeconds: -.inf\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("list.yaml"),
        "apiVersion: v1\nkind: List\nitems: {a: 1}\n",
    )
    .unwrap();
    let run = kvet(
        dir.path(),
        &["check", "--format", "compact", "numbers.yaml", "list.yaml"],
        None,
    );
    bounded(&run);
    assert_eq!(run.code, 1);
    says(
        &run,
        &[
            "numbers.yaml:6:12: error[yaml-syntax] .nan is not a number JSON can hold",
            "numbers.yaml:12:13: error[yaml-syntax] 99999999999999999999999999999999 is beyond the 64-bit integer range",
            "numbers.yaml:13:20: error[yaml-syntax] -.inf is not a number JSON can hold",
            "list.yaml:3:8: error[missing-type-meta] `items` of a List must be a list of objects",
        ],
    );
    // A folder whose .gitignore leaves nothing: a warning, not a silent pass.
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join(".gitignore"), "*\n").unwrap();
    std::fs::write(empty.path().join("app.yaml"), MANIFEST).unwrap();
    let run = kvet(empty.path(), &["check", "--format", "compact", "."], None);
    assert_eq!(run.code, 0);
    assert!(
        run.stdout
            .contains(".:1:1: warning[unreadable-file] no file to check in this folder"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_schema_host_that_never_answers_costs_one_timeout_not_one_per_kind() {
    // A host that accepts connections and never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let dir = folder();
    let kinds = [
        "Gadget",
        "Widget",
        "Sprocket",
        "Gizmo",
        "Doohickey",
        "Thingamajig",
    ];
    let text: String = kinds
        .iter()
        .map(|k| format!("apiVersion: example.com/v1\nkind: {k}\nmetadata: {{name: x, namespace: app}}\n---\n"))
        .collect();
    std::fs::write(dir.path().join("custom.yaml"), text).unwrap();
    let location = format!("http://127.0.0.1:{port}/{{{{ .ResourceKind }}}}.json");
    let cache = dir.path().join("cache");
    let run = kvet(
        dir.path(),
        &[
            "check",
            "--format",
            "compact",
            "--schema-location",
            &location,
            "--cache-dir",
            cache.to_str().unwrap(),
            "custom.yaml",
        ],
        None,
    );
    // One 20 s download timeout per thread at most, then every other kind fails at once.
    assert!(run.took < Duration::from_secs(50), "took {:?}", run.took);
    assert_eq!(
        run.stdout.matches("custom.yaml:").count(),
        kinds.len(),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("did not answer earlier in this run"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_recursive_user_policy_is_refused_before_it_runs() {
    let dir = folder();
    std::fs::write(
        dir.path().join("p.rego"),
        "package main\nimport rego.v1\n\nf(x) := y if { y := f(x + 1) }\n\ndeny contains msg if { f(1) > 0; msg := \"x\" }\n",
    )
    .unwrap();
    let run = kvet(
        dir.path(),
        &["check", "--policy", "p.rego", "ok.yaml"],
        None,
    );
    bounded(&run);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("policy p.rego:4: the function calls itself (f → f)"),
        "{}",
        run.stderr
    );
    // By its full name, and through another file of the run.
    std::fs::create_dir_all(dir.path().join("policy")).unwrap();
    std::fs::write(
        dir.path().join("policy/main.rego"),
        "package main\nimport rego.v1\nimport data.lib\n\nf(x) := y if { y := lib.g(x) }\n\ndeny contains msg if { f(1) > 0; msg := \"x\" }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("policy/lib.rego"),
        "package lib\nimport rego.v1\n\ng(x) := y if { y := data.main.f(x + 1) }\n",
    )
    .unwrap();
    for args in [
        &["check", "--policy", "policy", "ok.yaml"][..],
        &["test", "policy"][..],
    ] {
        let run = kvet(dir.path(), args, None);
        bounded(&run);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("policy policy/lib.rego:4: the function calls itself (g → main.f → g)"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn a_baseline_that_is_a_folder_is_said_to_be_one() {
    let dir = folder();
    std::fs::create_dir_all(dir.path().join("base")).unwrap();
    for flag in ["--baseline", "--write-baseline"] {
        let run = kvet(dir.path(), &["check", flag, "base", "ok.yaml"], None);
        assert_eq!(run.code, 2, "{flag}");
        assert!(
            run.stderr
                .contains("cannot read the baseline base: it is a folder, not a file"),
            "{flag}: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("record one with"), "{}", run.stderr);
    }
}

#[test]
fn a_crd_rule_that_would_loop_for_hours_is_reported_not_run() {
    let dir = folder();
    let rules = [
        "self.l.all(a, self.l.all(b, self.l.all(c, self.l.all(d, a+b+c+d >= 0))))",
        "self.l.map(a, self.l.map(b, self.l.map(c, a+b+c))).size() > 0",
    ];
    let crd = format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gadgets.example.com\nspec:\n  group: example.com\n  names: {{kind: Gadget, plural: gadgets}}\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          properties:\n            spec:\n              type: object\n              x-kubernetes-validations:\n                - rule: \"{}\"\n                - rule: \"{}\"\n                - rule: \"self.l.all(a, a >= 0)\"\n                  message: no negative numbers\n              properties:\n                l: {{type: array, items: {{type: integer}}}}\n",
        rules[0], rules[1]
    );
    std::fs::write(dir.path().join("crd.yaml"), crd).unwrap();
    let items: Vec<String> = (0..400).map(|i| i.to_string()).collect();
    std::fs::write(
        dir.path().join("gadget.yaml"),
        format!(
            "apiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n  namespace: app\nspec:\n  l: [{}, -1]\n",
            items.join(", ")
        ),
    )
    .unwrap();
    let run = kvet(
        dir.path(),
        &[
            "check",
            "--format",
            "compact",
            "--crds",
            "crd.yaml",
            "gadget.yaml",
        ],
        None,
    );
    bounded(&run);
    assert_eq!(run.code, 1, "{}", run.stderr);
    for rule in rules {
        let said = format!(
            "gadget.yaml:6:1: error[schema] spec: validation rule `{rule}` would cost up to "
        );
        assert!(run.stdout.contains(&said), "{said}\n{}", run.stdout);
    }
    // The rules within the limit still run.
    assert!(
        run.stdout
            .contains("gadget.yaml:6:1: error[schema] spec: no negative numbers"),
        "{}",
        run.stdout
    );
}

/// A folder with `manifest.yaml` and a user policy (package main) whose deny rule has `body`.
fn with_policy(body: &str) -> tempfile::TempDir {
    let dir = folder();
    std::fs::create_dir_all(dir.path().join("policy")).unwrap();
    std::fs::write(
        dir.path().join("policy/p.rego"),
        format!("package main\n\nimport rego.v1\n\ndeny contains msg if {{\n  {body}\n  msg := \"built\"\n}}\n"),
    )
    .unwrap();
    dir
}

#[test]
fn a_policy_may_build_only_so_much_in_one_evaluation() {
    for (body, said) in [
        (
            "x := [y | some y in numbers.range(1, 100000000)]; count(x) > 0",
            "policy/p.rego:6:36: numbers.range would build a value of up to 3052 MiB",
        ),
        (
            "x := numbers.range(1, 100000000000); count(x) > 0",
            "numbers.range would build a value of up to 3051758 MiB",
        ),
        (
            "x := sprintf(\"%0999999999d\", [1]); count(x) > 0",
            "sprintf would build a value of up to 954 MiB",
        ),
        (
            "s := concat(\"\", [c | some i in numbers.range(1, 100000); c := \"a\"]); t := replace(s, \"a\", s); count(t) > 0",
            "replace would build a value of up to 9537 MiB",
        ),
    ] {
        let dir = with_policy(body);
        let run = kvet(
            dir.path(),
            &[
                "check", "--format", "compact", "--policy", "policy", "ok.yaml",
            ],
            None,
        );
        bounded(&run);
        assert!(run.peak_kib < 512 * 1024, "{body}: {} KiB", run.peak_kib);
        assert_eq!(run.code, 1, "{}", run.stderr);
        let line = "ok.yaml:1:1: error[policy-error] main.deny failed on ConfigMap settings: ";
        assert!(
            run.stdout.contains(line) && run.stdout.contains(said),
            "{body}\n{said}\n{}",
            run.stdout
        );
        assert!(
            run.stdout
                .contains("kvet's memory limit for one rule on one object (256 MiB)"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn a_policy_that_works_too_long_stops_at_the_same_step_however_busy_the_machine() {
    let dir = with_policy(
        "x := [y | some a in numbers.range(1, 3000); some b in numbers.range(1, 3000); y := a * b]; count(x) > 0",
    );
    let args = [
        "check", "--format", "compact", "--policy", "policy", "ok.yaml",
    ];
    let quiet = kvet(dir.path(), &args, None);
    bounded(&quiet);
    assert_eq!(quiet.code, 1, "{}", quiet.stderr);
    assert!(
        quiet.stdout.contains(
            "ok.yaml:1:1: error[policy-error] main.deny failed on ConfigMap settings: stopped: it did more work than kvet allows one rule on one object (5,000,000 steps, and 100 more per node of the object"
        ),
        "{}",
        quiet.stdout
    );
    // The same run with every CPU kept busy: the verdict is counted, not timed.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let busy: Vec<_> = (0..std::thread::available_parallelism().map_or(2, |n| n.get()))
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut x = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                }
            })
        })
        .collect();
    let loaded = kvet(dir.path(), &args, None);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    busy.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(quiet.stdout, loaded.stdout);
}

#[test]
fn large_objects_get_the_same_verdicts_as_small_ones() {
    let dir = folder();
    let keys = |n: usize, value: &str| -> String {
        (0..n).map(|i| format!("  k{i:05}: {value}\n")).collect()
    };
    std::fs::write(
        dir.path().join("big.yaml"),
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: app\nstringData:\n{}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: app\ndata:\n{}",
            keys(5_000, "q8Wz3kLm0pR5"),
            keys(10_000, "v")
        ),
    )
    .unwrap();
    let containers: String = (0..1_000)
        .map(|i| format!("    - name: c{i}\n      image: nginx:1.{i}\n      env:\n        - name: A\n          value: x\n      volumeMounts:\n        - name: v{i}\n          mountPath: /m\n"))
        .collect();
    let volumes: String = (0..1_000)
        .map(|i| format!("    - name: v{i}\n      emptyDir: {{}}\n"))
        .collect();
    std::fs::write(
        dir.path().join("pod.yaml"),
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: app\nspec:\n  containers:\n{containers}  volumes:\n{volumes}"),
    )
    .unwrap();
    let run = kvet(
        dir.path(),
        &["check", "--format", "compact", "big.yaml", "pod.yaml"],
        None,
    );
    bounded(&run);
    assert!(
        !run.stdout.contains("policy-error"),
        "{}",
        &run.stdout[..2000.min(run.stdout.len())]
    );
    // One finding for the Secret, naming ten keys and how many more.
    assert!(
        run.stdout.contains(
            "big.yaml:7:3: warning[secret-literal-values] Secret \"s\" has literal values in Git (k00000, k00001, k00002, k00003, k00004, k00005, k00006, k00007, k00008, k00009 and 4990 more)"
        ),
        "{}",
        &run.stdout[..2000.min(run.stdout.len())]
    );
    assert_eq!(run.stdout.matches("[run-as-root]").count(), 1_000);
}

#[test]
fn many_small_documents_and_a_config_of_many_entries_cost_memory_in_proportion() {
    let dir = folder();
    // 2 MiB of nine-byte documents: 233,000 of them.
    let tiny = "---\na: 1\n".repeat(2 * 1024 * 1024 / 9);
    std::fs::write(dir.path().join("tiny.yaml"), &tiny).unwrap();
    let run = kvet(
        dir.path(),
        &["check", "--format", "compact", "tiny.yaml"],
        None,
    );
    bounded(&run);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // About 30 bytes of memory for each byte of such a file (it was 90).
    assert!(run.peak_kib < 100 * 1024, "{} KiB", run.peak_kib);

    // 20,000 ignore entries, each with a file glob and a name glob: compiled into one set.
    let entries: String = (0..20_000)
        .map(|i| format!("  - rules: [image-tag-latest]\n    name: \"web-{i}-*\"\n    files: [\"apps/{i}/**\"]\n    reason: upstream\n"))
        .collect();
    std::fs::write(dir.path().join(".kvet.yaml"), format!("ignore:\n{entries}")).unwrap();
    std::fs::create_dir_all(dir.path().join("apps/7")).unwrap();
    std::fs::write(
        dir.path().join("apps/7/web.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-7-a\n  namespace: app\nspec:\n  containers:\n    - name: c\n      image: nginx:latest\n",
    )
    .unwrap();
    let run = kvet(
        dir.path(),
        &["check", "--format", "compact", "ok.yaml", "apps"],
        None,
    );
    bounded(&run);
    assert!(run.peak_kib < 200 * 1024, "{} KiB", run.peak_kib);
    // The entry for apps/7 and web-7-* drops the finding; the others suppress nothing.
    assert!(
        !run.stdout.contains("image-tag-latest"),
        "{}",
        &run.stdout[..run.stdout.len().min(2000)]
    );
}

#[cfg(unix)]
#[test]
fn files_whose_names_are_not_utf8_are_named_apart_and_shown_their_own_lines() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let pod = |name: &str, padding: &str, image: &str| {
        format!(
            "{padding}apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: a\nspec:\n  containers:\n    - name: c\n      image: {image}\n"
        )
    };
    let file = |b: &[u8]| dir.path().join(std::ffi::OsStr::from_bytes(b));
    std::fs::write(file(b"b\xfe.yaml"), pod("one", "", "nginx:latest")).unwrap();
    std::fs::write(
        file(b"b\xff.yaml"),
        pod("two", "# a\n# b\n", "redis:latest"),
    )
    .unwrap();
    let compact = kvet(dir.path(), &["check", "--format", "compact", "."], None);
    bounded(&compact);
    says(
        &compact,
        &[
            "b\\xfe.yaml:9:14: warning[image-tag-latest] container \"c\" uses \"nginx:latest\"",
            "b\\xff.yaml:11:14: warning[image-tag-latest] container \"c\" uses \"redis:latest\"",
        ],
    );
    // Each snippet comes from its own file.
    let human = kvet(dir.path(), &["check", "--format", "human", "."], None);
    let snippet = |name: &str| {
        let at = human.stdout.find(&format!("[{name}]")).unwrap();
        human.stdout[at..]
            .lines()
            .take(4)
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        snippet("b\\xfe.yaml:9:14").contains("image: nginx:latest"),
        "{}",
        human.stdout
    );
    assert!(
        snippet("b\\xff.yaml:11:14").contains("image: redis:latest"),
        "{}",
        human.stdout
    );
}

#[test]
fn messages_say_what_went_wrong() {
    let dir = folder();
    // Nested collections never closed, flow or block: the input limit, however written.
    std::fs::write(dir.path().join("flow.yaml"), "[".repeat(3000)).unwrap();
    std::fs::write(dir.path().join("map.yaml"), "{a: ".repeat(3000)).unwrap();
    // An alias inside the node its anchor names.
    std::fs::write(dir.path().join("anchor.yaml"), "a: &x\n  b: *x\n").unwrap();
    let run = kvet(
        dir.path(),
        &[
            "check",
            "--format",
            "compact",
            "flow.yaml",
            "map.yaml",
            "anchor.yaml",
        ],
        None,
    );
    bounded(&run);
    says(
        &run,
        &[
            "flow.yaml:1:256: error[input-limit] nesting deeper than 200 levels",
            "map.yaml:1:1021: error[input-limit] nesting deeper than 200 levels",
            "anchor.yaml:2:6: error[yaml-syntax] an alias inside the node its anchor names",
        ],
    );

    // A --data file that cannot be read is a data file, not a policy.
    let dir = with_policy("input.kind == \"Nope\"");
    std::fs::write(dir.path().join("data.yaml"), b"\x00\x01").unwrap();
    let run = kvet(
        dir.path(),
        &[
            "check",
            "--policy",
            "policy",
            "--data",
            "data.yaml",
            "ok.yaml",
        ],
        None,
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("cannot read data file data.yaml: binary file"),
        "{}",
        run.stderr
    );

    // A policy that calls the network is refused when it loads, naming its line.
    let dir = with_policy(
        "r := http.send({\"method\": \"get\", \"url\": \"https://example.com\"}); r.status_code == 200",
    );
    for command in ["check", "test"] {
        let args: &[&str] = if command == "check" {
            &["check", "--policy", "policy", "ok.yaml"]
        } else {
            &["test", "policy"]
        };
        let run = kvet(dir.path(), args, None);
        assert_eq!(run.code, 2, "{command}: {}{}", run.stdout, run.stderr);
        assert!(
            run.stderr
                .replace(['\n', '│'], " ")
                .contains("policy policy/p.rego:6: http.send reaches the network"),
            "{}",
            run.stderr
        );
    }
}
