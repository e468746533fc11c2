//! The command line: `kvet check | rules | explain`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::diag::baseline::Baseline;
use crate::diag::render::{Format, RenderOptions, render};
use crate::diag::{self, Level};
use crate::load::discover::normalize;
use crate::load::render::HelmRelease;
use crate::policy::PolicyOptions;
use crate::rules;
use crate::{LintOptions, lint};

/// Exit code: nothing at or above the fail level.
pub const EXIT_OK: u8 = 0;
/// Exit code: findings at or above the fail level.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: kvet could not do its job.
pub const EXIT_ERROR: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "kvet",
    version,
    about = "Lint Kubernetes manifests: exact lines, Helm- and GitOps-aware"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check manifests: files, folders (recursively), or `-` for stdin.
    Check(Box<CheckArgs>),
    /// List every rule with its default level.
    Rules,
    /// Print the documentation of a rule.
    Explain {
        /// Rule id, e.g. duplicate-volume, or kyverno:<policy>/<rule> with --kyverno.
        id: String,
        /// Kyverno policy files or folders whose rules `kyverno:` ids name. Repeatable.
        #[arg(long, value_name = "PATH")]
        kyverno: Vec<PathBuf>,
    },
    /// Run the `test_*` rules of `*_test.rego` files with the policies beside them, like
    /// `conftest verify`.
    Test(TestArgs),
    /// Serve the Language Server Protocol on stdin/stdout: editors show kvet's findings as
    /// you type, with quick fixes and each rule's documentation on hover.
    Lsp,
    /// List the custom resources kvet validates out of the box (its CRD catalog): group,
    /// kinds, project, version, licence.
    Schemas(SchemasArgs),
}

