//! Charts in a repository, rendered with the real helm (`.ci/run` installs it) as render roots:
//! `testdata/render/charts-repo` holds a chart released by its `.kvet.yaml` (release name,
//! namespace, a values file) and a chart whose template renders invalid YAML.
//!
//! Without helm on the PATH these tests say so and pass, except in CI.

mod common;

use common::kvet;

const REPO: &str = "testdata/render/charts-repo";

/// The findings of `kvet check ARGS` run in `dir`, as `file:line:col rule`, leaving out the
/// hardening rules every container of the test chart trips.
fn findings(dir: &std::path::Path, args: &[&str]) -> Vec<String> {
    let out = kvet()
        .current_dir(dir)
        .args(["check", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let hardening = [
        "missing-probes",
        "missing-resources",
        "privilege-escalation",
        "run-as-root",
        "writable-root-fs",
    ];
    let mut found: Vec<String> = doc["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| !hardening.contains(&d["rule"].as_str().unwrap()))
        .map(common::placed)
        .collect();
    found.sort();
    found
}

/// A chart `name` in a new temporary folder, with its files (`templates/x.yaml`,
/// `values.yaml`) beside a `Chart.yaml`.
fn chart(name: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join(name);
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n"),
    )
    .unwrap();
    for (file, text) in files {
        std::fs::write(chart.join(file), text).unwrap();
    }
    dir
}

fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(REPO)
}

#[test]
fn charts_of_the_repository_are_rendered_as_their_config_releases_them() {
    if !common::tool_available("helm", &[]) {
        return;
    }
    // The staging values pin `latest`: found on the container an `if`-gated sidecar precedes.
    // The release's namespace (`web`) is no default namespace; the Secret that writes
    // `namespace: default` itself is, in the document an `if` did not leave out. The
    // ServiceMonitor renders for a cluster that serves it (its CRD under --crds), and its
    // invalid interval is found on its line. A password the template makes up is in no file;
    // a token it writes as a literal is. The broken chart is a finding on the template
    // line its output breaks at; the other chart is checked all the same.
    assert_eq!(
        findings(&repo(), &[".", "--crds", "../crds"]),
        [
            "charts/broken/templates/configmap.yaml:1:1 helm-render-failed",
            "charts/web/templates/deployment.yaml:22:11 image-tag-latest",
            "charts/web/templates/secrets.yaml:14:3 default-namespace",
            "charts/web/templates/secrets.yaml:15:1 secret-literal-values",
            "charts/web/templates/secrets.yaml:31:1 secret-literal-values",
            "charts/web/templates/servicemonitor.yaml:12:7 schema",
        ]
    );
    // Without the CRD the cluster serves no ServiceMonitor: the chart renders none.
    let without_crds = findings(&repo(), &["."]);
    assert!(
        !without_crds.iter().any(|f| f.contains("servicemonitor")),
        "{without_crds:?}"
    );
    // Rendering off: templates are no manifests, nothing is reported.
    assert_eq!(
        findings(&repo(), &["--no-render", "."]),
        Vec::<String>::new()
    );
}

#[test]
fn a_chart_without_a_release_config_is_released_under_its_name_in_no_namespace_of_its_own() {
    if !common::tool_available("helm", &[]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(&repo().join("charts"), dir.path());
    let found = findings(dir.path(), &["web"]);
    // `namespace: {{ .Release.Namespace }}` is left to whoever installs the release: helm
    // writes `default` there, and that is not reported. The literal one is.
    assert_eq!(
        found,
        [
            "web/templates/secrets.yaml:14:3 default-namespace",
            "web/templates/secrets.yaml:15:1 secret-literal-values",
            "web/templates/secrets.yaml:31:1 secret-literal-values",
        ]
    );
}

#[test]
fn a_template_named_on_the_command_line_renders_its_chart_and_reports_its_own_findings() {
    if !common::tool_available("helm", &[]) {
        return;
    }
    assert_eq!(
        findings(&repo(), &["charts/web/templates/deployment.yaml"]),
        ["charts/web/templates/deployment.yaml:22:11 image-tag-latest"]
    );
    assert_eq!(
        findings(&repo(), &["charts/broken/templates/configmap.yaml"]),
        ["charts/broken/templates/configmap.yaml:1:1 helm-render-failed"]
    );
}

#[test]
fn a_packaged_subchart_is_where_its_findings_go_and_config_globs_match_it() {
    if !common::tool_available("helm", &[]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(&repo().join("charts"), dir.path());
    // `web` vendors `broken`, fixed and packaged as `helm dependency build` leaves it.
    std::fs::write(
        dir.path().join("broken/templates/configmap.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\n",
    )
    .unwrap();
    let packaged = std::process::Command::new("helm")
        .args(["package", "broken", "-d", "web/charts"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(packaged.status.success(), "{packaged:?}");
    std::fs::remove_dir_all(dir.path().join("broken")).unwrap();
    let out = kvet()
        .current_dir(dir.path())
        .args(["check", "--format", "compact", "web"])
        .output()
        .unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.contains("web/charts/broken-0.1.0.tgz:1:1: warning[default-namespace] ConfigMap \"settings\" is put in the default namespace"),
        "{out}"
    );
    assert!(
        out.contains("(in broken/templates/configmap.yaml of the packaged subchart)"),
        "{out}"
    );
    std::fs::write(
        dir.path().join(".kvet.yaml"),
        "ignore:\n  - rules: [default-namespace]\n    files: [\"web/charts/*.tgz\"]\n    reason: upstream subchart\n",
    )
    .unwrap();
    let out = kvet()
        .current_dir(dir.path())
        .args(["check", "--format", "compact", "web"])
        .output()
        .unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(!out.contains(".tgz"), "{out}");
    assert!(out.contains("web/templates/secrets.yaml:14:3"), "{out}");
}

#[test]
fn values_are_checked_against_the_chart_schema_in_the_file_that_set_them() {
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/helm-values-schema/pass"),
        dir.path(),
    );
    std::fs::write(
        dir.path().join("values-prod.yaml"),
        "# prod\nimage:\n  pullPolicy: Sometimes\n",
    )
    .unwrap();
    let config = |extra: &str| {
        std::fs::write(
            dir.path().join(".kvet.yaml"),
            format!("charts:\n  - path: .\n    values: [values-prod.yaml]\n{extra}"),
        )
        .unwrap();
    };
    // The user's file set the value last: the finding is there, not in the chart's values.yaml.
    config("");
    assert_eq!(
        findings(dir.path(), &["."]),
        ["values-prod.yaml:3:15 helm-values-schema"]
    );
    // A --set value counts: it replaces the file's, and the message says it was set.
    config("    set: {image.pullPolicy: Always, replicas: 0}\n");
    assert_eq!(
        findings(dir.path(), &["."]),
        ["values.yaml:2:11 helm-values-schema"]
    );
    let out = kvet()
        .current_dir(dir.path())
        .args(["check", "--format", "compact", "."])
        .output()
        .unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.contains(
            "replicas: 0 is less than the minimum of 1 (`replicas=0` is set for the release)"
        ),
        "{out}"
    );
}

/// `testdata/render/apps-repo` copied into a folder that is a Git repository whose remote is the
/// one its Applications name.
fn apps_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/render/apps-repo"),
        dir.path(),
    );
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    std::fs::write(
        dir.path().join(".git/config"),
        "[core]\n\tbare = false\n[remote \"origin\"]\n\turl = git@github.com:example/gitops.git\n",
    )
    .unwrap();
    dir
}

fn compact(dir: &std::path::Path, args: &[&str]) -> String {
    let out = kvet()
        .current_dir(dir)
        .args(["check", "--format", "compact"])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn applications_render_their_charts_and_kustomizations_as_argo_cd_would() {
    if !common::tool_available("helm", &[]) {
        return;
    }
    let repo = apps_repo();
    // demo-staging: a value file beside the chart and inline values; demo-prod: a `$values`
    // file of another source of this repository and a parameter. The chart's own release is
    // not rendered besides them; the remote chart is one info on its repoURL.
    assert_eq!(
        findings(repo.path(), &["."])
            .into_iter()
            .filter(|f| !f.contains("unknown-schema") && !f.contains("argocd-sync-policy"))
            .collect::<Vec<_>>(),
        [
            "apps/demo-dev.yaml:20:9 helm-values-schema",
            "apps/demo-envs.yaml:13:7 helm-not-rendered",
            "apps/escape.yaml:13:11 helm-not-rendered",
            "apps/ingress.yaml:12:14 helm-not-rendered",
            "apps/web-dev.yaml:19:11 image-tag-latest",
            "charts/demo/templates/deployment.yaml:19:11 image-tag-latest",
            "charts/demo/templates/deployment.yaml:19:11 image-tag-latest",
            "charts/demo/templates/deployment.yaml:7:3 deployment-single-replica",
            "charts/demo/templates/deployment.yaml:7:3 deployment-single-replica",
            "charts/demo/templates/deployment.yaml:7:3 missing-pdb",
            "kustomize/web/deployment.yaml:6:13 missing-pdb",
            "kustomize/web/deployment.yaml:6:13 missing-pdb",
            "manifests/redis/extra/skip-notes.yaml:5:14 default-namespace",
            "manifests/redis/service.yaml:4:9 duplicate-object",
        ]
    );
    let out = compact(repo.path(), &["."]);
    for said in [
        // Released under the name staging uses too: a render of its own all the same.
        "Deployment \"demo\" runs a single replica: a node drain, eviction or crash leaves it with nothing serving (`replicas` is set in envs/prod/values.yaml:1) (rendered for Application argocd/demo-prod)",
        // Inline values that break the chart's schema: found where the Application writes
        // them; a missing value file it may ignore is ignored.
        "apps/demo-dev.yaml:20:9: error[helm-values-schema] the values of helm template demo-dev charts/demo (Application argocd/demo-dev) do not match the chart's values.schema.json: replicas: expected integer, got string \"two\" (in the Application's inline values)",
        "runs 3 replicas but no PodDisruptionBudget selects its pods (app=demo): a drain may evict them all at once (`replicas` is set in the Application's inline values) (rendered for Application argocd/demo-staging)",
        "the latest tag moves, so what runs is not what Git says (`image.tag=latest` is set for the release) (rendered for Application argocd/demo-prod)",
        "the latest tag moves, so what runs is not what Git says (`image.tag` is set in charts/demo/values-staging.yaml:2) (rendered for Application argocd/demo-staging)",
        // The same finding in both renders is one finding naming both.
        "has no readinessProbe: it gets traffic and counts as available as soon as it starts, before it can serve (rendered for Applications argocd/demo-prod, argocd/demo-qa, argocd/demo-staging)",
        "Application argocd/ingress-nginx was not rendered: its chart `ingress-nginx` 4.11.3 comes from https://kubernetes.github.io/ingress-nginx",
        // A file outside the repository is not read, whatever the Application says.
        "apps/escape.yaml:13:11: info[helm-not-rendered] Application argocd/escape was not rendered: its value file `../../../../../../../../etc/passwd` is outside the repository",
        // ApplicationSets: a list generator's element, a git generator's directories; a
        // generator whose output is not known offline is said once.
        "Deployment \"demo-qa\" runs a single replica: a node drain, eviction or crash leaves it with nothing serving (`replicas=1` is set for the release) (rendered for Application argocd/demo-qa)",
        "Deployment \"web\" runs 2 replicas but no PodDisruptionBudget selects its pods (app=web): a drain may evict them all at once (rendered for Application argocd/web-all)",
        "apps/demo-envs.yaml:13:7: info[helm-not-rendered] ApplicationSet demo-envs: what its `clusters` generator generates is not known offline",
        // A directory source, recursive: its files are applied together, so the copy in a
        // subfolder is a duplicate; the file it excludes is checked on its own only.
        "manifests/redis/service.yaml:4:9: error[duplicate-object] Service redis is defined twice (first at manifests/redis/extra/service.yaml:5) (rendered for Application argocd/redis)",
        "manifests/redis/extra/skip-notes.yaml:5:14: warning[default-namespace] ConfigMap \"redis\" is put in the default namespace, shared with whatever lands there: give it a namespace of its own, or leave the namespace to the deployment\n",
        // A kustomize source: the Application's options are a layer over the kustomization,
        // and what they change is found on the option's line.
        "apps/web-dev.yaml:19:11: warning[image-tag-latest] container \"web\" uses \"registry.example.com/web:latest\": the latest tag moves, so what runs is not what Git says (rendered for Application argocd/web-dev)",
        "kustomize/web/deployment.yaml:6:13: info[missing-pdb] Deployment \"dev-web\" runs 2 replicas",
    ] {
        assert!(out.contains(said), "{said}\n{out}");
    }
    // A repository whose remote is another: its Applications' sources are not this one's,
    // and the chart is released on its own.
    std::fs::write(
        repo.path().join(".git/config"),
        "[remote \"origin\"]\n\turl = https://github.com/example/other\n",
    )
    .unwrap();
    let out = compact(repo.path(), &["."]);
    assert!(!out.contains("rendered for Application"), "{out}");
    assert!(out.contains("Deployment \"web\" runs 2 replicas but no PodDisruptionBudget selects its pods (app=web): a drain may evict them all at once (in kustomize/web)\n"), "{out}");
    assert!(out.contains("charts/demo/templates/deployment.yaml:7:3: info[missing-pdb] Deployment \"demo\" runs 2 replicas"), "{out}");
    // The config names the repository as the Applications do.
    std::fs::write(
        repo.path().join(".kvet.yaml"),
        "repository: https://github.com/example/gitops\n",
    )
    .unwrap();
    let out = compact(repo.path(), &["."]);
    assert!(
        out.contains("(rendered for Application argocd/demo-prod)"),
        "{out}"
    );
}

#[test]
fn a_release_config_cannot_make_helm_read_outside_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".kvet.yaml"),
        "charts:\n  - path: chart\n    values: [../../secrets.yaml]\n",
    )
    .unwrap();
    kvet()
        .current_dir(dir.path())
        .args(["check", "."])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "`../../secrets.yaml` is outside the",
        ));
}

