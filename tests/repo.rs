//! Repository mode on `testdata/render/gitops/`: a base, two overlays, a component,
//! strategic-merge and JSON 6902 patches, generators, an `images` transformer, a broken
//! overlay and an Argo CD Application. kvet renders the overlays with the real
//! `kubectl kustomize` (`.ci/run` installs it) and must put every finding in the file and on
//! the line that wrote it.
//!
//! Without kubectl on the PATH the tests that need it say so and pass, except in CI (`CI`
//! set), where a missing kubectl is a failure.

use std::fs;
use std::path::Path;
use std::process::Command;

mod common;

use common::{copy_tree, kvet, make_executable};
use predicates::prelude::*;

const REPO: &str = "testdata/render/gitops";

fn kubectl() -> bool {
    common::tool_available("kubectl", &["--client"])
}

/// `kvet check --format json ARGS` run in `dir`, which must exit with `code`: each diagnostic
/// as `file:line:col rule`, and the report.
fn check_in(dir: &Path, args: &[&str], code: i32) -> (Vec<String>, serde_json::Value) {
    let cache = tempfile::tempdir().unwrap();
    let out = kvet()
        .current_dir(dir)
        .args(["check", "--format", "json", "--cache-dir"])
        .arg(cache.path())
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let found = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(common::placed)
        .collect();
    (found, doc)
}

fn check(args: &[&str], code: i32) -> (Vec<String>, serde_json::Value) {
    check_in(Path::new(env!("CARGO_MANIFEST_DIR")), args, code)
}

fn message<'a>(doc: &'a serde_json::Value, rule: &str) -> &'a str {
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == rule)
        .and_then(|d| d["message"].as_str())
        .unwrap_or_else(|| panic!("no {rule} finding"))
}

#[test]
fn a_repository_is_checked_as_kustomize_builds_it_with_every_finding_in_a_file_people_edit() {
    if !kubectl() {
        return;
    }
    let (found, doc) = check(&[REPO], 1);
    assert_eq!(
        found,
        [
            // Argo CD's CRDs are not given: the Application is valid against kvet's catalog.
            // The missing file, on its list item; and the build that fails because of it.
            "testdata/render/gitops/overlays/broken/kustomization.yaml:3:5 kustomize-missing-file",
            "testdata/render/gitops/overlays/broken/kustomization.yaml:3:5 kustomize-render-failed",
            // A misspelt field in a patch, on its line (the render agrees: one finding).
            "testdata/render/gitops/overlays/dev/debug.yaml:11:11 schema",
            // `newTag: latest` on the images entry of the overlay that sets it.
            "testdata/render/gitops/overlays/prod/kustomization.yaml:9:13 image-tag-latest",
            // The second mount at one path comes from a JSON 6902 operation: on its value.
            "testdata/render/gitops/overlays/prod/mounts.yaml:17:16 duplicate-volume-mount",
        ]
    );
    // The correct patch (env.yaml) gets nothing, the kustomizations no unknown-schema, and
    // nothing is reported in a pseudo-file.
    assert!(
        message(&doc, "duplicate-volume-mount").contains(
            "(first at testdata/render/gitops/base/deployment.yaml:43) (in testdata/render/gitops/overlays/prod)"
        ),
        "{}",
        message(&doc, "duplicate-volume-mount")
    );
    assert!(message(&doc, "kustomize-render-failed").contains("ingress.yaml"));
    let rendered = &doc["diagnostics"][4]["object"];
    assert_eq!(
        (&rendered["namespace"], &rendered["name"]),
        (&"shop".into(), &"web".into())
    );
}

