//! Loading policies into regorus engines, and evaluating their rules on an object.
//!
//! With user policies, one engine holds them all and is compiled up front, so that a broken
//! one stops the run; without, an engine holds the built-in policies a query needs and is
//! compiled on first use (`lazy`). Each object gets a clone (cheap: regorus shares its compiled
//! state behind `Arc`s) with the object as `input`. Built-in rules are `deny` in their package;
//! user rules follow conftest: `deny`, `violation`, `warn` and their `_`-suffixed variants in
//! the selected namespaces, with `exception` rules suppressing them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regorus::unstable::{Rule, RuleHead};
use regorus::{Engine, Value};

use super::budget;
use super::builtin;
use super::input;
use super::lazy::LazyEngines;
use super::meta::Scope;
use super::result::{self, PolicyResult};
use crate::diag::{Level, thousands};
use crate::load::object::Object;

/// Which policies to run.
#[derive(Debug, Clone, Default)]
pub struct PolicyOptions {
    /// Folders (or files) of the user's `.rego` policies; `*_test.rego` files are left out.
    pub policy_paths: Vec<PathBuf>,
    /// conftest namespaces (Rego packages) whose rules run; `main` when empty.
    pub namespaces: Vec<String>,
    /// Run the rules of every package of the user's policies.
    pub all_namespaces: bool,
    /// YAML or JSON files (or folders of them) merged into `data`.
    pub data_paths: Vec<PathBuf>,
    /// Rules' options from the config, by rule id: `data.kvet.options.<rule_id>`.
    pub rule_options: BTreeMap<String, serde_json::Value>,
}

/// Why the policies cannot run (exit 2).
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PolicyError {
    #[error("cannot read {what} {path}: {message}")]
    Read {
        /// `policy` or `data file`.
        what: &'static str,
        path: String,
        message: String,
    },
    #[error("policy {path} does not parse:\n{message}")]
    #[diagnostic(help(
        "kvet reads Rego v1 (`contains`/`if`) and v0 (`deny[msg] {{ ... }}`); this is the error of the one that got further"
    ))]
    Parse { path: String, message: String },
    #[error("the policies do not compile:\n{message}")]
    Compile { message: String },
    #[error("policy {path}:{line}: the function calls itself ({cycle})")]
    #[diagnostic(help(
        "Rego does not allow recursion (OPA rejects it when it compiles); evaluating it would never end"
    ))]
    Recursion {
        path: String,
        line: usize,
        cycle: String,
    },
    #[error("policy {path}:{line}: {builtin} reaches the network, which kvet's policies may not")]
    #[diagnostic(help(
        "kvet runs policies offline, as a CI gate on a pull request must: give the policy what it needs with --data"
    ))]
    Network {
        path: String,
        line: usize,
        builtin: &'static str,
    },
    #[error("cannot use data file {path}: {message}")]
    Data { path: String, message: String },
    #[error("no .rego policies in {path}")]
    Empty { path: String },
    #[error("no deny, violation or warn rules in {namespace} of the --policy files")]
    #[diagnostic(help(
        "their packages: {found}; pick with --namespace, or run them all with --all-namespaces"
    ))]
    NoRules { namespace: String, found: String },
}

impl PolicyError {
    /// The file the error is in, with the line and column when known (an editor puts a
    /// diagnostic there).
    pub fn location(&self) -> Option<(&str, Option<(u32, u32)>)> {
        match self {
            PolicyError::Read { path, .. } | PolicyError::Data { path, .. } => Some((path, None)),
            PolicyError::Parse { path, message } => {
                // regorus's report: `--> FILE:LINE:COL`.
                let at = message.lines().find_map(|l| {
                    let rest = l.trim_start_matches([' ', '│']).strip_prefix("--> ")?;
                    let (_, position) = rest.strip_prefix(path.as_str())?.split_at(1);
                    let (line, col) = position.split_once(':')?;
                    Some((line.parse().ok()?, col.trim().parse().ok()?))
                });
                Some((path, at))
            }
            PolicyError::Recursion { path, line, .. } | PolicyError::Network { path, line, .. } => {
                Some((path, Some((*line as u32, 1))))
            }
            PolicyError::Compile { .. }
            | PolicyError::Empty { .. }
            | PolicyError::NoRules { .. } => None,
        }
    }
}

