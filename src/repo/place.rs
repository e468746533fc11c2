//! Where a finding on a rendered object goes: the file and line that wrote the offending key.
//!
//! For a finding on rendered object O at pointer P (first cut back to the part of P that O
//! has), in this order:
//! 1. the **last patch** targeting O that sets P — a strategic-merge patch that has P (a
//!    mapping or list only when the base lacks it: merging into it is not setting it), or a
//!    JSON 6902 operation whose path is P or a prefix of it (on its `value`);
//! 2. the **kustomization field** whose transformer produced P: the `images` entry of a
//!    container image, `namespace`, `namePrefix`/`nameSuffix`, a `replicas` entry, a label or
//!    annotation entry, the generator entry of a generated ConfigMap or Secret;
//! 3. O's **origin file** at P, or the nearest parent of P present there;
//! 4. for a remote resource, the `resources` item that names it;
//! 5. else the root's kustomization file, the message naming the rendered location.
//!
//! Lists are matched item by item through their merge keys (`name`, `mountPath`, …), never by
//! a guessed index.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::Repository;
use super::kustomization::{Kustomization, Offset, Patch, PatchFormat, Target};
use super::render::{Origin, RenderedRoot};
use crate::diag::Diagnostic;
use crate::load::object::Object;
use crate::load::spans::{Pos, Span};
use crate::load::yaml::{Node, Value};

/// A rendered root as placement reads it.
pub struct Stream<'a> {
    /// The name its diagnostics carry until they are placed.
    pub name: &'a str,
    pub root: usize,
    /// The root as findings name it: `overlays/prod`.
    pub root_name: String,
    pub rendered: &'a RenderedRoot,
}

/// Where a diagnostic of a stream went.
#[derive(Debug, Clone, PartialEq)]
pub struct Moved {
    /// Its index among the diagnostics.
    pub index: usize,
    /// The stream it came from.
    pub stream: usize,
    pub how: How,
    /// The file it is in now (identity).
    pub file: PathBuf,
    /// The file of the object it is on, when it is a file of the repository (identity).
    pub origin: Option<PathBuf>,
}

/// One document of a render: its lines (1-based, end excluded) and bytes.
struct Document {
    lines: std::ops::Range<u32>,
    bytes: std::ops::Range<usize>,
}

/// The documents of kustomize's output, which separates them with `---` lines.
fn documents_of(text: &str) -> Vec<Document> {
    let mut out = Vec::new();
    let (mut line, mut start_line, mut start_byte, mut at) = (1u32, 1u32, 0usize, 0usize);
    for l in text.split_inclusive('\n') {
        if l.trim_end() == "---" {
            out.push(Document {
                lines: start_line..line,
                bytes: start_byte..at,
            });
            start_line = line + 1;
            start_byte = at + l.len();
        }
        at += l.len();
        line += 1;
    }
    out.push(Document {
        lines: start_line..line.max(start_line + 1),
        bytes: start_byte..at,
    });
    out
}

/// How a finding was placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Patch,
    Transformer,
    Origin,
    Remote,
    /// On the root's kustomization: nothing proved a better line.
    Root,
}

/// A place in a user's file.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    pub file: PathBuf,
    pub span: Span,
    pub how: How,
}

/// Files read while placing (from editors' buffers where they have one): their text and
/// parsed documents.
#[derive(Default)]
pub struct Files {
    buffers: crate::load::buffers::Buffers,
    loaded: HashMap<PathBuf, Option<(String, Vec<Node>)>>,
    /// Patches' documents, by the kustomization file and the patch's pointer in it.
    patches: HashMap<(PathBuf, String), Option<std::rc::Rc<PatchDocuments>>>,
}

/// A patch's documents, the file they are in, and how their positions map into it.
struct PatchDocuments {
    file: PathBuf,
    offset: Offset,
    roots: Vec<Node>,
}

impl Files {
    pub fn new(buffers: crate::load::buffers::Buffers) -> Files {
        Files {
            buffers,
            ..Files::default()
        }
    }

    fn get(&mut self, path: &Path) -> Option<&(String, Vec<Node>)> {
        self.loaded
            .entry(path.to_path_buf())
            .or_insert_with(|| {
                let text = self.buffers.read_text(path).ok()?;
                let roots = crate::load::yaml::parse(&text)
                    .documents
                    .into_iter()
                    .map(|d| d.root)
                    .collect();
                Some((text, roots))
            })
            .as_ref()
    }

    /// The text of a file read while placing (for snippets).
    pub fn text(&self, path: &Path) -> Option<&str> {
        self.loaded.get(path)?.as_ref().map(|(t, _)| t.as_str())
    }
}

