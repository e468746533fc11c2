//! Rendering a root with the real tool (`kustomize build`, else `kubectl kustomize`), through a
//! temporary wrapper kustomization that includes the root by a relative path and asks for
//! origin annotations — the user's files are never written. The annotations are read (where
//! each object came from) and stripped before the objects are checked. Renders are cached by a
//! hash of every file the render reads.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::{Deserialize, Serialize};

use super::Repository;
use crate::load::buffers::{Buffers, Mirror, common_folder};
use crate::load::yaml::Node;

/// Annotations kustomize adds with `buildMetadata: [originAnnotations]`.
const ORIGIN: &str = "config.kubernetes.io/origin";
const TRANSFORMATIONS: &str = "alpha.config.kubernetes.io/transformations";

/// The tool that renders kustomizations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tool {
    /// The program, as found on the search path.
    pub program: PathBuf,
    pub args: &'static [&'static str],
}

impl Tool {
    /// `kustomize build`, else `kubectl kustomize`, found on `search` (the PATH when `None`).
    pub fn find(search: Option<&std::ffi::OsStr>) -> Option<Tool> {
        let found = |name: &str| crate::load::render::find_program(name, search);
        if let Some(program) = found("kustomize") {
            Some(Tool {
                program,
                args: &["build"],
            })
        } else {
            found("kubectl").map(|program| Tool {
                program,
                args: &["kustomize"],
            })
        }
    }

    pub(crate) fn describe(&self) -> String {
        let name = self
            .program
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        format!("{name} {}", self.args.join(" "))
    }
}

/// Where a rendered object came from, as its origin annotation says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    /// A resource file (absolute path).
    File(PathBuf),
    /// Made by a generator configured in this kustomization file (absolute path).
    Generated {
        kustomization: PathBuf,
        kind: String,
    },
    /// A remote resource: its repository and the path in it.
    Remote {
        repo: String,
        path: String,
    },
    Unknown,
}

/// A rendered root: the output without kvet's annotations, and each document's origin.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RenderedRoot {
    pub text: String,
    /// By document index.
    pub origins: Vec<Origin>,
    /// What the tool warned of while it succeeded (`'commonLabels' is deprecated`).
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// Why a root did not render: the tool's message.
#[derive(Debug, Clone)]
pub struct RenderFailure {
    pub message: String,
}

/// Renders a root, from the cache when none of the files it reads changed.
pub fn render(
    repo: &Repository,
    root: usize,
    tool: &Tool,
    cache: Option<&Path>,
    hashes: &FileHashes,
) -> Result<RenderedRoot, RenderFailure> {
    let dir = &repo.kustomizations[root].dir;
    let helm = repo
        .closure(root)
        .into_iter()
        .any(|k| repo.kustomizations[k].helm_charts);
    let inputs = inputs(repo, root);
    let key = (!repo.reads_outside(root)).then(|| cache_key(repo, root, tool, hashes, &inputs));
    let cached = cache
        .zip(key.as_ref())
        .map(|(c, k)| c.join(format!("{k}.json")));
    if let Some(file) = &cached
        && let Ok(bytes) = std::fs::read(file)
        && let Ok(rendered) = serde_json::from_slice::<RenderedRoot>(&bytes)
    {
        // A render in use is kept (the cache forgets those unused for a month).
        let _ = std::fs::File::options()
            .write(true)
            .open(file)
            .and_then(|f| f.set_modified(std::time::SystemTime::now()));
        return Ok(rendered);
    }
    let shown =
        crate::load::discover::clean(repo.kustomizations[root].file.parent().unwrap_or(dir));
    // An editor's unsaved buffer among the files: the render reads a copy with it in place.
    let mirror = match repo.buffers.any(inputs.iter()) {
        true => Some(mirror(repo, root, &inputs).map_err(|e| RenderFailure {
            message: format!("cannot copy the kustomization to render the editor's buffers: {e}"),
        })?),
        false => None,
    };
    let rendered = run(
        dir,
        &shown,
        tool,
        helm,
        &layer_fields(repo, root),
        mirror.as_ref(),
    )?;
    // A render of unsaved buffers is not kept: the next edit makes it useless, and a render
    // holds the values of generated Secrets.
    if let Some(file) = cached.filter(|_| mirror.is_none())
        && let Ok(bytes) = serde_json::to_vec(&rendered)
    {
        // A cache that cannot be written only costs the next run a render.
        let _ = store(&file, &bytes);
    }
    Ok(rendered)
}