#[derive(Debug, clap::Args)]
struct SchemasArgs {
    /// Build the catalog from a folder of upstream CRDs instead (schemas/catalog/update.sh).
    #[arg(long, value_name = "CRDS", hide = true, requires_all = ["projects", "out"])]
    build_catalog: Option<PathBuf>,
    #[arg(long, value_name = "FILE", hide = true)]
    projects: Option<PathBuf>,
    #[arg(long, value_name = "DIR", hide = true)]
    out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct TestArgs {
    /// Policy folders or files (default: ./policy, as conftest).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// YAML or JSON files (or folders) merged into `data`. Repeatable.
    #[arg(long, short = 'd', value_name = "PATH")]
    data: Vec<PathBuf>,
    /// Report, per policy file, the lines the tests did not evaluate.
    #[arg(long)]
    coverage: bool,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Files and folders to check; `-` reads stdin. Defaults to the current folder.
    #[arg(value_name = "PATH")]
    paths: Vec<String>,
    /// Output format: human, json, compact, github, sarif or junit. `FORMAT=FILE` writes that
    /// report to FILE instead of stdout. Repeatable: one run, many reports (human output stays
    /// on the terminal unless another format is sent there).
    #[arg(long, value_name = "FORMAT[=FILE]", value_parser = parse_target)]
    format: Vec<ReportTarget>,
    /// Exit with 1 when a diagnostic at or above this level is reported.
    #[arg(long, value_name = "LEVEL", default_value = "error", value_parser = parse_level)]
    fail_level: Level,
    /// Show only findings at or above this level, in every report; the exit status still
    /// counts them all (see --fail-level).
    #[arg(long, value_name = "LEVEL", default_value = "info", value_parser = parse_level)]
    show_level: Level,
    /// Print how many findings each rule has, and the summary line, instead of the findings
    /// (reports sent to files are written as usual).
    #[arg(long)]
    statistics: bool,
    /// Also print, on stderr, how many CEL validation rules of the CRD schemas the run met were
    /// evaluated, and how many were skipped and why, and the Kyverno policies and rules kvet
    /// does not evaluate (mutate, generate, verifyImages).
    #[arg(long, short = 'v')]
    verbose: bool,
    /// The path stdin stands for: shown in diagnostics and used to pick config overrides.
    #[arg(long, value_name = "PATH")]
    stdin_filename: Option<String>,
    /// Globs of files to read in folders (default: *.yaml, *.yml). Repeatable.
    #[arg(long, value_name = "GLOB")]
    include: Vec<String>,
    /// Globs of files or folders to leave out. Repeatable.
    #[arg(long, value_name = "GLOB")]
    exclude: Vec<String>,
    /// Config file (default: .kvet.yaml in the current folder or the nearest one above).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Kubernetes version to check against, e.g. 1.29 (default: the newest kvet knows).
    #[arg(long, value_name = "X.Y")]
    kubernetes_version: Option<String>,
    /// CustomResourceDefinition files or folders whose schemas validate custom resources.
    /// Repeatable; CRDs in the checked input count too.
    #[arg(long, value_name = "PATH")]
    crds: Vec<String>,
    /// kubeconform-style schema location for kinds without a built-in schema or CRD: a local
    /// folder, or a path or https:// URL template with {{ .ResourceKind }}, {{ .ResourceAPIVersion }},
    /// {{ .Group }}, {{ .KindSuffix }}, {{ .NormalizedKubernetesVersion }}, {{ .StrictSuffix }}.
    /// Repeatable.
    #[arg(long, value_name = "TEMPLATE")]
    schema_location: Vec<String>,
    /// Folder for schemas downloaded from https:// schema locations (default: the user's cache
    /// folder, ~/.cache/kvet).
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Worker threads (default: one per core).
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<usize>,
    /// Folder or file of Rego policies, run as conftest does (`deny`, `violation`, `warn`,
    /// `exception`); `*_test.rego` files are left out. Repeatable.
    #[arg(long, short = 'p', value_name = "PATH")]
    policy: Vec<PathBuf>,
    /// Folder or file of Kyverno policies (ClusterPolicy, Policy, ValidatingPolicy) to apply
    /// to the input, besides the policies in the input itself. Repeatable.
    #[arg(long, value_name = "PATH")]
    kyverno: Vec<PathBuf>,
    /// Package of the --policy rules to run (default: main). Repeatable.
    #[arg(long, short = 'n', value_name = "NAMESPACE")]
    namespace: Vec<String>,
    /// Run the rules of every package of the --policy files.
    #[arg(long, conflicts_with = "namespace")]
    all_namespaces: bool,
    /// YAML or JSON files (or folders) merged into the policies' `data`. Repeatable.
    #[arg(long, short = 'd', value_name = "PATH")]
    data: Vec<PathBuf>,
    /// Render this Helm chart (`helm template CHART`, helm on the PATH) with the flags below
    /// and check the result, besides the charts found in the paths; diagnostics point into the
    /// chart's templates. Repeatable.
    #[arg(long, value_name = "CHART")]
    helm: Vec<PathBuf>,
    /// Values file for --helm. Repeatable.
    #[arg(long = "values", short = 'f', value_name = "FILE", requires = "helm")]
    values: Vec<PathBuf>,
    /// A value for --helm, as helm takes it: `image.tag=1.2`. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE", requires = "helm")]
    set: Vec<String>,
    /// A string value for --helm (helm's --set-string). Repeatable.
    #[arg(long = "set-string", value_name = "KEY=VALUE", requires = "helm")]
    set_string: Vec<String>,
    /// A value for --helm read from a file (helm's --set-file). Repeatable.
    #[arg(long = "set-file", value_name = "KEY=PATH", requires = "helm")]
    set_file: Vec<String>,
    /// The release name --helm renders the chart as (default: the chart's name).
    #[arg(long, value_name = "NAME", requires = "helm")]
    release: Option<String>,
    /// The namespace --helm renders the release in (helm's --namespace): what
    /// `.Release.Namespace` is. Without it the namespace is left to whoever installs the
    /// release, and objects in it are not reported as in the default namespace.
    #[arg(long, value_name = "NAMESPACE", requires = "helm")]
    release_namespace: Option<String>,
    /// Render the chart's crds/ folder too (helm's --include-crds).
    #[arg(long, requires = "helm")]
    include_crds: bool,
    /// Render this kustomization (`kustomize build DIR`, or `kubectl kustomize DIR`) and check
    /// the result, even when another kustomization includes it. Repeatable. (Kustomizations
    /// that nothing includes are rendered anyway.)
    #[arg(long, value_name = "DIR")]
    kustomize: Vec<PathBuf>,
    /// Do not render kustomizations: check their files one by one (as `render: false` in
    /// .kvet.yaml).
    #[arg(long, conflicts_with = "kustomize")]
    no_render: bool,
    /// Do not validate custom resources against kvet's embedded CRD catalog (`kvet schemas`
    /// lists it): only against CRDs of the input, --crds and --schema-location.
    #[arg(long)]
    no_catalog: bool,
    /// Findings recorded in this file (by --write-baseline) are not reported and do not fail
    /// the run: only new ones do.
    #[arg(long, value_name = "FILE", conflicts_with = "write_baseline")]
    baseline: Option<PathBuf>,
    /// Record the current findings in FILE (entries of files not checked in this run are
    /// kept), then report as if with --baseline FILE.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
}

fn parse_level(s: &str) -> Result<Level, String> {
    s.parse()
}

/// Where one report goes: stdout, or a file.
#[derive(Debug, Clone)]
struct ReportTarget {
    format: Format,
    file: Option<PathBuf>,
}

fn parse_target(s: &str) -> Result<ReportTarget, String> {
    use clap::ValueEnum;
    let (name, file) = match s.split_once('=') {
        Some((name, "")) => {
            return Err(format!("`{name}=` names no file"));
        }
        Some((name, file)) => (name, Some(PathBuf::from(file))),
        None => (s, None),
    };
    let format = Format::from_str(name, false).map_err(|_| {
        let names: Vec<String> = Format::value_variants()
            .iter()
            .filter_map(|f| Some(f.to_possible_value()?.get_name().to_owned()))
            .collect();
        format!(
            "unknown format \"{name}\" (expected {}, optionally =FILE)",
            names.join(", ")
        )
    })?;
    Ok(ReportTarget { format, file })
}

/// The reports to write: the given ones, plus human output on stdout when none goes there.
fn report_targets(mut targets: Vec<ReportTarget>) -> miette::Result<Vec<ReportTarget>> {
    let to_stdout = targets.iter().filter(|t| t.file.is_none()).count();
    if to_stdout > 1 {
        miette::bail!(
            help = "send the others to files: --format sarif=kvet.sarif",
            "only one --format can be written to stdout"
        );
    }
    // One file, however it is spelt (`o.json`, `./o.json`).
    let mut files: Vec<(PathBuf, &PathBuf)> = targets
        .iter()
        .filter_map(|t| t.file.as_ref())
        .map(|f| {
            (
                normalize(&std::path::absolute(f).unwrap_or_else(|_| f.clone())),
                f,
            )
        })
        .collect();
    files.sort();
    if let Some(pair) = files.windows(2).find(|pair| pair[0].0 == pair[1].0) {
        miette::bail!("two reports would be written to {}", pair[1].1.display());
    }
    // A report that cannot be written is known before the run, not after it.
    for (absolute, given) in &files {
        if absolute.parent().is_some_and(|p| !p.is_dir()) {
            miette::bail!(
                "cannot write the report to {}: its folder does not exist",
                given.display()
            );
        }
    }
    if to_stdout == 0 {
        targets.insert(
            0,
            ReportTarget {
                format: Format::Human,
                file: None,
            },
        );
    }
    Ok(targets)
}

/// Parses the command line, runs it, and returns the exit code. Prints; never exits.
pub fn run() -> ExitCode {
    // Before any error is made: a miette error takes its handler when it is created.
    crate::diag::render::wrap_errors_as_diagnostics();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_ERROR } else { EXIT_OK });
        }
    };
    let result = match cli.command {
        Command::Check(args) => check(*args),
        Command::Rules => list_rules(),
        Command::Explain { id, kyverno } => explain(&id, &kyverno),
        Command::Test(args) => test(args),
        Command::Schemas(args) => schemas(args),
        Command::Lsp => crate::lsp::run().map_err(miette::Report::new),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn check(args: CheckArgs) -> miette::Result<u8> {
    if let Some(jobs) = args.jobs {
        if jobs == 0 {
            miette::bail!("--jobs must be at least 1");
        }
        // More threads than 4 per CPU only cost memory (`--jobs 100000` took 2.4 GB).
        let most = 4 * std::thread::available_parallelism().map_or(1, |n| n.get());
        let jobs = if jobs > most {
            eprintln!("warning: --jobs {jobs} is more than 4 per CPU; using {most}");
            most
        } else {
            jobs
        };
        rayon::ThreadPoolBuilder::new()
            .num_threads(jobs)
            .build_global()
            .map_err(|e| miette::miette!("cannot start {jobs} worker threads: {e}"))?;
    }
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => {
            let cwd = std::env::current_dir()
                .map_err(|e| miette::miette!("cannot read the current folder: {e}"))?;
            Config::discover(&cwd)?
        }
    };
    let helm: Vec<HelmRelease> = args
        .helm
        .into_iter()
        .map(|chart| HelmRelease {
            chart,
            values: args.values.clone(),
            set: args.set.clone(),
            name: args.release.clone(),
            namespace: args.release_namespace.clone(),
            set_string: args.set_string.clone(),
            set_file: args.set_file.clone(),
            include_crds: args.include_crds,
            application: None,
            buffers: Default::default(),
        })
        .collect();
    let paths = if args.paths.is_empty() && !(helm.is_empty() && args.kustomize.is_empty()) {
        Vec::new()
    } else if args.paths.is_empty() {
        vec![".".to_owned()]
    } else {
        args.paths
    };
    if args.stdin_filename.is_some() && !paths.iter().any(|p| p == "-") {
        miette::bail!("--stdin-filename needs `-` among the paths");
    }
    let mut targets = report_targets(args.format)?;
    if args.statistics {
        for target in targets.iter_mut().filter(|t| t.file.is_none()) {
            target.format = Format::Statistics;
        }
    }
    let opts = LintOptions {
        paths,
        stdin_filename: args.stdin_filename,
        stdin_bytes: None,
        overlays: Default::default(),
        cache: None,
        include: split_globs(args.include),
        exclude: split_globs(args.exclude),
        keep_sources: targets.iter().any(|t| t.format == Format::Human),
        kubernetes_version: args.kubernetes_version,
        crds: args.crds,
        schema_locations: args.schema_location,
        cache_dir: args.cache_dir,
        policy: PolicyOptions {
            policy_paths: args.policy,
            namespaces: args.namespace,
            all_namespaces: args.all_namespaces,
            data_paths: args.data,
            ..PolicyOptions::default()
        },
        helm,
        kustomize: args.kustomize,
        no_render: args.no_render,
        no_catalog: args.no_catalog,
        tool_path: None,
        kyverno: args.kyverno,
    };
    // A baseline that cannot be read stops the run before any file is.
    let baseline = args.baseline.as_deref().map(Baseline::load).transpose()?;
    if let Some(path) = &args.write_baseline {
        let absolute = normalize(&std::path::absolute(path).unwrap_or_else(|_| path.clone()));
        if absolute.parent().is_some_and(|p| !p.is_dir()) {
            miette::bail!(
                "cannot write the baseline {}: its folder does not exist",
                path.display()
            );
        }
    }
    let mut report = lint(&opts, &config)?;
    // A report or baseline never replaces a file the run read.
    let outputs: Vec<&Path> = targets
        .iter()
        .filter_map(|t| t.file.as_deref())
        .chain(args.write_baseline.as_deref())
        .collect();
    let read = report
        .files
        .iter()
        .map(PathBuf::from)
        .chain(opts.crds.iter().map(PathBuf::from))
        .chain(opts.policy.policy_paths.iter().cloned())
        .chain(opts.policy.data_paths.iter().cloned())
        .chain(opts.kyverno.iter().cloned())
        .chain(config.path.clone())
        .chain(args.baseline.clone());
    refuse_overwriting(&outputs, read)?;
    let baseline = match &args.write_baseline {
        Some(path) => {
            let recorded = Baseline::record(&report, path)?;
            recorded.write(path)?;
            Some(recorded)
        }
        None => baseline,
    };
    if let Some(baseline) = baseline {
        report.summary.baselined = baseline.apply(&mut report.diagnostics);
        report.finish();
    }
    // The exit status counts every finding, shown or not.
    let status = match report.max_level() {
        Some(level) if level >= args.fail_level => EXIT_FINDINGS,
        _ => EXIT_OK,
    };
    let before = report.diagnostics.len();
    report.diagnostics.retain(|d| d.level >= args.show_level);
    if report.diagnostics.len() < before {
        report.summary.hidden = before - report.diagnostics.len();
        report.finish();
    }
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    if args.verbose {
        eprint!("{}", cel_usage(&crate::schema::cel::usage()));
        for note in &report.notes {
            eprintln!("info: {note}");
        }
    }
    for target in &targets {
        write_report(&report, target)?;
    }
    Ok(status)
}

