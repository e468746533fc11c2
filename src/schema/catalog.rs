//! The CRD catalog: the custom resource schemas of the projects kvet's users run with Argo CD
//! and Kargo (Argo CD, Kyverno, External Secrets, Crossplane, Flux...), converted from their
//! upstream CRDs by [`build`] (run by `schemas/catalog/update.sh`, not at every run), one zstd
//! frame per kind (all its versions), embedded. A kind's frame is decompressed and parsed the
//! first time an object of that kind is met: a run without custom resources pays nothing, and
//! an Argo CD Application does not pay for the ApplicationSet schema, five times its size.
//!
//! Precedence: CRDs of the input and `--crds` first, then the catalog, then `--schema-location`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use serde_json::{Value, json};

use super::store::{KindSchema, compile_crd};

/// A project of the catalog and the kinds it defines.
pub struct Project {
    /// Its folder name in the catalog (`argo-cd`).
    pub id: &'static str,
    pub name: &'static str,
    /// What the CRDs were taken from: a release, or a commit of the project's repository.
    pub version: &'static str,
    pub source: &'static str,
    pub licence: &'static str,
    /// `(apiVersion, kind, version)` of every custom resource version its CRDs declare.
    pub kinds: &'static [(&'static str, &'static str, Version)],
    frames: &'static [&'static [u8]],
}

/// A custom resource version as its CRD declares it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Version {
    /// Served: `frame` is the index in the project's `frames` of the schemas of the kind's
    /// versions; `deprecation`, for a version marked `deprecated: true`, is the CRD's
    /// `deprecationWarning` ("" when it gives none).
    Served {
        frame: usize,
        deprecation: Option<&'static str>,
    },
    /// `served: false`, with the apiVersions the CRD serves instead.
    NotServed { serves: &'static [&'static str] },
}

/// The generated table, `schemas/catalog/index.rs`.
static PROJECTS: &[Project] = &include!("../../schemas/catalog/index.rs");

/// Every project of the catalog, in the order their definitions win.
pub fn projects() -> &'static [Project] {
    PROJECTS
}

/// `(apiVersion, kind)`.
type TypeMeta = (&'static str, &'static str);

/// `(apiVersion, kind)` → the first project that defines it, and the version as it declares
/// it, its frame an index in [`FRAMES`].
static BY_KIND: LazyLock<HashMap<TypeMeta, (usize, Version)>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    let mut frames = 0;
    for (i, project) in PROJECTS.iter().enumerate() {
        for &(api_version, kind, version) in project.kinds {
            let version = match version {
                Version::Served { frame, deprecation } => Version::Served {
                    frame: frames + frame,
                    deprecation,
                },
                not_served => not_served,
            };
            map.entry((api_version, kind)).or_insert((i, version));
        }
        frames += project.frames.len();
    }
    map
});

/// Every project's frames, in order.
static FRAMES: LazyLock<Vec<&'static [u8]>> = LazyLock::new(|| {
    PROJECTS
        .iter()
        .flat_map(|p| p.frames.iter().copied())
        .collect()
});

/// The project whose schema validates `apiVersion`/`kind`, if the catalog has one.
pub fn project_of(api_version: &str, kind: &str) -> Option<&'static Project> {
    BY_KIND
        .get(&(api_version, kind))
        .map(|&(i, _)| &PROJECTS[i])
}

/// The served versions the catalog has of a kind of `group` (for "the catalog has v1,
/// v1beta1").
pub fn versions_of(group: &str, kind: &str) -> Vec<&'static str> {
    let mut out: Vec<&str> = BY_KIND
        .iter()
        .filter(|((api_version, k), (_, version))| {
            *k == kind
                && matches!(version, Version::Served { .. })
                && api_version
                    .rsplit_once('/')
                    .is_some_and(|(g, _)| g == group)
        })
        .map(|((api_version, _), _)| *api_version)
        .collect();
    out.sort();
    out
}