#[test]
fn a_chart_with_a_link_out_of_the_repository_is_not_rendered() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("web")).unwrap();
    common::copy_tree(&repo().join("charts/web"), &dir.path().join("web"));
    std::os::unix::fs::symlink("/etc/hostname", dir.path().join("web/templates/host.yaml"))
        .unwrap();
    let out = compact(dir.path(), &["."]);
    assert!(
        out.contains("web/Chart.yaml:1:1: info[helm-not-rendered] the chart web was not rendered: web/templates/host.yaml leads through a symbolic link out of the repository, and helm would read what it leads to into the chart"),
        "{out}"
    );
    // Two links deep: a link to a folder of the repository that holds a link out of it.
    std::fs::remove_file(dir.path().join("web/templates/host.yaml")).unwrap();
    std::fs::create_dir_all(dir.path().join("shared")).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", dir.path().join("shared/host")).unwrap();
    std::os::unix::fs::symlink("../shared", dir.path().join("web/files")).unwrap();
    let out = compact(dir.path(), &["."]);
    assert!(out.contains("web/Chart.yaml:1:1: info[helm-not-rendered] the chart web was not rendered: web/files/host leads through a symbolic link out of the repository"), "{out}");
}

#[test]
fn a_file_named_alone_is_checked_as_the_applications_that_deploy_it_render_it() {
    if !common::tool_available("helm", &[]) {
        return;
    }
    let repo = apps_repo();
    // pre-commit names a template and a kustomization's resource: the repository's
    // Applications that deploy them are found, and only findings in these files count.
    let out = compact(
        repo.path(),
        &[
            "charts/demo/templates/deployment.yaml",
            "kustomize/web/deployment.yaml",
        ],
    );
    for said in [
        "charts/demo/templates/deployment.yaml:19:11: warning[image-tag-latest] container \"demo\" uses \"registry.example.com/demo:latest\": the latest tag moves, so what runs is not what Git says (`image.tag` is set in charts/demo/values-staging.yaml:2) (rendered for Application argocd/demo-staging)",
        "charts/demo/templates/deployment.yaml:7:3: info[deployment-single-replica] Deployment \"demo-qa\" runs a single replica",
        "kustomize/web/deployment.yaml:6:13: info[missing-pdb] Deployment \"dev-web\" runs 2 replicas but no PodDisruptionBudget selects its pods (app=web): a drain may evict them all at once (rendered for Application argocd/web-dev)",
    ] {
        assert!(out.contains(said), "{said}\n{out}");
    }
    // Not the Applications' own files, nor what other Applications say; but an Application
    // that deploys the template and does not render is said, on the template.
    assert!(!out.contains("apps/"), "{out}");
    assert!(out.contains("charts/demo/templates/deployment.yaml:1:1: info[helm-not-rendered] not checked as helm template demo-dev charts/demo (Application argocd/demo-dev) renders it: the values of"), "{out}");
}