/// One rule kvet evaluates on each object.
#[derive(Debug, Clone)]
pub struct PolicyRule {
    /// The id in diagnostics and config: a built-in rule's id, `<namespace>.<rule>` for the user's.
    pub id: String,
    /// The rule's data path: `data.kvet.rules.host_path_mount.deny`, `data.main.deny_latest`.
    pub query: String,
    pub default_level: Level,
    /// Kinds it applies to; empty for all.
    pub kinds: Vec<String>,
    pub scope: Scope,
    /// A built-in rule's index in [`builtin::policies`].
    builtin: Option<usize>,
    /// A user rule's conftest namespace and the name its exceptions use.
    exception: Option<(String, String)>,
}

/// What evaluating one rule on one object gave.
#[derive(Debug)]
pub struct Evaluation<'a> {
    pub rule: &'a PolicyRule,
    /// The rule's results, or the engine's error (a type error, a limit of `budget`).
    pub results: Result<Vec<PolicyResult>, String>,
}

/// Compiled policies, ready to be evaluated on objects from many threads.
pub struct Policies {
    engines: Engines,
    rules: Vec<PolicyRule>,
    /// Namespaces that declare `exception` rules.
    exception_namespaces: BTreeSet<String>,
    /// What the user should know that does not stop the run (a chosen namespace without
    /// rules, when another has some).
    warnings: Vec<String>,
}

enum Engines {
    /// Every policy, compiled: with user policies, which may use the built-in ones.
    All(Box<Engine>),
    /// Built-in policies only, compiled by the set a query needs.
    Lazy(LazyEngines),
}

impl Policies {
    /// Loads the built-in policies and the user's, and compiles them. Errors name the file and
    /// line the engine reports.
    pub fn load(options: &PolicyOptions) -> Result<Policies, PolicyError> {
        let mut engine = new_engine();
        let user_files = rego_files(&options.policy_paths, false)?;
        if !user_files.is_empty() {
            for (path, source) in builtin::EMBEDDED {
                add_policy(&mut engine, &format!("policies/{path}"), source)?;
            }
        }
        // A user policy may say in METADATA which kinds it is for and that it looks at the
        // whole input (`custom: {kinds: [...], scope: stream}`), as built-in ones do.
        let mut targets = BTreeMap::new();
        let mut sources = Vec::with_capacity(user_files.len());
        for file in &user_files {
            let source = read(file, POLICY)?;
            let name = file.display().to_string();
            add_policy(&mut engine, &name, &source)?;
            let target = super::meta::targets(&source).map_err(|e| PolicyError::Parse {
                path: name.clone(),
                message: e.to_string(),
            })?;
            targets.insert(name.clone(), target);
            sources.push((name, source));
        }
        refuse_unsafe(&sources)?;
        add_data(&mut engine, &options.data_paths)?;
        add_rule_options(&mut engine, &options.rule_options)?;

        let mut rules: Vec<PolicyRule> = builtin::policies()
            .iter()
            .enumerate()
            .map(|(i, p)| PolicyRule {
                id: p.meta.id.to_owned(),
                query: format!("{}.deny", p.package),
                default_level: p.meta.default_level,
                kinds: p.meta.kinds.iter().map(|k| (*k).to_owned()).collect(),
                scope: p.scope,
                builtin: Some(i),
                exception: None,
            })
            .collect();
        if user_files.is_empty() {
            // Only kvet's own policies, which its tests compile: nothing to check up front.
            return Ok(Policies {
                engines: Engines::Lazy(LazyEngines::new(engine)?),
                rules,
                exception_namespaces: BTreeSet::new(),
                warnings: Vec::new(),
            });
        }
        let user_files: BTreeSet<String> =
            user_files.iter().map(|f| f.display().to_string()).collect();
        let declared = declared_rules(&mut engine, |file| user_files.contains(file));
        let wanted = |namespace: &str| {
            options.all_namespaces
                || if options.namespaces.is_empty() {
                    namespace == "main"
                } else {
                    options.namespaces.iter().any(|n| n == namespace)
                }
        };
        // As conftest: a chosen namespace without rules is an error only when no chosen one
        // has any (nothing would be checked); otherwise a warning.
        let mut warnings = Vec::new();
        if !user_files.is_empty() && !options.all_namespaces {
            let asked = if options.namespaces.is_empty() {
                vec!["main".to_owned()]
            } else {
                options.namespaces.clone()
            };
            let has_rules = |namespace: &String| {
                declared
                    .get(namespace)
                    .is_some_and(|rules| rules.iter().any(|(n, _)| conftest_level(n).is_some()))
            };
            let (with, without): (Vec<String>, Vec<String>) =
                asked.into_iter().partition(|n| has_rules(n));
            let found: Vec<&str> = declared.keys().map(String::as_str).collect();
            if with.is_empty() {
                let namespace = match without.len() {
                    1 => format!("namespace {}", without[0]),
                    _ => format!("namespaces {}", without.join(", ")),
                };
                return Err(PolicyError::NoRules {
                    namespace,
                    found: found.join(", "),
                });
            }
            warnings.extend(without.into_iter().map(|namespace| {
                format!(
                    "no deny, violation or warn rules in namespace {namespace} of the --policy files (their packages: {})",
                    found.join(", ")
                )
            }));
        }
        let mut exception_namespaces = BTreeSet::new();
        for (namespace, names) in &declared {
            if !wanted(namespace) {
                continue;
            }
            for (name, file) in names {
                if name == "exception" {
                    exception_namespaces.insert(namespace.clone());
                }
                if let Some(level) = conftest_level(name) {
                    let (scope, kinds) = targets.get(file).cloned().unwrap_or_default();
                    rules.push(PolicyRule {
                        id: format!("{namespace}.{name}"),
                        query: format!("data.{namespace}.{name}"),
                        default_level: level,
                        kinds,
                        scope,
                        builtin: None,
                        exception: Some((namespace.clone(), exception_name(name).to_owned())),
                    });
                }
            }
        }
        // Compile now, so a broken policy stops the run before any file is read.
        engine.set_input(Value::new_object());
        engine
            .eval_query("true".to_owned(), false)
            .map_err(|e| PolicyError::Compile {
                message: e.to_string(),
            })?;
        Ok(Policies {
            engines: Engines::All(Box::new(engine)),
            rules,
            exception_namespaces,
            warnings,
        })
    }