/// How long a cached render is kept unused.
const CACHE_DAYS: u64 = 30;

/// Writes a render to the cache, readable by the user alone (a render holds the values of
/// generated Secrets), and forgets renders unused for a month.
fn store(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let folder = file
        .parent()
        .ok_or_else(|| std::io::Error::other("no folder"))?;
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(folder)?;
    // NamedTempFile is created 0600, in the folder, and renamed over the file when complete.
    let mut temporary = tempfile::NamedTempFile::new_in(folder)?;
    temporary.write_all(bytes)?;
    temporary.persist(file).map_err(|e| e.error)?;
    let old = std::time::Duration::from_secs(CACHE_DAYS * 24 * 3600);
    for entry in std::fs::read_dir(folder)?.flatten() {
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > old));
        if stale {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    Ok(())
}

/// The fields an Application's layer adds to the wrapper (`namePrefix: "p-"` lines, values as
/// JSON); none for a kustomization of the repository.
fn layer_fields(repo: &Repository, root: usize) -> String {
    let k = &repo.kustomizations[root];
    let (Some(_), Some(fields)) = (&k.application, k.root.as_map()) else {
        return String::new();
    };
    fields
        .iter()
        .filter(|field| field.key != "resources")
        .map(|field| format!("{}: {}\n", field.key, field.value.to_json()))
        .collect()
}

/// Renders the kustomization in `dir` (absolute), with `fields` added to the wrapper (an
/// Application's options), from `mirror` when there is one; `shown` is the folder as the user
/// names it.
fn run(
    dir: &Path,
    shown: &Path,
    tool: &Tool,
    helm: bool,
    fields: &str,
    mirror: Option<&Mirror>,
) -> Result<RenderedRoot, RenderFailure> {
    let failure = |message: String| RenderFailure { message };
    let restore = |text: String| match mirror {
        Some(mirror) => mirror.restore(&text),
        None => text,
    };
    let original = dir;
    let copied = mirror.map(|m| m.place(dir));
    let dir = copied.as_deref().unwrap_or(dir);
    let wrapper = tempfile::Builder::new()
        .prefix("kvet-kustomize-")
        .tempdir()
        .map_err(|e| failure(format!("cannot make a temporary folder: {e}")))?;
    let wrapper_dir = std::fs::canonicalize(wrapper.path()).unwrap_or(wrapper.path().into());
    let relative = relative_path(&wrapper_dir, dir);
    let text = format!(
        "resources:\n- {}\nbuildMetadata: [originAnnotations]\n{fields}",
        serde_json::to_string(&relative.display().to_string()).unwrap_or_default()
    );
    std::fs::write(wrapper_dir.join("kustomization.yaml"), text)
        .map_err(|e| failure(format!("cannot write a temporary kustomization: {e}")))?;
    let mut command = Command::new(&tool.program);
    command.args(tool.args).arg(&wrapper_dir);
    if helm {
        command.arg("--enable-helm");
    }
    let out = command.output().map_err(|e| {
        failure(format!(
            "cannot run {}: {}",
            tool.program.display(),
            crate::load::discover::io_message(&e)
        ))
    })?;
    let shown_wrapper = wrapper_dir.display().to_string();
    let readable = |text: &[u8]| {
        restore(
            String::from_utf8_lossy(text)
                .trim_end()
                .replace(
                    &format!("{shown_wrapper}/{}", relative.display()),
                    &dir.display().to_string(),
                )
                .replace(&shown_wrapper, "<kvet wrapper>")
                .replace(
                    &format!("'{}'", relative.display()),
                    &format!("'{}'", shown.display()),
                ),
        )
    };
    if !out.status.success() {
        return Err(failure(format!(
            "`{} {}` failed: {}",
            tool.describe(),
            shown.display(),
            tidy(&readable(&out.stderr), original)
        )));
    }
    let text = String::from_utf8(out.stdout).map_err(|_| {
        failure(format!(
            "`{}` printed output that is not UTF-8 text",
            tool.describe()
        ))
    })?;
    let mut rendered = strip(&text, &wrapper_dir);
    rendered.warnings = crate::load::render::warnings(&readable(&out.stderr));
    if let Some(mirror) = mirror {
        for origin in &mut rendered.origins {
            match origin {
                Origin::File(path) => *path = mirror.original(path),
                Origin::Generated { kustomization, .. } => {
                    *kustomization = mirror.original(kustomization)
                }
                Origin::Remote { .. } | Origin::Unknown => {}
            }
        }
    }
    Ok(rendered)
}