#[test]
fn a_chart_that_tells_its_namespace_from_default_renders_as_helm_renders_it() {
    if !common::tool_available("helm", &[]) {
        return;
    }
    // argo-workflows' workflow Role: one per namespace of a list that holds `default` and the
    // release's namespace, repeats dropped. Without a namespace helm renders one Role.
    let dir = chart(
        "rbac",
        &[(
            "templates/role.yaml",
            "{{- range $ns := list \"default\" .Release.Namespace | uniq }}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: workflow\n  namespace: {{ $ns }}\nrules: []\n{{- end }}\n",
        )],
    );
    assert_eq!(compact(dir.path(), &["."]), "");
}

#[test]
fn the_last_object_a_chart_renders_is_placed_like_any_other() {
    // Its span ends past the text when it ends in a block scalar (cloudnative-pg's ping test).
    if !common::tool_available("helm", &[]) {
        return;
    }
    let dir = chart(
        "job",
        &[(
            "templates/job.yaml",
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {{ .Release.Name }}-ping\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n        - name: ping\n          image: alpine:latest\n          args:\n            - >-\n              ping -c 1 {{ .Release.Name }}\n",
        )],
    );
    let out = compact(dir.path(), &["."]);
    assert!(
        out.contains("job/templates/job.yaml:11:11: warning[image-tag-latest]"),
        "{out}"
    );
}