    pub fn rules(&self) -> &[PolicyRule] {
        &self.rules
    }

    /// What loading found that does not stop the run.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// An engine (a clone) that holds the policies of `rules`.
    fn engine(&self, rules: &[&PolicyRule]) -> Result<Engine, String> {
        match &self.engines {
            Engines::All(engine) => Ok(Engine::clone(engine)),
            Engines::Lazy(lazy) => lazy.get(&builtin_set(rules.iter().copied())),
        }
    }

    /// Starts compiling, on other threads, what evaluating the rules `wanted` on objects of
    /// `kinds` will need, so that it overlaps with the caller's other checks.
    pub fn prepare<'k>(
        &self,
        kinds: impl IntoIterator<Item = &'k str>,
        wanted: impl Fn(&PolicyRule) -> bool,
    ) {
        let Engines::Lazy(lazy) = &self.engines else {
            return;
        };
        let kinds: BTreeSet<&str> = kinds.into_iter().collect();
        let on = |r: &&PolicyRule| wanted(r);
        // As `evaluate` and `evaluate_stream` ask for them.
        let per_object = kinds
            .iter()
            .map(|kind| builtin_set(self.object_rules(kind).filter(on)));
        let streams = self
            .stream_rules()
            .filter(on)
            .filter(|r| kinds.iter().any(|k| r.applies_to(k)))
            .map(|r| builtin_set([r]));
        let mut sets: Vec<Vec<usize>> = per_object.chain(streams).collect();
        sets.retain(|set| !set.is_empty());
        lazy.prefetch(sets);
    }

    /// The per-object rules for objects of a kind.
    fn object_rules<'a>(&'a self, kind: &str) -> impl Iterator<Item = &'a PolicyRule> {
        self.rules
            .iter()
            .filter(move |r| r.scope == Scope::Object && r.applies_to(kind))
    }

    /// The whole-stream rules.
    pub fn stream_rules(&self) -> impl Iterator<Item = &PolicyRule> {
        self.rules.iter().filter(|r| r.scope == Scope::Stream)
    }

    /// Evaluates every per-object rule `wanted` on the object (those whose kinds include its
    /// kind). `input` gives the object as a policy value; it is called only when a rule runs.
    pub fn evaluate(
        &self,
        object: &Object,
        input: impl FnOnce() -> Value,
        wanted: impl Fn(&PolicyRule) -> bool,
    ) -> Vec<Evaluation<'_>> {
        let selected: Vec<&PolicyRule> = self
            .object_rules(&object.id.kind)
            .filter(|r| wanted(r))
            .collect();
        if selected.is_empty() {
            return Vec::new();
        }
        let mut engine = match self.engine(&selected) {
            Ok(engine) => engine,
            Err(message) => {
                return selected
                    .into_iter()
                    .map(|rule| Evaluation {
                        rule,
                        results: Err(message.clone()),
                    })
                    .collect();
            }
        };
        let input = input();
        let nodes = budget::nodes(&input);
        engine.set_input(input);
        let mut exceptions: BTreeMap<&str, Result<BTreeSet<String>, String>> = BTreeMap::new();
        let mut out: Vec<Evaluation> = Vec::with_capacity(selected.len());
        let mut batch: Vec<&PolicyRule> = Vec::with_capacity(selected.len());
        for rule in selected {
            match &rule.exception {
                Some((namespace, name)) if self.exception_namespaces.contains(namespace) => {
                    let names = exceptions.entry(namespace).or_insert_with(|| {
                        within_budget(&mut engine, 1, nodes);
                        excepted_names(&mut engine, namespace)
                    });
                    match names {
                        Ok(names) if names.contains(name) => {}
                        Ok(_) => batch.push(rule),
                        Err(e) => out.push(Evaluation {
                            rule,
                            results: Err(format!("data.{namespace}.exception: {e}")),
                        }),
                    }
                }
                _ => batch.push(rule),
            }
        }
        out.extend(evaluate_batch(&mut engine, &batch, nodes));
        out
    }
}