/// Places every diagnostic of the streams; `name_of` names a file as the output shows it.
pub fn place_all(
    diagnostics: &mut [Diagnostic],
    streams: &[Stream],
    repo: &Repository,
    files: &mut Files,
    name_of: &dyn Fn(&Path) -> String,
) -> Vec<Moved> {
    let mut moved = Vec::new();
    // Only the documents with findings are parsed again, each once.
    let documents: Vec<Vec<Document>> = streams
        .iter()
        .map(|s| documents_of(&s.rendered.text))
        .collect();
    let mut parsed: HashMap<(usize, usize), Vec<Object>> = HashMap::new();
    for (i, d) in diagnostics.iter_mut().enumerate() {
        let Some(index) = streams.iter().position(|s| s.name == d.file) else {
            continue;
        };
        let stream = &streams[index];
        let document = documents[index]
            .iter()
            .position(|doc| doc.lines.contains(&d.line));
        let objects = document.map(|n| {
            let doc = &documents[index][n];
            parsed.entry((index, n)).or_insert_with(|| {
                crate::load::load_text(&stream.rendered.text[doc.bytes.clone()]).objects
            })
        });
        // Lines in the document are counted from its first.
        let first = document.map_or(1, |n| documents[index][n].lines.start);
        let line = d.line + 1 - first;
        let object = d.object.as_ref().zip(objects).and_then(|(id, objects)| {
            objects.iter().find(|o| {
                o.id == *id && o.root.span.start.line <= line && line <= o.root.span.end.line
            })
        });
        let mut origin_object = None;
        let placed = object.and_then(|o| {
            let origin = document
                .and_then(|n| stream.rendered.origins.get(n))
                .unwrap_or(&Origin::Unknown);
            let pointer = d.pointer.as_deref().unwrap_or("");
            // Whether the rendered finding was on the key rather than on its value.
            let key = o.root.locate_key(pointer).span.start;
            let at_key =
                key != o.root.locate(pointer).span.start && (key.line, key.col) == (line, d.column);
            let mut placer = Placer {
                repo,
                files,
                root: stream.root,
                object: o,
                origin,
                at_key,
            };
            let origin_file = match origin {
                Origin::File(file) => Some(name_of(file)),
                _ => None,
            };
            origin_object = origin_file.zip(placer.origin_ref());
            let placed = placer.place(pointer)?;
            // A message that names another rendered line ("first at line 51") names its place.
            placer.at_key = false;
            let relative = |n: u32| (n + 1).checked_sub(first);
            d.message = relate(
                &d.message,
                o,
                relative,
                &placed.file,
                |p| placer.place(p),
                name_of,
            );
            Some(placed)
        });
        let placed = placed.unwrap_or_else(|| {
            let root = &repo.kustomizations[stream.root];
            d.message.push_str(&format!(
                " (in the output of kustomize build {}, line {})",
                stream.root_name, d.line
            ));
            let start = Pos { line: 1, col: 1 };
            Placed {
                file: super::identity(&root.file),
                span: Span { start, end: start },
                how: How::Root,
            }
        });
        d.file = name_of(&placed.file);
        d.line = placed.span.start.line;
        d.column = placed.span.start.col;
        d.end_line = placed.span.end.line;
        d.end_column = placed.span.end.col;
        d.roots = vec![stream.root_name.clone()];
        d.origin_object = origin_object;
        let origin = object
            .and(document)
            .and_then(|n| stream.rendered.origins.get(n))
            .and_then(|origin| match origin {
                Origin::File(file) => Some(file.clone()),
                _ => None,
            });
        moved.push(Moved {
            index: i,
            stream: index,
            how: placed.how,
            file: placed.file,
            origin,
        });
    }
    moved
}

/// The object as one kustomization of the chain saw it when its transformers ran.
struct Level {
    k: usize,
    name: Option<String>,
    namespace: Option<String>,
}

struct Placer<'a> {
    repo: &'a Repository,
    files: &'a mut Files,
    root: usize,
    object: &'a Object,
    origin: &'a Origin,
    /// Place on keys rather than on their values.
    at_key: bool,
}

