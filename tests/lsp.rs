//! `kvet lsp` driven over stdio as an editor drives it: initialize, open, incremental
//! changes, published diagnostics with exact ranges, code actions applied and checked again,
//! hover, files changed on disk, shutdown and exit.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::{Value, json};

mod common;

/// A client speaking to a `kvet lsp` process.
struct Client {
    child: Child,
    stdin: Option<ChildStdin>,
    incoming: Receiver<Value>,
    /// Messages received since the last notification that no wait wanted yet.
    backlog: Vec<Value>,
    next_id: i64,
}

impl Client {
    fn start(root: &Path) -> Client {
        Client::start_with(root, json!({}))
    }

    fn start_with(root: &Path, capabilities: Value) -> Client {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin!("kvet"))
            .arg("lsp")
            .current_dir(root)
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, incoming) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                if sender.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        let mut client = Client {
            stdin: child.stdin.take(),
            child,
            incoming,
            backlog: Vec::new(),
            next_id: 0,
        };
        let uri = uri_of(root);
        let answer = client.request(
            "initialize",
            json!({"processId": null, "rootUri": uri, "capabilities": capabilities,
                   "workspaceFolders": [{"uri": uri, "name": "ws"}]}),
        );
        assert_eq!(answer["result"]["serverInfo"]["name"], "kvet");
        let sync = &answer["result"]["capabilities"]["textDocumentSync"];
        assert_eq!(sync["change"], 2, "incremental");
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        let stdin = self.stdin.as_mut().unwrap();
        write!(stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        stdin.flush().unwrap();
    }

    /// Sends a notification: what the server sent before it is forgotten.
    fn notify(&mut self, method: &str, params: Value) {
        self.backlog.clear();
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its response.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait_for(|m| m["id"] == id && m.get("method").is_none())
    }

    /// The first message since the last notification that `wanted`.
    fn wait_for(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&wanted) {
            return self.backlog.remove(i);
        }
        loop {
            let message = self
                .incoming
                .recv_timeout(Duration::from_secs(60))
                .expect("the server answers within a minute");
            // A request of the server's (to register watchers, to create a progress token):
            // accepted, as clients that announce the capability do.
            if message.get("method").is_some() && message.get("id").is_some() {
                let id = message["id"].clone();
                self.send(json!({"jsonrpc": "2.0", "id": id, "result": null}));
            }
            if wanted(&message) {
                return message;
            }
            self.backlog.push(message);
        }
    }

    /// The next diagnostics published for `uri` that `wanted`.
    fn diagnostics_where(&mut self, uri: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        self.wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && wanted(&m["params"])
        })["params"]
            .clone()
    }

    /// The next diagnostics published for version `version` of the open document `uri`
    /// (the workspace check publishes too, for every file).
    fn diagnostics(&mut self, uri: &str, version: i64) -> Value {
        self.diagnostics_where(uri, |p| p["version"] == version)
    }

    /// Replaces the document's whole text.
    fn change(&mut self, uri: &str, version: i32, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": [{"text": text}]}),
        );
    }

    /// Replaces the document's whole text; the diagnostics published for it.
    fn replace(&mut self, uri: &str, version: i32, text: &str) -> Value {
        self.change(uri, version, text);
        self.diagnostics(uri, version.into())
    }

    fn open(&mut self, uri: &str, text: &str) -> Value {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
        );
        self.diagnostics(uri, 1)
    }

    /// Shuts down as the protocol says; the exit code.
    fn shut_down(mut self) -> i32 {
        let answer = self.request("shutdown", Value::Null);
        assert_eq!(answer["result"], Value::Null);
        let late = self.request("textDocument/hover", json!({}));
        assert_eq!(late["error"]["code"], -32600, "no request after shutdown");
        self.exit()
    }

    fn exit(mut self) -> i32 {
        self.notify("exit", Value::Null);
        drop(self.stdin.take());
        self.child.wait().unwrap().code().unwrap()
    }
}

fn uri_of(path: &Path) -> String {
    url::Url::from_file_path(path).unwrap().to_string()
}

