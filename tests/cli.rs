//! End-to-end tests of the `kvet` binary: formats, exit codes, stdin, discovery, config.

use std::fs;
use std::path::Path;

mod common;

use common::kvet;
use predicates::prelude::*;
use serde_json::Value;

const EXAMPLE: &str = "testdata/examples/rendered-chart.yaml";

/// A scratch folder with `files` written into it (paths relative to it).
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
    dir
}

fn json(output: &[u8]) -> Value {
    serde_json::from_slice(output).expect("stdout is JSON")
}

const CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n";
/// A hardened Pod (resources, probes, securityContext: the hardening rules stay silent) whose
/// only problem is a duplicate env var (a warning) at 8:31.
const DUP_ENV: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: x:1\n      env: [{name: A}, {name: A}]\n      resources: {requests: {cpu: 10m, memory: 16Mi}, limits: {memory: 16Mi}}\n      livenessProbe: {exec: {command: [\"true\"]}}\n      securityContext: {runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true}\n  automountServiceAccountToken: false\n";

/// [`DUP_ENV`], named so that several never collide.
fn dup_env(name: &str) -> String {
    DUP_ENV.replace("{name: p}", &format!("{{name: {name}}}"))
}

#[test]
fn human_output_shows_snippets_and_a_summary() {
    let out = kvet()
        .args(["check", EXAMPLE])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
}

/// `--show-level` hides findings below it from every report, and the exit status still counts
/// them; `--statistics` prints the per-rule table instead of the findings (issue 16).
#[test]
fn show_level_hides_findings_and_statistics_counts_them() {
    // Three errors and a warning.
    let shown = kvet()
        .args([
            "check",
            "--format",
            "json",
            "--show-level",
            "error",
            "--fail-level",
            "warning",
            EXAMPLE,
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let doc = json(&shown);
    let levels: Vec<&str> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["error", "error", "error"]);
    assert_eq!(doc["summary"]["hidden"], 1);
    assert_eq!(doc["summary"]["warnings"], 0);
    // Hidden, the warning still fails a run at --fail-level warning.
    kvet()
        .args([
            "check",
            "--format",
            "compact",
            "--show-level",
            "error",
            "--fail-level",
            "warning",
            "-",
        ])
        .write_stdin(DUP_ENV)
        .assert()
        .code(1)
        .stdout("");
    kvet()
        .args(["check", "--statistics", EXAMPLE])
        .assert()
        .code(1)
        .stdout(
            "Findings by rule:\n      1  error    duplicate-object\n      1  error    duplicate-volume\n      1  error    duplicate-volume-mount\n      1  warning  duplicate-env\n3 errors, 1 warning, 0 infos in 1 file (4 objects)\n",
        );
}

#[test]
fn json_output_has_the_documented_shape() {
    let out = kvet()
        .args(["check", "--format", "json", EXAMPLE])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let doc = json(&out);
    assert_eq!(doc["version"], 1);
    let first = &doc["diagnostics"][0];
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut keys = keys;
    keys.sort();
    assert_eq!(
        keys,
        [
            "column",
            "end_column",
            "end_line",
            "file",
            "help",
            "level",
            "line",
            "message",
            "object",
            "pointer",
            "rule",
            "source_template"
        ]
    );
    let object_keys: Vec<&str> = first["object"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(object_keys, ["apiVersion", "kind", "name", "namespace"]);
    assert_eq!(
        doc["summary"],
        serde_json::json!({"files": 1, "objects": 4, "errors": 3, "warnings": 1, "infos": 0, "skipped": 0, "suppressed": 0, "baselined": 0})
    );
    let volume = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "duplicate-volume")
        .unwrap();
    assert_eq!(
        (volume["line"].as_u64(), volume["column"].as_u64()),
        (Some(53), Some(17))
    );
    assert_eq!(
        (volume["end_line"].as_u64(), volume["end_column"].as_u64()),
        (Some(53), Some(23))
    );
    assert_eq!(volume["pointer"], "/spec/template/spec/volumes/1/name");
    assert_eq!(volume["source_template"], "shop/templates/deployment.yaml");
    assert_eq!(volume["level"], "error");
}

#[test]
fn compact_output_is_one_line_per_diagnostic() {
    kvet()
        .args(["check", "--format", "compact", EXAMPLE])
        .assert()
        .code(1)
        .stdout(
            "testdata/examples/rendered-chart.yaml:42:21: warning[duplicate-env] container \"shop\" sets environment variable \"LOG_LEVEL\" twice (first at line 39); only the last value is used\n\
             testdata/examples/rendered-chart.yaml:48:26: error[duplicate-volume-mount] container \"shop\" mounts two volumes at \"/etc/shop\" (first at line 46)\n\
             testdata/examples/rendered-chart.yaml:53:17: error[duplicate-volume] volume \"config\" is defined twice (first at line 50)\n\
             testdata/examples/rendered-chart.yaml:61:9: error[duplicate-object] ConfigMap shop/shop-config is defined twice (first at line 6)\n",
        );
}

#[test]
fn exit_codes_follow_the_fail_level() {
    let dir = tree(&[("clean.yaml", CONFIGMAP), ("warn.yaml", DUP_ENV)]);
    let clean = dir.path().join("clean.yaml");
    let warn = dir.path().join("warn.yaml");
    kvet()
        .args(["check"])
        .arg(&clean)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "0 errors, 0 warnings, 0 infos in 1 file (1 object)",
        ));
    // A warning does not fail the default run, but does at --fail-level warning.
    kvet().args(["check"]).arg(&warn).assert().code(0);
    kvet()
        .args(["check", "--fail-level", "warning"])
        .arg(&warn)
        .assert()
        .code(1);
    kvet()
        .args(["check", "--fail-level", "info"])
        .arg(&clean)
        .assert()
        .code(0);
}

#[test]
fn usage_errors_exit_2() {
    kvet().args(["check", "--no-such-flag"]).assert().code(2);
    kvet()
        .args(["check", "--format", "xml", EXAMPLE])
        .assert()
        .code(2);
    kvet()
        .args(["check", "--fail-level", "fatal", EXAMPLE])
        .assert()
        .code(2);
    kvet()
        .args(["check", "--jobs", "0", EXAMPLE])
        .assert()
        .code(2);
    kvet()
        .args(["check", "--include", "[", EXAMPLE])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid glob"));
    kvet()
        .args(["check", "--stdin-filename", "x.yaml", EXAMPLE])
        .assert()
        .code(2);
    kvet()
        .args(["explain", "no-such-rule"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown rule"));
    kvet().args(["frobnicate"]).assert().code(2);
    kvet()
        .args(["check", "--kubernetes-version", "1.12", EXAMPLE])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("unknown Kubernetes version \"1.12\"")
                .and(predicate::str::contains("1.25, 1.26")),
        );
    kvet().args(["--help"]).assert().code(0);
}

#[test]
fn the_kubernetes_version_selects_schemas_and_served_apis() {
    let hpa = "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec:\n  scaleTargetRef: {kind: Deployment, name: web}\n  maxReplicas: 3\n";
    // Still served by 1.25 (a warning), gone by 1.26 (an error).
    kvet()
        .args([
            "check",
            "--format",
            "compact",
            "--kubernetes-version",
            "1.25",
            "-",
        ])
        .write_stdin(hpa)
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(
            "<stdin>:1:13: warning[deprecated-api]",
        ));
    kvet()
        .args([
            "check",
            "--format",
            "compact",
            "--kubernetes-version",
            "v1.26.3",
            "-",
        ])
        .write_stdin(hpa)
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(
            "<stdin>:1:13: error[removed-api]",
        ));
}

#[test]
fn crds_from_a_folder_validate_custom_resources() {
    let crd = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/schema/pass/custom-resource.yaml"),
    )
    .unwrap();
    let crd = crd.split("\n---\n").next().unwrap().to_owned();
    let dir = tree(&[
        ("crds/gadget.yaml", &crd),
        (
            "app/gadget.yaml",
            "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\nspec:\n  port: [1]\n",
        ),
    ]);
    kvet()
        .current_dir(dir.path())
        .args(["check", "--format", "compact", "--crds", "crds", "app"])
        .assert()
        .code(1)
        .stdout("app/gadget.yaml:5:9: error[schema] spec.port: expected integer or string, got a list\n");
    // Without the CRD the object is not validated.
    kvet()
        .current_dir(dir.path())
        .args(["check", "app"])
        .assert()
        .code(0);
    kvet()
        .current_dir(dir.path())
        .args(["check", "--crds", "nowhere", "app"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read --crds nowhere"));
}

/// `--crds` files are indexed from their skeleton (schemas blanked out) and a schema is read
/// again when an object of its version is met: anchors inside schemas, aliases to them from
/// outside (the skeleton does not parse: the file is read whole) and multi-document files.
#[test]
fn crds_are_read_again_for_the_versions_the_input_uses() {
    let crd = |kind: &str, versions: &str, names: &str| {
        format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: x}}\nspec:\n  group: example.com\n  scope: Namespaced\n  versions:\n{versions}  names: {{kind: {kind}, plural: p{names}}}\n"
        )
    };
    let version = |name: &str, body: &str| {
        format!(
            "  - name: {name}\n    served: true\n    storage: {}\n    schema:\n      openAPIV3Schema:\n        type: object\n{body}",
            name == "v1"
        )
    };
    let widget = crd(
        "Widget",
        &(version(
            "v1",
            "        properties: &props\n          spec:\n            properties:\n              size: {type: integer}\n",
        ) + &version("v2", "        properties: *props\n")),
        "",
    );
    let sprocket = crd(
        "Sprocket",
        &version(
            "v1",
            "        description: &d sprocket\n        properties:\n          spec:\n            properties:\n              teeth: {type: integer}\n",
        ),
        ", singular: *d",
    );
    let objects = "apiVersion: example.com/v2\nkind: Widget\nmetadata: {name: w}\nspec: {size: big}\n---\napiVersion: example.com/v1\nkind: Sprocket\nmetadata: {name: s}\nspec: {teeth: many}\n";
    let dir = tree(&[
        ("crds/bundle.yaml", &format!("{widget}---\n{sprocket}")),
        ("app/objects.yaml", objects),
    ]);
    kvet()
        .current_dir(dir.path())
        .args(["check", "--format", "compact", "--no-catalog", "--crds", "crds", "app"])
        .assert()
        .code(1)
        .stdout(
            "app/objects.yaml:4:14: error[schema] spec.size: expected integer, got string \"big\"\n\
             app/objects.yaml:9:15: error[schema] spec.teeth: expected integer, got string \"many\"\n",
        );
}