impl Placer<'_> {
    /// The span of the node at `pointer` in `root` (of its key when the finding is on keys).
    fn span_in(&self, root: &Node, pointer: &str) -> Option<Span> {
        let node = root.pointer(pointer)?;
        Some(if self.at_key {
            key_span(root, pointer).unwrap_or(node.span)
        } else {
            node.span
        })
    }

    fn place(&mut self, pointer: &str) -> Option<Placed> {
        // The part of the pointer the rendered object has.
        let mut present = pointer.to_owned();
        while !present.is_empty() && self.object.root.pointer(&present).is_none() {
            present = parent(&present).to_owned();
        }
        let owner = |k: usize| match self.origin {
            Origin::File(f) => self.repo.lists_resource(k, f),
            Origin::Generated { kustomization, .. } => {
                super::identity(&self.repo.kustomizations[k].file) == *kustomization
            }
            Origin::Remote { .. } => self.repo.kustomizations[k]
                .resources
                .iter()
                .any(|r| super::kustomization::is_remote(&r.value)),
            Origin::Unknown => false,
        };
        let chain = self.repo.chain(self.root, owner);
        let origin_object = match self.origin {
            Origin::File(file) => self.origin_object(&file.clone(), &chain),
            _ => None,
        };
        let levels = self.levels(&chain, origin_object.as_ref().map(|(_, n)| n));
        // The last writer: the outermost kustomization first, and in each the transformers in
        // the reverse of the order kustomize runs them.
        for level in levels.iter().rev() {
            let found = self.in_level(level, &levels, &present, origin_object.as_ref());
            if found.is_some() {
                return found;
            }
        }
        if let Some(found) = self.in_generator(&levels, &present) {
            return Some(found);
        }
        match self.origin {
            Origin::File(file) => {
                let (document, node) = origin_object?;
                let (at, _) = follow(&self.object.root, &node, &present);
                let (_, roots) = self.files.get(file)?;
                let document = roots.get(document)?.clone();
                let span = self.span_in(&document, &at)?;
                Some(Placed {
                    file: file.clone(),
                    span,
                    how: How::Origin,
                })
            }
            Origin::Remote { repo, path } => {
                let k = *chain.first()?;
                let kustomization = &self.repo.kustomizations[k];
                let remote: Vec<&super::kustomization::Entry> = kustomization
                    .resources
                    .iter()
                    .filter(|r| super::kustomization::is_remote(&r.value))
                    .collect();
                let entry = remote
                    .iter()
                    .find(|r| r.value.contains(repo.as_str()) && r.value.contains(path.as_str()))
                    .or_else(|| remote.iter().find(|r| r.value.contains(repo.as_str())))
                    .or(remote.first())?;
                self.in_kustomization(k, &entry.pointer, How::Remote)
            }
            _ => None,
        }
    }

    /// The object as its origin file writes it.
    fn origin_ref(&mut self) -> Option<crate::load::object::ObjectRef> {
        let Origin::File(file) = self.origin else {
            return None;
        };
        let chain = self
            .repo
            .chain(self.root, |k| self.repo.lists_resource(k, file));
        let (_, node) = self.origin_object(&file.clone(), &chain)?;
        let field = |n: &Node, k: &str| n.get(k).and_then(Node::scalar_text);
        let metadata = node.get("metadata");
        Some(crate::load::object::ObjectRef {
            api_version: field(&node, "apiVersion")?,
            kind: field(&node, "kind")?,
            namespace: metadata.and_then(|m| field(m, "namespace")),
            name: metadata.and_then(|m| field(m, "name")),
        })
    }

    /// The origin file's object this rendered object came from: (document index, its node).
    /// Its name is the rendered one without the chain's prefixes and suffixes.
    fn origin_object(&mut self, file: &Path, chain: &[usize]) -> Option<(usize, Node)> {
        let mut bare = self.object.id.name.clone().unwrap_or_default();
        for &k in chain.iter().rev() {
            let k = &self.repo.kustomizations[k];
            if let Some((prefix, _)) = k.field("namePrefix") {
                bare = bare
                    .strip_prefix(prefix.as_str())
                    .unwrap_or(&bare)
                    .to_owned();
            }
            if let Some((suffix, _)) = k.field("nameSuffix") {
                bare = bare
                    .strip_suffix(suffix.as_str())
                    .unwrap_or(&bare)
                    .to_owned();
            }
        }
        let (_, roots) = self.files.get(file)?;
        let kind = &self.object.id.kind;
        let rendered_name = self.object.id.name.as_deref().unwrap_or("");
        // Objects of one name in two namespaces: the namespace decides, unless a
        // kustomization of the chain sets it.
        let namespace = self.object.id.namespace.as_deref();
        let renamespaced = chain
            .iter()
            .any(|&k| self.repo.kustomizations[k].field("namespace").is_some());
        let metadata = |r: &Node, k: &str| r.get("metadata")?.get(k)?.scalar_text();
        let candidates: Vec<(usize, &Node, String, bool)> = roots
            .iter()
            .enumerate()
            .filter(|(_, r)| r.get("kind").and_then(Node::as_str) == Some(kind.as_str()))
            .map(|(i, r)| {
                let same = renamespaced || metadata(r, "namespace").as_deref() == namespace;
                (i, r, metadata(r, "name").unwrap_or_default(), same)
            })
            .collect();
        let named = |name: &str| {
            let mut matching = candidates.iter().filter(|c| c.2 == name);
            let first = matching.next()?;
            Some(
                std::iter::once(first)
                    .chain(matching)
                    .find(|c| c.3)
                    .unwrap_or(first),
            )
        };
        let best = named(&bare)
            .or_else(|| named(rendered_name))
            .or_else(|| (candidates.len() == 1).then(|| &candidates[0]))?;
        Some((best.0, best.1.clone()))
    }

    /// The object's name and namespace as each kustomization of the chain saw it when its
    /// transformers ran (an outer patch names the object as the inner layers left it).
    fn levels(&self, chain: &[usize], origin: Option<&Node>) -> Vec<Level> {
        let field = |n: &Node, k: &str| n.get("metadata")?.get(k)?.scalar_text();
        let (mut name, mut namespace) = match origin {
            Some(node) => (field(node, "name"), field(node, "namespace")),
            None => (self.generated_name(chain), None),
        };
        let mut levels = Vec::new();
        for &k in chain {
            levels.push(Level {
                k,
                name: name.clone(),
                namespace: namespace.clone(),
            });
            let kustomization = &self.repo.kustomizations[k];
            if let Some(n) = &name {
                let prefix = kustomization.field("namePrefix").map(|(p, _)| p);
                let suffix = kustomization.field("nameSuffix").map(|(s, _)| s);
                name = Some(format!(
                    "{}{n}{}",
                    prefix.unwrap_or_default(),
                    suffix.unwrap_or_default()
                ));
            }
            if let Some((ns, _)) = kustomization.field("namespace") {
                namespace = Some(ns);
            }
        }
        levels
    }

    /// A generated object's name as its generator gives it.
    fn generated_name(&self, chain: &[usize]) -> Option<String> {
        let Origin::Generated { kustomization, .. } = self.origin else {
            return None;
        };
        let rendered = self.object.id.name.as_deref().unwrap_or("");
        let k = chain
            .iter()
            .find(|&&k| super::identity(&self.repo.kustomizations[k].file) == *kustomization)?;
        self.repo.kustomizations[*k]
            .generators
            .iter()
            .filter(|g| g.kind == self.object.id.kind && rendered.contains(g.name.as_str()))
            .max_by_key(|g| g.name.len())
            .map(|g| g.name.clone())
    }

    /// What a kustomization's own transformers wrote at the pointer, the last of them first:
    /// images, replicas, JSON 6902 patches, annotations, labels, prefix and suffix, namespace,
    /// patches, strategic-merge patches (kustomize runs them in the reverse order).
    fn in_level(
        &mut self,
        level: &Level,
        levels: &[Level],
        present: &str,
        origin: Option<&(usize, Node)>,
    ) -> Option<Placed> {
        let rendered = |p: &str| self.object.root.pointer(p).and_then(Node::scalar_text);
        let original = |p: &str| {
            let (_, node) = origin?;
            let (at, exact) = follow(&self.object.root, node, p);
            exact.then(|| node.pointer(&at)?.scalar_text()).flatten()
        };
        let changed = rendered(present) != original(present);
        let k = &self.repo.kustomizations[level.k];
        let last = unescape(present.rsplit('/').next().unwrap_or(""));
        let transformer = |pointer: Option<String>| pointer.map(|p| (level.k, p));
        if is_image(present) && changed {
            let now = rendered(present).unwrap_or_default();
            let image = original(present).unwrap_or_else(|| now.clone());
            if let Some(found) = self
                .image_entry(levels, &image, &now)
                .filter(|(k, _)| *k == level.k)
            {
                return self.in_kustomization(found.0, &found.1, How::Transformer);
            }
        }
        let names: Vec<&str> = [level.name.as_deref(), self.object.id.name.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let simple = if present == "/spec/replicas" && changed {
            transformer(
                k.replicas
                    .iter()
                    .rev()
                    .find(|(n, _)| names.contains(&n.as_str()))
                    .map(|(_, p)| p.clone()),
            )
        } else {
            None
        };
        if let Some((k, p)) = simple {
            return self.in_kustomization(k, &p, How::Transformer);
        }
        if let Some(found) = self.in_patches(level, present, origin, |f| f == PatchFormat::Json6902)
        {
            return Some(found);
        }
        let simple = if present.starts_with("/metadata/annotations/") && changed {
            transformer(
                k.annotations
                    .iter()
                    .rev()
                    .find(|(key, _)| *key == last)
                    .map(|(_, p)| p.clone()),
            )
        } else if is_label(present) && changed {
            transformer(
                k.labels
                    .iter()
                    .rev()
                    .find(|(key, _)| *key == last)
                    .map(|(_, p)| p.clone()),
            )
        } else if present == "/metadata/name" && changed {
            transformer(
                k.field("nameSuffix")
                    .or_else(|| k.field("namePrefix"))
                    .map(|(_, p)| p),
            )
        } else if present == "/metadata/namespace" && changed {
            transformer(k.field("namespace").map(|(_, p)| p))
        } else {
            None
        };
        if let Some((k, p)) = simple {
            return self.in_kustomization(k, &p, How::Transformer);
        }
        self.in_patches(level, present, origin, |f| f != PatchFormat::Json6902)
    }

    /// The `images` entry that last set an image, following the name through the entries
    /// that rename it, and the field of it that made the rendered reference.
    fn image_entry(&self, levels: &[Level], original: &str, now: &str) -> Option<(usize, String)> {
        let mut name = image_name(original).to_owned();
        let mut last = None;
        for level in levels {
            for entry in &self.repo.kustomizations[level.k].images {
                if entry.name == name {
                    last = Some((level.k, entry));
                    if let Some(renamed) = &entry.new_name {
                        name = renamed.clone();
                    }
                }
            }
        }
        let (k, entry) = last?;
        let field = if entry
            .new_tag
            .as_ref()
            .is_some_and(|t| now.ends_with(&format!(":{t}")))
        {
            "newTag"
        } else if entry
            .digest
            .as_ref()
            .is_some_and(|d| now.ends_with(d.as_str()))
        {
            "digest"
        } else if entry.new_name.is_some() {
            "newName"
        } else {
            return Some((k, entry.pointer.clone()));
        };
        Some((k, format!("{}/{field}", entry.pointer)))
    }

    /// The last patch of a kustomization, among those of the formats `wanted` selects, that
    /// targets the object and sets the pointer.
    fn in_patches(
        &mut self,
        level: &Level,
        present: &str,
        origin: Option<&(usize, Node)>,
        wanted: impl Fn(PatchFormat) -> bool,
    ) -> Option<Placed> {
        let kustomization = &self.repo.kustomizations[level.k];
        for patch in kustomization
            .patches
            .iter()
            .rev()
            .filter(|p| wanted(p.format))
        {
            let Some(documents) = self.patch_documents(kustomization, patch) else {
                continue;
            };
            for document in documents.roots.iter().rev() {
                let found = if is_operations(patch, document) {
                    self.targets(level, patch.target.as_ref(), None)
                        .then(|| self.in_operations(document, present))
                        .flatten()
                } else {
                    self.targets(level, patch.target.as_ref(), Some(document))
                        .then(|| self.in_strategic_merge(document, present, origin))
                        .flatten()
                };
                if let Some(span) = found {
                    return Some(Placed {
                        file: documents.file.clone(),
                        span: documents.offset.apply(span),
                        how: How::Patch,
                    });
                }
            }
        }
        None
    }

    /// A generated ConfigMap or Secret: the generator entry (the outermost that merges into
    /// it) whose source gives the key, else the generator's name.
    fn in_generator(&mut self, levels: &[Level], present: &str) -> Option<Placed> {
        let Origin::Generated { kustomization, .. } = self.origin else {
            return None;
        };
        let name = levels.first()?.name.clone()?;
        let key = ["/data/", "/binaryData/", "/stringData/"]
            .iter()
            .find_map(|p| present.strip_prefix(p))
            .map(|k| unescape(k.split('/').next().unwrap_or("")));
        let kind = self.object.id.kind.clone();
        let generators = |k: usize| {
            self.repo.kustomizations[k]
                .generators
                .iter()
                .filter(|g| g.kind == kind && g.name == name)
                .collect::<Vec<_>>()
        };
        for level in levels.iter().rev() {
            for generator in generators(level.k).into_iter().rev() {
                let source = key.as_ref().and_then(|key| {
                    generator
                        .sources
                        .iter()
                        .find(|(k, _)| k.as_deref() == Some(key.as_str()))
                });
                if let Some((_, pointer)) = source {
                    let pointer = pointer.clone();
                    return self.in_kustomization(level.k, &pointer, How::Transformer);
                }
            }
        }
        let k = levels
            .iter()
            .find(|l| super::identity(&self.repo.kustomizations[l.k].file) == *kustomization)?
            .k;
        let pointer = format!("{}/name", generators(k).first()?.pointer);
        self.in_kustomization(k, &pointer, How::Transformer)
    }

    /// A patch's documents, read once however many findings look at them.
    fn patch_documents(
        &mut self,
        k: &Kustomization,
        patch: &Patch,
    ) -> Option<std::rc::Rc<PatchDocuments>> {
        let key = (k.file.clone(), patch.pointer.clone());
        if let Some(known) = self.files.patches.get(&key) {
            return known.clone();
        }
        let read = self.read_patch(k, patch).map(std::rc::Rc::new);
        self.files.patches.insert(key, read.clone());
        read
    }

    fn read_patch(&mut self, k: &Kustomization, patch: &Patch) -> Option<PatchDocuments> {
        if let Some(file) = &patch.file {
            let file = super::identity(file);
            let (_, roots) = self.files.get(&file)?;
            return Some(PatchDocuments {
                roots: roots.clone(),
                file,
                offset: Offset::None,
            });
        }
        let pointer = patch.inline.as_ref()?;
        let file = super::identity(&k.file);
        let (text, _) = self.files.get(&file)?;
        let node = k.root.pointer(pointer)?;
        let inline = node.as_str()?;
        let offset = Offset::of(text, node);
        let roots = crate::load::yaml::parse(inline)
            .documents
            .into_iter()
            .map(|d| d.root)
            .collect();
        Some(PatchDocuments {
            file,
            offset,
            roots,
        })
    }

    /// Whether a patch (its `target`, else the strategic-merge document's own kind, name and
    /// namespace) selects the object, named as it was when the patch's kustomization ran.
    fn targets(&self, level: &Level, target: Option<&Target>, document: Option<&Node>) -> bool {
        let id = &self.object.id;
        let names: Vec<&str> = [id.name.as_deref(), level.name.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let namespaces: Vec<&str> = [id.namespace.as_deref(), level.namespace.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let in_namespace = |ns: Option<&str>| ns.is_none_or(|ns| namespaces.contains(&ns));
        if let Some(t) = target {
            let whole = |pattern: &Option<String>, value: &str| {
                pattern.as_ref().is_none_or(|p| {
                    regex::Regex::new(&format!("^(?:{p})$")).is_ok_and(|r| r.is_match(value))
                })
            };
            let (group, version) = id
                .api_version
                .rsplit_once('/')
                .unwrap_or(("", &id.api_version));
            return whole(&t.kind, &id.kind)
                && t.group.as_ref().is_none_or(|g| g == group)
                && t.version.as_ref().is_none_or(|v| v == version)
                && (t.name.is_none() || names.iter().any(|n| whole(&t.name, n)))
                && (t.namespace.is_none() || namespaces.iter().any(|n| whole(&t.namespace, n)))
                && selects(
                    t.label_selector.as_deref(),
                    self.object.root.pointer("/metadata/labels"),
                )
                && selects(
                    t.annotation_selector.as_deref(),
                    self.object.root.pointer("/metadata/annotations"),
                );
        }
        let Some(document) = document else {
            return false;
        };
        let metadata = |k: &str| document.get("metadata")?.get(k)?.scalar_text();
        document.get("kind").and_then(Node::as_str) == Some(id.kind.as_str())
            && metadata("name").is_some_and(|n| names.contains(&n.as_str()))
            && in_namespace(metadata("namespace").as_deref())
    }

    /// Where a strategic-merge patch sets the pointer: it has the node, and the node is a
    /// value — or a mapping or list the origin lacks (the patch added it, not merged into it).
    fn in_strategic_merge(
        &self,
        document: &Node,
        present: &str,
        origin: Option<&(usize, Node)>,
    ) -> Option<Span> {
        let (at, exact) = follow(&self.object.root, document, present);
        if !exact || present.is_empty() {
            return None;
        }
        let node = document.pointer(&at)?;
        let is_value = !matches!(node.value, Value::Map(_) | Value::Seq(_));
        let in_origin = origin.is_some_and(|(_, o)| follow(&self.object.root, o, present).1);
        if is_value || !in_origin {
            self.span_in(document, &at)
        } else {
            None
        }
    }

    /// Where a list of JSON 6902 operations sets the pointer: the last operation whose path is
    /// the pointer or a prefix of it, on its value.
    fn in_operations(&self, document: &Node, present: &str) -> Option<Span> {
        let wanted: Vec<&str> = present.split('/').skip(1).collect();
        for op in document.as_seq()?.iter().rev() {
            let kind = op.get("op").and_then(Node::as_str);
            if !matches!(kind, Some("add" | "replace" | "copy" | "move")) {
                continue;
            }
            let Some(path) = op.get("path").and_then(Node::as_str) else {
                continue;
            };
            let tokens: Vec<&str> = path.split('/').skip(1).collect();
            if tokens.len() > wanted.len() || tokens.is_empty() {
                continue;
            }
            let matches = tokens.iter().zip(&wanted).enumerate().all(|(i, (t, w))| {
                if *t == "-" {
                    // The item appended: the last item of the rendered list equal to the value.
                    let list = format!("/{}", wanted[..i].join("/"));
                    self.appended_index(&list, op.get("value")) == w.parse().ok()
                } else {
                    t == w
                }
            });
            if !matches {
                continue;
            }
            let rest: String = wanted[tokens.len()..]
                .iter()
                .map(|t| format!("/{t}"))
                .collect();
            let value = match kind {
                Some("add" | "replace") => op.get("value")?,
                _ => op.get("from")?,
            };
            if kind != Some("add") && kind != Some("replace") {
                return Some(value.span);
            }
            // A finding on the key the operation adds (an unknown field) is on its path.
            if self.at_key && rest.is_empty() {
                return op.get("path").map(|p| p.span);
            }
            return Some(value.pointer(&rest).map_or(value.span, |n| n.span));
        }
        None
    }

    /// The index of the last item of a rendered list that the value is part of.
    fn appended_index(&self, list: &str, value: Option<&Node>) -> Option<usize> {
        let items = self.object.root.pointer(list)?.as_seq()?;
        let value = value?.to_json();
        items
            .iter()
            .rposition(|item| is_part(&value, &item.to_json()))
    }

    fn in_kustomization(&mut self, k: usize, pointer: &str, how: How) -> Option<Placed> {
        let kustomization = &self.repo.kustomizations[k];
        // A transformer's entry: on its value, where the user edits it.
        let span = kustomization.root.pointer(pointer)?.span;
        Some(Placed {
            file: super::identity(&kustomization.file),
            span,
            how,
        })
    }
}

/// Rewrites "(first at line N)" in a message, N a line of the render, to the line (and file,
/// when it is another) the node written there is placed at.
fn relate(
    message: &str,
    object: &Object,
    relative: impl Fn(u32) -> Option<u32>,
    file: &Path,
    mut place: impl FnMut(&str) -> Option<Placed>,
    name_of: &dyn Fn(&Path) -> String,
) -> String {
    const LEAD: &str = "(first at line ";
    let Some(start) = message.find(LEAD) else {
        return message.to_owned();
    };
    let digits = &message[start + LEAD.len()..];
    let end = digits.find(')').unwrap_or(digits.len());
    let Some(line) = digits[..end].parse::<u32>().ok().and_then(relative) else {
        return message.to_owned();
    };
    let Some(pointer) = pointer_at_line(&object.root, line, String::new()) else {
        return message.to_owned();
    };
    let Some(placed) = place(&pointer) else {
        return message.to_owned();
    };
    let at = if placed.file == file {
        format!("line {}", placed.span.start.line)
    } else {
        format!("{}:{}", name_of(&placed.file), placed.span.start.line)
    };
    format!("{}(first at {at}{}", &message[..start], &digits[end..])
}

/// The pointer of the deepest node that starts on a line.
fn pointer_at_line(node: &Node, line: u32, at: String) -> Option<String> {
    let children: Vec<(String, &Node)> = match &node.value {
        Value::Map(entries) => entries
            .iter()
            .map(|e| {
                (
                    format!("{at}/{}", crate::load::spans::escape_pointer_token(&e.key)),
                    &e.value,
                )
            })
            .collect(),
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("{at}/{i}"), n))
            .collect(),
        _ => Vec::new(),
    };
    for (pointer, child) in children {
        if child.span.start.line <= line && line <= child.span.end.line.max(child.span.start.line) {
            if let Some(deeper) = pointer_at_line(child, line, pointer.clone()) {
                return Some(deeper);
            }
            if child.span.start.line == line {
                return Some(pointer);
            }
        }
    }
    None
}