#[test]
fn a_key_a_values_block_writes_is_found_on_the_key_that_holds_the_block() {
    if !common::tool_available("helm", &[]) {
        return;
    }
    let dir = chart(
        "app",
        &[
            (
                "values.yaml",
                "securityContext:\n  readOnlyRootFilesystem: false\n",
            ),
            (
                "templates/pod.yaml",
                "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n    - name: app\n      image: app:1.0\n      securityContext:\n        {{- toYaml .Values.securityContext | nindent 8 }}\n",
            ),
        ],
    );
    let out = compact(dir.path(), &["."]);
    assert!(
        out.contains("app/templates/pod.yaml:9:7: info[writable-root-fs] container \"app\" can write to its image's file system: set readOnlyRootFilesystem: true and mount an emptyDir where it writes (at /spec/containers/0/securityContext/readOnlyRootFilesystem, which this line's actions write)"),
        "{out}"
    );
}

#[test]
fn an_editor_buffer_of_a_template_is_checked_as_its_chart_renders_it() {
    if !common::tool_available("helm", &[]) {
        return;
    }
    let template = "charts/web/templates/deployment.yaml";
    let on_disk = std::fs::read_to_string(repo().join(template)).unwrap();
    // The unsaved buffer adds a line and pins nothing: the finding is on the buffer's line.
    let buffer = on_disk
        .replace(
            "  name: {{ .Release.Name }}\n",
            "  name: {{ .Release.Name }}\n  labels: {app: web}\n",
        )
        .replace("image: {{ .Values.image }}", "image: busybox:latest");
    let out = kvet()
        .current_dir(repo())
        .args([
            "check",
            "--format",
            "compact",
            "-",
            "--stdin-filename",
            template,
        ])
        .write_stdin(buffer)
        .output()
        .unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.contains("charts/web/templates/deployment.yaml:23:11: warning[image-tag-latest] container \"web\" uses \"busybox:latest\""),
        "{out}"
    );
    // Go template text is not read as YAML; the chart's files are untouched.
    assert!(!out.contains("yaml-syntax"), "{out}");
    assert_eq!(
        std::fs::read_to_string(repo().join(template)).unwrap(),
        on_disk
    );
}