/// The tool's message without what the wrapper adds: kubectl's log prefix
/// (`E1201 … run.go:72] "command failed" err="…"`), and the accumulation of the wrapper's one
/// resource (`accumulating resources from '../root': … recursed accumulation of path
/// '/root': `).
fn tidy(message: &str, dir: &Path) -> String {
    let mut message = message.trim().to_owned();
    if let Some(start) = message.find(" err=\"") {
        let inner = &message[start + 6..];
        message = inner
            .strip_suffix('"')
            .unwrap_or(inner)
            .replace("\\\"", "\"");
    }
    let recursed = format!("recursed accumulation of path '{}': ", dir.display());
    if let Some(at) = message.find(&recursed) {
        message = message[at + recursed.len()..].to_owned();
    }
    message
        .strip_prefix("Error: ")
        .unwrap_or(&message)
        .to_owned()
}

/// The path from folder `from` to `to` (both absolute): `../../repo/overlays/prod`.
pub fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for c in &to[common..] {
        out.push(c);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// The rendered text without the origin annotations kvet asked for, and the origins they gave
/// (paths in them are relative to `wrapper`). kustomize writes its output in one shape
/// (`metadata:` at the left, `annotations:` under it, each annotation two deeper), so the
/// annotations are found line by line: parsing a large render whole cost more than the rest
/// of kvet's work on it.
fn strip(text: &str, wrapper: &Path) -> RenderedRoot {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let indent = |l: &str| l.len() - l.trim_start().len();
    let content = |l: &str| l.trim_end_matches(['\n', '\r']).to_owned();
    let mut keep = vec![true; lines.len()];
    let mut origins = vec![Origin::Unknown];
    let mut in_metadata = false;
    let mut i = 0;
    while i < lines.len() {
        let line = content(lines[i]);
        if line == "---" {
            origins.push(Origin::Unknown);
            in_metadata = false;
        } else if !line.trim().is_empty() && indent(&line) == 0 {
            in_metadata = line == "metadata:";
        } else if in_metadata && line == "  annotations:" {
            // Its entries: up to the next line two deep or less.
            let end = (i + 1..lines.len())
                .find(|&j| !lines[j].trim().is_empty() && indent(lines[j]) <= 2)
                .unwrap_or(lines.len());
            let mut all_ours = true;
            let mut j = i + 1;
            while j < end {
                let entry = content(lines[j]);
                let key = entry.trim_start();
                let block_end = (j + 1..end)
                    .find(|&k| !lines[k].trim().is_empty() && indent(lines[k]) <= 4)
                    .unwrap_or(end);
                if indent(&entry) == 4
                    && (key == format!("{ORIGIN}: |") || key == format!("{TRANSFORMATIONS}: |"))
                {
                    if key.starts_with(ORIGIN) {
                        let block: String = lines[j + 1..block_end]
                            .iter()
                            .map(|l| l.get(6..).unwrap_or("\n"))
                            .collect();
                        *origins.last_mut().expect("one per document") =
                            parse_origin(&block, wrapper);
                    }
                    keep[j..block_end].iter_mut().for_each(|k| *k = false);
                } else {
                    all_ours = false;
                }
                j = block_end;
            }
            if all_ours {
                keep[i] = false;
            }
            i = end;
            continue;
        }
        i += 1;
    }
    let text = lines
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(l, _)| *l)
        .collect();
    RenderedRoot {
        text,
        origins,
        warnings: Vec::new(),
    }
}