/// Whether a JSON 6902 document is a list of operations rather than a partial object.
fn is_operations(patch: &Patch, document: &Node) -> bool {
    patch.format == PatchFormat::Json6902 || matches!(document.value, Value::Seq(_))
}

/// Follows a pointer into `rendered` through `other` (a patch, the origin object): keys by
/// name, list items by their merge key (`name`, `mountPath`, …), or by position when both
/// lists have the same length. Returns the pointer reached in `other` and whether all of it
/// was.
pub fn follow(rendered: &Node, other: &Node, pointer: &str) -> (String, bool) {
    let mut from = rendered;
    let mut to = other;
    let mut at = String::new();
    let mut field = String::new();
    for token in pointer.split('/').skip(1) {
        let key = unescape(token);
        let next = match (&from.value, &to.value) {
            (Value::Map(_), Value::Map(_)) => from
                .get(&key)
                .zip(to.get(&key))
                .map(|(f, t)| (f, t, token.to_owned())),
            (Value::Seq(items), Value::Seq(others)) => {
                let index: usize = match key.parse() {
                    Ok(i) => i,
                    Err(_) => return (at, false),
                };
                let Some(item) = items.get(index) else {
                    return (at, false);
                };
                matching_item(&field, item, others, index, items.len())
                    .map(|j| (item, &others[j], j.to_string()))
            }
            _ => None,
        };
        field = key;
        let Some((f, t, step)) = next else {
            return (at, false);
        };
        at.push('/');
        at.push_str(&step);
        from = f;
        to = t;
    }
    (at, true)
}

