//! A `kustomization.yaml` read as data: the files and folders it includes, its patches, and
//! the transformer fields (`images`, `namespace`, …) whose entries a finding may be placed on.
//!
//! Every entry keeps the JSON pointer of its node in the file, so diagnostics can point at the
//! very list item or field.

use std::path::{Path, PathBuf};

use crate::load::spans::{Pos, Span, escape_pointer_token};
use crate::load::yaml::{Node, Value};

/// File names kustomize reads in a folder, in the order it looks for them.
pub const FILE_NAMES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Whether a file is named as kustomize names a kustomization.
pub fn is_kustomization_name(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| FILE_NAMES.contains(&n))
}

/// Whether a parsed document declares itself a kustomization (`kustomize.config.k8s.io`).
pub fn declares_kustomization(root: &Node) -> bool {
    root.get("apiVersion")
        .and_then(Node::as_str)
        .is_some_and(|v| v.starts_with("kustomize.config.k8s.io/"))
        && root
            .get("kind")
            .and_then(Node::as_str)
            .is_some_and(|k| k == "Kustomization" || k == "Component")
}

/// The kustomization file of a folder, if it has one.
pub fn file_in(dir: &Path) -> Option<PathBuf> {
    FILE_NAMES
        .iter()
        .map(|name| dir.join(name))
        .find(|p| p.is_file())
}

/// A string entry of a list or field, with where it is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub value: String,
    /// Pointer of its node in the kustomization.
    pub pointer: String,
}

/// What a patch entry selects (`target:`), with kustomize's meaning: `name`, `kind` … are
/// regular expressions matched whole; selectors are `key=value` lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    pub group: Option<String>,
    pub version: Option<String>,
    pub kind: Option<String>,
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    pub annotation_selector: Option<String>,
}

/// How a patch is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchFormat {
    /// A partial object (`patchesStrategicMerge`, or `patches` whose text is a mapping).
    StrategicMerge,
    /// A list of RFC 6902 operations (`patchesJson6902`, or `patches` whose text is a list).
    Json6902,
    /// `patches` entries: the text decides.
    Either,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// Pointer of the entry in the kustomization (`/patches/2`).
    pub pointer: String,
    /// The patch file, resolved against the kustomization's folder.
    pub file: Option<PathBuf>,
    /// Pointer of the inline patch text (`/patches/2/patch`), when it is written inline.
    pub inline: Option<String>,
    pub target: Option<Target>,
    pub format: PatchFormat,
}

/// An `images` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub pointer: String,
    pub name: String,
    pub new_name: Option<String>,
    pub new_tag: Option<String>,
    pub digest: Option<String>,
}

/// A `configMapGenerator`/`secretGenerator` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generator {
    pub pointer: String,
    pub kind: &'static str,
    pub name: String,
    /// `literals`, `files` and `envs` items: (key it defines if known, pointer).
    pub sources: Vec<(Option<String>, String)>,
}

/// One kustomization, read.
#[derive(Debug)]
pub struct Kustomization {
    /// The file, as the user would name it.
    pub file: PathBuf,
    /// Its folder, absolute and normalized: what references resolve against.
    pub dir: PathBuf,
    pub root: Node,
    pub is_component: bool,
    /// `resources` and `bases` items.
    pub resources: Vec<Entry>,
    pub components: Vec<Entry>,
    /// Folders of `generators`, `transformers` and `validators`: kustomizations that make
    /// plugin configurations.
    pub plugins: Vec<Entry>,
    /// In the order kustomize applies them: strategic-merge patches, then `patches`, then
    /// JSON 6902 patches.
    pub patches: Vec<Patch>,
    pub generators: Vec<Generator>,
    /// Other files it reads: generator sources, `crds`, `configurations`, `replacements` paths,
    /// plugin configs; checked for existence.
    pub files: Vec<Entry>,
    pub images: Vec<Image>,
    /// (`name` of the entry, pointer of its `count`).
    pub replicas: Vec<(String, String)>,
    /// Label keys it adds, with their pointers (`labels`, `commonLabels`).
    pub labels: Vec<(String, String)>,
    /// Annotation keys it adds (`commonAnnotations`).
    pub annotations: Vec<(String, String)>,
    pub helm_charts: bool,
    /// `helmCharts` entries whose chart is not in the chart home (`helmGlobals.chartHome`,
    /// `charts/`): kustomize would download them into the repository. (name, pointer)
    pub missing_charts: Vec<(String, String)>,
    /// The Argo CD Application (`namespace/name`) whose `kustomize` options this is, for the
    /// layer an Application adds over the kustomization it deploys; `file` is then the
    /// Application's file and `root` a mapping whose spans are in it.
    pub application: Option<String>,
}

