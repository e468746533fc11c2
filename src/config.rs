//! `.kvet.yaml`: rule levels, and per-path overrides.
//!
//! ```yaml
//! rules:
//!   duplicate-env: error      # off | info | warning | error
//! overrides:
//!   - files: ["legacy/**", "*.generated.yaml"]
//!     rules:
//!       duplicate-object: off
//! ```
//! Globs in `files` are relative to the folder of the config file; a glob matches a path whole
//! or by file name. Later overrides win. Unknown keys, rules and levels are errors with their line.
//!
//! `ignore` drops a rule's findings on chosen objects, for manifests nobody may annotate
//! (upstream charts). Every entry needs a reason; `kind`, `namespace`, `name` (a glob) and
//! `files` narrow it, and an entry with none of them ignores the rule everywhere:
//! ```yaml
//! ignore:
//!   - rules: [image-tag-latest]
//!     kind: Deployment
//!     name: "prometheus-*"
//!     files: ["vendor/**"]
//!     reason: upstream chart, pinned by digest in the overlay
//! ```
//!
//! `render: false` stops kvet from rendering kustomizations with `kustomize` or `kubectl`, and
//! charts with `helm` (their files are then checked one by one).
//!
//! `repository: https://github.com/org/gitops` is the URL Argo CD Applications name this
//! repository by, when its Git remotes do not say it: their sources from it are rendered.
//!
//! `charts` says how the charts of the repository are released (paths relative to the config's
//! folder; a chart without an entry is rendered once, as a release named after it whose
//! namespace is left to whoever installs it; a chart with entries once per entry):
//! ```yaml
//! charts:
//!   - path: charts/shop
//!     release: shop-staging
//!     namespace: shop
//!     values: [charts/shop/values-staging.yaml]
//!     set: {image.tag: "1.4.2"}
//!     set_string: {podAnnotations.rev: "7"}
//!     set_file: {config: charts/shop/files/staging.toml}
//!     include_crds: true
//! ```
//!
//! A rule that takes options is configured with a mapping, in the top-level `rules` only
//! (options hold for the whole run): `required-secret-labels: {level: error, labels: [team]}`.
//! Policies read them as `data.kvet.options.<rule_id>` (the id with `_` for `-`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{NamedSource, SourceSpan};

use crate::diag::Level;
use crate::load::discover::{Anchor, PathFilters, compile, normalize};
use crate::load::object::ObjectRef;
use crate::load::spans::{LineIndex, Span};
use crate::load::yaml::{Node, Value};
use crate::rules;

pub const FILE_NAME: &str = ".kvet.yaml";

/// A rule's level, or `off`.
pub type Setting = Option<Level>;

#[derive(Debug)]
pub struct Config {
    /// Folder the config file is in; override globs are relative to it.
    pub root: PathBuf,
    pub rules: HashMap<String, Setting>,
    /// Options of rules, by rule id: the mapping a rule was configured with, without `level`.
    pub options: HashMap<String, serde_json::Value>,
    pub overrides: Vec<Override>,
    pub ignores: Vec<Ignore>,
    /// The globs of `overrides` and `ignores`, compiled together.
    pub globs: Globs,
    /// Where it was read from, if from a file.
    pub path: Option<PathBuf>,
    /// Whether kustomizations and charts are rendered with the real tool (`render: false`
    /// turns it off).
    pub render: bool,
    /// How charts of the repository are released.
    pub charts: Vec<ChartRelease>,
    /// The URL Argo CD Applications name this repository by, besides its Git remotes.
    pub repository: Option<String>,
    /// A hash of the text it was parsed from (0 for the defaults): configs of one text at one
    /// place are the same config, which is how the cache of checks tells them apart.
    pub text_hash: u64,
}

/// A `charts` entry: a release of a chart of the repository, with its paths as written
/// (`chart`, `values` and the files of `set_file`, relative to the config's folder).
#[derive(Debug, Clone, Default)]
pub struct ChartRelease {
    pub as_written: crate::load::render::HelmRelease,
}