/// The rules of published diagnostics, with their ranges as `line:char-line:char` (0-based).
fn findings(published: &Value) -> Vec<String> {
    let mut out: Vec<String> = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let r = &d["range"];
            format!(
                "{} {}:{}-{}:{}",
                d["code"].as_str().unwrap_or("-"),
                r["start"]["line"],
                r["start"]["character"],
                r["end"]["line"],
                r["end"]["character"]
            )
        })
        .collect();
    out.sort();
    out
}

fn has(published: &Value, rule: &str) -> bool {
    findings(published)
        .iter()
        .any(|f| f.starts_with(&format!("{rule} ")))
}

/// Applies a workspace edit's edits of `uri` to `text` (insertions at line starts, as kvet's
/// actions make them).
fn apply(text: &str, edit: &Value, uri: &str) -> String {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_owned).collect();
    let edits = edit["changes"][uri].as_array().unwrap();
    for e in edits.iter().rev() {
        let start = &e["range"]["start"];
        assert_eq!(start, &e["range"]["end"], "an insertion");
        assert_eq!(start["character"], 0, "at a line start");
        let line = start["line"].as_u64().unwrap() as usize;
        lines.insert(line, e["newText"].as_str().unwrap().to_owned());
    }
    lines.concat()
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - {args: [\"é😀\"], name: web, image: \"nginx:latest\"}\n";

#[test]
fn diagnostics_actions_and_hover_over_the_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pod.yaml");
    std::fs::write(&path, POD).unwrap();
    let uri = uri_of(&path);
    let mut client = Client::start(dir.path());

    let published = client.open(&uri, POD);
    assert_eq!(published["version"], 1);
    // After the emoji (two UTF-16 units, one character), kvet's column 38 is character 38
    // and the line's end 53.
    assert_eq!(
        findings(&published),
        [
            "automount-service-account-token 5:2-6:53",
            "image-tag-latest 6:38-6:52",
            "missing-probes 6:4-6:53",
            "missing-resources 6:4-6:53",
            "privilege-escalation 6:4-6:53",
            "run-as-root 6:4-6:53",
            "writable-root-fs 6:4-6:53",
        ]
    );
    let diagnostic = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "image-tag-latest")
        .unwrap()
        .clone();
    assert_eq!(diagnostic["source"], "kvet");
    assert_eq!(diagnostic["severity"], 2);

    // Hover on the finding: the rule's documentation.
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 6, "character": 45}}),
    );
    let docs = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(docs.contains("# image-tag-latest"), "{docs}");
    // Hover on a key with no finding: what Kubernetes says of the field.
    let field = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 3, "character": 3}}),
    );
    let docs = field["result"]["contents"]["value"].as_str().unwrap();
    assert!(
        docs.starts_with("**`name`** `string`\n\nName must be unique"),
        "{docs}"
    );
    assert_eq!(
        field["result"]["range"]["start"],
        json!({"line": 3, "character": 2})
    );
    let nothing = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 3, "character": 9}}),
    );
    assert_eq!(nothing["result"], Value::Null);

    // An incremental change: the tag, inside the emoji line.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": 6, "character": 45}, "end": {"line": 6, "character": 51}},
             "text": "1.27"}]}),
    );
    let published = client.diagnostics(&uri, 2);
    assert!(!has(&published, "image-tag-latest"), "{published}");
    assert!(has(&published, "run-as-root"));
    let text = POD.replace("nginx:latest", "nginx:1.27");

    // "Suppress on this line", applied, leaves a suppression without a reason to write.
    let run_as_root: Vec<Value> = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "run-as-root")
        .cloned()
        .collect();
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": run_as_root[0]["range"],
               "context": {"diagnostics": run_as_root}}),
    );
    let actions = actions["result"].as_array().unwrap();
    let titles: Vec<&str> = actions
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Suppress `run-as-root` on this line",
            "Suppress `run-as-root` for this object"
        ]
    );
    let suppressed = apply(&text, &actions[0]["edit"], &uri);
    assert!(suppressed.contains("\n  # kvet:ignore run-as-root -- \n  - {args"));
    // Until the reason is written, the comment is reported and suppresses nothing.
    let published = client.replace(&uri, 3, &suppressed);
    assert!(has(&published, "run-as-root"), "{published}");
    assert!(findings(&published).contains(&"unused-suppression 6:2-6:31".to_owned()));
    let with_reason = suppressed.replace("-- \n", "-- the image runs as nobody\n");
    let published = client.replace(&uri, 4, &with_reason);
    assert!(!has(&published, "run-as-root"), "{published}");
    assert!(!has(&published, "unused-suppression"), "{published}");
    assert!(has(&published, "privilege-escalation"));

    // "Suppress for this object": an annotation in metadata.
    let annotated = apply(&text, &actions[1]["edit"], &uri);
    assert!(annotated.contains(
        "metadata:\n  annotations:\n    ignore.kvet.dev/run-as-root: \"\"\n  name: web\n"
    ));
    let with_reason = annotated.replace(": \"\"", ": \"runs as nobody\"");
    let published = client.replace(&uri, 5, &with_reason);
    assert!(!has(&published, "run-as-root"), "{published}");

    // Closed, the file shows what the workspace check finds in it on disk.
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    let published = client.diagnostics_where(&uri, |p| {
        p["version"].is_null() && has(p, "image-tag-latest") && !has(p, "unused-suppression")
    });
    assert!(has(&published, "run-as-root"));
    assert_eq!(client.shut_down(), 0);
    // What the user wrote on disk is as it was.
    assert_eq!(std::fs::read_to_string(&path).unwrap(), POD);
}

