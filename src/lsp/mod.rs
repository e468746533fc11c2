//! `kvet lsp`: a language server over stdio. One main loop owns the open documents and the
//! protocol; checks run on rayon's threads, each on a snapshot, and send back their outcome.
//! Two layers of checks:
//! - a document's own check (`kvet check -` on its buffer): quick, after each edit once the
//!   document has been quiet for [`DEBOUNCE`], at once on open and save;
//! - the workspace check (`kvet check ROOT` with every open buffer in place of its file):
//!   what whole-input rules find across files, and the findings of files not open; on
//!   start-up (with `$/progress`), and [`WORKSPACE_DEBOUNCE`] after any change.
//!
//! A document shows its own check's findings and, when the workspace check read the same
//! version of it, the workspace's (duplicates dropped). A later check of the same kind makes
//! an earlier one stale: its outcome is dropped, so what is shown is the newest text's.

// lsp-types' `Uri` (fluent-uri's) keeps parsed parts in cells, but hashes and compares its
// text only: a sound map key, which clippy cannot see.
#![allow(clippy::mutable_key_type)]

mod actions;
mod check;
mod crd_docs;
mod diagnostics;
mod fixes;
mod hover;
mod settings;
mod text;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, select_biased};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeConfiguration, DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument,
    DidOpenTextDocument, DidSaveTextDocument, Notification as _, Progress, PublishDiagnostics,
    ShowMessage,
};
use lsp_types::request::{
    CodeActionRequest, HoverRequest, RegisterCapability, Request as _, WorkDoneProgressCreate,
};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProviderCapability,
    DidChangeConfigurationParams, DidChangeTextDocumentParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, HoverParams, HoverProviderCapability, InitializeParams, MessageType,
    NumberOrString, ProgressParams, ProgressParamsValue, PublishDiagnosticsParams, Registration,
    RegistrationParams, ServerCapabilities, ServerInfo, ShowMessageParams,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, Uri, WorkDoneProgress, WorkDoneProgressBegin,
    WorkDoneProgressCreateParams, WorkDoneProgressEnd,
};

use check::{Buffer, Configs, Job, Outcome, WorkspaceJob, WorkspaceOutcome};
use settings::Settings;

/// How long a document must stay unchanged before an edit is checked.
const DEBOUNCE: Duration = Duration::from_millis(150);
/// How long the workspace must stay unchanged before it is checked again, at least; twice
/// as long as the last check took when that is longer, so that a large repository's checks
/// take at most a third of the machine while someone types.
const WORKSPACE_DEBOUNCE: Duration = Duration::from_millis(500);