impl ChartRelease {
    /// The release of `chart` (the entry's chart, as the run found it) this entry describes,
    /// its files resolved against the config's folder `root`.
    pub fn release(&self, chart: &Path, root: &Path) -> crate::load::render::HelmRelease {
        let file = |f: &String| match f.split_once('=') {
            Some((key, path)) => format!("{key}={}", root.join(path).display()),
            None => f.clone(),
        };
        let written = &self.as_written;
        crate::load::render::HelmRelease {
            chart: chart.to_path_buf(),
            values: written.values.iter().map(|v| root.join(v)).collect(),
            set_file: written.set_file.iter().map(file).collect(),
            ..written.clone()
        }
    }
}

#[derive(Debug)]
pub struct Override {
    /// Globs, relative to the config's folder (compiled with every other entry's in
    /// [`Config::globs`]).
    pub files: Vec<String>,
    pub rules: HashMap<String, Setting>,
    /// Where the entry is written in the config file.
    pub span: Span,
}

/// An `ignore` entry: the findings of `rules` on the objects it names are dropped.
#[derive(Debug)]
pub struct Ignore {
    pub rules: Vec<String>,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    /// A glob of object names (compiled with every other entry's in [`Config::globs`]).
    pub name: Option<String>,
    pub files: Option<Vec<String>>,
    pub reason: String,
    /// Where the entry is written in the config file.
    pub span: Span,
}

/// The globs of every override and ignore entry, compiled once: a config of thousands of
/// entries costs one automaton for files and one for names, not one per entry, and a file or a
/// finding is matched against all of them in one pass.
#[derive(Debug, Default)]
pub struct Globs {
    /// List `i` is the `files` of override `i`; then the ignore entries' `files`.
    files: PathFilters,
    /// Per ignore entry, its list in `files`.
    ignore_files: Vec<Option<usize>>,
    names: globset::GlobSet,
    /// Per ignore entry, its glob in `names`.
    ignore_names: Vec<Option<usize>>,
    /// The ignore entries of each rule.
    ignores_of: HashMap<String, Vec<usize>>,
}

impl Globs {
    fn new(overrides: &[Override], ignores: &[Ignore]) -> Result<Globs, String> {
        let mut lists: Vec<&[String]> = overrides.iter().map(|o| o.files.as_slice()).collect();
        let mut ignore_files = Vec::with_capacity(ignores.len());
        let mut names = globset::GlobSetBuilder::new();
        let mut name_count = 0;
        let mut ignore_names = Vec::with_capacity(ignores.len());
        let mut ignores_of: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, ignore) in ignores.iter().enumerate() {
            ignore_files.push(ignore.files.as_ref().map(|files| {
                lists.push(files);
                lists.len() - 1
            }));
            ignore_names.push(match &ignore.name {
                Some(glob) => {
                    names.add(globset::Glob::new(glob).map_err(|e| e.to_string())?);
                    name_count += 1;
                    Some(name_count - 1)
                }
                None => None,
            });
            for rule in &ignore.rules {
                ignores_of.entry(rule.clone()).or_default().push(i);
            }
        }
        Ok(Globs {
            files: PathFilters::new(&lists).map_err(|e| e.to_string())?,
            ignore_files,
            names: names.build().map_err(|e| e.to_string())?,
            ignore_names,
            ignores_of,
        })
    }
}