/// Applies a text edit (a range replaced) to `text`.
fn apply_edit(text: &str, edit: &Value) -> String {
    let offset = |at: &Value| {
        let line = at["line"].as_u64().unwrap() as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        let character = at["character"].as_u64().unwrap() as usize;
        let chars = text[start..].chars().take(character);
        start + chars.map(char::len_utf8).sum::<usize>()
    };
    let (start, end) = (
        offset(&edit["range"]["start"]),
        offset(&edit["range"]["end"]),
    );
    format!(
        "{}{}{}",
        &text[..start],
        edit["newText"].as_str().unwrap(),
        &text[end..]
    )
}

/// The preferred action of the first diagnostic of `rule`: its title and edit.
fn preferred_fix(client: &mut Client, uri: &str, published: &Value, rule: &str) -> (String, Value) {
    let diagnostic = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == rule)
        .unwrap_or_else(|| panic!("a {rule} finding in {published}"))
        .clone();
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": diagnostic["range"],
               "context": {"diagnostics": [diagnostic]}}),
    );
    let fix = actions["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["isPreferred"] == true)
        .unwrap_or_else(|| panic!("a quick fix in {actions}"))
        .clone();
    let edits = fix["edit"]["changes"][uri].as_array().unwrap();
    assert_eq!(edits.len(), 1);
    (fix["title"].as_str().unwrap().to_owned(), edits[0].clone())
}