/// The catalog's ApplicationSet repeats the generators and the Application template; kvet
/// compiles each repeated subschema once (`$defs`). Findings deep in them read as before, with
/// the known fields of the right place.
#[test]
fn repeated_subschemas_keep_their_findings() {
    let dir = tree(&[(
        "appset.yaml",
        "apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: bad
spec:
  generators:
  - matrix:
      generators:
      - list:
          elementz: []
      - git:
          repoURL: https://x
          revision: 3
          directoriez: []
          template:
            metadata: {name: x}
            spec:
              project: p
              sourcez: {}
              destination: {namespace: 1}
  template:
    metadata:
      name: 'x'
    spec:
      project: default
      source:
        repoURLL: x
        helm: {valueFiles: 3}
      destination:
        name: ambient-cluster\n",
    )]);
    kvet()
        .current_dir(dir.path())
        .args(["check", "--format", "compact", "appset.yaml"])
        .assert()
        .code(1)
        .stdout(
            "appset.yaml:7:5: info[helm-not-rendered] ApplicationSet bad: what its `matrix` generator generates is not known offline, so those Applications were not rendered\n\
             appset.yaml:10:11: error[schema] spec.generators[0].matrix.generators[0].list: unknown field \"elementz\" (did you mean \"elements\"?)\n\
             appset.yaml:13:21: error[schema] spec.generators[0].matrix.generators[1].git.revision: expected string, got integer 3\n\
             appset.yaml:14:11: error[schema] spec.generators[0].matrix.generators[1].git: unknown field \"directoriez\" (did you mean \"directories\"?)\n\
             appset.yaml:19:15: error[schema] spec.generators[0].matrix.generators[1].git.template.spec: unknown field \"sourcez\" (did you mean \"source\"?)\n\
             appset.yaml:20:40: error[schema] spec.generators[0].matrix.generators[1].git.template.spec.destination.namespace: expected string, got integer 1\n\
             appset.yaml:26:7: error[schema] spec.template.spec.source: missing required field \"repoURL\"\n\
             appset.yaml:27:9: error[schema] spec.template.spec.source: unknown field \"repoURLL\" (did you mean \"repoURL\"?)\n\
             appset.yaml:28:28: error[schema] spec.template.spec.source.helm.valueFiles: expected array, got integer 3\n",
        );
}

#[test]
fn kubeconform_schema_folders_keep_working() {
    let schema = r#"{"type": "object", "additionalProperties": false, "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
        "spec": {"type": "object", "additionalProperties": false, "properties": {"replicas": {"type": "integer"}}}}}"#;
    let rollout = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  replicas: 2\n  replicaz: 3\n";
    let dir = tree(&[
        ("catalog/argoproj.io/rollout_v1alpha1.json", schema),
        (
            "kubeconform/v1.37.0-standalone-strict/rollout-argoproj-v1alpha1.json",
            schema,
        ),
        ("app/rollout.yaml", rollout),
    ]);
    let expected = "app/rollout.yaml:6:3: error[schema] spec: unknown field \"replicaz\" (did you mean \"replicas\"?)\n";
    for location in [
        "catalog/{{ .Group }}/{{ .ResourceKind }}_{{ .ResourceAPIVersion }}.json",
        "kubeconform",
    ] {
        kvet()
            .current_dir(dir.path())
            .args([
                "check",
                "--format",
                "compact",
                "--schema-location",
                location,
                "app",
            ])
            .assert()
            .code(1)
            .stdout(expected);
    }
    // Without it (and without kvet's CRD catalog, which has Rollouts and comes first), the
    // Rollout has no schema.
    kvet()
        .current_dir(dir.path())
        .args(["check", "--format", "compact", "--no-catalog", "app"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("warning[unknown-schema]"));
    // A server that cannot be reached is a diagnostic on the object, not a crash.
    kvet()
        .current_dir(dir.path())
        .args([
            "check",
            "--format",
            "compact",
            "--cache-dir",
            "cache",
            "--no-catalog",
        ])
        .args([
            "--schema-location",
            "http://127.0.0.1:1/{{ .ResourceKind }}.json",
            "app",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "cannot download http://127.0.0.1:1/rollout.json",
        ));
}

