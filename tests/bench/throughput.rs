//! Throughput of the loader and of a full check, on the real-world corpus.
//!
//! `cargo bench --bench throughput [-- CORPUS_DIR]` (default `../shared/corpus/real`). Reports
//! medians over several runs: the raw saphyr-parser event rate (the ceiling), kvet's loader
//! (events → tree with spans → objects), and `kvet::lint` (discovery, reading, loading, every
//! rule, sorting) on one thread and on all cores. Not a test: nothing here runs in CI.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kvet::config::Config;
use kvet::{LintOptions, lint};

const RUNS: usize = 9;

// The allocator the kvet binary uses (src/main.rs), so the figures match it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let corpus = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/real"));
    if !corpus.is_dir() {
        eprintln!("corpus {} not found; nothing to measure", corpus.display());
        return;
    }
    let mut texts = Vec::new();
    collect(&corpus, &mut texts);
    let bytes: usize = texts.iter().map(String::len).sum();
    let mb = bytes as f64 / 1e6;
    println!(
        "corpus: {} ({} files, {:.1} MB)",
        corpus.display(),
        texts.len(),
        mb
    );

    let events = median(|| {
        let mut n = 0usize;
        for t in &texts {
            for ev in saphyr_parser::Parser::new_from_str(t) {
                if ev.is_err() {
                    break;
                }
                n += 1;
            }
        }
        n
    });
    let load = median(|| {
        texts
            .iter()
            .map(|t| kvet::load::load_text(t).objects.len())
            .sum::<usize>()
    });
    let objects = load.1;
    println!(
        "raw parser events : {:7.1} MB/s  ({} events)",
        mb / events.0.as_secs_f64(),
        events.1
    );
    println!(
        "load (1 core)     : {:7.1} MB/s  {:8.0} objects/s  ({:.2}x the raw parser's time)",
        mb / load.0.as_secs_f64(),
        objects as f64 / load.0.as_secs_f64(),
        load.0.as_secs_f64() / events.0.as_secs_f64()
    );

    let opts = LintOptions {
        paths: vec![corpus.display().to_string()],
        ..LintOptions::default()
    };
    let config = Config::default();
    for threads in [
        1,
        std::thread::available_parallelism().map_or(2, |n| n.get()),
    ] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let check = median(|| pool.install(|| lint(&opts, &config).unwrap().summary.objects));
        println!(
            "check ({threads} thread{}) : {:7.1} MB/s  {:8.0} objects/s  ({} objects, median {:.0} ms)",
            if threads == 1 { "" } else { "s" },
            mb / check.0.as_secs_f64(),
            check.1 as f64 / check.0.as_secs_f64(),
            check.1,
            check.0.as_secs_f64() * 1e3
        );
    }
    schema_validation_cost(&corpus);
    policy_cost(&corpus, objects);
    rules_share(&corpus, objects);
    schema_compile_cost();
    peak_memory(&corpus, &[]);
    let crds = crds_beside(&corpus);
    if let Some(crds) = &crds {
        peak_memory(&corpus, &["--crds", &crds.display().to_string()]);
    }
}

/// The CRDs of the corpus' projects (`../crds` next to it), when present.
fn crds_beside(corpus: &Path) -> Option<PathBuf> {
    Some(corpus.parent()?.join("crds")).filter(|p| p.is_dir())
}

/// Median wall time of the real binary checking the corpus with `args` (as a user runs it:
/// the process exits without freeing what it built). `config` is written to a file and passed
/// with `--config`.
fn binary_median(corpus: &Path, config: &str, args: &[&str]) -> f64 {
    let file = std::env::temp_dir().join(format!("kvet-bench-{}.yaml", std::process::id()));
    std::fs::write(&file, config).unwrap();
    let time = median(|| {
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_kvet"))
            .args(["check", "--format", "json", "--config"])
            .arg(&file)
            .arg(corpus)
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(
            status.code().is_some_and(|c| c < 2),
            "kvet failed: {status}"
        );
    })
    .0
    .as_secs_f64();
    let _ = std::fs::remove_file(file);
    time
}

/// What schema validation adds to the load of the corpus: the check with the schema rules off,
/// then on, then on with the corpus' CRDs (whose reading counts as validation here).
fn schema_validation_cost(corpus: &Path) {
    let off = "rules: {schema: off, unknown-schema: off, removed-api: off, deprecated-api: off}";
    let base = binary_median(corpus, off, &[]);
    let full = binary_median(corpus, "", &[]);
    println!(
        "kvet check, schema rules off: {:.0} ms; on: {:.0} ms (adds {:.2}x)",
        base * 1e3,
        full * 1e3,
        (full - base) / base
    );
    if let Some(crds) = crds_beside(corpus) {
        let with_crds = binary_median(corpus, "", &["--crds", &crds.display().to_string()]);
        println!(
            "kvet check --crds {}: {:.0} ms (adds {:.2}x)",
            crds.display(),
            with_crds * 1e3,
            (with_crds - base) / base
        );
    }
}