#[test]
fn quick_fixes_applied_fix_their_findings() {
    let dir = tempfile::tempdir().unwrap();
    let uri = uri_of(&dir.path().join("app.yaml"));
    let mut client = Client::start(dir.path());
    let text = "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata: {name: web}\nspec:\n  minAvailable: 1\n  selector: {matchLabels: {app: web}}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  containers:\n    - name: web\n      image: nginx:1.27\n      env:\n        - {name: MODE, value: a}\n        - {name: MODE, value: b}\n";
    let mut published = client.open(&uri, text);
    // The duplicate links the entry it repeats.
    let duplicate = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "duplicate-env")
        .unwrap();
    let related = &duplicate["relatedInformation"][0];
    assert_eq!(related["location"]["uri"], uri.as_str());
    assert_eq!(
        related["location"]["range"]["start"],
        json!({"line": 17, "character": 17})
    );
    assert_eq!(related["message"], "first at line 18");
    let mut text = text.to_owned();
    let steps = [
        ("removed-api", "Use apiVersion: policy/v1"),
        ("writable-root-fs", "Set readOnlyRootFilesystem: true"),
        ("run-as-root", "Set runAsNonRoot: true"),
        (
            "privilege-escalation",
            "Set allowPrivilegeEscalation: false",
        ),
        (
            "duplicate-env",
            "Remove the first \"MODE\" (line 22): only the last is used",
        ),
    ];
    for (version, (rule, title)) in (2..).zip(steps) {
        let (shown, edit) = preferred_fix(&mut client, &uri, &published, rule);
        assert_eq!(shown, title);
        text = apply_edit(&text, &edit);
        published = client.replace(&uri, version, &text);
        assert!(
            !has(&published, rule),
            "{rule} is fixed:\n{text}\n{published}"
        );
    }
    assert!(text.contains("      securityContext:\n        allowPrivilegeEscalation: false\n        runAsNonRoot: true\n        readOnlyRootFilesystem: true\n      image: nginx:1.27\n"), "{text}");
    assert!(
        text.contains("      env:\n        - {name: MODE, value: b}\n"),
        "{text}"
    );
    assert!(text.starts_with("apiVersion: policy/v1\n"));
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn edits_in_a_burst_are_checked_once_on_the_newest_text() {
    let dir = tempfile::tempdir().unwrap();
    let uri = uri_of(&dir.path().join("pod.yaml"));
    let mut client = Client::start(dir.path());
    client.open(&uri, POD);
    for version in 2..=6 {
        let text = POD.replace("latest", &format!("1.{version}"));
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": [{"text": text}]}),
        );
    }
    // The first publication after the burst is of its last version.
    let published = client.diagnostics_where(&uri, |p| p["version"].as_i64().unwrap_or(1) > 1);
    assert_eq!(published["version"], 6, "{published}");
    assert!(!has(&published, "image-tag-latest"));
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn a_config_changed_on_disk_checks_open_documents_again_and_a_broken_one_is_shown() {
    let dir = tempfile::tempdir().unwrap();
    let uri = uri_of(&dir.path().join("pod.yaml"));
    let capabilities =
        json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    let mut client = Client::start_with(dir.path(), capabilities);
    let registration = client.wait_for(|m| m["method"] == "client/registerCapability");
    let method = &registration["params"]["registrations"][0]["method"];
    assert_eq!(method, "workspace/didChangeWatchedFiles");
    assert!(has(&client.open(&uri, POD), "image-tag-latest"));

    let config = dir.path().join(".kvet.yaml");
    std::fs::write(&config, "rules:\n  image-tag-latest: off\n").unwrap();
    let changed = json!({"changes": [{"uri": uri_of(&config), "type": 1}]});
    client.notify("workspace/didChangeWatchedFiles", changed.clone());
    let published = client.diagnostics_where(&uri, |p| !has(p, "image-tag-latest"));
    assert!(has(&published, "run-as-root"));

    // A broken config: an error message, and the last good config stays in force.
    std::fs::write(&config, "rules:\n  image-tag-latest: [\n").unwrap();
    client.notify("workspace/didChangeWatchedFiles", changed.clone());
    let shown = client.wait_for(|m| m["method"] == "window/showMessage");
    assert_eq!(shown["params"]["type"], 1);
    let published = client.diagnostics(&uri, 1);
    assert!(!has(&published, "image-tag-latest"), "{published}");
    assert!(has(&published, "run-as-root"));
    // ...and a diagnostic on the config file, where it breaks, until it is mended.
    let config_uri = uri_of(&config);
    let on_config = client.diagnostics_where(&config_uri, |p| p["diagnostics"] != json!([]));
    let problem = &on_config["diagnostics"][0];
    assert_eq!(problem["severity"], 1);
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("last one that loaded")
    );
    assert_ne!(
        problem["range"]["start"],
        json!({"line": 0, "character": 0}),
        "{problem}"
    );
    std::fs::write(&config, "rules: {}\n").unwrap();
    client.notify("workspace/didChangeWatchedFiles", changed);
    client.diagnostics_where(&config_uri, |p| p["diagnostics"] == json!([]));
    client.diagnostics_where(&uri, |p| has(p, "image-tag-latest"));
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn settings_from_the_client_apply_as_flags_do() {
    let dir = tempfile::tempdir().unwrap();
    let uri = uri_of(&dir.path().join("flowschema.yaml"));
    let mut client = Client::start(dir.path());
    let flowschema = "apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata: {name: c}\nspec: {priorityLevelConfiguration: {name: x}}\n";
    let published = client.open(&uri, flowschema);
    assert!(has(&published, "removed-api"), "{published}");
    let removed = published["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "removed-api")
        .unwrap()
        .clone();
    assert_eq!(removed["tags"], json!([2]), "shown as deprecated");
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"kvet": {"kubernetesVersion": "1.30"}}}),
    );
    // (Checks are not ordered with notifications: what counts is what shows in the end.)
    client.diagnostics_where(&uri, |p| findings(p) == ["deprecated-api 0:12-0:48"]);
    // A version kvet does not have: said, on the document and in a message.
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"kvet": {"kubernetesVersion": "1.2"}}}),
    );
    let shown = client.wait_for(|m| m["method"] == "window/showMessage");
    let message = shown["params"]["message"].as_str().unwrap();
    assert!(message.contains("unknown Kubernetes version"), "{message}");
    client.diagnostics_where(&uri, |p| findings(p) == ["- 0:0-0:0"]);

    // A policy of the user's that does not parse: said on the policy, where it breaks, until
    // it is mended.
    let policies = dir.path().join("policy");
    std::fs::create_dir(&policies).unwrap();
    let policy = policies.join("bad.rego");
    std::fs::write(&policy, "package main\n\ndeny[msg] {\n  input.kind ==\n}\n").unwrap();
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"kvet": {"policy": ["policy"]}}}),
    );
    let on_policy = client.diagnostics_where(&uri_of(&policy), |p| p["diagnostics"] != json!([]));
    let problem = &on_policy["diagnostics"][0];
    assert!(
        problem["message"]
            .as_str()
            .unwrap()
            .contains("does not parse"),
        "{problem}"
    );
    assert!(
        problem["range"]["start"]["line"].as_u64().unwrap() >= 2,
        "{problem}"
    );
    std::fs::write(
        &policy,
        "package main\n\ndeny contains msg if {\n  input.kind == \"Nope\"\n  msg := \"no\"\n}\n",
    )
    .unwrap();
    let changed = json!({"changes": [{"uri": uri_of(&policy), "type": 2}]});
    client.notify("workspace/didChangeWatchedFiles", changed);
    client.diagnostics_where(&uri_of(&policy), |p| p["diagnostics"] == json!([]));
    // (A check that started before the change may still publish the old failure first.)
    let published = client.diagnostics_where(&uri, |p| has(p, "removed-api"));
    assert_eq!(published["version"], 1);
    assert_eq!(client.shut_down(), 0);
}

const SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: web\n  ports:\n    - port: 80\n";
const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n";

/// The workspace is checked as a whole, with the open buffers in place of their files: a
/// finding across files shows in the file it is on, open or not, and follows unsaved edits.
#[test]
fn findings_across_files_follow_the_workspace_and_its_unsaved_buffers() {
    let dir = tempfile::tempdir().unwrap();
    let (service, deployment) = (dir.path().join("svc.yaml"), dir.path().join("deploy.yaml"));
    std::fs::write(&service, SERVICE).unwrap();
    std::fs::write(&deployment, DEPLOYMENT).unwrap();
    let (service, deployment) = (uri_of(&service), uri_of(&deployment));
    let capabilities = json!({"window": {"workDoneProgress": true}});
    let mut client = Client::start_with(dir.path(), capabilities);

    // Start-up: the workspace is checked, with progress, and a file not open shows its
    // findings.
    let end =
        client.wait_for(|m| m["method"] == "$/progress" && m["params"]["value"]["kind"] == "end");
    let message = end["params"]["value"]["message"].as_str().unwrap();
    assert!(message.starts_with("2 files, "), "{message}");
    let published = client.diagnostics_where(&deployment, |p| p["version"].is_null());
    assert!(has(&published, "run-as-root"), "{published}");

    // An unsaved edit of the Deployment's labels: the Service, not open, selects nothing.
    let renamed = DEPLOYMENT.replace("app: web", "app: other");
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": deployment, "languageId": "yaml", "version": 1, "text": renamed}}),
    );
    let published = client.diagnostics_where(&service, |p| has(p, "dangling-service"));
    assert!(published["version"].is_null());
    assert_eq!(findings(&published), ["dangling-service 6:4-6:12"]);

    // Opened, the Service alone has no workload to judge by: the workspace's finding shows.
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": service, "languageId": "yaml", "version": 1, "text": SERVICE}}),
    );
    client.diagnostics_where(&service, |p| {
        p["version"] == 1 && has(p, "dangling-service")
    });

    // The labels put back (still unsaved): the finding goes.
    client.replace(&deployment, 2, DEPLOYMENT);
    let published = client.diagnostics_where(&service, |p| {
        p["version"] == 1 && !has(p, "dangling-service")
    });
    assert_eq!(findings(&published), Vec::<String>::new());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("deploy.yaml")).unwrap(),
        DEPLOYMENT
    );
    assert_eq!(client.shut_down(), 0);
}