#[test]
fn a_crd_of_the_input_is_served_to_the_charts_it_gates() {
    if !common::tool_available("helm", &[]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    common::copy_tree(&repo(), dir.path());
    std::fs::create_dir_all(dir.path().join("crds")).unwrap();
    std::fs::copy(
        repo().join("../crds/servicemonitor.yaml"),
        dir.path().join("crds/servicemonitor.yaml"),
    )
    .unwrap();
    // No --crds: the CRD in the repository is what makes the cluster serve ServiceMonitors.
    assert!(
        findings(dir.path(), &["."])
            .contains(&"charts/web/templates/servicemonitor.yaml:12:7 schema".to_owned())
    );
}

#[test]
fn nothing_a_chart_or_an_application_writes_reads_a_file_outside_the_repository_or_becomes_a_helm_option()
 {
    if !common::tool_available("helm", &[]) {
        return;
    }
    let secret = tempfile::tempdir().unwrap();
    std::fs::write(secret.path().join("creds.yaml"), "image: SECRET-TOKEN\n").unwrap();
    let repo = apps_repo();
    // A template that prints a `# Source:` comment naming a file outside the chart.
    std::fs::write(
        repo.path().join("charts/demo/templates/extra.yaml"),
        format!(
            "---\n# Source: demo/{}\napiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  hostNetwork: true\n  containers:\n    - name: x\n      image: x:1\n",
            secret.path().join("creds.yaml").display()
        ),
    )
    .unwrap();
    let output_dir = secret.path().join("written");
    let app = |name: &str, helm: &str| {
        std::fs::write(
            repo.path().join(format!("apps/{name}.yaml")),
            format!(
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {{name: {name}, namespace: argocd}}\nspec:\n  destination: {{namespace: x}}\n  source:\n    repoURL: https://github.com/example/gitops\n    path: charts/demo\n    helm:\n{helm}"
            ),
        )
        .unwrap();
    };
    // A release name that would be an option; a value file and a parameter with commas.
    app(
        "option",
        &format!(
            "      releaseName: \"--output-dir={}\"\n",
            output_dir.display()
        ),
    );
    app(
        "comma",
        &format!(
            "      valueFiles: [\"values.yaml,{}\"]\n",
            secret.path().join("creds.yaml").display()
        ),
    );
    app(
        "file-comma",
        &format!(
            "      fileParameters: [{{name: a, path: \"values.yaml,image={}\"}}]\n",
            secret.path().join("creds.yaml").display()
        ),
    );
    let out = compact(repo.path(), &["."]);
    assert!(!out.contains("SECRET-TOKEN"), "{out}");
    assert!(!output_dir.exists(), "helm wrote {}", output_dir.display());
    assert!(out.contains("is not a valid release name"), "{out}");
    assert!(out.contains("has a comma, which helm splits at"), "{out}");
    assert!(
        out.contains("is not a key=value pair helm reads as one"),
        "{out}"
    );
    // The finding on the object the fake `# Source:` names is on the chart, never in the
    // file the comment names.
    assert!(
        out.contains("charts/demo/Chart.yaml:1:1: error[host-namespaces]"),
        "{out}"
    );
}