impl Kustomization {
    /// Reads a kustomization from its parsed root. `file` is the path shown to users; `dir` the
    /// absolute folder references resolve against.
    pub fn read(file: PathBuf, dir: PathBuf, root: Node) -> Kustomization {
        let mut k = Kustomization {
            file,
            dir,
            is_component: root.get("kind").and_then(Node::as_str) == Some("Component"),
            resources: Vec::new(),
            components: Vec::new(),
            plugins: Vec::new(),
            patches: Vec::new(),
            generators: Vec::new(),
            files: Vec::new(),
            images: Vec::new(),
            replicas: Vec::new(),
            labels: Vec::new(),
            annotations: Vec::new(),
            helm_charts: root.get("helmCharts").is_some()
                || root.get("helmChartInflationGenerator").is_some(),
            missing_charts: Vec::new(),
            application: None,
            root: Node {
                value: Value::Null,
                span: root.span,
            },
        };
        k.resources = strings(&root, "resources");
        k.resources.extend(strings(&root, "bases"));
        k.components = strings(&root, "components");
        for key in ["crds", "configurations"] {
            k.files.extend(strings(&root, key));
        }
        if let Some(path) = root.get("openapi").and_then(|o| o.get("path")) {
            k.files.extend(path.as_str().map(|p| Entry {
                value: p.to_owned(),
                pointer: "/openapi/path".to_owned(),
            }));
        }
        // Plugin configurations: a file, a folder holding a kustomization that makes them, or
        // (a string with lines) the configuration itself.
        for key in ["generators", "transformers", "validators"] {
            for entry in strings(&root, key) {
                if entry.value.contains('\n') {
                    continue;
                }
                match k.resolve(&entry.value) {
                    Some(path) if path.is_dir() => k.plugins.push(entry),
                    _ => k.files.push(entry),
                }
            }
        }
        k.read_charts(&root);
        k.read_patches(&root);
        k.read_generators(&root);
        k.read_transformer_fields(&root);
        k.root = root;
        k
    }

    /// A reference (resource, component, file) resolved against the kustomization's folder;
    /// `None` for remote ones (URLs, `git@`).
    pub fn resolve(&self, reference: &str) -> Option<PathBuf> {
        if is_remote(reference) {
            return None;
        }
        Some(crate::load::discover::normalize(&self.dir.join(reference)))
    }