/// Why the server stopped before the client asked it to.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LspError {
    #[error("language server protocol: {0}")]
    Protocol(#[from] lsp_server::ProtocolError),
    #[error("language server: {0}")]
    Json(#[from] serde_json::Error),
    #[error("language server I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves one client on stdin/stdout until it exits: exit code 0 after `shutdown`, 1 for an
/// `exit` without it, as the protocol says.
pub fn run() -> Result<u8, LspError> {
    let (connection, io_threads) = Connection::stdio();
    let code = serve(connection)?;
    io_threads.join()?;
    Ok(code)
}

fn serve(connection: Connection) -> Result<u8, LspError> {
    let (id, params) = connection.initialize_start()?;
    // LSP 3.18's snippet edits, which lsp-types does not know yet: the cursor can be left
    // where the user writes next (a suppression's reason).
    let snippets = params
        .pointer("/capabilities/workspace/workspaceEdit/snippetEditSupport")
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(false);
    let params: InitializeParams = serde_json::from_value(params)?;
    let capabilities = ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..Default::default()
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..Default::default()
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        ..Default::default()
    };
    let answer = serde_json::json!({
        "capabilities": capabilities,
        "serverInfo": ServerInfo {
            name: "kvet".to_owned(),
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        },
    });
    connection.initialize_finish(id, answer)?;
    let root = workspace_root(&params);
    let settings = params
        .initialization_options
        .as_ref()
        .and_then(|o| Settings::from_value(o, root.as_deref()))
        .unwrap_or_default();
    let (outcomes, finished) = crossbeam_channel::unbounded();
    let progress = params
        .capabilities
        .window
        .as_ref()
        .and_then(|w| w.work_done_progress)
        .unwrap_or(false);
    let mut server = Server {
        snippets,
        workspace_due: root.as_ref().map(|_| Instant::now()),
        workspace: Workspace::default(),
        progress,
        config_problems: HashMap::new(),
        policy_problem: None,
        in_flight: Default::default(),
        waiting: Default::default(),
        shown: Default::default(),
        crd_docs: Arc::new(crd_docs::CrdDocs::new(&settings.crds, root.as_deref())),
        connection,
        root,
        settings: Arc::new(settings),
        configs: Configs::default(),
        documents: HashMap::new(),
        due: HashMap::new(),
        generation: 0,
        latest: HashMap::new(),
        own: HashMap::new(),
        published: HashMap::new(),
        outcomes,
        shut_down: false,
    };
    server.watch_files(&params);
    server.main_loop(&finished)
}

/// The first workspace folder, or the root the client gave.
#[allow(deprecated)] // root_uri: what clients without workspace folders send
fn workspace_root(params: &InitializeParams) -> Option<PathBuf> {
    let first = params.workspace_folders.as_ref().and_then(|f| f.first());
    first
        .map(|f| &f.uri)
        .or(params.root_uri.as_ref())
        .and_then(path_of)
}

/// The local path of a `file:` URI.
fn path_of(uri: &Uri) -> Option<PathBuf> {
    url::Url::parse(uri.as_str()).ok()?.to_file_path().ok()
}

/// The `file:` URI of an absolute path.
fn uri_of(path: &std::path::Path) -> Option<Uri> {
    url::Url::from_file_path(path).ok()?.as_str().parse().ok()
}

struct Document {
    text: String,
    version: i32,
}

struct Server {
    connection: Connection,
    /// Whether the client takes snippet edits in a workspace edit (LSP 3.18).
    snippets: bool,
    root: Option<PathBuf>,
    settings: Arc<Settings>,
    configs: Configs,
    documents: HashMap<Uri, Document>,
    /// Documents to check, and when.
    due: HashMap<Uri, Instant>,
    generation: u64,
    /// The generation of each document's newest check: only its outcome is published.
    latest: HashMap<Uri, u64>,
    /// Each open document's own findings, with the version they are of.
    own: HashMap<Uri, (i32, Vec<lsp_types::Diagnostic>)>,
    /// What was last published for each file, with its version (hover reads it).
    published: HashMap<Uri, (Option<i32>, Vec<lsp_types::Diagnostic>)>,
    outcomes: Sender<Finished>,
    shut_down: bool,
    /// When to check the workspace (there is none without a root).
    workspace_due: Option<Instant>,
    workspace: Workspace,
    /// Whether the client shows `$/progress`.
    progress: bool,
    /// What is wrong with each config file the checks read (on that file).
    config_problems: HashMap<Uri, Vec<lsp_types::Diagnostic>>,
    /// The broken policy that stops the checks, on its file.
    policy_problem: Option<(Uri, lsp_types::Diagnostic)>,
    /// Documents being checked, and those to check again once that check ends.
    in_flight: std::collections::HashSet<Uri>,
    waiting: std::collections::HashSet<Uri>,
    /// The problems shown (`window/showMessage`) and not yet gone.
    shown: std::collections::HashSet<String>,
    /// Where the CRDs of the settings and the workspace are, for hovers on custom resources:
    /// found on the first, forgotten when files or settings change.
    crd_docs: Arc<crd_docs::CrdDocs>,
}

/// What a check sends back.
enum Finished {
    Document(Outcome),
    Workspace(WorkspaceOutcome),
}

/// The workspace check's state and last findings.
struct Workspace {
    generation: u64,
    running: bool,
    /// When the running check started, and how long the last one took.
    started: Instant,
    took: Duration,
    /// The progress token of the running check, once the client has accepted it.
    progress: Option<String>,
    by_file: HashMap<Uri, Vec<lsp_types::Diagnostic>>,
    versions: HashMap<Uri, i32>,
    /// The open documents a workspace check has read, at any version.
    read: std::collections::HashSet<Uri>,
    /// What each file's check found, for the next check: only changed files are checked again.
    cache: Arc<crate::CheckCache>,
}

impl Default for Workspace {
    fn default() -> Workspace {
        Workspace {
            generation: 0,
            running: false,
            started: Instant::now(),
            took: Duration::ZERO,
            progress: None,
            by_file: HashMap::new(),
            versions: HashMap::new(),
            read: Default::default(),
            cache: Default::default(),
        }
    }
}

impl Server {
    fn main_loop(&mut self, finished: &Receiver<Finished>) -> Result<u8, LspError> {
        loop {
            // A workspace check that is due while one runs waits for its end, which wakes the
            // loop (a due time in the past would make it spin).
            let workspace_due = self.workspace_due.filter(|_| !self.workspace.running);
            let next = self.due.values().chain(&workspace_due).min();
            let wait = next.map_or(Duration::from_secs(3600), |at| {
                at.saturating_duration_since(Instant::now())
            });
            let receiver = self.connection.receiver.clone();
            select_biased! {
                recv(finished) -> outcome => match outcome {
                    Ok(Finished::Document(outcome)) => self.document_checked(outcome),
                    Ok(Finished::Workspace(outcome)) => self.workspace_checked(outcome),
                    Err(_) => {}
                },
                recv(receiver) -> message => match message {
                    Ok(Message::Request(request)) => self.request(request),
                    Ok(Message::Notification(n)) if n.method == "exit" => {
                        return Ok(if self.shut_down { 0 } else { 1 });
                    }
                    Ok(Message::Notification(n)) => self.notification(n),
                    Ok(Message::Response(response)) => self.response(response),
                    // The client went away without `exit`.
                    Err(_) => return Ok(1),
                },
                default(wait) => {}
            }
            self.start_due_checks();
            self.start_workspace_check();
        }
    }

    fn request(&mut self, request: Request) {
        let id = request.id.clone();
        if self.shut_down {
            let message = "the server is shutting down".to_owned();
            return self.respond(Response::new_err(
                id,
                ErrorCode::InvalidRequest as i32,
                message,
            ));
        }
        if request.method == "shutdown" {
            self.shut_down = true;
            return self.respond(Response::new_ok(id, ()));
        }
        if request.method == HoverRequest::METHOD {
            return self.hover(request);
        }
        let answer =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.answer(request)));
        let response = match answer {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err((code, message))) => Response::new_err(id, code as i32, message),
            Err(_) => Response::new_err(
                id,
                ErrorCode::InternalError as i32,
                "kvet crashed answering this request".to_owned(),
            ),
        };
        self.respond(response);
    }

    fn answer(&self, request: Request) -> Result<serde_json::Value, (ErrorCode, String)> {
        let invalid = |e: serde_json::Error| (ErrorCode::InvalidParams, e.to_string());
        match request.method.as_str() {
            CodeActionRequest::METHOD => {
                let params: CodeActionParams =
                    serde_json::from_value(request.params).map_err(invalid)?;
                let uri = &params.text_document.uri;
                let actions = self.documents.get(uri).map(|d| {
                    let diagnostics = &params.context.diagnostics;
                    actions::code_actions(uri, &d.text, diagnostics, self.snippets)
                });
                Ok(serde_json::to_value(actions.unwrap_or_default()).unwrap_or_default())
            }
            other => Err((
                ErrorCode::MethodNotFound,
                format!("kvet does not answer {other}"),
            )),
        }
    }

    /// Answers a hover on a worker thread (finding a custom resource's CRD may read the
    /// workspace): the documentation of the rules of kvet's diagnostics at the position;
    /// elsewhere, of the field whose key is there.
    fn hover(&self, request: Request) {
        let id = request.id;
        let params = match serde_json::from_value::<HoverParams>(request.params) {
            Ok(params) => params.text_document_position_params,
            Err(e) => {
                let code = ErrorCode::InvalidParams as i32;
                return self.respond(Response::new_err(id, code, e.to_string()));
            }
        };
        let (uri, position) = (params.text_document.uri, params.position);
        let under: Vec<lsp_types::Diagnostic> = self
            .published
            .get(&uri)
            .map(|(_, published)| published.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|d| d.range.start <= position && position <= d.range.end)
            .cloned()
            .collect();
        let text = self.documents.get(&uri).map(|d| d.text.clone());
        let crds = Arc::clone(&self.crd_docs);
        let sender = self.connection.sender.clone();
        rayon::spawn(move || {
            let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                hover::answer(&under, text.as_deref(), position, &crds)
            }));
            let response = match answer {
                Ok(hover) => Response::new_ok(id, hover),
                Err(_) => Response::new_err(
                    id,
                    ErrorCode::InternalError as i32,
                    "kvet crashed answering this request".to_owned(),
                ),
            };
            let _ = sender.send(response.into());
        });
    }

    fn notification(&mut self, notification: Notification) {
        let Notification { method, params } = notification;
        match method.as_str() {
            DidOpenTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(params) else {
                    return;
                };
                let document = p.text_document;
                let uri = document.uri;
                self.documents.insert(
                    uri.clone(),
                    Document {
                        text: document.text,
                        version: document.version,
                    },
                );
                // Whatever was known of an earlier opening (a version number may come again).
                self.own.remove(&uri);
                self.workspace.versions.remove(&uri);
                self.due.insert(uri, Instant::now());
                self.workspace_changed();
            }
            DidChangeTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(params) else {
                    return;
                };
                let uri = p.text_document.uri;
                if let Some(document) = self.documents.get_mut(&uri) {
                    text::apply(&mut document.text, p.content_changes);
                    document.version = p.text_document.version;
                    self.due.insert(uri, Instant::now() + DEBOUNCE);
                    self.workspace_changed();
                }
            }
            // What one file says can change another's findings (a CRD, a chart's values):
            // every open document is checked again.
            DidSaveTextDocument::METHOD => self.check_all(),
            DidCloseTextDocument::METHOD => {
                let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(params) else {
                    return;
                };
                let uri = p.text_document.uri;
                self.documents.remove(&uri);
                self.due.remove(&uri);
                self.latest.remove(&uri);
                self.own.remove(&uri);
                self.workspace.versions.remove(&uri);
                self.workspace.read.remove(&uri);
                self.waiting.remove(&uri);
                // What the workspace check found in it, until it reads the file on disk.
                self.publish_file(&uri, false);
                self.workspace_changed();
            }
            DidChangeConfiguration::METHOD => {
                let Ok(p) = serde_json::from_value::<DidChangeConfigurationParams>(params) else {
                    return;
                };
                if let Some(settings) = Settings::from_value(&p.settings, self.root.as_deref()) {
                    self.settings = Arc::new(settings);
                    self.check_all();
                }
            }
            // A config, a policy, a CRD changed on disk.
            DidChangeWatchedFiles::METHOD => self.check_all(),
            _ => {}
        }
    }

    /// Checks every open document and the workspace again: settings, a config, a policy or
    /// a CRD changed, so no finding known so far is current.
    fn check_all(&mut self) {
        let root = self.root.as_deref();
        self.crd_docs = Arc::new(crd_docs::CrdDocs::new(&self.settings.crds, root));
        let now = Instant::now();
        for uri in self.documents.keys() {
            self.due.insert(uri.clone(), now);
        }
        // The running workspace check's outcome is stale, and so are the last one's findings
        // in open documents (closed files keep theirs until the next check).
        self.workspace.generation += 1;
        self.workspace.versions.clear();
        self.workspace_changed();
    }

    fn workspace_changed(&mut self) {
        if self.root.is_some() {
            let quiet = WORKSPACE_DEBOUNCE.max(self.workspace.took * 2);
            self.workspace_due = Some(Instant::now() + quiet);
        }
    }

    /// Starts the workspace check when it is due and none is running (one at a time: on a
    /// large workspace, checks piling up would only be dropped).
    fn start_workspace_check(&mut self) {
        let (Some(root), Some(due)) = (&self.root, self.workspace_due) else {
            return;
        };
        if due > Instant::now() || self.workspace.running {
            return;
        }
        self.workspace_due = None;
        self.workspace.running = true;
        self.workspace.started = Instant::now();
        self.workspace.generation += 1;
        let generation = self.workspace.generation;
        if self.progress {
            let token = format!("kvet-workspace-{generation}");
            let request = Request::new(
                RequestId::from(token.clone()),
                WorkDoneProgressCreate::METHOD.to_owned(),
                WorkDoneProgressCreateParams {
                    token: NumberOrString::String(token),
                },
            );
            let _ = self.connection.sender.send(request.into());
        }
        let job = WorkspaceJob {
            generation,
            root: root.clone(),
            buffers: self
                .documents
                .iter()
                .map(|(uri, d)| Buffer {
                    uri: uri.clone(),
                    version: d.version,
                    text: d.text.clone(),
                })
                .collect(),
            settings: Arc::clone(&self.settings),
            configs: Arc::clone(&self.configs),
            cache: Arc::clone(&self.workspace.cache),
        };
        self.spawn(move || Finished::Workspace(check::run_workspace(job)));
    }

    /// Runs a check on rayon's threads; its outcome comes back to the main loop.
    fn spawn(&self, check: impl FnOnce() -> Finished + Send + 'static) {
        let outcomes = self.outcomes.clone();
        rayon::spawn(move || {
            let _ = outcomes.send(check());
        });
    }

    /// The client accepted a progress token: the running workspace check reports under it.
    fn response(&mut self, response: Response) {
        let token = match &response.id.to_string() {
            id if id.contains("kvet-workspace-") => id.trim_matches('"').to_owned(),
            _ => return,
        };
        let running = format!("kvet-workspace-{}", self.workspace.generation);
        if response.response_result.is_ok() && self.workspace.running && token == running {
            self.progress_report(
                &token,
                WorkDoneProgress::Begin(WorkDoneProgressBegin {
                    title: "kvet: checking the workspace".to_owned(),
                    ..Default::default()
                }),
            );
            self.workspace.progress = Some(token);
        }
    }

    fn progress_report(&self, token: &str, value: WorkDoneProgress) {
        self.notify::<Progress>(ProgressParams {
            token: NumberOrString::String(token.to_owned()),
            value: ProgressParamsValue::WorkDone(value),
        });
    }

    fn workspace_checked(&mut self, outcome: WorkspaceOutcome) {
        self.workspace.running = false;
        self.workspace.took = self.workspace.started.elapsed();
        let found: usize = outcome.by_file.values().map(Vec::len).sum();
        if let Some(token) = self.workspace.progress.take() {
            let message = format!("{} files, {found} findings", outcome.files);
            self.progress_report(
                &token,
                WorkDoneProgress::End(WorkDoneProgressEnd {
                    message: Some(message),
                }),
            );
        }
        if outcome.generation != self.workspace.generation {
            return;
        }
        self.show_errors(outcome.problems);
        self.config_read(outcome.config_file);
        self.policy_read(outcome.policy);
        let before = std::mem::take(&mut self.workspace.by_file);
        self.workspace.by_file = outcome.by_file;
        self.workspace.read.extend(outcome.versions.keys().cloned());
        self.workspace.versions = outcome.versions;
        let mut files: Vec<Uri> = before.into_keys().collect();
        files.extend(self.workspace.by_file.keys().cloned());
        files.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        files.dedup();
        for uri in files {
            self.publish_file(&uri, false);
        }
    }

    fn start_due_checks(&mut self) {
        let now = Instant::now();
        let due: Vec<Uri> = self
            .due
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(uri, _)| uri.clone())
            .collect();
        for uri in due {
            self.due.remove(&uri);
            if self.in_flight.contains(&uri) {
                // One check of a document at a time: this one starts when that one ends.
                self.waiting.insert(uri);
                continue;
            }
            let Some(document) = self.documents.get(&uri) else {
                continue;
            };
            let Some(path) = path_of(&uri).filter(|p| is_checked(p)) else {
                continue;
            };
            self.generation += 1;
            self.latest.insert(uri.clone(), self.generation);
            self.in_flight.insert(uri.clone());
            let job = Job {
                uri,
                version: document.version,
                generation: self.generation,
                path,
                text: document.text.clone(),
                settings: Arc::clone(&self.settings),
                configs: Arc::clone(&self.configs),
            };
            self.spawn(move || Finished::Document(check::run(job)));
        }
    }

    fn document_checked(&mut self, outcome: Outcome) {
        self.in_flight.remove(&outcome.uri);
        if self.waiting.remove(&outcome.uri) {
            self.due.insert(outcome.uri.clone(), Instant::now());
        }
        if self.latest.get(&outcome.uri) != Some(&outcome.generation) {
            return; // stale: the document changed or closed since
        }
        self.show_errors(outcome.problems);
        self.config_read(outcome.config_file);
        self.policy_read(outcome.policy);
        let uri = outcome.uri.clone();
        self.own
            .insert(outcome.uri, (outcome.version, outcome.diagnostics));
        // Each check of a document answers for its version, changed or not.
        self.publish_file(&uri, true);
    }

    /// A check read this config file: its problem, or none any more, shows on it.
    fn config_read(&mut self, file: Option<check::ConfigFile>) {
        let Some(file) = file else {
            return;
        };
        let problems: Vec<_> = file.problem.into_iter().collect();
        if self
            .config_problems
            .get(&file.uri)
            .map_or(problems.is_empty(), |p| *p == problems)
        {
            return;
        }
        self.config_problems.insert(file.uri.clone(), problems);
        self.publish_file(&file.uri, false);
    }

    /// A check ran (`None`: a policy problem shown is gone) or could not (`Some`: because
    /// of the policy there, if any).
    fn policy_read(&mut self, policy: Option<Option<(Uri, lsp_types::Diagnostic)>>) {
        let now = policy.flatten();
        if now == self.policy_problem {
            return;
        }
        let before = std::mem::replace(&mut self.policy_problem, now);
        let files = before.iter().chain(&self.policy_problem);
        let files: Vec<Uri> = files.map(|(uri, _)| uri.clone()).collect();
        for uri in files {
            self.publish_file(&uri, false);
        }
    }

    /// Publishes what is known of a file: an open document's own findings and the
    /// workspace's of the same version; a closed file's workspace findings. Nothing while an
    /// open document's newest check is still running, and, unless `always`, nothing that was
    /// just published.
    fn publish_file(&mut self, uri: &Uri, always: bool) {
        let workspace = self.workspace.by_file.get(uri).into_iter().flatten();
        let (version, mut diagnostics) = match self.documents.get(uri) {
            Some(document) => {
                let Some((version, own)) = self.own.get(uri) else {
                    return;
                };
                if *version != document.version {
                    return;
                }
                // Whole-input rules see the other files only in the workspace check: once it
                // has read this document, its findings of them replace the buffer's own (which
                // cannot see the others), and stay, at the lines of the version it read, until
                // the next one; the rest of its findings join when it read this version.
                let current = self.workspace.versions.get(uri) == Some(version);
                let covered = self.workspace.read.contains(uri);
                let whole_input = |d: &&lsp_types::Diagnostic| {
                    diagnostics::rule_of(d).is_some_and(crate::rules::is_whole_input)
                };
                let mut all: Vec<_> = own
                    .iter()
                    .filter(|d| !(covered && whole_input(d)))
                    .cloned()
                    .collect();
                if current {
                    all.extend(workspace.cloned());
                } else if covered {
                    all.extend(workspace.filter(whole_input).cloned());
                }
                (Some(*version), all)
            }
            None => (None, workspace.cloned().collect()),
        };
        diagnostics.extend(self.config_problems.get(uri).into_iter().flatten().cloned());
        let policy = self.policy_problem.iter().filter(|(file, _)| file == uri);
        diagnostics.extend(policy.map(|(_, problem)| problem.clone()));
        let mut seen = std::collections::HashSet::new();
        diagnostics.retain(|d| {
            let range = (d.range.start.line, d.range.start.character);
            let end = (d.range.end.line, d.range.end.character);
            seen.insert((d.code.clone(), range, end, d.message.clone()))
        });
        let unchanged = match self.published.get(uri) {
            Some((v, d)) => *v == version && *d == diagnostics,
            None => diagnostics.is_empty(),
        };
        if unchanged && !always {
            return;
        }
        self.published
            .insert(uri.clone(), (version, diagnostics.clone()));
        self.send_diagnostics(uri.clone(), diagnostics, version);
    }

    /// Shows each problem once, not once per check, while it lasts: a check without
    /// problems forgets those shown.
    fn show_errors(&mut self, problems: Vec<String>) {
        if problems.is_empty() {
            self.shown.clear();
        }
        for message in problems {
            if self.shown.insert(message.clone()) {
                self.notify::<ShowMessage>(ShowMessageParams {
                    typ: MessageType::ERROR,
                    message,
                });
            }
        }
    }

    fn send_diagnostics(
        &self,
        uri: Uri,
        diagnostics: Vec<lsp_types::Diagnostic>,
        version: Option<i32>,
    ) {
        self.notify::<PublishDiagnostics>(PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        });
    }

    /// Asks the client to tell the server when configs, policies or manifests change on disk,
    /// when it can be asked.
    fn watch_files(&self, params: &InitializeParams) {
        let dynamic = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        if !dynamic {
            return;
        }
        let watchers = ["**/.kvet.yaml", "**/*.rego", "**/*.{yaml,yml,json}"]
            .map(|glob| serde_json::json!({"globPattern": glob}));
        let registration = Registration {
            id: "kvet-watched-files".to_owned(),
            method: DidChangeWatchedFiles::METHOD.to_owned(),
            register_options: Some(serde_json::json!({"watchers": watchers})),
        };
        let request = Request::new(
            RequestId::from("kvet-register-watchers".to_owned()),
            RegisterCapability::METHOD.to_owned(),
            RegistrationParams {
                registrations: vec![registration],
            },
        );
        let _ = self.connection.sender.send(request.into());
    }

    fn notify<N: lsp_types::notification::Notification>(&self, params: N::Params) {
        let notification = Notification::new(N::METHOD.to_owned(), params);
        let _ = self.connection.sender.send(notification.into());
    }

    fn respond(&self, response: Response) {
        let _ = self.connection.sender.send(response.into());
    }
}

/// Whether kvet checks a file of this name: YAML, as `kvet check` reads in folders.
fn is_checked(path: &std::path::Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}