/// The `--verbose` lines on the CEL rules a run met.
fn cel_usage(usage: &crate::schema::cel::Usage) -> String {
    let skipped: usize = usage.skipped.values().sum();
    let mut out = format!(
        "info: CEL validation rules of the CRD schemas used: {} evaluated, {skipped} skipped\n",
        usage.run
    );
    if usage.errored > 0 {
        out.push_str(&format!(
            "info:   {} of those evaluated failed on some value (a field the rule reads is missing, or of another type): not reported\n",
            usage.errored
        ));
    }
    for (why, count) in &usage.skipped {
        out.push_str(&format!("info:   {count} skipped: {why}\n"));
    }
    out
}

/// Fails when one of `outputs` is one of the files `read` (or a file in a folder of them).
fn refuse_overwriting(
    outputs: &[&Path],
    read: impl Iterator<Item = PathBuf>,
) -> miette::Result<()> {
    let existing: Vec<(&Path, PathBuf)> = outputs
        .iter()
        .filter_map(|o| Some((*o, std::fs::canonicalize(o).ok()?)))
        .collect();
    if existing.is_empty() {
        return Ok(());
    }
    for input in read {
        let Ok(input) = std::fs::canonicalize(&input) else {
            continue;
        };
        if let Some((output, _)) = existing.iter().find(|(_, real)| {
            *real == input || (input.is_dir() && real.starts_with(&input) && is_manifest(real))
        }) {
            miette::bail!(
                "will not write to {}: it is a file this run reads; write the report or baseline somewhere else",
                output.display()
            );
        }
    }
    Ok(())
}