#[test]
fn a_correct_patch_named_alone_passes_and_a_wrong_one_fails_on_its_line() {
    if !kubectl() {
        return;
    }
    let (found, _) = check(&[&format!("{REPO}/overlays/prod/env.yaml")], 0);
    assert_eq!(found, Vec::<String>::new());
    let (found, _) = check(&[&format!("{REPO}/overlays/prod/mounts.yaml")], 1);
    assert_eq!(
        found,
        ["testdata/render/gitops/overlays/prod/mounts.yaml:17:16 duplicate-volume-mount"]
    );
    // The base alone is clean, whatever its overlays' own patches do.
    let (found, _) = check(&[&format!("{REPO}/base/deployment.yaml")], 0);
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn a_change_to_a_base_reports_what_it_breaks_in_an_overlay_on_the_base_line() {
    if !kubectl() {
        return;
    }
    // The base now mounts /tmp, which the prod overlay's JSON patch mounts first.
    let dir = copy_with_base_edit(
        "              mountPath: /var/cache/web\n",
        "              mountPath: /var/cache/web\n            - name: cache\n              mountPath: /tmp\n",
    );
    fs::create_dir(dir.path().join(".git")).unwrap();
    let (found, doc) = check_in(dir.path(), &["base/deployment.yaml"], 1);
    assert_eq!(found, ["base/deployment.yaml:45:26 duplicate-volume-mount"]);
    assert!(
        message(&doc, "duplicate-volume-mount")
            .ends_with("(first at overlays/prod/mounts.yaml:12) (in overlays/prod)")
    );
}

#[test]
fn findings_that_several_overlays_render_alike_are_reported_once_naming_them() {
    if !kubectl() {
        return;
    }
    // Both overlays now render a container without a readiness probe.
    let dir = copy_with_base_edit(
        "          readinessProbe:\n            httpGet: {path: /ready, port: http}\n",
        "",
    );
    let (found, doc) = check_in(dir.path(), &["base", "overlays/dev", "overlays/prod"], 1);
    let probes: Vec<&String> = found
        .iter()
        .filter(|f| f.ends_with("missing-probes"))
        .collect();
    assert_eq!(probes, ["base/deployment.yaml:24:11 missing-probes"]);
    assert!(
        message(&doc, "missing-probes").ends_with("(in overlays/dev, overlays/prod)"),
        "{}",
        message(&doc, "missing-probes")
    );
}

#[test]
fn without_rendering_patches_are_still_patches() {
    // No tool at all: one info says what was not rendered; patches are not whole objects.
    let empty = tempfile::tempdir().unwrap();
    let out = kvet()
        .env("PATH", empty.path())
        .args(["check", "--format", "compact", REPO])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("testdata/render/gitops/overlays/broken/kustomization.yaml:1:1: info[kustomize-not-rendered] 3 kustomizations were not rendered"),
        "{out}"
    );
    assert!(
        out.contains("overlays/dev/debug.yaml:11:11: error[schema]"),
        "{out}"
    );
    for wrong in [
        "selector",
        "env.yaml",
        "mounts.yaml",
        "unknown-schema] no schema for Kustomization",
    ] {
        assert!(!out.contains(wrong), "{wrong}:\n{out}");
    }
    // --no-render says it is meant: no info.
    kvet()
        .args(["check", "--format", "compact", "--no-render", REPO])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("kustomize-not-rendered").not())
        .stdout(predicate::str::contains("image-tag-latest").not());
}

#[test]
fn renders_are_cached_until_a_file_they_read_changes() {
    if !kubectl() {
        return;
    }
    let kubectl = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v kubectl"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join(REPO),
        dir.path(),
    );
    // A kustomize that logs each build and has kubectl do it.
    let tools = tempfile::tempdir().unwrap();
    let log = tools.path().join("builds.log");
    let script = tools.path().join("kustomize");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$2\" >> {}\nexec {} kustomize \"$2\"\n",
            log.display(),
            kubectl.trim()
        ),
    )
    .unwrap();
    make_executable(&script);
    let cache = tempfile::tempdir().unwrap();
    let run = || {
        kvet()
            .current_dir(dir.path())
            .env("PATH", tools.path())
            .args(["check", "--format", "compact", "--cache-dir"])
            .arg(cache.path())
            .arg("overlays")
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone()
    };
    let builds = || fs::read_to_string(&log).unwrap_or_default().lines().count();
    let first = run();
    assert_eq!(builds(), 3, "dev, prod and broken are built");
    assert_eq!(run(), first, "the cached renders give the same report");
    assert_eq!(builds(), 4, "only the failed build runs again");
    fs::write(
        dir.path().join("overlays/prod/settings.properties"),
        "color=red\n",
    )
    .unwrap();
    run();
    assert_eq!(builds(), 6, "prod reads the changed file: built again");
}

/// A copy of the repository whose base Deployment has `from` replaced by `to`.
fn copy_with_base_edit(from: &str, to: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join(REPO),
        dir.path(),
    );
    let deployment = dir.path().join("base/deployment.yaml");
    let text = fs::read_to_string(&deployment).unwrap();
    assert!(text.contains(from));
    fs::write(&deployment, text.replace(from, to)).unwrap();
    dir
}

#[test]
fn suppressions_in_a_base_or_a_patch_reach_the_findings_placed_there() {
    if !kubectl() {
        return;
    }
    // The base's annotation covers its object wherever a finding on it is placed; a comment
    // in a patch covers the operation below it.
    let dir = copy_with_base_edit(
        "  labels:\n    app: web\n",
        "  labels:\n    app: web\n  annotations:\n    ignore.kvet.dev/image-tag-latest: nightly builds are pinned at deploy time\n",
    );
    let mounts = dir.path().join("overlays/prod/mounts.yaml");
    let text = fs::read_to_string(&mounts).unwrap().replace(
        "- op: add\n  path: /spec/template/spec/containers/0/volumeMounts/-\n",
        "# kvet:ignore duplicate-volume-mount -- the cache is shared on purpose\n- op: add\n  path: /spec/template/spec/containers/0/volumeMounts/-\n",
    );
    fs::write(&mounts, text).unwrap();
    let (found, doc) = check_in(dir.path(), &["overlays/prod"], 0);
    assert_eq!(found, Vec::<String>::new());
    assert_eq!(doc["summary"]["suppressed"], 2);
}