/// Gives the next evaluation on `engine` the budget of `rules` rules on an input of `nodes`.
pub(super) fn within_budget(engine: &mut Engine, rules: usize, nodes: u64) {
    engine.set_execution_timer_config(budget::work(rules, nodes));
    budget::start_evaluation();
}

/// The built-in policies of rules, as [`LazyEngines`] keys them: indexes, ascending.
fn builtin_set<'a>(rules: impl IntoIterator<Item = &'a PolicyRule>) -> Vec<usize> {
    let mut set: Vec<usize> = rules.into_iter().filter_map(|r| r.builtin).collect();
    set.sort_unstable();
    set.dedup();
    set
}

/// Evaluates rules on the engine's input in one query, so that what they share (the workload
/// library's containers and volumes) is computed once; when that query fails, rule by rule,
/// so that the error is the failing rule's alone. Rules evaluated together share their
/// budgets; one by one, each has its own (`budget`), so the outcome depends on the input alone.
fn evaluate_batch<'a>(
    engine: &mut Engine,
    rules: &[&'a PolicyRule],
    nodes: u64,
) -> Vec<Evaluation<'a>> {
    let one_by_one = |engine: &mut Engine| {
        rules
            .iter()
            .map(|rule| Evaluation {
                rule,
                results: {
                    within_budget(engine, 1, nodes);
                    engine
                        .eval_rule(rule.query.clone())
                        .map_err(|e| engine_error(&e.to_string()))
                        .and_then(|value| result::results(&value))
                },
            })
            .collect()
    };
    if rules.len() < 2 {
        return one_by_one(engine);
    }
    // `[x | x := rule]` is `[]` when the rule is undefined, so one undefined rule does not
    // make the whole array undefined.
    let parts: Vec<String> = rules
        .iter()
        .map(|r| format!("[x | x := {}]", r.query))
        .collect();
    let query = format!("[{}]", parts.join(", "));
    within_budget(engine, rules.len(), nodes);
    let values = engine.eval_query(query, false).ok().and_then(|answer| {
        let value = answer.result.first()?.expressions.first()?.value.clone();
        let items = value.as_array().ok()?.clone();
        (items.len() == rules.len()).then_some(items)
    });
    let Some(values) = values else {
        return one_by_one(engine);
    };
    rules
        .iter()
        .zip(values)
        .map(|(rule, value)| {
            let value = match value.as_array().ok().and_then(|a| a.first()) {
                Some(v) => v.clone(),
                None => Value::Undefined,
            };
            Evaluation {
                rule,
                results: result::results(&value),
            }
        })
        .collect()
}