/// Marks a finding that a catalog CRD made: the help says which project and release, and
/// that a cluster running another one needs its own CRDs; the JSON's `schema_source` names it.
pub fn attribute(finding: &mut crate::diag::Finding, kind: &str, project: &Project) {
    let note = format!(
        "validated against the {kind} CRD of {} ({}) in kvet's catalog; if your cluster runs another release, pass its CRDs with --crds",
        project.name, project.version
    );
    finding.help = Some(match finding.help.take() {
        Some(help) => format!("{help}\n{note}"),
        None => note,
    });
    finding.schema_source = Some(format!("{} {}", project.name, project.version));
}

/// For a version the catalog's CRD declares `served: false`: the versions it serves.
pub fn not_served(api_version: &str, kind: &str) -> Option<&'static [&'static str]> {
    match BY_KIND.get(&(api_version, kind))?.1 {
        Version::NotServed { serves } => Some(serves),
        Version::Served { .. } => None,
    }
}

/// For a version the catalog's CRD marks `deprecated: true`: the warning the API server gives.
pub fn deprecation(api_version: &str, kind: &str) -> Option<&'static str> {
    match BY_KIND.get(&(api_version, kind))?.1 {
        Version::Served { deprecation, .. } => deprecation,
        Version::NotServed { .. } => None,
    }
}

/// A frame's schemas by `(apiVersion, kind)`, unpacked each time they are needed (once per
/// kind and version in a run: the compiled validator is kept, and keeps the only copy of its
/// schema, which for a kind like ApplicationSet is megabytes as a tree).
type Parsed = Result<HashMap<(String, String), Value>, String>;

fn parsed(frame: usize) -> Parsed {
    let text = super::builtin::decompress(FRAMES[frame])?;
    let entries: Vec<(String, String, Value)> =
        serde_json::from_slice(&text).map_err(|e| format!("catalog frame {frame}: {e}"))?;
    Ok(entries
        .into_iter()
        .map(|(api_version, kind, schema)| ((api_version, kind), schema))
        .collect())
}

type Compiled = Arc<OnceLock<Result<Arc<KindSchema>, String>>>;
/// Compiled validators by (Kubernetes version, apiVersion, kind): `metadata` refers to that
/// version's `ObjectMeta`.
type CompiledByKind = HashMap<(&'static str, String, String), Compiled>;
static COMPILED: LazyLock<Mutex<CompiledByKind>> = LazyLock::new(Mutex::default);

/// The catalog's validator of a custom resource, `None` when the catalog does not define it;
/// an error when its schema does not compile.
pub fn get(
    version: &'static str,
    api_version: &str,
    kind: &str,
) -> Option<Result<Arc<KindSchema>, String>> {
    let Version::Served { frame, .. } = BY_KIND.get(&(api_version, kind))?.1 else {
        return None;
    };
    let slot = {
        let mut compiled = COMPILED.lock().unwrap_or_else(|e| e.into_inner());
        let key = (version, api_version.to_owned(), kind.to_owned());
        Arc::clone(compiled.entry(key).or_default())
    };
    let result = slot.get_or_init(|| {
        let mut schemas = parsed(frame)?;
        let key = (api_version.to_owned(), kind.to_owned());
        let schema = schemas.remove(&key).ok_or_else(|| {
            format!("the catalog's index names {api_version} {kind}, its schemas do not")
        })?;
        compile_crd(version, Arc::new(with_object_meta(schema, version)))
    });
    Some(result.clone())
}

/// A catalog schema with `metadata` referring to `ObjectMeta` of Kubernetes `version`, as
/// [`super::crd::schemas_of`] makes it for CRDs read at run time.
fn with_object_meta(mut schema: Value, version: &str) -> Value {
    if let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        let meta_ref = super::store::object_meta_ref(version);
        properties.insert("metadata".into(), json!({"$ref": meta_ref}));
    }
    schema
}