/// The key strategic merge matches the items of a list field by (Kubernetes'
/// `patchMergeKey`); `name` for the rest.
fn merge_key(field: &str, item: &Node) -> &'static str {
    match field {
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "hostAliases" => "ip",
        "topologySpreadConstraints" => "topologyKey",
        // A container's ports by number; a Service's by port.
        "ports" if item.get("containerPort").is_some() => "containerPort",
        "ports" => "port",
        _ => "name",
    }
}

/// The item of `others` that a rendered list item is: the one with its merge key's value, or
/// its own value for a list of scalars, or the same position when the lists are as long.
fn matching_item(
    field: &str,
    item: &Node,
    others: &[Node],
    index: usize,
    len: usize,
) -> Option<usize> {
    if let Some(text) = item.scalar_text() {
        return others
            .iter()
            .position(|o| o.scalar_text().as_deref() == Some(text.as_str()));
    }
    let key = merge_key(field, item);
    if let Some(value) = item.get(key).and_then(Node::scalar_text) {
        return others.iter().position(|o| {
            o.get(key).and_then(Node::scalar_text).as_deref() == Some(value.as_str())
        });
    }
    (others.len() == len).then_some(index)
}

/// The span of the key holding the node at `pointer` (a list item: the item), if it exists.
fn key_span(root: &Node, pointer: &str) -> Option<Span> {
    let located = root.locate_key(pointer);
    located.exact.then_some(located.span)
}