/// A static file server on the loopback interface, stopped when dropped.
struct FileServer {
    child: std::process::Child,
    port: u16,
}

impl FileServer {
    fn serve(dir: &Path) -> FileServer {
        use std::io::BufRead;
        let mut child = std::process::Command::new("python3")
            .args([
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 runs the test's file server");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // "Serving HTTP on 127.0.0.1 port 43211 (http://127.0.0.1:43211/) ..."
        let port = line
            .split("port ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|p| p.parse().ok());
        FileServer {
            child,
            port: port.unwrap_or_else(|| panic!("no port in {line:?}")),
        }
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn remote_schema_locations_are_downloaded_once_into_the_cache() {
    let schema = r#"{"type": "object", "properties": {"spec": {"type": "object", "additionalProperties": false, "properties": {"replicas": {"type": "integer"}}}}}"#;
    let dir = tree(&[
        ("site/argoproj.io/rollout_v1alpha1.json", schema),
        (
            "app/rollout.yaml",
            "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec: {replicaz: 3}\n",
        ),
    ]);
    let server = FileServer::serve(&dir.path().join("site"));
    let location = format!(
        "http://127.0.0.1:{}/{{{{ .Group }}}}/{{{{ .ResourceKind }}}}_{{{{ .ResourceAPIVersion }}}}.json",
        server.port
    );
    let run = || {
        kvet()
            .current_dir(dir.path())
            .args(["check", "--format", "compact", "--cache-dir", "cache", "--schema-location", &location, "app"])
            .assert()
            .code(1)
            .stdout("app/rollout.yaml:4:8: error[schema] spec: unknown field \"replicaz\" (did you mean \"replicas\"?)\n");
    };
    run();
    assert_eq!(fs::read_dir(dir.path().join("cache")).unwrap().count(), 1);
    // The server is gone: the cached copy is used.
    drop(server);
    run();
}

#[test]
fn stdin_is_read_with_dash() {
    kvet()
        .args(["check", "--format", "compact", "-"])
        .write_stdin(DUP_ENV)
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(
            "<stdin>:8:31: warning[duplicate-env]",
        ));
}

#[test]
fn stdin_filename_names_the_buffer_and_selects_config_overrides() {
    let dir = tree(&[(
        ".kvet.yaml",
        "overrides:\n  - files: [\"k8s/**\"]\n    rules:\n      duplicate-env: error\n",
    )]);
    let out = kvet()
        .current_dir(dir.path())
        .args([
            "check",
            "--format",
            "json",
            "-",
            "--stdin-filename",
            "k8s/app.yaml",
        ])
        .write_stdin(DUP_ENV)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let doc = json(&out);
    assert_eq!(doc["diagnostics"][0]["file"], "k8s/app.yaml");
    assert_eq!(doc["diagnostics"][0]["level"], "error");
    // Elsewhere the override does not apply.
    kvet()
        .current_dir(dir.path())
        .args([
            "check",
            "--format",
            "compact",
            "-",
            "--stdin-filename",
            "other/app.yaml",
        ])
        .write_stdin(DUP_ENV)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("warning[duplicate-env]"));
}

#[test]
fn output_is_identical_at_any_thread_count() {
    let run = |jobs: &str| {
        kvet()
            .args(["check", "--format", "json", "--jobs", jobs, "testdata"])
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone()
    };
    let one = run("1");
    assert_eq!(one, run("2"));
    assert_eq!(one, run("4"));
    // Sorted by file, line, column.
    let doc = json(&one);
    let keys: Vec<(String, u64, u64)> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_owned(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[test]
fn folders_are_walked_with_hidden_and_ignored_paths_skipped() {
    let dir = tree(&[
        ("deploy/a.yaml", &dup_env("a")),
        ("deploy/nested/b.yml", &dup_env("b")),
        ("deploy/notes.txt", &dup_env("notes")),
        ("deploy/.hidden/c.yaml", &dup_env("c")),
        ("deploy/generated/d.yaml", &dup_env("d")),
        ("deploy/.gitignore", "generated/\n"),
        ("deploy/vendor/e.yaml", &dup_env("e")),
    ]);
    let files = |extra: &[&str]| -> Vec<String> {
        let out = kvet()
            .current_dir(dir.path())
            .args(["check", "--format", "compact", "deploy"])
            .args(extra)
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| l.split(':').next().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        files(&[]),
        [
            "deploy/a.yaml",
            "deploy/nested/b.yml",
            "deploy/vendor/e.yaml"
        ]
    );
    assert_eq!(
        files(&["--exclude", "vendor"]),
        ["deploy/a.yaml", "deploy/nested/b.yml"]
    );
    assert_eq!(
        files(&["--exclude", "deploy/nested/**"]),
        ["deploy/a.yaml", "deploy/vendor/e.yaml"]
    );
    assert_eq!(
        files(&["--include", "*.txt,*.yml"]),
        ["deploy/nested/b.yml", "deploy/notes.txt"]
    );
}

#[test]
fn a_file_named_twice_is_read_once() {
    let dir = tree(&[("a.yaml", CONFIGMAP)]);
    kvet()
        .current_dir(dir.path())
        .args(["check", ".", "a.yaml", "./a.yaml"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("in 1 file (1 object)"));
}

#[test]
fn a_file_named_by_relative_absolute_and_dotted_paths_is_read_once() {
    let dir = tree(&[("apps/a.yaml", CONFIGMAP)]);
    let absolute = dir.path().join("apps/a.yaml");
    kvet()
        .current_dir(dir.path())
        .args(["check", "apps/a.yaml", "apps/../apps/a.yaml", "."])
        .arg(&absolute)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("in 1 file (1 object)"));
}

#[test]
fn exclude_globs_work_however_the_folder_is_named() {
    let dir = tree(&[
        ("repo/apps/x.gen.yaml", &dup_env("pod-x")),
        ("repo/apps/y.yaml", &dup_env("pod-y")),
    ]);
    let abs_glob = format!("{}/repo/apps/*.gen.yaml", dir.path().display());
    let cases: &[&[&str]] = &[
        &["repo", "--exclude", "apps/*.gen.yaml"],
        &["repo/apps", "repo", "--exclude", "apps/*.gen.yaml"],
        &["repo", "--exclude", "./repo/apps/*.gen.yaml"],
        &["repo", "--exclude", &abs_glob],
        &[
            "repo/apps/x.gen.yaml",
            "repo/apps/y.yaml",
            "--exclude",
            "*.gen.yaml",
        ],
    ];
    for args in cases {
        let out = kvet()
            .current_dir(dir.path())
            .args(["check", "--format", "compact"])
            .args(*args)
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        let out = String::from_utf8(out).unwrap();
        assert!(
            out.contains("y.yaml:8:31") && !out.contains("x.gen.yaml"),
            "{args:?}: {out}"
        );
    }
    // A trailing slash names a folder, as in .gitignore.
    kvet()
        .current_dir(dir.path())
        .args(["check", "repo", "--exclude", "apps/"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("in 0 files"));
}

#[test]
fn human_output_survives_minified_one_line_manifests() {
    let long = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata: {{a: \"{}\", a: 1}}\n",
        "x".repeat(70_000)
    );
    kvet()
        .args(["check", "-"])
        .write_stdin(long)
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "duplicate-key: duplicate key \"a\"",
        ));
}

#[test]
fn exclude_globs_match_below_the_folder_being_walked() {
    let dir = tree(&[
        ("repo/apps/a.gen.yaml", &dup_env("a")),
        ("repo/apps/deep/b.gen.yaml", &dup_env("b")),
    ]);
    let root = dir.path().join("repo");
    // `*` stays within one folder: only apps/a.gen.yaml is left out.
    kvet()
        .args([
            "check",
            "--format",
            "compact",
            "--exclude",
            "apps/*.gen.yaml",
        ])
        .arg(&root)
        .assert()
        .code(0)
        .stdout(
            predicate::str::contains("apps/deep/b.gen.yaml:8:31")
                .and(predicate::str::contains("a.gen.yaml").not()),
        );
}

#[test]
fn stdin_keeps_its_snippets_for_whole_stream_rules() {
    let input = format!("{CONFIGMAP}---\n{CONFIGMAP}");
    kvet()
        .args(["check", "-"])
        .write_stdin(input)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("╭─[<stdin>:7:18]"));
}

#[test]
fn named_files_are_read_whatever_their_extension() {
    let dir = tree(&[("manifest.txt", DUP_ENV)]);
    kvet()
        .current_dir(dir.path())
        .args(["check", "--format", "compact", "manifest.txt"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(
            "manifest.txt:8:31: warning[duplicate-env]",
        ));
}

#[test]
fn missing_paths_and_symlink_loops_are_reported_not_fatal() {
    let dir = tree(&[("ok/a.yaml", CONFIGMAP)]);
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path().join("ok"), dir.path().join("ok/loop")).unwrap();
    let out = kvet()
        .current_dir(dir.path())
        .args(["check", "--format", "compact", "ok", "missing.yaml"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    assert!(
        out.contains("missing.yaml:1:1: error[unreadable-file] no such file or directory"),
        "{out}"
    );
    #[cfg(unix)]
    assert!(
        out.contains("error[unreadable-file]") && out.contains("symbolic link loop"),
        "{out}"
    );
}

#[test]
fn files_without_kubernetes_objects_are_skipped_with_a_note() {
    let dir = tree(&[
        (".github/workflows/ci.yaml", "on: push\n"),
        (
            "ci.yaml",
            "jobs:\n  test:\n    runs-on: ubuntu-latest\n    runs-on: twice\n",
        ),
        ("values.yaml", "image: {tag: 1}\n"),
        ("app.yaml", CONFIGMAP),
    ]);
    kvet()
        .current_dir(dir.path())
        .args(["check", "."])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "in 3 files (1 object); 2 files without Kubernetes objects skipped",
        ));
}

#[test]
fn duplicate_objects_across_files_name_the_first_file() {
    let dir = tree(&[("a.yaml", CONFIGMAP), ("b.yaml", CONFIGMAP)]);
    kvet()
        .current_dir(dir.path())
        .args(["check", "--format", "compact", "."])
        .assert()
        .code(1)
        .stdout("b.yaml:3:18: error[duplicate-object] ConfigMap app is defined twice (first at a.yaml:3)\n");
}

#[test]
fn duplicate_objects_in_different_folders_are_separate_environments() {
    let dir = tree(&[
        ("envs/dev/app.yaml", CONFIGMAP),
        ("envs/prod/app.yaml", CONFIGMAP),
    ]);
    kvet()
        .current_dir(dir.path())
        .args(["check", "."])
        .assert()
        .code(0);
}

#[test]
fn config_sets_levels_and_per_path_overrides() {
    let dir = tree(&[
        (
            ".kvet.yaml",
            "rules:\n  duplicate-env: error\noverrides:\n  - files: legacy/**\n    rules:\n      duplicate-env: off\n",
        ),
        ("apps/a.yaml", &dup_env("a")),
        ("legacy/b.yaml", &dup_env("b")),
    ]);
    kvet()
        .current_dir(dir.path().join("apps"))
        .args(["check", "--format", "compact", "..", "--exclude", ".kvet.yaml"])
        .assert()
        .code(1)
        .stdout("../apps/a.yaml:8:31: error[duplicate-env] container \"c\" sets environment variable \"A\" twice (first at line 8); only the last value is used\n");
}

#[test]
fn config_turns_off_loader_rules_too() {
    let dir = tree(&[
        (
            ".kvet.yaml",
            "rules:\n  unreadable-file: off\n  yaml-syntax: info\n",
        ),
        ("broken.yaml", "apiVersion: v1kind: ConfigMap\n"),
    ]);
    kvet()
        .current_dir(dir.path())
        .args(["check", "--format", "compact", "missing.yaml", "broken.yaml"])
        .assert()
        .code(0)
        .stdout("broken.yaml:1:19: info[yaml-syntax] invalid YAML: mapping values are not allowed in this context\n");
}

#[test]
fn config_errors_name_their_line_and_exit_2() {
    // (config file, its text, extra args, what stderr must say)
    let cases: &[(&str, &str, &[&str], &str)] = &[
        (
            ".kvet.yaml",
            "rules:\n  duplicate-env: warning\nrulez: {}\n",
            &[],
            ".kvet.yaml:3:1: unknown key \"rulez\"",
        ),
        (
            "kvet.yaml",
            "rules:\n  no-such-rule: off\n",
            &["--config", "kvet.yaml"],
            "kvet.yaml:2:3: unknown rule \"no-such-rule\"",
        ),
        (
            ".kvet.yaml",
            "rules:\n  duplicate-env: loud\n",
            &[],
            ".kvet.yaml:2:18: unknown level \"loud\"",
        ),
        (
            ".kvet.yaml",
            "overrides:\n  - rules: {}\n",
            &[],
            ".kvet.yaml:2:5: an override needs `files`",
        ),
        (".kvet.yaml", "rules: [\n", &[], "invalid YAML"),
    ];
    for (name, text, args, message) in cases {
        let dir = tree(&[(name, text), ("a.yaml", CONFIGMAP)]);
        kvet()
            .current_dir(dir.path())
            .arg("check")
            .args(*args)
            .arg("a.yaml")
            .assert()
            .code(2)
            .stderr(predicate::str::contains(*message));
    }
    kvet()
        .args(["check", "--config", "/nonexistent/kvet.yaml", EXAMPLE])
        .assert()
        .code(2);
}

#[test]
fn rules_and_explain_document_every_rule() {
    let out = kvet()
        .arg("rules")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).unwrap();
    for rule in kvet::rules::RULES {
        assert!(
            out.contains(rule.meta.id),
            "{} missing from `kvet rules`",
            rule.meta.id
        );
        kvet()
            .args(["explain", rule.meta.id])
            .assert()
            .code(0)
            .stdout(predicate::str::contains("## How to fix"));
    }
    kvet()
        .args(["explain", "duplicate-volume-mount"])
        .assert()
        .stdout(predicate::str::starts_with("# duplicate-volume-mount\n\ntwo volume mounts of a container use the same mountPath\n\nDefault level: error"));
}

#[test]
fn helm_output_on_stdin_keeps_source_templates() {
    let rendered = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE)).unwrap();
    let out = kvet()
        .args(["check", "--format", "json", "-"])
        .write_stdin(rendered)
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let doc = json(&out);
    let templates: Vec<&str> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["source_template"].as_str().unwrap())
        .collect();
    assert_eq!(
        templates,
        [
            "shop/templates/deployment.yaml",
            "shop/templates/deployment.yaml",
            "shop/templates/deployment.yaml",
            "shop/templates/configmap-extra.yaml"
        ]
    );
    assert!(
        doc["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["file"] == "<stdin>")
    );
}

#[test]
fn github_output_is_workflow_commands_with_escaping() {
    // A message with a comma, a colon and a newline-bearing help: the data part escapes only
    // %, CR and LF; properties also escape : and ,.
    let dir = tree(&[("a:b.yaml", &dup_env("p1"))]);
    let out = kvet()
        .args(["check", "--format", "github", "a:b.yaml"])
        .current_dir(dir.path())
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "::warning file=a%3Ab.yaml,line=8,col=31,endLine=8,endColumn=31,title=duplicate-env::container \"c\" sets environment variable \"A\" twice (first at line 8); only the last value is used%0Aremove one of the two entries\n"
    );
}