/// A CEL rule kvet does not run, and why.
pub type SkippedRule = (String, super::cel::Skip);

/// Every CEL rule of the catalog's schemas (each distinct rule once), and those kvet skips
/// with why: what `kvet explain schema` reports.
pub fn cel_rules() -> Result<(usize, Vec<SkippedRule>), String> {
    let mut rules = Vec::new();
    for frame in 0..FRAMES.len() {
        for schema in parsed(frame)?.values() {
            super::cel::rules_of(schema, &mut rules);
        }
    }
    rules.sort();
    rules.dedup();
    let skipped = rules
        .iter()
        .filter_map(|r| Some((r.clone(), super::cel::skipped_because(r)?)))
        .collect();
    Ok((rules.len(), skipped))
}

/// A schema of the catalog: apiVersion, kind, schema.
type Entry = (String, String, Value);

/// A line of the projects file: `id`, folders (under the CRDs folder, comma-separated), name,
/// version, source, licence, separated by tabs.
struct Listed {
    id: String,
    folders: Vec<String>,
    name: String,
    version: String,
    source: String,
    licence: String,
}

/// Converts the CRDs of every project listed in `projects` (found under `crds`) into the
/// catalog in `out`: `<id>/<group>_<Kind>.json` per kind (`[[apiVersion, kind, schema], ...]`
/// for its versions, without descriptions; `metadata` is added at run time for the
/// Kubernetes version checked against) and `index.rs`, the table this module embeds (naming
/// the `.json.zst` files the script compresses them to). A kind two projects define is the
/// first's.
pub fn build(crds: &Path, projects: &Path, out: &Path) -> Result<(), String> {
    let listing = std::fs::read_to_string(projects)
        .map_err(|e| format!("cannot read {}: {e}", projects.display()))?;
    let mut listed = Vec::new();
    for line in listing
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let fields: Vec<&str> = line.split('\t').collect();
        let [id, folders, name, version, source, licence] = fields[..] else {
            return Err(format!(
                "{}: not 6 tab-separated fields: {line}",
                projects.display()
            ));
        };
        listed.push(Listed {
            id: id.into(),
            folders: folders.split(',').map(str::to_owned).collect(),
            name: name.into(),
            version: version.into(),
            source: source.into(),
            licence: licence.into(),
        });
    }
    let mut seen = std::collections::HashSet::new();
    let mut index = String::from(
        "// Generated by schemas/catalog/update.sh from schemas/catalog/projects.tsv; do not edit.\n[\n",
    );
    for project in &listed {
        let mut entries: Vec<Entry> = Vec::new();
        let mut not_served: Vec<(String, String, Vec<String>)> = Vec::new();
        let mut deprecated: HashMap<(String, String), String> = HashMap::new();
        for folder in &project.folders {
            for file in yaml_files(&crds.join(folder))? {
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
                for object in &crate::load::load_text(&text).objects {
                    let wanted = |a: &str, k: &str| !seen.contains(&(a.to_owned(), k.to_owned()));
                    let schemas = super::crd::schemas_of(object, "", wanted);
                    for crd in schemas {
                        seen.insert((crd.api_version.clone(), crd.kind.clone()));
                        if let Some(serves) = crd.not_served {
                            not_served.push((crd.api_version, crd.kind, serves));
                            continue;
                        }
                        if let Some(warning) = crd.deprecation {
                            deprecated.insert((crd.api_version.clone(), crd.kind.clone()), warning);
                        }
                        let mut schema = crd.schema;
                        // Added back at run time, for the Kubernetes version checked.
                        if let Some(p) = schema.get_mut("properties").and_then(Value::as_object_mut)
                        {
                            p.remove("metadata");
                        }
                        entries.push((crd.api_version, crd.kind, schema));
                    }
                }
            }
        }
        if entries.is_empty() {
            return Err(format!("no CustomResourceDefinition for {}", project.id));
        }
        // One frame per group and kind, with all its versions.
        let mut frames: Vec<(String, Vec<&Entry>)> = Vec::new();
        for entry in &entries {
            let group = entry.0.rsplit_once('/').map_or("core", |(g, _)| g);
            let name = format!("{group}_{}", entry.1);
            match frames.iter_mut().find(|(n, _)| *n == name) {
                Some((_, list)) => list.push(entry),
                None => frames.push((name, vec![entry])),
            }
        }
        let dir = out.join(&project.id);
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let mut kinds = Vec::new();
        let mut files = Vec::new();
        for (i, (name, list)) in frames.iter().enumerate() {
            let json = serde_json::to_vec(list).map_err(|e| e.to_string())?;
            let path = dir.join(format!("{name}.json"));
            std::fs::write(&path, json)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            kinds.extend(list.iter().map(|(a, k, _)| {
                let deprecation = deprecated.get(&(a.clone(), k.clone()));
                format!(
                    "({a:?}, {k:?}, Version::Served {{ frame: {i}, deprecation: {deprecation:?} }})"
                )
            }));
            files.push(format!(
                "include_bytes!(\"{}/{name}.json.zst\")",
                project.id
            ));
        }
        kinds.extend(not_served.iter().map(|(a, k, serves)| {
            format!("({a:?}, {k:?}, Version::NotServed {{ serves: &{serves:?} }})")
        }));
        index.push_str(&format!(
            "    Project {{\n        id: {:?},\n        name: {:?},\n        version: {:?},\n        source: {:?},\n        licence: {:?},\n        kinds: &[{}],\n        frames: &[{}],\n    }},\n",
            project.id,
            project.name,
            project.version,
            project.source,
            project.licence,
            kinds.join(", "),
            files.join(", "),
        ));
    }
    index.push_str("]\n");
    let path = out.join("index.rs");
    std::fs::write(&path, index).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The `.yaml` and `.yml` files under a folder, sorted.