fn parent(pointer: &str) -> &str {
    pointer.rsplit_once('/').map_or("", |(p, _)| p)
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Whether a label selector (`a=b,c!=d,e`) selects an object with these labels.
fn selects(selector: Option<&str>, labels: Option<&Node>) -> bool {
    let Some(selector) = selector else {
        return true;
    };
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Node::scalar_text);
    selector
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .all(|term| {
            if let Some((k, v)) = term.split_once("!=") {
                label(k.trim()).as_deref() != Some(v.trim())
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                label(k.trim()).as_deref() == Some(v.trim())
            } else if let Some(k) = term.strip_prefix('!') {
                label(k.trim()).is_none()
            } else {
                label(term).is_some()
            }
        })
}

/// Whether JSON `part` is contained in `whole` (a mapping's keys with their values, the rest
/// equal).
fn is_part(part: &serde_json::Value, whole: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (part, whole) {
        (J::Object(p), J::Object(w)) => p
            .iter()
            .all(|(k, v)| w.get(k).is_some_and(|x| is_part(v, x))),
        (J::Array(p), J::Array(w)) => {
            p.len() == w.len() && p.iter().zip(w).all(|(a, b)| is_part(a, b))
        }
        _ => part == whole,
    }
}

/// Whether a pointer is a container's image in a pod spec.
fn is_image(pointer: &str) -> bool {
    let tokens: Vec<&str> = pointer.split('/').collect();
    tokens.len() >= 3
        && tokens[tokens.len() - 1] == "image"
        && matches!(
            tokens[tokens.len() - 3],
            "containers" | "initContainers" | "ephemeralContainers"
        )
}