#[test]
fn a_helm_chart_kustomize_would_download_is_not_rendered_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("kustomization.yaml"),
        "helmCharts:\n  - name: redis\n    repo: https://charts.example.com\n    version: 1.0.0\n",
    )
    .unwrap();
    let out = kvet()
        .current_dir(dir.path())
        .args(["check", "--format", "compact", "."])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.starts_with("kustomization.yaml:2:5: info[kustomize-not-rendered] this kustomization was not rendered: the Helm chart `redis` is not in the repository"),
        "{out}"
    );
    let entries: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "only the kustomization is there");
}

/// `kvet check - --stdin-filename FILE` (an editor's unsaved buffer; `kvet lsp` passes its
/// open documents alike): every render that reads the file reads the buffer, from a copy.
fn check_with_buffer(file: &str, from: &str, to: &str, code: i32) -> Vec<String> {
    let on_disk = fs::read_to_string(Path::new(REPO).join(file)).unwrap();
    assert!(on_disk.contains(from));
    let cache = tempfile::tempdir().unwrap();
    let name = format!("{REPO}/{file}");
    let out = kvet()
        .args(["check", "--format", "json", "--cache-dir"])
        .arg(cache.path())
        .args([REPO, "-", "--stdin-filename", &name])
        .write_stdin(on_disk.replace(from, to))
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    // The user's file is as it was.
    assert_eq!(
        fs::read_to_string(Path::new(REPO).join(file)).unwrap(),
        on_disk
    );
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    let placed = doc["diagnostics"].as_array().unwrap().iter();
    placed.map(common::placed).collect()
}

#[test]
fn renders_read_an_editors_buffer_in_place_of_its_file() {
    if !kubectl() {
        return;
    }
    // A base buffer that mounts /tmp, which the prod overlay's JSON patch mounts first: the
    // overlay's render reads the buffer, and the finding is on the buffer's line.
    let found = check_with_buffer(
        "base/deployment.yaml",
        "              mountPath: /var/cache/web\n",
        "              mountPath: /var/cache/web\n            - name: cache\n              mountPath: /tmp\n",
        1,
    );
    assert!(
        found.contains(&format!(
            "{REPO}/base/deployment.yaml:45:26 duplicate-volume-mount"
        )),
        "{found:#?}"
    );
    // A kustomization buffer that pins the tag: its render has no `latest` any more, and the
    // buffer's new field is where kustomize's warning goes.
    let found = check_with_buffer(
        "overlays/prod/kustomization.yaml",
        "    newTag: latest\n",
        "    newTag: \"1.2\"\ncommonLabels: {team: shop}\n",
        1,
    );
    assert!(
        !found.iter().any(|f| f.ends_with("image-tag-latest")),
        "{found:#?}"
    );
    assert!(
        found.contains(&format!(
            "{REPO}/overlays/prod/kustomization.yaml:10:1 render-warning"
        )),
        "{found:#?}"
    );
}

/// A kustomization that includes its base through a symbolic link renders from the copy that
/// holds an unsaved buffer as it does from disk.
#[cfg(unix)]
#[test]
fn a_buffer_renders_through_linked_folders() {
    if !kubectl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    fs::create_dir_all(d.join("base")).unwrap();
    fs::create_dir_all(d.join("app")).unwrap();
    fs::write(d.join("base/kustomization.yaml"), "resources: [cm.yaml]\n").unwrap();
    fs::write(
        d.join("base/cm.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: nginx:latest\n",
    )
    .unwrap();
    fs::write(d.join("app/kustomization.yaml"), "resources: [shared]\n").unwrap();
    std::os::unix::fs::symlink("../base", d.join("app/shared")).unwrap();
    // The buffer prefixes every name: the render reads it, and the base through the link.
    let cache = tempfile::tempdir().unwrap();
    let out = kvet()
        .current_dir(d)
        .args(["check", "--format", "json", "--cache-dir"])
        .arg(cache.path())
        .args(["app", "-", "--stdin-filename", "app/kustomization.yaml"])
        .write_stdin("resources: [shared]\nnamePrefix: x-\n")
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let latest = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "image-tag-latest")
        .unwrap_or_else(|| panic!("{doc}"));
    assert_eq!(latest["object"]["name"], "x-web", "{doc}");
    assert!(
        !doc.to_string().contains("kustomize-render-failed"),
        "{doc}"
    );
    // Nothing of the render is kept: the next edit makes it useless.
    assert_eq!(fs::read_dir(cache.path()).map_or(0, |d| d.count()), 0);
}