fn yaml_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(yaml_files(&path)?);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind the index lists is in its frame, and the frames unpack: a catalog that
    /// `update.sh` left half written fails here, not in a user's run.
    #[test]
    fn every_listed_kind_is_in_its_frame() {
        let mut kinds = 0;
        for (&(api_version, kind), &(_, version)) in BY_KIND.iter() {
            let Version::Served { frame, .. } = version else {
                continue;
            };
            let schemas = parsed(frame).unwrap();
            let key = (api_version.to_owned(), kind.to_owned());
            assert!(schemas.contains_key(&key), "{api_version} {kind}");
            kinds += 1;
        }
        assert!(kinds > 150, "{kinds} kinds");
        assert_eq!(
            project_of("argoproj.io/v1alpha1", "Application")
                .unwrap()
                .id,
            "argo-cd"
        );
        assert_eq!(
            versions_of("external-secrets.io", "ExternalSecret"),
            ["external-secrets.io/v1"]
        );
        let version = super::super::builtin::latest();
        assert!(
            get(version, "kyverno.io/v1", "ClusterPolicy")
                .unwrap()
                .is_ok()
        );
        assert!(get(version, "example.com/v1", "Widget").is_none());
        // What the CRDs say of their versions: not served, deprecated.
        assert_eq!(
            not_served("external-secrets.io/v1beta1", "ExternalSecret"),
            Some(&["external-secrets.io/v1"][..])
        );
        assert!(get(version, "external-secrets.io/v1beta1", "ExternalSecret").is_none());
        assert_eq!(
            versions_of("external-secrets.io", "ExternalSecret"),
            ["external-secrets.io/v1"]
        );
        assert!(
            deprecation("gateway.networking.k8s.io/v1alpha2", "TCPRoute")
                .is_some_and(|w| w.contains("Please upgrade to v1"))
        );
        assert_eq!(deprecation("argoproj.io/v1alpha1", "Application"), None);
    }
}