fn parse_origin(text: &str, wrapper: &Path) -> Origin {
    let Some(doc) = crate::load::yaml::parse(text).documents.into_iter().next() else {
        return Origin::Unknown;
    };
    let field = |k: &str| doc.root.get(k).and_then(Node::as_str).map(str::to_owned);
    let resolve = |p: String| super::identity(&wrapper.join(p));
    if let Some(repo) = field("repo") {
        let path = field("path").unwrap_or_default();
        return Origin::Remote { repo, path };
    }
    if let Some(path) = field("path") {
        return Origin::File(resolve(path));
    }
    if let Some(configured_in) = field("configuredIn") {
        let kind = doc
            .root
            .get("configuredBy")
            .and_then(|b| b.get("kind"))
            .and_then(Node::as_str)
            .unwrap_or_default()
            .to_owned();
        return Origin::Generated {
            kustomization: resolve(configured_in),
            kind,
        };
    }
    Origin::Unknown
}

/// The hashes of files' contents, each file read once however many roots read it.
#[derive(Default)]
pub struct FileHashes(std::sync::Mutex<std::collections::HashMap<PathBuf, [u64; 2]>>);

impl FileHashes {
    /// Two differently seeded hashes of a file's bytes, its buffer's if it has one (of
    /// nothing, when it cannot be read).
    fn of(&self, file: &Path, buffers: &Buffers) -> [u64; 2] {
        let known = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(file)
            .copied();
        if let Some(hashes) = known {
            return hashes;
        }
        let bytes = buffers.read(file).unwrap_or_default();
        let hashes = [0u8, 1].map(|seed| {
            let mut h = std::hash::DefaultHasher::new();
            h.write_u8(seed);
            bytes.hash(&mut h);
            h.finish()
        });
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(file.to_path_buf(), hashes);
        hashes
    }
}

/// Every local file a root's render reads, as far as kvet can tell: every file its
/// kustomizations name and every file in their folders.
fn inputs(repo: &Repository, root: usize) -> BTreeSet<PathBuf> {
    let mut files: BTreeSet<PathBuf> = repo.files_of(root);
    for k in repo.closure(root) {
        if let Ok(entries) = std::fs::read_dir(&repo.kustomizations[k].dir) {
            files.extend(
                entries
                    .flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                    .map(|e| e.path()),
            );
        }
    }
    files
}

/// A copy of what a root's render reads (`inputs`, and the whole folder of a kustomization
/// that inflates Helm charts from its chart home), with the editor's buffers in place.
fn mirror(repo: &Repository, root: usize, inputs: &BTreeSet<PathBuf>) -> std::io::Result<Mirror> {
    let mut files = inputs.clone();
    let closure = repo.closure(root);
    for k in &closure {
        let k = &repo.kustomizations[*k];
        if k.helm_charts {
            let walk = ignore::WalkBuilder::new(&k.dir)
                .standard_filters(false)
                .filter_entry(|e| e.file_name() != ".git")
                .build();
            files.extend(
                walk.flatten()
                    .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
                    .map(|e| e.into_path()),
            );
        }
    }
    // Paths as kustomizations write them that lead through a symbolic link (`resources:
    // [shared]`, `shared -> ../base`): links in the copy too.
    let mut links = Vec::new();
    for &k in &closure {
        let k = &repo.kustomizations[k];
        let written = k
            .resources
            .iter()
            .chain(&k.components)
            .chain(&k.files)
            .chain(&k.plugins)
            .filter_map(|entry| k.resolve(&entry.value));
        for path in written {
            let resolved = super::identity(&path);
            if resolved != path && path.exists() {
                links.push((path, resolved));
            }
        }
    }
    let folders = files
        .iter()
        .chain(links.iter().map(|(written, _)| written))
        .filter_map(|f| f.parent())
        .chain(
            closure
                .iter()
                .map(|&k| repo.kustomizations[k].dir.as_path()),
        );
    let base = common_folder(folders).unwrap_or_else(|| PathBuf::from("/"));
    repo.buffers.mirror(&base, &files, &links)
}