/// Whether a file is one kvet reads in a folder (a `.yaml`, `.yml` or `.json` file).
fn is_manifest(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
}

/// Renders the report to stdout, or to a file that is replaced whole once the report is
/// complete (a failed run never leaves half a report behind).
fn write_report(report: &diag::Report, target: &ReportTarget) -> miette::Result<()> {
    let result = match &target.file {
        None => {
            let stdout = std::io::stdout();
            let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let width = std::env::var("COLUMNS")
                .ok()
                .and_then(|c| c.parse().ok())
                .or_else(|| {
                    let (terminal_size::Width(w), _) = terminal_size::terminal_size_of(&stdout)?;
                    Some(usize::from(w))
                })
                .unwrap_or(100);
            let mut out = std::io::BufWriter::new(stdout.lock());
            render_guarded(
                report,
                target.format,
                &RenderOptions { color, width },
                &mut out,
            )?
            .and_then(|()| out.flush())
        }
        Some(path) => {
            let mut text = Vec::new();
            let options = RenderOptions {
                color: false,
                width: 100,
            };
            render_guarded(report, target.format, &options, &mut text)?
                .and_then(|()| diag::replace_file(path, &text))
        }
    };
    match result {
        // A closed pipe (`kvet check . | head`) is the reader's choice, not a failure.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => match &target.file {
            Some(path) => miette::bail!("cannot write the report to {}: {e}", path.display()),
            None => miette::bail!("cannot write the report: {e}"),
        },
        _ => Ok(()),
    }
}