    fn read_patches(&mut self, root: &Node) {
        for e in strings(root, "patchesStrategicMerge") {
            // An item is a file name or, when it spans lines, an inline patch.
            let inline = e.value.contains('\n');
            self.patches.push(Patch {
                file: (!inline).then(|| self.dir.join(&e.value)),
                inline: inline.then(|| e.pointer.clone()),
                pointer: e.pointer,
                target: None,
                format: PatchFormat::StrategicMerge,
            });
        }
        for (key, format) in [
            ("patches", PatchFormat::Either),
            ("patchesJson6902", PatchFormat::Json6902),
        ] {
            for (i, item) in items(root, key) {
                let pointer = format!("/{key}/{i}");
                let path = item.get("path").and_then(Node::as_str);
                let inline = item.get("patch").and_then(Node::as_str).map(|_| ());
                self.patches.push(Patch {
                    file: path.map(|p| self.dir.join(p)),
                    inline: inline.map(|()| format!("{pointer}/patch")),
                    target: item.get("target").map(target),
                    pointer,
                    format,
                });
            }
        }
        // kustomize applies strategic-merge patches first, then `patches`, then JSON 6902 ones.
        self.patches.sort_by_key(|p| match p.format {
            PatchFormat::StrategicMerge => 0,
            PatchFormat::Either => 1,
            PatchFormat::Json6902 => 2,
        });
        for patch in self.patches.iter().filter(|p| p.file.is_some()) {
            let pointer = match patch.format {
                PatchFormat::StrategicMerge => patch.pointer.clone(),
                _ => format!("{}/path", patch.pointer),
            };
            if let Some(value) = root.pointer(&pointer).and_then(Node::as_str) {
                self.files.push(Entry {
                    value: value.to_owned(),
                    pointer,
                });
            }
        }
        for (i, item) in items(root, "replacements") {
            if let Some(path) = item.get("path").and_then(Node::as_str) {
                self.files.push(Entry {
                    value: path.to_owned(),
                    pointer: format!("/replacements/{i}/path"),
                });
            }
        }
    }

    fn read_charts(&mut self, root: &Node) {
        let home = root
            .get("helmGlobals")
            .and_then(|g| g.get("chartHome"))
            .and_then(Node::as_str)
            .unwrap_or("charts");
        let home = self.dir.join(home);
        for (i, chart) in items(root, "helmCharts") {
            let field = |k: &str| chart.get(k).and_then(Node::scalar_text);
            let name = field("name").unwrap_or_default();
            let local = match field("version") {
                Some(version) => [
                    home.join(&name),
                    home.join(format!("{name}-{version}")),
                    home.join(format!("{name}-{version}")).join(&name),
                ]
                .iter()
                .any(|p| p.join("Chart.yaml").is_file()),
                None => home.join(&name).join("Chart.yaml").is_file(),
            };
            if !local {
                self.missing_charts.push((name, format!("/helmCharts/{i}")));
            }
        }
        for (i, generator) in items(root, "helmChartInflationGenerator") {
            let name = generator
                .get("chartName")
                .and_then(Node::scalar_text)
                .unwrap_or_default();
            let pointer = format!("/helmChartInflationGenerator/{i}");
            self.missing_charts.push((name, pointer));
        }
    }

    fn read_generators(&mut self, root: &Node) {
        for (key, kind) in [
            ("configMapGenerator", "ConfigMap"),
            ("secretGenerator", "Secret"),
        ] {
            for (i, item) in items(root, key) {
                let pointer = format!("/{key}/{i}");
                let mut sources = Vec::new();
                for (j, literal) in items(item, "literals") {
                    let key = literal
                        .as_str()
                        .and_then(|l| l.split_once('='))
                        .map(|(k, _)| k.trim().to_owned());
                    sources.push((key, format!("{pointer}/literals/{j}")));
                }
                for (j, file) in items(item, "files") {
                    let Some(spec) = file.as_str() else { continue };
                    // `key=path`, or `path` whose file name is the key.
                    let (key, path) = match spec.split_once('=') {
                        Some((k, p)) => (k.trim().to_owned(), p.trim()),
                        None => (
                            Path::new(spec)
                                .file_name()
                                .map_or(spec.to_owned(), |n| n.to_string_lossy().into_owned()),
                            spec,
                        ),
                    };
                    let at = format!("{pointer}/files/{j}");
                    self.files.push(Entry {
                        value: path.to_owned(),
                        pointer: at.clone(),
                    });
                    sources.push((Some(key), at));
                }
                let mut envs: Vec<(usize, &Node, String)> = items(item, "envs")
                    .map(|(j, n)| (j, n, format!("{pointer}/envs/{j}")))
                    .collect();
                if let Some(env) = item.get("env") {
                    envs.push((0, env, format!("{pointer}/env")));
                }
                for (_, env, at) in envs {
                    if let Some(path) = env.as_str() {
                        self.files.push(Entry {
                            value: path.to_owned(),
                            pointer: at.clone(),
                        });
                        sources.push((None, at));
                    }
                }
                let name = item
                    .get("name")
                    .and_then(Node::scalar_text)
                    .unwrap_or_default();
                self.generators.push(Generator {
                    pointer,
                    kind,
                    name,
                    sources,
                });
            }
        }
    }