/// A hash of everything a root's render reads: the tool, and the path and bytes of each of
/// its `inputs`.
fn cache_key(
    repo: &Repository,
    root: usize,
    tool: &Tool,
    hashes: &FileHashes,
    inputs: &BTreeSet<PathBuf>,
) -> String {
    // Two differently seeded hashes: 128 bits make a collision (a stale render) implausible.
    let mut hashers = [
        std::hash::DefaultHasher::new(),
        std::hash::DefaultHasher::new(),
    ];
    for (seed, h) in hashers.iter_mut().enumerate() {
        h.write_usize(seed);
        env!("CARGO_PKG_VERSION").hash(h);
        // What a cached render holds: 2 added the tool's warnings.
        2u32.hash(h);
        tool.describe().hash(h);
        tool_version(tool).hash(h);
        repo.kustomizations[root].dir.hash(h);
        layer_fields(repo, root).hash(h);
        for file in inputs {
            file.hash(h);
            hashes.of(file, &repo.buffers)[seed].hash(h);
        }
    }
    format!("{:016x}{:016x}", hashers[0].finish(), hashers[1].finish())
}

/// What identifies the tool's build: its path, size and modification time (cheaper than
/// running it).
fn tool_version(tool: &Tool) -> String {
    let meta = std::fs::metadata(&tool.program).ok();
    format!(
        "{} {:?} {:?}",
        tool.program.display(),
        meta.as_ref().map(std::fs::Metadata::len),
        meta.and_then(|m| m.modified().ok())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_annotations_are_read_and_stripped() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    config.kubernetes.io/origin: |\n      path: ../repo/base/cm.yaml\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    config.kubernetes.io/origin: |\n      configuredIn: ../repo/kustomization.yaml\n      configuredBy:\n        apiVersion: builtin\n        kind: ConfigMapGenerator\n    keep: \"yes\"\n  name: b\n";
        let rendered = strip(text, Path::new("/tmp/w"));
        assert_eq!(
            rendered.text,
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    keep: \"yes\"\n  name: b\n"
        );
        assert_eq!(
            rendered.origins,
            [
                Origin::File("/tmp/repo/base/cm.yaml".into()),
                Origin::Generated {
                    kustomization: "/tmp/repo/kustomization.yaml".into(),
                    kind: "ConfigMapGenerator".into()
                }
            ]
        );
    }

    #[test]
    fn messages_lose_what_the_wrapper_adds() {
        let message = r#"E1201 22:57:33.510877   22598 run.go:72] "command failed" err="accumulating resources: accumulation err='accumulating resources from '../../r/p': '/r/p' must resolve to a file': recursed accumulation of path '/r/p': no resource matches strategic merge patch \"ConfigMap.v1.[noGrp]/settings.[noNs]\"""#;
        assert_eq!(
            tidy(message, Path::new("/r/p")),
            r#"no resource matches strategic merge patch "ConfigMap.v1.[noGrp]/settings.[noNs]""#
        );
        assert_eq!(
            tidy("Error: no such thing\n", Path::new("/r")),
            "no such thing"
        );
    }

    #[test]
    fn relative_paths_climb_to_the_common_folder() {
        assert_eq!(
            relative_path(Path::new("/tmp/w"), Path::new("/work/repo/prod")),
            PathBuf::from("../../work/repo/prod")
        );
        assert_eq!(
            relative_path(Path::new("/a"), Path::new("/a")),
            PathBuf::from(".")
        );
    }
}