/// Whether a pointer is a label: in labels, a selector's `matchLabels`, or a Service selector.
fn is_label(pointer: &str) -> bool {
    let container = parent(pointer).rsplit('/').next().unwrap_or("");
    matches!(container, "labels" | "matchLabels") || parent(pointer) == "/spec/selector"
}

/// An image reference without its tag or digest: `ghcr.io/a/b` of `ghcr.io/a/b:1.2@sha256:…`.
pub fn image_name(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rfind(':') {
        Some(colon) if !image[colon..].contains('/') => &image[..colon],
        _ => image,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(text: &str) -> Node {
        crate::load::yaml::first_root(text).unwrap()
    }

    #[test]
    fn lists_are_followed_by_merge_key_not_by_index() {
        let rendered = node(
            "spec:\n  containers:\n  - name: side\n  - name: web\n    env: [{name: A, value: x}]\n",
        );
        let patch = node("spec:\n  containers:\n  - name: web\n    env: [{name: A, value: y}]\n");
        assert_eq!(
            follow(&rendered, &patch, "/spec/containers/1/env/0/value"),
            ("/spec/containers/0/env/0/value".into(), true)
        );
        assert!(!follow(&rendered, &patch, "/spec/containers/0").1);
        // Mounts are matched by their path, not their volume's name.
        let rendered =
            node("volumeMounts:\n- {name: c, mountPath: /a}\n- {name: c, mountPath: /b}\n");
        let origin = node("volumeMounts:\n- {name: c, mountPath: /b}\n");
        assert_eq!(
            follow(&rendered, &origin, "/volumeMounts/1/mountPath"),
            ("/volumeMounts/0/mountPath".into(), true)
        );
    }

    #[test]
    fn image_names_lose_tags_and_digests_but_not_registry_ports() {
        assert_eq!(image_name("nginx:1.25"), "nginx");
        assert_eq!(image_name("reg:5000/a/b@sha256:00"), "reg:5000/a/b");
        assert_eq!(image_name("reg:5000/a/b"), "reg:5000/a/b");
    }

    #[test]
    fn label_selectors_read_as_kustomize_reads_them() {
        let labels = node("app: web\ntier: front\n");
        assert!(selects(Some("app=web,tier"), Some(&labels)));
        assert!(!selects(Some("app!=web"), Some(&labels)));
        assert!(selects(Some("!canary"), Some(&labels)));
        assert!(!selects(Some("app=db"), None));
    }

    #[test]
    fn an_inline_block_scalar_maps_to_its_lines_in_the_file() {
        let text = "patches:\n- target: {kind: Deployment}\n  patch: |-\n    - op: add\n      path: /spec/replicas\n";
        let root = node(text);
        let value = root.pointer("/patches/0/patch").unwrap();
        let offset = Offset::of(text, value);
        let inner = node(value.as_str().unwrap());
        let span = offset.apply(inner.pointer("/0/path").unwrap().span);
        assert_eq!((span.start.line, span.start.col), (5, 13));
    }

    /// A repository in a temporary folder, a render of its root (`text`, each document's
    /// origin file or generator), and where a finding at `pointer` on the `kind` of the
    /// render goes: `file:line:col` relative to the folder.
    fn place_in(
        files: &[(&str, &str)],
        text: &str,
        origins: &[&str],
        kind: &str,
        pointer: &str,
    ) -> String {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        for (name, content) in files {
            let path = root.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        let repo = Repository::plan(&[root.join("app/kustomization.yaml")]);
        let origins = origins
            .iter()
            .map(|o| match o.split_once(':') {
                Some(("generated", k)) => Origin::Generated {
                    kustomization: root.join(k),
                    kind: "ConfigMapGenerator".into(),
                },
                Some(("remote", r)) => Origin::Remote {
                    repo: r.into(),
                    path: String::new(),
                },
                _ if o.is_empty() => Origin::Unknown,
                _ => Origin::File(root.join(o)),
            })
            .collect();
        let rendered = RenderedRoot {
            text: text.into(),
            origins,
            warnings: Vec::new(),
        };
        let objects = crate::load::load_text(text).objects;
        let object = objects.iter().find(|o| o.id.kind == kind).unwrap();
        let span = object.root.span;
        let mut d = Diagnostic::new(
            "schema",
            crate::diag::Level::Error,
            "stream",
            span,
            "m".into(),
        );
        d.object = Some(object.id.clone());
        d.pointer = Some(pointer.into());
        let stream = Stream {
            name: "stream",
            root: repo.roots[0],
            root_name: "app".into(),
            rendered: &rendered,
        };
        let name_of = |p: &Path| p.strip_prefix(&root).unwrap().display().to_string();
        let mut diagnostics = [d];
        place_all(
            &mut diagnostics,
            &[stream],
            &repo,
            &mut Files::default(),
            &name_of,
        );
        let d = &diagnostics[0];
        format!("{}:{}:{}", d.file, d.line, d.column)
    }

    const BASE: (&str, &str) = (
        "base/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n",
    );
    const BASE_K: (&str, &str) = ("base/kustomization.yaml", "resources: [deploy.yaml]\n");
    const RENDERED: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  labels:\n    team: a\n  name: p-web\n  namespace: prod\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n      - image: nginx:latest\n        imagePullPolicy: Always\n        name: web\n";

    fn place_web(overlay: &str, extra: &[(&str, &str)], pointer: &str) -> String {
        let mut files = vec![BASE, BASE_K, ("app/kustomization.yaml", overlay)];
        files.extend_from_slice(extra);
        place_in(
            &files,
            RENDERED,
            &["base/deploy.yaml"],
            "Deployment",
            pointer,
        )
    }

    #[test]
    fn a_value_a_strategic_merge_patch_sets_is_placed_in_the_patch() {
        let patch = (
            "app/pull.yaml",
            "kind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        imagePullPolicy: Always\n",
        );
        let overlay = "resources: [../base]\npatches: [{path: pull.yaml}]\n";
        let pointer = "/spec/template/spec/containers/0/imagePullPolicy";
        assert_eq!(place_web(overlay, &[patch], pointer), "app/pull.yaml:8:26");
        // The container it merges into is the base's.
        let pointer = "/spec/template/spec/containers/0";
        assert_eq!(
            place_web(overlay, &[patch], pointer),
            "base/deploy.yaml:10:9"
        );
    }

    #[test]
    fn a_value_a_json_patch_operation_sets_is_placed_on_its_value() {
        let overlay = "resources: [../base]\npatches:\n- target: {kind: Deployment}\n  patch: |-\n    - op: replace\n      path: /spec/replicas\n      value: 3\n";
        assert_eq!(
            place_web(overlay, &[], "/spec/replicas"),
            "app/kustomization.yaml:7:14"
        );
    }

    #[test]
    fn transformed_values_are_placed_on_the_kustomization_field_that_set_them() {
        let overlay = "namespace: prod\nnamePrefix: p-\nresources: [../base]\nimages: [{name: nginx, newTag: latest}]\nreplicas: [{name: web, count: 3}]\ncommonLabels: {team: a}\n";
        let place = |pointer| place_web(overlay, &[], pointer);
        assert_eq!(
            place("/spec/template/spec/containers/0/image"),
            "app/kustomization.yaml:4:32"
        );
        assert_eq!(place("/metadata/namespace"), "app/kustomization.yaml:1:12");
        assert_eq!(place("/metadata/name"), "app/kustomization.yaml:2:13");
        assert_eq!(place("/spec/replicas"), "app/kustomization.yaml:5:31");
        assert_eq!(
            place("/metadata/labels/team"),
            "app/kustomization.yaml:6:22"
        );
    }

    #[test]
    fn the_rest_is_placed_in_the_origin_file_at_the_nearest_key_it_has() {
        let overlay = "resources: [../base]\n";
        let place = |pointer| place_web(overlay, &[], pointer);
        assert_eq!(
            place("/spec/template/spec/containers/0/resources/limits"),
            "base/deploy.yaml:10:9"
        );
        assert_eq!(
            place("/spec/template/spec/containers/0/name"),
            "base/deploy.yaml:10:15"
        );
    }

    #[test]
    fn a_generated_object_is_placed_on_its_generator_entry() {
        let overlay = "resources: []\nconfigMapGenerator:\n- name: cfg\n  literals: [A=1, B=2]\n";
        let text = "apiVersion: v1\ndata:\n  A: \"1\"\n  B: \"2\"\nkind: ConfigMap\nmetadata:\n  name: cfg-5f8b\n";
        let files = [("app/kustomization.yaml", overlay)];
        let origins = ["generated:app/kustomization.yaml"];
        assert_eq!(
            place_in(&files, text, &origins, "ConfigMap", "/data/B"),
            "app/kustomization.yaml:4:19"
        );
        assert_eq!(
            place_in(&files, text, &origins, "ConfigMap", ""),
            "app/kustomization.yaml:3:9"
        );
    }

    #[test]
    fn a_remote_resource_is_placed_on_its_resources_item_and_the_unknown_on_the_root() {
        let overlay = "resources:\n- https://github.com/example/app//deploy?ref=v1\n";
        let files = [("app/kustomization.yaml", overlay)];
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n";
        assert_eq!(
            place_in(
                &files,
                text,
                &["remote:https://github.com/example/app"],
                "ConfigMap",
                "/data"
            ),
            "app/kustomization.yaml:2:3"
        );
        assert_eq!(
            place_in(&files, text, &[""], "ConfigMap", "/data"),
            "app/kustomization.yaml:1:1"
        );
    }

    #[test]
    fn the_last_writer_wins_through_layers_and_names_change_between_them() {
        let mid = (
            "mid/kustomization.yaml",
            "namePrefix: m-\nresources: [../base]\npatches: [{path: p.yaml}]\n",
        );
        let mid_patch = (
            "mid/p.yaml",
            "kind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n",
        );
        // The outer images entry runs after the inner patch.
        let outer = "resources: [../mid]\nimages: [{name: nginx, newTag: latest}]\n";
        let place = |overlay, extra: &[(&str, &str)], pointer| {
            let mut files = vec![mid, mid_patch];
            files.extend_from_slice(extra);
            place_web(overlay, &files, pointer)
        };
        let image = "/spec/template/spec/containers/0/image";
        assert_eq!(place(outer, &[], image), "app/kustomization.yaml:2:32");
        // An outer patch names the object as the middle layer left it (`m-web`).
        let outer = "resources: [../mid]\npatches: [{path: pull.yaml}]\n";
        let pull = (
            "app/pull.yaml",
            "kind: Deployment\nmetadata: {name: m-web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        imagePullPolicy: Always\n",
        );
        let pointer = "/spec/template/spec/containers/0/imagePullPolicy";
        assert_eq!(place(outer, &[pull], pointer), "app/pull.yaml:8:26");
        // A component of a component is applied too.
        let outer = "resources: [../base]\ncomponents: [../c1]\n";
        let c1 = (
            "c1/kustomization.yaml",
            "kind: Component\ncomponents: [../c2]\n",
        );
        let c2 = (
            "c2/kustomization.yaml",
            "kind: Component\nimages: [{name: nginx, newTag: latest}]\n",
        );
        assert_eq!(
            place_web(outer, &[c1, c2], image),
            "c2/kustomization.yaml:2:32"
        );
    }
}