#[test]
fn junit_output_loads_in_an_xml_parser_with_a_suite_per_file_and_a_case_per_object() {
    let out = kvet()
        .args([
            "check",
            "--format",
            "junit",
            EXAMPLE,
            "testdata/yaml-syntax/fail/v1kind.yaml",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    let names: Vec<&str> = suites
        .iter()
        .map(|s| s.attribute("name").unwrap())
        .collect();
    assert_eq!(names, [EXAMPLE, "testdata/yaml-syntax/fail/v1kind.yaml"]);
    let cases = |suite: &roxmltree::Node| -> Vec<(String, Vec<String>)> {
        suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .map(|c| {
                let failures = c
                    .children()
                    .filter(|n| n.has_tag_name("failure"))
                    .map(|f| f.attribute("type").unwrap().to_owned())
                    .collect();
                (c.attribute("name").unwrap().to_owned(), failures)
            })
            .collect()
    };
    assert_eq!(
        cases(&suites[0]),
        [
            (
                "ConfigMap shop/shop-config".to_owned(),
                vec!["duplicate-object".to_owned()]
            ),
            (
                "Deployment shop/shop".to_owned(),
                vec![
                    "duplicate-volume-mount".to_owned(),
                    "duplicate-volume".to_owned()
                ]
            ),
            ("PodDisruptionBudget shop/shop".to_owned(), vec![]),
        ]
    );
    // The warning is the case's output, not a failure.
    assert!(text.contains(
        "<system-out>testdata/examples/rendered-chart.yaml:42:21: warning[duplicate-env]"
    ));
    // Diagnostics that belong to no object: a case named after the file.
    let syntax = cases(&suites[1]);
    assert_eq!(
        syntax.last().unwrap().0,
        "testdata/yaml-syntax/fail/v1kind.yaml"
    );
    assert_eq!(syntax.last().unwrap().1, ["yaml-syntax", "yaml-syntax"]);
    assert_eq!(root.attribute("failures"), Some("3"));
}

#[test]
fn one_run_writes_several_reports_and_keeps_human_output_on_the_terminal() {
    let dir = tree(&[("app.yaml", &dup_env("p1"))]);
    let run = || {
        kvet()
            .args([
                "check",
                "--format",
                "sarif=out/kvet.sarif",
                "--format",
                "json=report.json",
                "app.yaml",
            ])
            .current_dir(dir.path())
            .assert()
    };
    let out = run().code(2).get_output().stderr.clone();
    // The folder of a report is not created: a typo in it is the user's to see.
    assert!(
        String::from_utf8(out)
            .unwrap()
            .contains("cannot write the report to out/kvet.sarif")
    );

    fs::create_dir(dir.path().join("out")).unwrap();
    let out = run().code(0).get_output().stdout.clone();
    let human = String::from_utf8(out).unwrap();
    assert!(human.contains("duplicate-env"), "{human}");
    assert!(human.ends_with("0 errors, 1 warning, 0 infos in 1 file (1 object)\n"));
    let report = json(&fs::read(dir.path().join("report.json")).unwrap());
    assert_eq!(report["diagnostics"][0]["line"], 8);
    let sarif = json(&fs::read(dir.path().join("out/kvet.sarif")).unwrap());
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "duplicate-env");
    // No temporary file is left beside the reports.
    let mut names: Vec<_> = fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["kvet.sarif"]);

    // Another format on stdout replaces the human output there.
    kvet()
        .args([
            "check",
            "--format",
            "compact",
            "--format",
            "junit=r.xml",
            "app.yaml",
        ])
        .current_dir(dir.path())
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with(
            "app.yaml:8:31: warning[duplicate-env]",
        ));
    assert!(
        fs::read_to_string(dir.path().join("r.xml"))
            .unwrap()
            .contains("<testsuites")
    );
}