    fn read_transformer_fields(&mut self, root: &Node) {
        for (i, item) in items(root, "images") {
            let field = |k: &str| item.get(k).and_then(Node::scalar_text);
            self.images.push(Image {
                pointer: format!("/images/{i}"),
                name: field("name").unwrap_or_default(),
                new_name: field("newName"),
                new_tag: field("newTag"),
                digest: field("digest"),
            });
        }
        for (i, item) in items(root, "replicas") {
            if let Some(name) = item.get("name").and_then(Node::scalar_text) {
                let at = if item.get("count").is_some() {
                    format!("/replicas/{i}/count")
                } else {
                    format!("/replicas/{i}")
                };
                self.replicas.push((name, at));
            }
        }
        for key in ["commonLabels", "commonAnnotations"] {
            if let Some(entries) = root.get(key).and_then(Node::as_map) {
                let out = if key == "commonLabels" {
                    &mut self.labels
                } else {
                    &mut self.annotations
                };
                out.extend(entries.iter().map(|e| {
                    let at = format!("/{key}/{}", escape_pointer_token(&e.key));
                    (e.key.clone(), at)
                }));
            }
        }
        for (i, item) in items(root, "labels") {
            if let Some(pairs) = item.get("pairs").and_then(Node::as_map) {
                self.labels.extend(pairs.iter().map(|e| {
                    let at = format!("/labels/{i}/pairs/{}", escape_pointer_token(&e.key));
                    (e.key.clone(), at)
                }));
            }
        }
    }

    /// The pointer of a top-level string field (`namespace`, `namePrefix`), if it is set.
    pub fn field(&self, key: &str) -> Option<(String, String)> {
        let value = self.root.get(key)?.scalar_text()?;
        (!value.is_empty()).then(|| (value, format!("/{key}")))
    }
}

/// How positions in an inline text (a patch written in a kustomization) map to the file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Offset {
    /// The text is the file's own.
    None,
    /// A literal block scalar (`|`): each line of the value is a line of the file, shifted.
    Shifted { lines: u32, columns: u32 },
    /// Any other style (quoted, folded): positions inside it cannot be told apart, so all are
    /// the value's.
    Collapsed(Span),
}

impl Offset {
    /// How the text of `node`, a string written in `text`, maps to `text`. A block scalar's
    /// node starts at its first content line, and each line of the value is that line
    /// without the indentation.
    pub fn of(text: &str, node: &Node) -> Offset {
        let Some(value) = node.as_str() else {
            return Offset::Collapsed(node.span);
        };
        let (line, col) = (node.span.start.line as usize, node.span.start.col as usize);
        let same = line > 0
            && col > 0
            && value
                .lines()
                .zip(text.lines().skip(line - 1))
                .all(|(v, l)| {
                    l.char_indices()
                        .nth(col - 1)
                        .is_some_and(|(at, _)| l[at..] == *v)
                        || v.is_empty() && l.trim().is_empty()
                });
        if same {
            Offset::Shifted {
                lines: node.span.start.line - 1,
                columns: node.span.start.col - 1,
            }
        } else {
            Offset::Collapsed(node.span)
        }
    }