/// What the built-in policies add (all of them; and host-path-mount with image-tag-latest
/// alone), and the same two rules as a conftest policy loaded with `--policy`
/// (tests/bench/conftest).
fn policy_cost(corpus: &Path, objects: usize) {
    let ids: Vec<&str> = kvet::policy::builtin::policies()
        .iter()
        .map(|p| p.meta.id)
        .collect();
    let off = |keep: &[&str]| {
        let rules: Vec<String> = ids
            .iter()
            .filter(|id| !keep.contains(id))
            .map(|id| format!("{id}: off"))
            .collect();
        format!("rules: {{{}}}", rules.join(", "))
    };
    let two = ["host-path-mount", "image-tag-latest"];
    let base = binary_median(corpus, &off(&[]), &[]);
    let all = binary_median(corpus, "", &[]);
    let builtin_two = binary_median(corpus, &off(&two), &[]);
    let conftest = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bench/conftest");
    let user_two = binary_median(corpus, &off(&[]), &["--policy", conftest]);
    let rate = |t: f64| objects as f64 / (t - base).max(1e-9);
    println!(
        "policies off: {:.0} ms; all {} built-in policies: {:.0} ms (adds {:.2}x, {:.0} objects/s for them alone)",
        base * 1e3,
        ids.len(),
        all * 1e3,
        (all - base) / base,
        rate(all)
    );
    println!(
        "host-path-mount + image-tag-latest built in: {:.0} ms ({:.0} objects/s); as a --policy conftest folder: {:.0} ms ({:.0} objects/s)",
        builtin_two * 1e3,
        rate(builtin_two),
        user_two * 1e3,
        rate(user_two)
    );
}

/// The full check (schemas and every built-in rule) against the same run with every rule off
/// (discovery, reading, parsing, sorting and output only): objects/s and the rules' share.
fn rules_share(corpus: &Path, objects: usize) {
    let ids: Vec<String> = kvet::rules::registry()
        .iter()
        .map(|m| format!("{}: off", m.id))
        .collect();
    let off = format!("rules: {{{}}}", ids.join(", "));
    let bare = binary_median(corpus, &off, &[]);
    let full = binary_median(corpus, "", &[]);
    println!(
        "every rule off: {:.0} ms; full check: {:.0} ms, {:.0} objects/s, {:.2}x the load-only run; the rules take {:.0}% of it",
        bare * 1e3,
        full * 1e3,
        objects as f64 / full,
        full / bare,
        100.0 * (full - bare) / full
    );
    let file = std::env::temp_dir().join(format!("kvet-bench-off-{}.yaml", std::process::id()));
    std::fs::write(&file, &off).unwrap();
    peak_memory(corpus, &["--config", &file.display().to_string()]);
    let _ = std::fs::remove_file(file);
}

/// The first use of a Kubernetes version (decompress, parse, register), the first compile of
/// a kind's validator, and a cached look-up. 1.36 is used by nothing above, so it starts cold.
fn schema_compile_cost() {
    use kvet::schema::store::builtin_kind;
    let timed = |api_version: &str, kind: &str| {
        let start = Instant::now();
        assert!(builtin_kind("1.36", api_version, kind).is_some());
        start.elapsed()
    };
    let first_version = timed("apps/v1", "Deployment");
    let first_kind = timed("v1", "Service");
    let cached = timed("apps/v1", "Deployment");
    println!(
        "schema: first use of a version {:.1} ms, first compile of a kind {:.2} ms, cached {:.1} µs",
        first_version.as_secs_f64() * 1e3,
        first_kind.as_secs_f64() * 1e3,
        cached.as_secs_f64() * 1e6
    );
}

/// Peak RSS of the real binary checking the corpus, as GNU time reports it.
fn peak_memory(corpus: &Path, extra: &[&str]) {
    let out = std::process::Command::new("/usr/bin/time")
        .args(["-f", "%M"])
        .arg(env!("CARGO_BIN_EXE_kvet"))
        .args(["check", "--format", "json"])
        .arg(corpus)
        .args(extra)
        .stdout(std::process::Stdio::null())
        .output();
    match out {
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let kb: f64 = stderr
                .lines()
                .last()
                .and_then(|l| l.trim().parse().ok())
                .unwrap_or(0.0);
            println!(
                "peak RSS (kvet check {}, all cores): {:.1} MB",
                extra.join(" "),
                kb / 1024.0
            );
        }
        Err(e) => println!("peak RSS: not measured (/usr/bin/time: {e}; apt-get install time)"),
    }
}

/// Median wall time of `RUNS` runs, and what the last run returned.
fn median<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::with_capacity(RUNS);
    let mut out = f(); // warm-up
    for _ in 0..RUNS {
        let start = Instant::now();
        out = std::hint::black_box(f());
        times.push(start.elapsed());
    }
    times.sort();
    (times[RUNS / 2], out)
}

fn collect(dir: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml")
            && let Ok(text) = std::fs::read_to_string(&path)
        {
            out.push(text);
        }
    }
}