/// A renderer that panics is a bug in kvet: exit 2 with a message, not a crash.
fn render_guarded(
    report: &diag::Report,
    format: Format,
    options: &RenderOptions,
    out: &mut dyn Write,
) -> miette::Result<std::io::Result<()>> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        render(report, format, options, out)
    }))
    .map_err(|_| {
        miette::miette!(
            help = "this is a bug in kvet; please report it with the input that triggers it",
            "internal error while rendering the report"
        )
    })
}

/// `--include a,b` is the same as `--include a --include b`.
fn split_globs(globs: Vec<String>) -> Vec<String> {
    globs
        .iter()
        .flat_map(|g| g.split(','))
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect()
}

fn schemas(args: SchemasArgs) -> miette::Result<u8> {
    use crate::schema::catalog;
    if let (Some(crds), Some(projects), Some(out)) =
        (&args.build_catalog, &args.projects, &args.out)
    {
        catalog::build(crds, projects, out).map_err(|e| miette::miette!("{e}"))?;
        return Ok(EXIT_OK);
    }
    let mut out = String::new();
    for project in catalog::projects() {
        let mut groups: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> =
            std::collections::BTreeMap::new();
        for (api_version, kind, _) in project.kinds {
            let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
            groups.entry(group).or_default().insert(kind);
        }
        out.push_str(&format!(
            "{} ({}, {}, {})\n",
            project.name, project.version, project.licence, project.source
        ));
        for (group, kinds) in groups {
            let kinds: Vec<&str> = kinds.into_iter().collect();
            out.push_str(&format!("  {group}: {}\n", kinds.join(", ")));
        }
    }
    print_out(&out)
}