impl PolicyRule {
    pub fn applies_to(&self, kind: &str) -> bool {
        self.kinds.is_empty() || self.kinds.iter().any(|k| k == kind)
    }
}

impl Policies {
    /// Evaluates a whole-stream rule once, with `{"objects": objects}` as input. Every result
    /// must name its object by index.
    ///
    /// `folders[i]` numbers the folder object `i` was written in (a render is a folder of its
    /// own): objects of one folder are applied together. Policies read it as `input.folders`.
    pub fn evaluate_stream(
        &self,
        rule: &PolicyRule,
        objects: Vec<Value>,
        folders: Vec<usize>,
    ) -> Result<Vec<PolicyResult>, String> {
        let count = objects.len();
        let mut input = BTreeMap::new();
        input.insert(Value::from("objects"), Value::from(objects));
        let folders: Vec<Value> = folders.into_iter().map(|f| Value::from(f as u64)).collect();
        input.insert(Value::from("folders"), Value::from(folders));
        let input = Value::from(input);
        let mut engine = self.engine(&[rule])?;
        within_budget(&mut engine, 1, budget::nodes(&input));
        engine.set_input(input);
        let value = engine
            .eval_rule(rule.query.clone())
            .map_err(|e| engine_error(&e.to_string()))?;
        let results = result::results(&value)?;
        let bad = |r: &PolicyResult| {
            r.object.is_none_or(|i| i >= count) || r.related.is_some_and(|i| i >= count)
        };
        match results.iter().find(|r| bad(r)) {
            Some(bad) => Err(format!(
                "a whole-stream result must name its object by index in input.objects (0..{count}): {:?}",
                bad.message
            )),
            None => Ok(results),
        }
    }
}

/// The engine's error, in words for a user where regorus' are internal.
pub(super) fn engine_error(message: &str) -> String {
    if budget::is_work_exhausted(message) {
        format!(
            "stopped: it did more work than kvet allows one rule on one object ({} steps, and {} more per node of the object, which a rule that reads the object a fixed number of times never reaches)",
            thousands(budget::WORK_PER_RULE as f64),
            budget::WORK_PER_NODE
        )
    } else {
        one_line(message)
    }
}

/// regorus' multi-line error (`--> file:8:1`, the source line, `error: ...`) as one line:
/// `file:8:1: ...`. Other messages are kept, trimmed.
fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message.lines().map(str::trim).collect();
    let at = lines.iter().find_map(|l| l.strip_prefix("--> "));
    let what = lines.iter().find_map(|l| l.strip_prefix("error: "));
    match (at, what) {
        (Some(at), Some(what)) => format!("{at}: {what}"),
        _ => message.trim().to_owned(),
    }
}

/// An engine with kvet's limits (`budget`).
pub(super) fn new_engine() -> Engine {
    let mut engine = Engine::new();
    budget::install(&mut engine);
    // Where each workload kind keeps its pods, for the library (`data.kvet.lib.workload`).
    engine
        .add_policy(
            "kvet:workload-kinds.rego".to_owned(),
            crate::workload::rego_table(),
        )
        .expect("the generated table of workload kinds parses");
    engine.set_execution_timer_config(budget::work(1, 0));
    engine
}

/// Refuses user policies (`(name, source)` of each file of the run) that could never finish
/// (functions that call themselves, through any of the files) or would call out (network).
pub(super) fn refuse_unsafe(files: &[(String, String)]) -> Result<(), PolicyError> {
    for (path, source) in files {
        if let Some((line, builtin)) = super::offline::find(source) {
            return Err(PolicyError::Network {
                path: path.clone(),
                line,
                builtin,
            });
        }
    }
    let sources: Vec<&str> = files.iter().map(|(_, s)| s.as_str()).collect();
    if let Some((file, line, cycle)) = super::recursion::find_across(&sources) {
        return Err(PolicyError::Recursion {
            path: files[file].0.clone(),
            line,
            cycle,
        });
    }
    Ok(())
}