impl Config {
    /// The ignore entries that drop a finding of `rule` on `object` in `file` (`relative` to
    /// the config's folder).
    pub fn ignoring(&self, rule: &str, object: Option<&ObjectRef>, relative: &Path) -> Vec<usize> {
        let Some(candidates) = self.globs.ignores_of.get(rule) else {
            return Vec::new();
        };
        let files = self.globs.files.matching(relative);
        let names = object
            .and_then(|o| o.name.as_ref())
            .map(|name| self.globs.names.matches(name))
            .unwrap_or_default();
        candidates
            .iter()
            .copied()
            .filter(|&i| {
                let ignore = &self.ignores[i];
                if self.globs.ignore_files[i].is_some_and(|list| !files[list]) {
                    return false;
                }
                let narrows_object =
                    ignore.kind.is_some() || ignore.namespace.is_some() || ignore.name.is_some();
                let Some(object) = object else {
                    return !narrows_object;
                };
                ignore.kind.as_ref().is_none_or(|k| *k == object.kind)
                    && ignore
                        .namespace
                        .as_ref()
                        .is_none_or(|ns| object.namespace.as_ref() == Some(ns))
                    && self.globs.ignore_names[i].is_none_or(|glob| names.contains(&glob))
            })
            .collect()
    }
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {message}")]
    Read { path: String, message: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Invalid(Box<InvalidConfig>),
}

/// A config file that reads but says something kvet does not accept, with where it says it.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{message}")]
#[diagnostic(code(kvet::config))]
pub struct InvalidConfig {
    message: String,
    #[source_code]
    src: NamedSource<Arc<str>>,
    #[label("here")]
    at: SourceSpan,
    #[help]
    help: Option<String>,
    /// Where, as lines and columns (an editor puts its diagnostic there).
    span: Span,
}

impl ConfigError {
    /// Where in the config file the problem is; `None` when the file could not be read.
    pub fn span(&self) -> Option<Span> {
        match self {
            ConfigError::Read { .. } => None,
            ConfigError::Invalid(invalid) => Some(invalid.span),
        }
    }
}

impl Config {
    /// Finds `.kvet.yaml` in `start` or the nearest folder above it.
    pub fn discover(start: &Path) -> Result<Config, ConfigError> {
        for dir in start.ancestors() {
            let candidate = dir.join(FILE_NAME);
            if candidate.is_file() {
                return Config::load(&candidate);
            }
        }
        Ok(Config {
            root: start.to_path_buf(),
            ..Config::default()
        })
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let read_error = |message: String| ConfigError::Read {
            path: path.display().to_string(),
            message,
        };
        let bytes = crate::load::read_file(path)
            .map_err(|e| read_error(crate::load::discover::io_message(&e)))?;
        let text = crate::load::decode(bytes).map_err(|e| read_error(e.to_string()))?;
        // `cfg.yaml` is in the current folder, as `./cfg.yaml` is: its parent is "", which
        // has no absolute form.
        let root = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let mut config = Config::parse(&path.display().to_string(), &text)?;
        config.root = normalize(&std::path::absolute(&root).unwrap_or(root));
        config.path = Some(path.to_path_buf());
        Ok(config)
    }

    /// Parses config text; `name` is used in error messages.
    pub fn parse(name: &str, text: &str) -> Result<Config, ConfigError> {
        let parser = ConfigParser {
            name,
            text: Arc::from(text),
        };
        let mut config = parser.parse()?;
        let mut h = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(text, &mut h);
        config.text_hash = std::hash::Hasher::finish(&h);
        Ok(config)
    }

    /// The effective setting of every rule that differs from its default, for one file.
    pub fn settings_for(&self, file: &Path) -> HashMap<String, Setting> {
        let mut settings = self.rules.clone();
        if self.overrides.is_empty() {
            return settings;
        }
        for (o, matches) in self.overrides.iter().zip(self.overrides_matching(file)) {
            if matches {
                settings.extend(o.rules.iter().map(|(k, v)| (k.clone(), *v)));
            }
        }
        settings
    }

    /// For each override, whether its `files` globs match `file`.
    pub fn overrides_matching(&self, file: &Path) -> Vec<bool> {
        let mut matching = self.globs.files.matching(&self.relative(file));
        matching.truncate(self.overrides.len());
        matching
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            root: PathBuf::new(),
            rules: HashMap::new(),
            options: HashMap::new(),
            overrides: Vec::new(),
            ignores: Vec::new(),
            globs: Globs::default(),
            path: None,
            render: true,
            charts: Vec::new(),
            repository: None,
            text_hash: 0,
        }
    }
}

impl Config {
    /// `file` relative to the config's folder, as `files` globs match it; as given when it is
    /// outside that folder.
    pub fn relative(&self, file: &Path) -> PathBuf {
        let absolute = normalize(&std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf()));
        match absolute.strip_prefix(&self.root) {
            Ok(relative) => relative.to_path_buf(),
            Err(_) => file.to_path_buf(),
        }
    }
}

struct ConfigParser<'a> {
    name: &'a str,
    text: Arc<str>,
}