fn list_rules() -> miette::Result<u8> {
    let mut out = String::new();
    let width = rules::registry()
        .iter()
        .map(|m| m.id.len())
        .max()
        .unwrap_or(0);
    for m in rules::registry() {
        out.push_str(&format!(
            "{:width$}  {:7}  {:9}  {}\n",
            m.id,
            m.default_level.as_str(),
            m.category,
            m.summary
        ));
    }
    print_out(&out)
}

fn explain(id: &str, kyverno: &[PathBuf]) -> miette::Result<u8> {
    if id.starts_with("kyverno:") {
        let documents: Vec<_> = crate::check::kyverno::read_policies(kyverno)?
            .into_iter()
            .map(|d| (None, d))
            .collect();
        let policies = crate::check::kyverno::policies(&documents);
        let rules = crate::check::kyverno::run_rules(policies.iter().map(|(_, p)| p));
        let Some(rule) = rules.get(id) else {
            let ids: Vec<&str> = rules.keys().map(String::as_str).collect();
            miette::bail!(
                help = if ids.is_empty() {
                    "give the policy's file or folder with --kyverno PATH".to_owned()
                } else {
                    format!("the rules of those policies: {}", ids.join(", "))
                },
                "unknown rule \"{id}\""
            );
        };
        return print_out(&crate::diag::explain::run_rule_explanation(id, rule));
    }
    let Some(text) = crate::diag::explain::explanation(id) else {
        let ids: Vec<_> = rules::registry().iter().map(|m| m.id).collect();
        miette::bail!(
            help = format!("known rules: {}", ids.join(", ")),
            "unknown rule \"{id}\""
        );
    };
    print_out(&text)
}