/// Once the workspace check has read a document, an edit does not bring back what the buffer
/// alone would say of whole-input rules (a PodDisruptionBudget in another file is not seen).
#[test]
fn an_edit_shows_no_whole_input_finding_the_workspace_disproves() {
    let dir = tempfile::tempdir().unwrap();
    let deployment = DEPLOYMENT.replace("spec:\n  selector:", "spec:\n  replicas: 2\n  selector:");
    let pdb = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      app: web\n";
    std::fs::write(dir.path().join("deploy.yaml"), &deployment).unwrap();
    std::fs::write(dir.path().join("pdb.yaml"), pdb).unwrap();
    let uri = uri_of(&dir.path().join("deploy.yaml"));
    let mut client = Client::start(dir.path());
    client.open(&uri, &deployment);
    client.diagnostics_where(&uri, |p| has(p, "run-as-root") && !has(p, "missing-pdb"));
    for version in 2..=3 {
        let edited = format!("{deployment}# edit {version}\n");
        let published = client.replace(&uri, version, &edited);
        assert!(!has(&published, "missing-pdb"), "{published}");
    }
    assert_eq!(client.shut_down(), 0);
}

/// A duplicate across files links the first copy, in its file.
#[test]
fn a_duplicate_in_another_file_is_linked() {
    let dir = tempfile::tempdir().unwrap();
    let configmap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n";
    std::fs::write(dir.path().join("a.yaml"), configmap).unwrap();
    std::fs::write(dir.path().join("b.yaml"), configmap).unwrap();
    let mut client = Client::start(dir.path());
    let second = uri_of(&dir.path().join("b.yaml"));
    let published = client.diagnostics_where(&second, |p| has(p, "duplicate-object"));
    let related = &published["diagnostics"][0]["relatedInformation"][0];
    assert_eq!(
        related["location"]["uri"],
        uri_of(&dir.path().join("a.yaml"))
    );
    assert_eq!(
        related["location"]["range"]["start"],
        json!({"line": 3, "character": 8})
    );
    assert_eq!(client.shut_down(), 0);
}

#[test]
fn exit_without_shutdown_is_an_error_exit() {
    let dir = tempfile::tempdir().unwrap();
    let client = Client::start(dir.path());
    assert_eq!(client.exit(), 1);
}