impl ConfigParser<'_> {
    fn error(&self, span: Span, message: String, help: Option<String>) -> ConfigError {
        let index = LineIndex::new(&self.text);
        let start = index.offset(&self.text, span.start);
        let end = index.offset(&self.text, span.end).max(start);
        ConfigError::Invalid(Box::new(InvalidConfig {
            message: format!(
                "{}:{}:{}: {message}",
                self.name, span.start.line, span.start.col
            ),
            src: NamedSource::new(self.name, self.text.clone()),
            at: (start, end - start).into(),
            help,
            span,
        }))
    }

    fn parse(&self) -> Result<Config, ConfigError> {
        let parsed = crate::load::yaml::parse(&self.text);
        if let Some(issue) = parsed.issues.first() {
            return Err(self.error(issue.span, issue.message.clone(), issue.help.clone()));
        }
        let mut config = Config::default();
        let Some(doc) = parsed.documents.into_iter().next() else {
            return Ok(config);
        };
        if doc.root.is_null() {
            return Ok(config);
        }
        for entry in self.map(&doc.root, "the config file")? {
            match entry.key.as_str() {
                "rules" => {
                    (config.rules, config.options) = self.rules(&entry.value, true)?;
                }
                "overrides" => {
                    let Value::Seq(items) = &entry.value.value else {
                        return Err(self.error(
                            entry.value.span,
                            "`overrides` must be a list".into(),
                            None,
                        ));
                    };
                    for item in items {
                        config.overrides.push(self.override_entry(item)?);
                    }
                }
                "ignore" => {
                    let Value::Seq(items) = &entry.value.value else {
                        return Err(self.error(
                            entry.value.span,
                            "`ignore` must be a list".into(),
                            None,
                        ));
                    };
                    for item in items {
                        config.ignores.push(self.ignore_entry(item)?);
                    }
                }
                "render" => match entry.value.value {
                    Value::Bool(render) => config.render = render,
                    _ => {
                        return Err(self.error(
                            entry.value.span,
                            "`render` must be true or false".into(),
                            None,
                        ));
                    }
                },
                "repository" => match entry.value.as_str() {
                    Some(url) => config.repository = Some(url.to_owned()),
                    None => {
                        return Err(self.error(
                            entry.value.span,
                            "`repository` must be the URL of this repository".into(),
                            None,
                        ));
                    }
                },
                "charts" => {
                    let Value::Seq(items) = &entry.value.value else {
                        return Err(self.error(
                            entry.value.span,
                            "`charts` must be a list".into(),
                            None,
                        ));
                    };
                    for item in items {
                        config.charts.push(self.chart_entry(item)?);
                    }
                }
                other => {
                    return Err(self.error(
                        entry.key_span,
                        format!("unknown key \"{other}\""),
                        Some(
                            "the config file has the keys `rules`, `overrides`, `ignore`, `render`, `charts` and `repository`"
                                .into(),
                        ),
                    ));
                }
            }
        }
        config.globs = Globs::new(&config.overrides, &config.ignores)
            .map_err(|message| self.error(doc.root.span, message, None))?;
        Ok(config)
    }

    fn map<'n>(
        &self,
        node: &'n Node,
        what: &str,
    ) -> Result<&'n [crate::load::yaml::Entry], ConfigError> {
        node.as_map()
            .ok_or_else(|| self.error(node.span, format!("{what} must be a mapping"), None))
    }

    /// Rule levels and, when `with_options`, the options of rules given as mappings.
    #[allow(clippy::type_complexity)]
    fn rules(
        &self,
        node: &Node,
        with_options: bool,
    ) -> Result<(HashMap<String, Setting>, HashMap<String, serde_json::Value>), ConfigError> {
        let mut out = HashMap::new();
        let mut options = HashMap::new();
        if node.is_null() {
            return Ok((out, options));
        }
        for entry in self.map(node, "`rules`")? {
            self.known_rule(&entry.key, entry.key_span)?;
            let mut value = &entry.value;
            if let Value::Map(fields) = &entry.value.value {
                if !with_options {
                    return Err(self.error(
                        entry.value.span,
                        format!(
                            "options of \"{}\" can only be set in the top-level `rules`",
                            entry.key
                        ),
                        Some("an override sets levels: off, info, warning, error".into()),
                    ));
                }
                let mut json = serde_json::Map::new();
                for field in fields {
                    if field.key != "level" {
                        json.insert(field.key.clone(), field.value.to_json());
                    }
                }
                options.insert(entry.key.clone(), serde_json::Value::Object(json));
                match entry.value.get("level") {
                    Some(level) => value = level,
                    None => continue,
                }
            }
            // `off` is a boolean to YAML 1.1, and some write `false`.
            let setting = match &value.value {
                Value::Bool(false) => None,
                Value::Str(s) if s == "off" => None,
                Value::Str(s) => Some(s.parse::<Level>().map_err(|m| {
                    self.error(
                        value.span,
                        m,
                        Some("levels: off, info, warning, error".into()),
                    )
                })?),
                _ => {
                    return Err(self.error(
                        value.span,
                        format!(
                            "the level of \"{}\" must be off, info, warning or error",
                            entry.key
                        ),
                        None,
                    ));
                }
            };
            out.insert(entry.key.clone(), setting);
        }
        Ok((out, options))
    }

    fn ignore_entry(&self, node: &Node) -> Result<Ignore, ConfigError> {
        let mut ignore = Ignore {
            rules: Vec::new(),
            kind: None,
            namespace: None,
            name: None,
            files: None,
            reason: String::new(),
            span: node.span,
        };
        for entry in self.map(node, "an ignore entry")? {
            let value = &entry.value;
            let text = || {
                value.as_str().map(str::to_owned).ok_or_else(|| {
                    self.error(
                        value.span,
                        format!("`{}` must be a string", entry.key),
                        None,
                    )
                })
            };
            match entry.key.as_str() {
                "rules" | "rule" => {
                    ignore.rules = self.strings(value, "rules")?;
                    for rule in &ignore.rules {
                        self.known_rule(rule, value.span)?;
                    }
                }
                "kind" => ignore.kind = Some(text()?),
                "namespace" => ignore.namespace = Some(text()?),
                "name" => {
                    let glob = text()?;
                    globset::Glob::new(&glob)
                        .map_err(|e| self.error(value.span, e.to_string(), None))?;
                    ignore.name = Some(glob);
                }
                "files" => ignore.files = Some(self.files(value)?),
                "reason" => ignore.reason = text()?.trim().to_owned(),
                other => {
                    return Err(self.error(
                        entry.key_span,
                        format!("unknown key \"{other}\" in an ignore entry"),
                        Some(
                            "an ignore entry has the keys `rules`, `kind`, `namespace`, `name`, \
                             `files` and `reason`"
                                .into(),
                        ),
                    ));
                }
            }
        }
        if ignore.rules.is_empty() {
            return Err(self.error(node.span, "an ignore entry needs `rules`".into(), None));
        }
        if ignore.reason.is_empty() {
            return Err(self.error(
                node.span,
                "an ignore entry needs a `reason`".into(),
                Some("say why these findings may stay, for whoever reads the config next".into()),
            ));
        }
        Ok(ignore)
    }

    fn chart_entry(&self, node: &Node) -> Result<ChartRelease, ConfigError> {
        let mut chart = crate::load::render::HelmRelease::default();
        let mut path = None;
        for entry in self.map(node, "a charts entry")? {
            let value = &entry.value;
            let text = || {
                value
                    .scalar_text()
                    .filter(|_| !value.is_null())
                    .ok_or_else(|| {
                        self.error(
                            value.span,
                            format!("`{}` must be a string", entry.key),
                            None,
                        )
                    })
            };
            match entry.key.as_str() {
                "path" => path = Some(PathBuf::from(text()?)),
                "release" => chart.name = Some(text()?),
                "namespace" => chart.namespace = Some(text()?),
                "values" => {
                    chart.values = self
                        .strings(value, "values")?
                        .into_iter()
                        .map(PathBuf::from)
                        .collect();
                }
                "set" => chart.set = self.pairs(value, "set")?,
                "set_string" => chart.set_string = self.pairs(value, "set_string")?,
                "set_file" => chart.set_file = self.pairs(value, "set_file")?,
                "include_crds" => match value.value {
                    Value::Bool(include) => chart.include_crds = include,
                    _ => {
                        return Err(self.error(
                            value.span,
                            "`include_crds` must be true or false".into(),
                            None,
                        ));
                    }
                },
                other => {
                    return Err(self.error(
                        entry.key_span,
                        format!("unknown key \"{other}\" in a charts entry"),
                        Some(
                            "a charts entry has the keys `path`, `release`, `namespace`, \
                             `values`, `set`, `set_string`, `set_file` and `include_crds`"
                                .into(),
                        ),
                    ));
                }
            }
        }
        // What a chart entry makes helm read stays in the repository: the config comes with
        // the pull request being checked.
        let files = chart
            .values
            .iter()
            .map(|v| v.display().to_string())
            .chain(
                chart
                    .set_file
                    .iter()
                    .filter_map(|f| Some(f.split_once('=')?.1.to_owned())),
            )
            .chain(path.iter().map(|p| p.display().to_string()));
        for file in files {
            let outside = Path::new(&file).is_absolute()
                || Path::new(&file)
                    .components()
                    .any(|c| c == std::path::Component::ParentDir);
            if outside {
                return Err(self.error(
                    node.span,
                    format!("`{file}` is outside the config's folder"),
                    Some("a charts entry names files in the repository, relative to the config's folder, without `..`".into()),
                ));
            }
        }
        chart.chart = path.ok_or_else(|| {
            self.error(
                node.span,
                "a charts entry needs the `path` of its chart".into(),
                None,
            )
        })?;
        Ok(ChartRelease { as_written: chart })
    }

    /// A mapping of helm value paths to scalars, as `KEY=VALUE` pairs for helm (commas in a
    /// value escaped, as helm's `--set` splits on them).
    fn pairs(&self, node: &Node, what: &str) -> Result<Vec<String>, ConfigError> {
        let mut pairs = Vec::new();
        for entry in self.map(node, &format!("`{what}`"))? {
            let value = entry.value.scalar_text().ok_or_else(|| {
                self.error(
                    entry.value.span,
                    format!("a value of `{what}` must be a scalar (write nested keys as `a.b`)"),
                    None,
                )
            })?;
            pairs.push(format!("{}={}", entry.key, value.replace(',', "\\,")));
        }
        Ok(pairs)
    }

    /// A string or a list of strings.
    fn strings(&self, node: &Node, what: &str) -> Result<Vec<String>, ConfigError> {
        let strings: Option<Vec<&str>> = match &node.value {
            Value::Str(s) => Some(vec![s.as_str()]),
            Value::Seq(items) => items.iter().map(Node::as_str).collect(),
            _ => None,
        };
        strings
            .map(|v| v.into_iter().map(str::to_owned).collect())
            .ok_or_else(|| {
                self.error(
                    node.span,
                    format!("`{what}` must be a string or a list of strings"),
                    None,
                )
            })
    }

    /// A glob or list of globs relative to the config's folder.
    fn files(&self, node: &Node) -> Result<Vec<String>, ConfigError> {
        let globs = self.strings(node, "files")?;
        for glob in &globs {
            compile(glob, Anchor::Start).map_err(|e| self.error(node.span, e.to_string(), None))?;
        }
        Ok(globs)
    }

    /// A rule id kvet knows, a `namespace.rule` of the user's policies or a
    /// `kyverno:<policy>/<rule>` of Kyverno policies (known only once they load).
    fn known_rule(&self, id: &str, span: Span) -> Result<(), ConfigError> {
        if rules::meta(id).is_some() || id.contains('.') || id.starts_with("kyverno:") {
            return Ok(());
        }
        let ids: Vec<_> = rules::registry().iter().map(|m| m.id).collect();
        Err(self.error(
            span,
            format!("unknown rule \"{id}\""),
            Some(format!("`kvet rules` lists the rules: {}", ids.join(", "))),
        ))
    }

    fn override_entry(&self, node: &Node) -> Result<Override, ConfigError> {
        let mut files = None;
        let mut rules = HashMap::new();
        for entry in self.map(node, "an override")? {
            match entry.key.as_str() {
                "files" => files = Some(self.files(&entry.value)?),
                "rules" => rules = self.rules(&entry.value, false)?.0,
                other => {
                    return Err(self.error(
                        entry.key_span,
                        format!("unknown key \"{other}\" in an override"),
                        Some("an override has the keys `files` and `rules`".into()),
                    ));
                }
            }
        }
        let files =
            files.ok_or_else(|| self.error(node.span, "an override needs `files`".into(), None))?;
        Ok(Override {
            files,
            rules,
            span: node.span,
        })
    }
}