fn test(args: TestArgs) -> miette::Result<u8> {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from("policy")]
    } else {
        args.paths
    };
    let kyverno_files = crate::kyverno::test::test_files(&paths);
    let mut tally = Tally::default();
    let mut out = String::new();
    // Rego tests run when there are Rego files, or when there is nothing else to run (and
    // then say what is missing).
    if kyverno_files.is_empty() || crate::policy::test::has_rego_files(&paths) {
        let report = crate::policy::test::run(&paths, &args.data, args.coverage)?;
        if report.outcomes.is_empty() && kyverno_files.is_empty() {
            let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            miette::bail!(
                help = "tests are rules named test_* in files named *_test.rego, or Kyverno CLI tests in kyverno-test.yaml",
                "no tests in {}",
                shown.join(", ")
            );
        }
        rego_test_lines(&report, &mut out, &mut tally);
    }
    for file in &kyverno_files {
        let outcomes = crate::kyverno::test::run(file)?;
        kyverno_test_lines(&outcomes, &mut out, &mut tally);
    }
    out.push_str(&format!("{} passed, {} failed", tally.passed, tally.failed));
    if tally.skipped > 0 {
        out.push_str(&format!(", {} skipped", tally.skipped));
    }
    out.push('\n');
    print_out(&out)?;
    Ok(if tally.failed > 0 {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    })
}

/// How many tests passed, failed, and were not evaluated.
#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    skipped: usize,
}

fn rego_test_lines(report: &crate::policy::test::TestReport, out: &mut String, tally: &mut Tally) {
    for outcome in &report.outcomes {
        match &outcome.failure {
            None => {
                tally.passed += 1;
                out.push_str(&format!("PASS {}: {}\n", outcome.file, outcome.test));
            }
            Some(why) => {
                tally.failed += 1;
                out.push_str(&format!(
                    "FAIL {}: {}\n     {}\n",
                    outcome.file,
                    outcome.test,
                    why.replace('\n', "\n     ")
                ));
            }
        }
    }
    for file in report.coverage.iter().filter(|f| !f.reached) {
        out.push_str(&format!(
            "coverage {}: not evaluated by any test\n",
            file.file
        ));
    }
    for file in report.coverage.iter().filter(|f| f.reached) {
        let total = file.covered + file.not_covered.len();
        let percent = if total == 0 {
            100.0
        } else {
            100.0 * file.covered as f64 / total as f64
        };
        out.push_str(&format!(
            "coverage {}: {percent:.1}% ({}/{total} lines)",
            file.file, file.covered
        ));
        if !file.not_covered.is_empty() {
            let lines: Vec<String> = file.not_covered.iter().map(u32::to_string).collect();
            out.push_str(&format!(", not covered: {}", lines.join(", ")));
        }
        out.push('\n');
    }
}

/// `PASS file: policy/rule Kind name: result (feature)`, a FAIL with what kvet found, or a
/// SKIP for what kvet does not evaluate.
fn kyverno_test_lines(
    outcomes: &[crate::kyverno::test::Outcome],
    out: &mut String,
    tally: &mut Tally,
) {
    for o in outcomes {
        let rule = if o.rule.is_empty() {
            o.policy.clone()
        } else {
            format!("{}/{}", o.policy, o.rule)
        };
        let what = format!("{}: {rule} {} {}", o.file, o.kind, o.resource);
        if let Some(why) = &o.not_evaluated {
            tally.skipped += 1;
            out.push_str(&format!("SKIP {what}: {why} is not evaluated\n"));
        } else if o.agrees() {
            tally.passed += 1;
            out.push_str(&format!("PASS {what}: {} ({})\n", o.expected, o.feature));
        } else if let Some(missing) = &o.missing {
            tally.failed += 1;
            out.push_str(&format!("FAIL {what}: {missing} ({})\n", o.feature));
        } else {
            tally.failed += 1;
            let actual = o.actual.map_or("not applied", |r| r.as_str());
            out.push_str(&format!(
                "FAIL {what}: expected {}, kvet found {actual} ({})\n",
                o.expected, o.feature
            ));
            if !o.message.is_empty() {
                out.push_str(&format!("     {}\n", o.message.replace('\n', "\n     ")));
            }
        }
    }
}

fn print_out(text: &str) -> miette::Result<u8> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            miette::bail!("cannot write to stdout: {e}")
        }
        _ => Ok(EXIT_OK),
    }
}