/// Kustomize renders read the open buffers too: an unsaved edit of a base moves the findings
/// its overlay's render makes to the buffer's lines, and an unsaved kustomization's render is
/// what it says, before either is saved.
#[test]
fn renders_in_the_workspace_read_unsaved_buffers() {
    if !common::tool_available("kubectl", &["--client"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/render/kustomize");
    common::copy_tree(&root, dir.path());
    let base = dir.path().join("base/deployment.yaml");
    let overlay = dir.path().join("overlay/kustomization.yaml");
    let (base_text, overlay_text) = (
        std::fs::read_to_string(&base).unwrap(),
        std::fs::read_to_string(&overlay).unwrap(),
    );
    let (base, overlay) = (uri_of(&base), uri_of(&overlay));
    let mut client = Client::start(dir.path());
    let on_disk = client.diagnostics_where(&base, |p| has(p, "missing-probes"));
    assert!(
        findings(&on_disk).contains(&"missing-probes 12:10-13:47".to_owned()),
        "{on_disk}"
    );

    // The pod no longer mounts a token, a line above the container: the render's findings
    // follow the buffer.
    client.open(&base, &base_text);
    let edited = base_text.replace(
        "    spec:\n",
        "    spec:\n      automountServiceAccountToken: false\n",
    );
    client.change(&base, 2, &edited);
    let published =
        client.diagnostics_where(&base, |p| p["version"] == 2 && has(p, "missing-probes"));
    let found = findings(&published);
    assert!(
        found.contains(&"missing-probes 13:10-14:47".to_owned()),
        "{found:?}"
    );
    assert!(
        !has(&published, "automount-service-account-token"),
        "{found:?}"
    );

    // The overlay pins its tag, unsaved: `latest` is gone from its render.
    client.open(&overlay, &overlay_text);
    let pinned = overlay_text.replace("newTag: latest", "newTag: \"1.1\"");
    client.change(&overlay, 2, &pinned);
    client.diagnostics_where(&overlay, |p| {
        p["version"] == 2 && !has(p, "image-tag-latest")
    });
    assert_eq!(
        std::fs::read_to_string(dir.path().join("base/deployment.yaml")).unwrap(),
        base_text
    );
    assert_eq!(client.shut_down(), 0);
}

/// Hover on a custom resource's field: what its CRD, found in the workspace, says of it.
#[test]
fn a_custom_resources_field_is_documented_by_its_crd_in_the_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  names: {kind: Widget, plural: widgets}\n  scope: Namespaced\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          properties:\n            spec:\n              type: object\n              properties:\n                gears:\n                  type: integer\n                  description: How many gears the widget turns.\n";
    std::fs::create_dir(dir.path().join("crds")).unwrap();
    std::fs::write(dir.path().join("crds/widget.yaml"), crd).unwrap();
    let widget =
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  gears: 3\n";
    let uri = uri_of(&dir.path().join("widget.yaml"));
    std::fs::write(dir.path().join("widget.yaml"), widget).unwrap();
    let mut client = Client::start(dir.path());
    client.open(&uri, widget);
    let hover = |client: &mut Client, line: u32, character: u32| {
        let answer = client.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}),
        );
        answer["result"]["contents"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(
        hover(&mut client, 5, 4),
        "**`gears`** `integer`\n\nHow many gears the widget turns.\n\n*Widget (example.com/v1), its CRD in crds/widget.yaml*"
    );
    // Its metadata is every kind's ObjectMeta.
    assert!(hover(&mut client, 3, 3).starts_with("**`name`** `string`\n\nName must be unique"));
    assert_eq!(client.shut_down(), 0);
}

/// The `baseline` setting hides what `kvet check --write-baseline` recorded, in the open
/// document and in the workspace, as `--baseline` does; new findings show.
#[test]
fn the_baseline_setting_hides_recorded_findings() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("deploy.yaml");
    std::fs::write(&file, DEPLOYMENT).unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_kvet"))
        .current_dir(dir.path())
        .args(["check", "--write-baseline", "baseline.json", "deploy.yaml"])
        .status()
        .unwrap();
    assert!(status.code().is_some_and(|c| c <= 1), "{status}");
    let uri = uri_of(&file);
    let mut client = Client::start(dir.path());
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"kvet": {"baseline": "baseline.json"}}}),
    );
    // (Notifications are handled in order: the document is checked with the baseline.)
    let published = client.open(&uri, DEPLOYMENT);
    assert_eq!(findings(&published), Vec::<String>::new());
    // A new finding: it shows, the recorded ones stay hidden.
    let latest = DEPLOYMENT.replace("nginx:1.27", "nginx:latest");
    client.change(&uri, 2, &latest);
    let published =
        client.diagnostics_where(&uri, |p| p["version"] == 2 && has(p, "image-tag-latest"));
    assert_eq!(findings(&published).len(), 1, "{published}");
    // A baseline that is not there: said, and nothing is hidden.
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"kvet": {"baseline": "gone.json"}}}),
    );
    let shown = client.wait_for(|m| m["method"] == "window/showMessage");
    let message = shown["params"]["message"].as_str().unwrap();
    assert!(message.starts_with("there is no baseline"), "{message}");
    client.diagnostics_where(&uri, |p| has(p, "run-as-root"));
    assert_eq!(client.shut_down(), 0);
}