    pub fn apply(self, span: Span) -> Span {
        match self {
            Offset::None => span,
            Offset::Shifted { lines, columns } => {
                let pos = |p: Pos| Pos {
                    line: p.line + lines,
                    col: p.col + columns,
                };
                Span {
                    start: pos(span.start),
                    end: pos(span.end),
                }
            }
            Offset::Collapsed(whole) => whole,
        }
    }
}

/// Whether a reference names a remote resource rather than a local path.
pub fn is_remote(reference: &str) -> bool {
    reference.contains("://")
        || reference.starts_with("git@")
        || reference.starts_with("github.com/")
        || reference.starts_with("gitlab.com/")
        || reference.starts_with("bitbucket.org/")
}

/// The items of a list field, with their indexes.
fn items<'a>(node: &'a Node, key: &str) -> impl Iterator<Item = (usize, &'a Node)> {
    node.get(key)
        .and_then(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .enumerate()
}

/// The string items of a list field.
fn strings(node: &Node, key: &str) -> Vec<Entry> {
    items(node, key)
        .filter_map(|(i, item)| {
            Some(Entry {
                value: item.as_str()?.to_owned(),
                pointer: format!("/{key}/{i}"),
            })
        })
        .collect()
}

fn target(node: &Node) -> Target {
    let field = |k: &str| node.get(k).and_then(Node::scalar_text);
    Target {
        group: field("group"),
        version: field("version"),
        kind: field("kind"),
        name: field("name"),
        namespace: field("namespace"),
        label_selector: field("labelSelector"),
        annotation_selector: field("annotationSelector"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Kustomization {
        let root = crate::load::yaml::first_root(text).unwrap();
        Kustomization::read("k/kustomization.yaml".into(), "/r/k".into(), root)
    }

    #[test]
    fn references_patches_and_transformer_fields_are_read_with_their_pointers() {
        let k = read(
            "resources: [../base, svc.yaml, https://example.com/x.yaml]\n\
             components: [../comp]\n\
             patches:\n- path: p.yaml\n- target: {kind: Deployment, name: web}\n  patch: |-\n    - op: remove\n      path: /spec/replicas\n\
             patchesStrategicMerge: [sm.yaml]\n\
             images: [{name: nginx, newTag: latest}]\n\
             replicas: [{name: web, count: 3}]\n\
             commonLabels: {team: a}\n\
             configMapGenerator: [{name: cfg, literals: [a=b], files: [c.conf]}]\n",
        );
        assert_eq!(k.resources.len(), 3);
        assert_eq!(k.resolve("../base"), Some(PathBuf::from("/r/base")));
        assert_eq!(k.resolve("https://example.com/x.yaml"), None);
        let formats: Vec<_> = k
            .patches
            .iter()
            .map(|p| (p.format, p.pointer.as_str()))
            .collect();
        assert_eq!(
            formats,
            [
                (PatchFormat::StrategicMerge, "/patchesStrategicMerge/0"),
                (PatchFormat::Either, "/patches/0"),
                (PatchFormat::Either, "/patches/1"),
            ]
        );
        assert_eq!(k.patches[2].inline.as_deref(), Some("/patches/1/patch"));
        assert_eq!(
            k.patches[2].target.as_ref().unwrap().kind.as_deref(),
            Some("Deployment")
        );
        assert_eq!(k.images[0].new_tag.as_deref(), Some("latest"));
        assert_eq!(
            k.replicas,
            [("web".to_owned(), "/replicas/0/count".to_owned())]
        );
        assert_eq!(
            k.labels,
            [("team".to_owned(), "/commonLabels/team".to_owned())]
        );
        assert_eq!(k.generators[0].sources.len(), 2);
        let files: Vec<&str> = k.files.iter().map(|f| f.pointer.as_str()).collect();
        assert!(
            files.contains(&"/configMapGenerator/0/files/0"),
            "{files:?}"
        );
        assert!(files.contains(&"/patches/0/path"), "{files:?}");
    }
}