/// Adds one policy file: as Rego v1, or as v0 when only that parses. When neither does, the
/// error of the parse that got further (the later line) is the likelier one to help.
pub(super) fn add_policy(engine: &mut Engine, path: &str, source: &str) -> Result<(), PolicyError> {
    engine.set_rego_v0(false);
    let v1 = match engine.add_policy(path.to_owned(), source.to_owned()) {
        Ok(_) => return Ok(()),
        Err(e) => e.to_string(),
    };
    engine.set_rego_v0(true);
    let v0 = engine.add_policy(path.to_owned(), source.to_owned());
    engine.set_rego_v0(false);
    match v0 {
        Ok(_) => Ok(()),
        Err(e) => {
            let v0 = e.to_string();
            let message = if error_line(&v0) > error_line(&v1) {
                v0
            } else {
                v1
            };
            Err(PolicyError::Parse {
                path: path.to_owned(),
                message,
            })
        }
    }
}

/// The line number in a regorus error (`file:12:5: error: ...`), 0 when there is none.
fn error_line(message: &str) -> u32 {
    message
        .split(':')
        .skip(1)
        .find_map(|part| part.trim().parse().ok())
        .unwrap_or(0)
}

/// Merges data files (YAML or JSON; folders are read for `*.yaml`, `*.yml`, `*.json`) into
/// the engine's `data`, as conftest does.
pub(super) fn add_data(engine: &mut Engine, paths: &[PathBuf]) -> Result<(), PolicyError> {
    for file in data_files(paths)? {
        let data_error = |message: String| PolicyError::Data {
            path: file.display().to_string(),
            message,
        };
        let text = read(&file, DATA)?;
        let parsed = crate::load::yaml::parse(&text);
        if let Some(issue) = parsed.issues.first() {
            return Err(data_error(format!(
                "line {}: {}",
                issue.span.start.line, issue.message
            )));
        }
        for document in parsed.documents {
            let value = input::from_node(&document.root);
            if value.as_object().is_err() {
                return Err(data_error("the top level must be a mapping".into()));
            }
            engine
                .add_data(value)
                .map_err(|e| data_error(e.to_string()))?;
        }
    }
    Ok(())
}

/// Rules' options under `data.kvet.options`, keyed by the id as a Rego name
/// (`required-secret-labels` → `required_secret_labels`).
fn add_rule_options(
    engine: &mut Engine,
    options: &BTreeMap<String, serde_json::Value>,
) -> Result<(), PolicyError> {
    if options.is_empty() {
        return Ok(());
    }
    let by_name: serde_json::Map<String, serde_json::Value> = options
        .iter()
        .map(|(id, value)| (id.replace('-', "_"), value.clone()))
        .collect();
    let data = serde_json::json!({"kvet": {"options": by_name}});
    engine
        .add_data(Value::from(data))
        .map_err(|e| PolicyError::Data {
            path: "the config's rule options".into(),
            message: e.to_string(),
        })
}

fn data_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, PolicyError> {
    files_under(paths, DATA, |p| {
        p.extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
    })
}

/// The `.rego` files under `paths` (files as given, folders recursively, sorted): tests only
/// when `tests`, and never tests otherwise.
pub(super) fn rego_files(paths: &[PathBuf], tests: bool) -> Result<Vec<PathBuf>, PolicyError> {
    let files = files_under(paths, POLICY, |p| {
        p.extension().is_some_and(|e| e == "rego")
    })?;
    for path in paths.iter().filter(|p| p.is_dir()) {
        if !files.iter().any(|f| f.starts_with(path)) {
            return Err(PolicyError::Empty {
                path: path.display().to_string(),
            });
        }
    }
    Ok(files
        .into_iter()
        .filter(|f| tests || !is_test_file(f))
        .collect())
}

pub(super) fn is_test_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with("_test.rego"))
}

/// What a file read for the policies is, in messages.
const POLICY: &str = "policy";
const DATA: &str = "data file";