#[test]
fn report_targets_are_checked_before_anything_runs() {
    for (args, message) in [
        (
            &["--format", "json", "--format", "compact"][..],
            "only one --format can be written to stdout",
        ),
        (
            &["--format", "json=a", "--format", "sarif=a"][..],
            "two reports would be written to a",
        ),
        (&["--format", "xml=a"][..], "unknown format \"xml\""),
        (&["--format", "json="][..], "`json=` names no file"),
    ] {
        kvet()
            .arg("check")
            .args(args)
            .arg(EXAMPLE)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(message));
    }
}

/// `kvet check ARGS` run in `dir`.
fn check_in(dir: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    kvet().arg("check").args(args).current_dir(dir).assert()
}

/// A ConfigMap whose key `a` is written twice: a duplicate-key error at 5:3 (after `head`).
fn duplicate_key_configmap(name: &str, head: &str) -> String {
    format!(
        "{head}apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata:\n  a: \"1\"\n  a: \"2\"\n"
    )
}

#[test]
fn suppressions_in_manifests_drop_findings_and_are_counted() {
    let annotated = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: annotated\n  annotations:\n    ignore.kvet.dev/duplicate-key: \"generated; the last value wins\"\ndata:\n  a: \"1\"\n  a: \"2\"\n";
    let dir = tree(&[
        ("annotated.yaml", annotated),
        (
            "above.yaml",
            &duplicate_key_configmap("above", "").replace(
                "  a: \"2\"",
                "  # kvet:ignore duplicate-key -- generated\n  a: \"2\"",
            ),
        ),
        (
            "trailing.yaml",
            &duplicate_key_configmap("trailing", "").replace(
                "  a: \"2\"",
                "  a: \"2\" # kvet:ignore duplicate-key -- generated",
            ),
        ),
        (
            "file.yaml",
            &duplicate_key_configmap("file", "# kvet:ignore-file duplicate-key -- generated\n"),
        ),
        ("plain.yaml", &duplicate_key_configmap("plain", "")),
    ]);
    let out = check_in(dir.path(), &["--format", "json", "."])
        .code(1)
        .get_output()
        .stdout
        .clone();
    let doc = json(&out);
    let found: Vec<(String, u64)> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_owned(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(found, [("plain.yaml".to_owned(), 6)]);
    assert_eq!(doc["summary"]["suppressed"], 4);
    check_in(dir.path(), &["."])
        .code(1)
        .stdout(predicate::str::ends_with(
            "1 error, 0 warnings, 0 infos in 5 files (5 objects); 4 findings suppressed\n",
        ));
}

#[test]
fn config_ignores_name_objects_and_need_a_reason() {
    let config = "ignore:\n  - rules: duplicate-key\n    kind: ConfigMap\n    name: \"vendor-*\"\n    files: [\"charts/**\"]\n    reason: upstream chart\n";
    let dir = tree(&[
        (".kvet.yaml", config),
        ("charts/a.yaml", &duplicate_key_configmap("vendor-a", "")),
        ("charts/b.yaml", &duplicate_key_configmap("ours", "")),
        ("apps/c.yaml", &duplicate_key_configmap("vendor-c", "")),
    ]);
    check_in(dir.path(), &["--format", "compact", "."])
        .code(1)
        .stdout(
            "apps/c.yaml:6:3: error[duplicate-key] duplicate key \"a\" (first defined at line 5); the last value wins\n\
             charts/b.yaml:6:3: error[duplicate-key] duplicate key \"a\" (first defined at line 5); the last value wins\n",
        );
    // An editor buffer is matched by the path it stands for.
    kvet()
        .args([
            "check",
            "--format",
            "compact",
            "-",
            "--stdin-filename",
            "charts/x.yaml",
        ])
        .current_dir(dir.path())
        .write_stdin(duplicate_key_configmap("vendor-x", ""))
        .assert()
        .code(0)
        .stdout("");

    fs::write(
        dir.path().join(".kvet.yaml"),
        "ignore:\n  - rules: [duplicate-key]\n    kind: ConfigMap\n",
    )
    .unwrap();
    check_in(dir.path(), &["."])
        .code(2)
        .stderr(predicate::str::contains(
            ".kvet.yaml:2:5: an ignore entry needs a `reason`",
        ));
}

#[test]
fn suppressions_that_drop_nothing_are_judged_only_where_the_run_can_tell() {
    // Two copies of one AnalysisTemplate: duplicate-template looks across files.
    let template = |name: &str| {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata:\n  name: {name}\n  annotations:\n    ignore.kvet.dev/duplicate-template: \"kept for the old pipeline\"\nspec:\n  metrics:\n    - name: errors\n      provider: {{prometheus: {{address: \"http://p:9090\", query: up}}}}\n"
        )
    };
    let dir = tree(&[
        (
            ".kvet.yaml",
            "rules: {unknown-schema: off}\nignore:\n  - rules: [duplicate-env]\n    reason: nothing has it any more\n",
        ),
        ("a.yaml", &template("a")),
        ("b.yaml", &template("b")),
    ]);
    // The whole folder: the second copy's annotation drops its finding, the first's drops
    // nothing, and so does the config's entry.
    check_in(dir.path(), &["--format", "compact", "."])
        .code(0)
        .stdout(
            ".kvet.yaml:3:5: warning[unused-suppression] the config's ignore entry for duplicate-env suppresses nothing\n\
             a.yaml:6:5: warning[unused-suppression] annotation ignore.kvet.dev/duplicate-template suppresses nothing\n",
        );
    // One file, as pre-commit passes them: nothing can be judged.
    check_in(dir.path(), &["--format", "compact", "a.yaml"])
        .code(0)
        .stdout("");
}