fn files_under(
    paths: &[PathBuf],
    what: &'static str,
    matches: impl Fn(&Path) -> bool,
) -> Result<Vec<PathBuf>, PolicyError> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_file() {
            out.push(path.clone());
            continue;
        }
        if !path.is_dir() {
            let message = match std::fs::metadata(path) {
                Ok(_) => "not a regular file (a FIFO, device or socket is not read)",
                Err(_) => "no such file or folder",
            };
            return Err(PolicyError::Read {
                what,
                path: path.display().to_string(),
                message: message.into(),
            });
        }
        let mut found = Vec::new();
        for entry in walkdir(path) {
            let entry = entry.map_err(|e| PolicyError::Read {
                what,
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            if entry.file_type().is_some_and(|t| t.is_file()) && matches(entry.path()) {
                found.push(entry.into_path());
            }
        }
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

fn walkdir(path: &Path) -> ignore::Walk {
    ignore::WalkBuilder::new(path)
        .standard_filters(false)
        .hidden(true)
        .build()
}

fn read(path: &Path, what: &'static str) -> Result<String, PolicyError> {
    crate::load::read_file_text(path).map_err(|e| PolicyError::Read {
        what,
        path: path.display().to_string(),
        message: crate::load::discover::io_message(&e),
    })
}

/// Rule names declared in each package (`main` for `data.main`) of the modules `selected`
/// picks by file, each with the file that first declares it.
pub(super) fn declared_rules(
    engine: &mut Engine,
    selected: impl Fn(&str) -> bool,
) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for module in engine.get_modules() {
        let file = module.package.span.source.file();
        if !selected(file) {
            continue;
        }
        let Ok(package) = regorus::utils::get_path_string(&module.package.refr, None) else {
            continue;
        };
        let names = out.entry(package).or_default();
        for rule in &module.policy {
            let refr = match rule.as_ref() {
                Rule::Spec { head, .. } => match head {
                    RuleHead::Compr { refr, .. } | RuleHead::Set { refr, .. } => refr,
                    RuleHead::Func { .. } => continue,
                },
                Rule::Default { refr, .. } => refr,
            };
            if let Ok(name) = regorus::utils::get_root_var(refr) {
                let name = name.text().to_owned();
                if !names.iter().any(|(n, _)| *n == name) {
                    names.push((name, file.clone()));
                }
            }
        }
    }
    out
}

/// conftest's rules: `deny`, `violation` (failures) and `warn`, alone or `_`-suffixed.
fn conftest_level(name: &str) -> Option<Level> {
    let (prefix, rest) = name.split_at(name.find('_').unwrap_or(name.len()));
    let suffix_ok = rest.is_empty()
        || (rest.len() > 1 && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    match prefix {
        "deny" | "violation" if suffix_ok => Some(Level::Error),
        "warn" if suffix_ok => Some(Level::Warning),
        _ => None,
    }
}

/// The name conftest exceptions use for a rule: `deny_latest` → `latest`; `deny` → `deny`.
fn exception_name(rule: &str) -> &str {
    rule.split_once('_').map_or(rule, |(_, rest)| rest)
}

/// The rule names a namespace's `exception` rules give for the current input.
fn excepted_names(engine: &mut Engine, namespace: &str) -> Result<BTreeSet<String>, String> {
    let value = engine
        .eval_rule(format!("data.{namespace}.exception"))
        .map_err(|e| e.to_string())?;
    let mut names = BTreeSet::new();
    let mut add = |v: &Value| {
        if let Ok(s) = v.as_string() {
            names.insert(s.to_string());
        }
    };
    let outer: Vec<Value> = match &value {
        Value::Set(set) => set.iter().cloned().collect(),
        Value::Array(items) => items.to_vec(),
        _ => Vec::new(),
    };
    for item in &outer {
        match item {
            Value::Array(inner) => inner.iter().for_each(&mut add),
            Value::Set(inner) => inner.iter().for_each(&mut add),
            other => add(other),
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Rust rules and the policies' library find the pods of every workload kind at the
    /// same place (both read `crate::workload::WORKLOAD_KINDS`), and neither takes a kind of
    /// that name in another API group for a workload.
    #[test]
    fn a_parse_error_says_where() {
        let message = "  --> p/bad.rego:3:11\n   |\n3 | deny[msg] {".to_owned();
        let error = PolicyError::Parse {
            path: "p/bad.rego".into(),
            message,
        };
        assert_eq!(error.location(), Some(("p/bad.rego", Some((3, 11)))));
        // As regorus reports it.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("bad.rego"),
            "package main\n\ndeny[msg] {\n  input.kind ==\n}\n",
        )
        .unwrap();
        let options = PolicyOptions {
            policy_paths: vec![dir.path().to_path_buf()],
            ..PolicyOptions::default()
        };
        let Err(error) = Policies::load(&options) else {
            panic!("a broken policy loads");
        };
        let (path, at) = error.location().unwrap();
        assert!(path.ends_with("bad.rego"), "{path}");
        assert!(
            at.is_some_and(|(line, _)| (3..=5).contains(&line)),
            "{error}"
        );
        let compile = PolicyError::Compile {
            message: "x".into(),
        };
        assert_eq!(compile.location(), None);
    }

    #[test]
    fn rust_rules_and_the_library_find_the_same_pods() {
        let mut engine = new_engine();
        let (path, source) = builtin::EMBEDDED
            .iter()
            .find(|(p, _)| *p == "lib/workload.rego")
            .unwrap();
        add_policy(&mut engine, path, source).unwrap();
        let mut checked = 0;
        for workload in crate::workload::WORKLOAD_KINDS {
            for group in workload.groups.iter().chain(&["other.example.com"]) {
                let api_version = match *group {
                    "" => "v1".to_owned(),
                    group => format!("{group}/v1"),
                };
                // The pod spec, nested under the template's keys.
                let mut pod = "{spec: {containers: [{name: c}]}}".to_owned();
                for key in workload.template.iter().rev() {
                    pod = format!("{{{key}: {pod}}}");
                }
                let body = &pod[1..pod.len() - 1];
                let text = format!(
                    "{{apiVersion: {api_version}, kind: {}, metadata: {{name: x}}, {body}}}",
                    workload.kind
                );
                let doc = crate::load::yaml::parse(&text).documents.remove(0);
                let mut objects = Vec::new();
                crate::load::object::split(doc, &mut objects, &mut Vec::new());
                let object = &objects[0];
                let rust = crate::workload::pod_spec(object).map(|p| p.pointer);

                engine.set_input(input::from_node(&object.root));
                let found = engine
                    .eval_rule("data.kvet.lib.workload.pod".into())
                    .unwrap();
                let rego: Option<String> = (found != Value::Undefined).then(|| {
                    let keys = found["path"].as_array().unwrap();
                    keys.iter()
                        .map(|k| format!("/{}", k.as_string().unwrap()))
                        .collect()
                });
                let rego = rego.as_deref();
                assert_eq!(rust, rego, "{text}");
                assert_eq!(rust.is_some(), *group != "other.example.com", "{text}");
                checked += 1;
            }
        }
        assert!(checked > 2 * crate::workload::WORKLOAD_KINDS.len());
    }

    #[test]
    fn conftest_rule_names() {
        assert_eq!(conftest_level("deny"), Some(Level::Error));
        assert_eq!(conftest_level("violation_no_owner"), Some(Level::Error));
        assert_eq!(conftest_level("warn_latest"), Some(Level::Warning));
        for not_a_rule in ["denied", "deny_", "warning", "exception", "helper"] {
            assert_eq!(conftest_level(not_a_rule), None, "{not_a_rule}");
        }
        assert_eq!(exception_name("deny_latest_tag"), "latest_tag");
        assert_eq!(exception_name("warn"), "warn");
    }

    #[test]
    fn engine_errors_become_one_line() {
        let message =
            "--> p.rego:8:1\n  |\n8 | x := 1\n  | ^\nerror: rule conflicts with rule at p.rego:6:1";
        assert_eq!(
            one_line(message),
            "p.rego:8:1: rule conflicts with rule at p.rego:6:1"
        );
        assert_eq!(one_line(" plain "), "plain");
        assert!(
            engine_error("execution exceeded time limit (elapsed=1ns)")
                .contains("(5,000,000 steps, and 100 more per node of the object")
        );
    }

    #[test]
    fn error_lines_are_read_from_regorus_messages() {
        assert_eq!(error_line("p.rego:12:5: error: expected if"), 12);
        assert_eq!(error_line("no position"), 0);
    }
}