/// A chart's template is Go template text, checked through what its chart renders: named as a
/// file or as an editor's buffer, from the repository or from inside the chart, it is never
/// read as YAML (issue 16).
#[test]
fn a_template_is_skipped_alike_as_a_file_or_a_buffer_from_any_folder() {
    let chart =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/render/charts-repo/charts/web");
    let text = fs::read_to_string(chart.join("templates/deployment.yaml")).unwrap();
    for (cwd, name) in [
        (chart.join("../.."), "charts/web/templates/deployment.yaml"),
        (chart.clone(), "templates/deployment.yaml"),
        (chart.join("templates"), "deployment.yaml"),
    ] {
        let args = ["check", "--no-render", "--format", "compact"];
        kvet()
            .current_dir(&cwd)
            .args(args)
            .arg(name)
            .assert()
            .code(0)
            .stdout("");
        kvet()
            .current_dir(&cwd)
            .args(args)
            .args(["-", "--stdin-filename", name])
            .write_stdin(text.clone())
            .assert()
            .code(0)
            .stdout("");
    }
}

/// Human output wraps messages, help and errors at spaces only: a path is never broken at its
/// hyphens or slashes, however narrow the terminal (issue 16).
#[test]
fn paths_are_never_broken_across_lines() {
    let deployment = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: redis-ha}\nspec:\n  selector: {matchLabels: {app: redis-ha}}\n  template:\n    metadata: {labels: {app: redis-ha}}\n    spec: {containers: [{name: redis, image: \"redis:7.4.1\"}]}\n";
    let service = "apiVersion: v1\nkind: Service\nmetadata: {name: redis}\nspec:\n  selector: {app: redis-ha-announce}\n  ports: [{port: 6379}]\n";
    let dir = tree(&[
        ("charts-rendered/redis-ha-statefulset.yaml", deployment),
        ("charts-rendered/redis-ha-announce-service.yaml", service),
    ]);
    for columns in ["40", "60", "80"] {
        let out = kvet()
            .env("COLUMNS", columns)
            .current_dir(dir.path())
            .args(["check", "--format", "human", "charts-rendered"])
            .output()
            .unwrap();
        let out = String::from_utf8(out.stdout).unwrap();
        assert!(
            out.contains("(charts-rendered/redis-ha-statefulset.yaml:3)"),
            "{columns} columns:\n{out}"
        );
        let missing = "no-such-folder/kvet-config-for-the-redis-ha-chart.yaml";
        let err = kvet()
            .env("COLUMNS", columns)
            .current_dir(dir.path())
            .args(["check", "--config", missing, "."])
            .output()
            .unwrap();
        let err = String::from_utf8(err.stderr).unwrap();
        assert!(err.contains(missing), "{columns} columns:\n{err}");
    }
}

/// Custom resources of the GitOps stack are validated out of the box by kvet's CRD catalog; a
/// CRD of the input wins over it, and --no-catalog leaves them without a schema (issue 13).
#[test]
fn the_crd_catalog_validates_custom_resources_unless_a_crd_of_the_input_says_otherwise() {
    let listed = kvet()
        .args(["schemas"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let listed = String::from_utf8(listed).unwrap();
    assert!(listed.contains("Argo CD (argoproj/argo-cd@"), "{listed}");
    assert!(
        listed.contains("  argoproj.io: AppProject, Application, ApplicationSet\n"),
        "{listed}"
    );
    assert!(listed.contains("  kyverno.io: "), "{listed}");

    let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: shop}\nspec:\n  custom: x\n";
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: applications.argoproj.io}\nspec:\n  group: argoproj.io\n  names: {kind: Application, plural: applications}\n  scope: Namespaced\n  versions:\n    - name: v1alpha1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          properties:\n            spec: {type: object, properties: {custom: {type: string}}}\n";
    let dir = tree(&[("app.yaml", app), ("own-crd/crd.yaml", crd)]);
    check_in(dir.path(), &["--format", "compact", "app.yaml"])
        .code(1)
        .stdout(predicate::str::contains(
            "app.yaml:5:3: error[schema] spec: unknown field \"custom\"",
        ));
    let json = check_in(dir.path(), &["--format", "json", "app.yaml"]).code(1);
    let doc: Value = serde_json::from_slice(&json.get_output().stdout).unwrap();
    let source = doc["diagnostics"][0]["schema_source"].as_str().unwrap();
    assert!(source.starts_with("Argo CD argoproj/argo-cd@"), "{source}");
    check_in(dir.path(), &["--format", "compact", "app.yaml", "own-crd"])
        .code(0)
        .stdout("");
    // Every CEL rule of the catalog runs, but transition rules (which need the old object).
    let explained = kvet().args(["explain", "schema"]).assert().code(0);
    let explained = String::from_utf8(explained.get_output().stdout.clone()).unwrap();
    assert!(
        explained.contains("## CEL rules of the CRD catalog"),
        "{explained}"
    );
    assert!(!explained.contains("which kvet lacks"), "{explained}");
    assert!(!explained.contains("does not parse here"), "{explained}");
    check_in(
        dir.path(),
        &["--format", "compact", "--no-catalog", "app.yaml"],
    )
    .code(0)
    .stdout(predicate::str::contains(
        "warning[unknown-schema] no schema for argoproj.io/v1alpha1 Application",
    ));
}

/// `--verbose` counts the CEL rules of the CRD schemas a run met: those evaluated, those that
/// failed on some value, and those skipped, with why (issue 13).
#[test]
fn verbose_counts_the_cel_rules_run_and_skipped() {
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: gizmos.example.com}\nspec:\n  group: example.com\n  names: {kind: Gizmo, plural: gizmos}\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          properties:\n            spec:\n              type: object\n              properties: {size: {type: string}, mode: {type: string}}\n              x-kubernetes-validations:\n                - rule: quantity(self.size).isLessThan(quantity('1Gi'))\n                - rule: self.mode == 'fast'\n                - rule: self.size == oldSelf.size\n                - rule: self.size.frobnicate(self.mode.unbake())\n---\napiVersion: example.com/v1\nkind: Gizmo\nmetadata: {name: g}\nspec: {size: 512Mi}\n";
    let dir = tree(&[("gizmo.yaml", crd)]);
    check_in(dir.path(), &["--format", "compact", "--verbose", "gizmo.yaml"])
        .code(0)
        .stdout("")
        .stderr(
            "info: CEL validation rules of the CRD schemas used: 2 evaluated, 2 skipped\n\
             info:   1 of those evaluated failed on some value (a field the rule reads is missing, or of another type): not reported\n\
             info:   1 skipped: a transition rule (oldSelf): it needs the object's previous state\n\
             info:   1 skipped: it calls `frobnicate`, `unbake`, which kvet lacks\n",
        );
    // Without --verbose, nothing on stderr.
    check_in(dir.path(), &["--format", "compact", "gizmo.yaml"])
        .code(0)
        .stderr("");
}

/// The expected objects of Chainsaw and kuttl tests are partial by design (no `spec`, operators
/// in keys): not checked, while what the test applies is (issue 13: the cnpg chart's tests).
#[test]
fn test_assertions_of_chainsaw_and_kuttl_are_not_checked() {
    let test = "apiVersion: chainsaw.kyverno.io/v1alpha1\nkind: Test\nmetadata: {name: t}\nspec:\n  steps:\n    - try:\n        - apply: {file: service.yaml}\n        - assert: {file: service-ready.yaml}\n";
    let partial = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nstatus:\n  (length(loadBalancer.ingress)): 1\n";
    let dir = tree(&[
        ("e2e/chainsaw-test.yaml", test),
        (
            "e2e/service.yaml",
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: \"80\"}]\n",
        ),
        ("e2e/service-ready.yaml", partial),
        ("kuttl/00-assert.yaml", partial),
        ("kuttl/01-errors.yaml", partial),
    ]);
    check_in(
        dir.path(),
        &["--format", "compact", "--show-level", "error", "."],
    )
    .code(1)
    .stdout(predicate::str::contains(
        "e2e/service.yaml:5:18: error[schema]",
    ))
    .stdout(predicate::str::contains("assert").not())
    .stdout(predicate::str::contains("errors.yaml").not())
    .stdout(predicate::str::contains("duplicate-object").not());
}

/// A config named by its bare file name is in the current folder, as `./cfg.yaml` is: its
/// override globs with a folder match the same files either way (issue 16).
#[test]
fn config_paths_resolve_the_same_however_they_are_written() {
    let dir = tree(&[
        (
            "cfg.yaml",
            "rules: {unknown-schema: off}\noverrides:\n  - files: [\"apps/*.yaml\"]\n    rules: {duplicate-key: off}\n",
        ),
        ("apps/a.yaml", &duplicate_key_configmap("a", "")),
    ]);
    for config in ["cfg.yaml", "./cfg.yaml", "../cfg.yaml"] {
        let at = if config.starts_with("..") {
            dir.path().join("apps")
        } else {
            dir.path().to_path_buf()
        };
        let files = if config.starts_with("..") {
            "a.yaml"
        } else {
            "apps/a.yaml"
        };
        check_in(&at, &["--format", "compact", "--config", config, files])
            .code(0)
            .stdout("");
    }
}

/// An override whose globs match no file of a run over the config's whole folder is reported
/// where it is written, as an unused ignore entry is.
#[test]
fn config_entries_that_match_no_file_are_reported() {
    let dir = tree(&[
        (
            ".kvet.yaml",
            "rules: {unknown-schema: off}\noverrides:\n  - files: [\"apps/*.yaml\"]\n    rules: {duplicate-key: off}\n  - files: [\"old-apps/*.yaml\", \"legacy/**\"]\n    rules: {duplicate-key: off}\nignore:\n  - rules: [duplicate-key]\n    files: [\"old-apps/*.yaml\"]\n    reason: old apps keep their copies\n",
        ),
        ("apps/a.yaml", &duplicate_key_configmap("a", "")),
    ]);
    check_in(dir.path(), &["--format", "compact", "."])
        .code(0)
        .stdout(
            ".kvet.yaml:5:5: warning[unused-suppression] the config's override for old-apps/*.yaml, legacy/** matches no file of this run\n\
             .kvet.yaml:8:5: warning[unused-suppression] the config's ignore entry for duplicate-key suppresses nothing\n",
        );
    // Some files only: nothing can be judged.
    check_in(dir.path(), &["--format", "compact", "apps/a.yaml"])
        .code(0)
        .stdout("");
}

/// `apps/a.yaml` and `apps/b.yaml`, a duplicate-key error each.
fn two_apps() -> tempfile::TempDir {
    tree(&[
        ("apps/a.yaml", &duplicate_key_configmap("a", "")),
        ("apps/b.yaml", &duplicate_key_configmap("b", "")),
    ])
}

#[test]
fn a_baseline_hides_recorded_findings_across_edits_and_blocks_new_ones() {
    let dir = two_apps();
    check_in(
        dir.path(),
        &["--write-baseline", "ci/baseline.json", "apps"],
    )
    .code(2)
    .stderr(predicate::str::contains(
        "cannot write the baseline ci/baseline.json",
    ));
    fs::create_dir(dir.path().join("ci")).unwrap();
    check_in(
        dir.path(),
        &["--write-baseline", "ci/baseline.json", "apps"],
    )
    .code(0)
    .stdout(predicate::str::ends_with("; 2 findings in the baseline\n"));
    let recorded = json(&fs::read(dir.path().join("ci/baseline.json")).unwrap());
    assert_eq!(recorded["version"], 1);
    assert_eq!(
        recorded["findings"][0],
        serde_json::json!({"rule": "duplicate-key", "file": "../apps/a.yaml", "object": "v1 ConfigMap a",
            "pointer": "/data/a", "message": "duplicate key \"a\" (first defined at line 5); the last value wins"})
    );

    // Lines added above the finding: still the recorded one. A new finding fails the run.
    fs::write(
        dir.path().join("apps/a.yaml"),
        duplicate_key_configmap("a", "# moved\n\n")
            .replace("  a: \"1\"", "  b: \"0\"\n  b: \"0\"\n  a: \"1\""),
    )
    .unwrap();
    check_in(dir.path(), &["--baseline", "ci/baseline.json", "--format", "compact", "apps"])
        .code(1)
        .stdout("apps/a.yaml:8:3: error[duplicate-key] duplicate key \"b\" (first defined at line 7); the last value wins\n");
    // The same from another folder: files are relative to the baseline's folder.
    check_in(
        &dir.path().join("ci"),
        &[
            "--baseline",
            "baseline.json",
            "--format",
            "compact",
            "../apps",
        ],
    )
    .code(1)
    .stdout(predicate::str::starts_with(
        "../apps/a.yaml:8:3: error[duplicate-key]",
    ));

    // Recording one file keeps the other file's entries.
    check_in(
        dir.path(),
        &["--write-baseline", "ci/baseline.json", "apps/a.yaml"],
    )
    .code(0);
    let recorded = json(&fs::read(dir.path().join("ci/baseline.json")).unwrap());
    let entries: Vec<(&str, &str)> = recorded["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["file"].as_str().unwrap(), e["pointer"].as_str().unwrap()))
        .collect();
    assert_eq!(
        entries,
        [
            ("../apps/a.yaml", "/data/a"),
            ("../apps/a.yaml", "/data/b"),
            ("../apps/b.yaml", "/data/a")
        ]
    );

    fs::write(dir.path().join("ci/baseline.json"), "{\"findings\": 3}").unwrap();
    check_in(dir.path(), &["--baseline", "ci/baseline.json", "apps"])
        .code(2)
        .stderr(predicate::str::contains(
            "the baseline ci/baseline.json is not a kvet baseline",
        ));
    check_in(dir.path(), &["--baseline", "ci/missing.json", "apps"])
        .code(2)
        .stderr(predicate::str::contains(
            "record one with --write-baseline ci/missing.json",
        ));
}

#[test]
fn an_annotation_covers_its_object_only_and_comments_inside_scalars_are_text() {
    // Two items of a List on adjacent lines; the first ends in a block scalar. Its annotation
    // must not reach the second; the `# kvet:ignore-file` inside the scalar is text.
    let list = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n    annotations:\n      ignore.kvet.dev/duplicate-key: \"generated\"\n  data:\n    k: \"1\"\n    k: \"2\"\n    s: |\n      # kvet:ignore-file duplicate-key -- only text\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n  data:\n    k: \"1\"\n    k: \"2\"\n";
    let dir = tree(&[("list.yaml", list)]);
    check_in(dir.path(), &["--format", "compact", "list.yaml"])
        .code(1)
        .stdout("list.yaml:20:5: error[duplicate-key] duplicate key \"k\" (first defined at line 19); the last value wins\n");
}

#[test]
fn a_baseline_forgets_deleted_files_and_conflicting_flags_are_refused() {
    let dir = two_apps();
    check_in(dir.path(), &["--write-baseline", "base.json", "apps"]).code(0);
    fs::remove_file(dir.path().join("apps/b.yaml")).unwrap();
    check_in(
        dir.path(),
        &["--write-baseline", "base.json", "apps/a.yaml"],
    )
    .code(0);
    let recorded = json(&fs::read(dir.path().join("base.json")).unwrap());
    let files: Vec<&str> = recorded["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["apps/a.yaml"]);
    check_in(
        dir.path(),
        &[
            "--baseline",
            "base.json",
            "--write-baseline",
            "base.json",
            "apps",
        ],
    )
    .code(2)
    .stderr(predicate::str::contains("cannot be used with"));
    check_in(
        dir.path(),
        &[
            "--format",
            "json=o.json",
            "--format",
            "sarif=./o.json",
            "apps",
        ],
    )
    .code(2)
    .stderr(predicate::str::contains("two reports would be written to"));
}
