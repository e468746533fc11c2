//! The span-keeping YAML loader.
//!
//! Parses a (multi-document) YAML stream into [`Node`] trees where every key and value keeps its
//! start and end position. Built on `saphyr-parser`'s event stream.
//!
//! The stream is first cut into chunks at `---` lines so that a syntax error in one document does
//! not lose the others: a `---` at column 0 always starts a new document (the YAML spec forbids
//! document markers inside content, even in block scalars).
//!
//! Scalars resolve the way Kubernetes' own YAML decoder (go-yaml v2, YAML 1.1) reads them, so
//! `yes`/`on` are booleans here as they are for `kubectl apply`.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, ScanError};

use super::lenient::{self, Failure, Open};
use super::spans::{Pos, Span};

/// Deepest nesting of collections accepted; deeper documents are rejected, never recursed into.
pub const MAX_DEPTH: usize = 200;
/// Most nodes that anchors and aliases may copy in one file (billion-laughs guard). Long
/// strings count as several nodes: one per [`NODE_BYTES`] of text.
pub const MAX_ALIAS_NODES: usize = 1_000_000;
const NODE_BYTES: usize = 48;
/// Most text re-parsed to re-indent one document as Kubernetes reads it (see [`lenient`]):
/// each repair parses the document again, so this bounds the time it may cost.
const MAX_REPAIR_BYTES: usize = 256 << 20;

/// A YAML node with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// One key of a mapping. Keys are strings, as in Kubernetes objects; other scalar keys are kept
/// in their written form.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }
    /// The value under `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|e| e.key == key)
            .map(|e| &e.value)
    }
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }
    /// The scalar as text, the way it would print (`8080`, `true`, `web`); `None` for collections.
    pub fn scalar_text(&self) -> Option<String> {
        Some(match &self.value {
            Value::Null => "null".to_owned(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Str(s) => s.clone(),
            Value::Seq(_) | Value::Map(_) => return None,
        })
    }
}

impl Node {
    /// The value as JSON, for checkers that read JSON (schema validation). Non-finite floats,
    /// which JSON cannot hold, become `null`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as Json;
        match &self.value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Value::Str(s) => Json::String(s.clone()),
            Value::Seq(items) => Json::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => Json::Object(
                entries
                    .iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }
}

/// The root of a text's first document, if it has one.
pub fn first_root(text: &str) -> Option<Node> {
    parse(text).documents.into_iter().next().map(|d| d.root)
}

/// One document of the stream.
#[derive(Debug)]
pub struct Document {
    /// 0-based position of the document in its file, counting every document written.
    pub index: usize,
    pub root: Node,
    /// The template named by a Helm `# Source: chart/templates/x.yaml` comment, if any.
    pub source_template: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueKind {
    Syntax,
    DuplicateKey,
    /// A merge key (`<<`) whose value is not a mapping: kubectl rejects the document.
    InvalidMerge,
    Limit,
    /// A number JSON cannot hold (`.nan`, `.inf`, an integer beyond 64 bits): kubectl cannot
    /// send it to the API server.
    NotJsonNumber,
}

/// Something wrong with the YAML itself.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlIssue {
    pub kind: IssueKind,
    pub span: Span,
    pub message: String,
    pub help: Option<String>,
    /// JSON pointer of the offending key, when there is one.
    pub pointer: Option<String>,
    pub document: usize,
}

#[derive(Debug, Default)]
pub struct Parsed {
    pub documents: Vec<Document>,
    pub issues: Vec<YamlIssue>,
    /// Documents written, including empty ones and ones lost to errors.
    pub document_count: usize,
}

/// Parses a whole YAML stream. Never panics on any input; problems become [`YamlIssue`]s.
pub fn parse(text: &str) -> Parsed {
    let mut documents = Vec::new();
    let mut parsed = parse_each(text, |document| documents.push(document));
    parsed.documents = documents;
    parsed
}

/// As [`parse`], handing each document to `each` as soon as it is read instead of keeping
/// them all (`Parsed::documents` stays empty): what is not kept costs no memory.
pub fn parse_each(text: &str, mut each: impl FnMut(Document)) -> Parsed {
    let mut parsed = Parsed::default();
    let mut alias_budget = MAX_ALIAS_NODES;
    // The parser may report the end of the stream one line past the text; positions stop at
    // the end of the last line.
    let last_line = text.rsplit('\n').next().unwrap_or("");
    let end = Pos {
        line: text.bytes().filter(|&b| b == b'\n').count() as u32 + 1,
        col: last_line.chars().count() as u32 + 1,
    };
    for chunk in chunks(text) {
        let source_template = super::helm::source_comment(chunk.text);
        let (documents, issues, outcome) = parse_chunk(&chunk, end, &mut alias_budget);
        let first_document = parsed.document_count;
        for mut issue in issues {
            issue.document += first_document;
            parsed.issues.push(issue);
        }
        for root in documents {
            each(Document {
                index: parsed.document_count,
                root,
                source_template: source_template.clone(),
            });
            parsed.document_count += 1;
        }
        if let Err(issue) = outcome {
            parsed.issues.push(YamlIssue {
                document: parsed.document_count,
                ..issue
            });
            parsed.document_count += 1;
        }
    }
    parsed
}

/// Parses one chunk, re-indenting what go-yaml would accept (see [`lenient`]). The error, if
/// any, is the one left after those repairs, in the positions of the text as written.
fn parse_chunk(
    chunk: &Chunk<'_>,
    end: Pos,
    alias_budget: &mut usize,
) -> (Vec<Node>, Vec<YamlIssue>, Result<(), YamlIssue>) {
    let budget = *alias_budget;
    let mut text = std::borrow::Cow::Borrowed(chunk.text);
    let mut shifts: HashMap<u32, u32> = HashMap::new();
    let mut repairs = 0;
    loop {
        *alias_budget = budget;
        let mut builder = Builder::new(chunk.line_offset, end, &shifts, alias_budget);
        let outcome = builder.run(&text);
        let Err(issue) = outcome else {
            return (builder.documents, builder.issues, Ok(()));
        };
        let repaired = match &builder.failure {
            Some(failure) if (repairs + 1) * text.len() <= MAX_REPAIR_BYTES => {
                lenient::repair(&text, failure, &builder.open_collections())
            }
            _ => None,
        };
        // An error that remains after repairs is a real one, reported where it is.
        let Some((fixed, added)) = repaired else {
            return (builder.documents, builder.issues, Err(issue));
        };
        repairs += 1;
        for (line0, n) in added {
            *shifts
                .entry(chunk.line_offset + line0 as u32 + 1)
                .or_default() += n as u32;
        }
        text = std::borrow::Cow::Owned(fixed);
    }
}

/// The text of the document (as the stream is cut at `---` lines) that holds `line` (1-based),
/// for reading one document of a large file again.
pub fn document_at(text: &str, line: u32) -> Option<&str> {
    chunks(text)
        .take_while(|chunk| chunk.line_offset < line)
        .last()
        .map(|chunk| chunk.text)
}

/// Finds the lines that start with a marker, forward only, remembering the last one found.
struct LineSearch {
    /// `\n` and the marker.
    needle: &'static [u8],
    /// The start of the line found last, and where the search for it began.
    found: Option<(usize, usize)>,
}

impl LineSearch {
    fn new(needle: &'static [u8]) -> LineSearch {
        LineSearch {
            needle,
            found: None,
        }
    }

    /// The start of the first line at or after `pos` (a line start, not 0) that starts with
    /// the marker; the end of the text when none does.
    fn from(&mut self, text: &[u8], pos: usize) -> usize {
        if let Some((line, searched_from)) = self.found
            && searched_from <= pos
            && line >= pos
        {
            return line;
        }
        let from = pos - 1;
        let line =
            memchr::memmem::find(&text[from..], self.needle).map_or(text.len(), |i| from + i + 1);
        self.found = Some((line, pos));
        line
    }
}

struct Chunk<'a> {
    text: &'a str,
    /// Lines before this chunk in the file.
    line_offset: u32,
}

fn is_document_start(line: &str) -> bool {
    line.strip_prefix("---")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r', '\n']))
}

/// Cuts the stream before every `---` line.
fn chunks(text: &str) -> impl Iterator<Item = Chunk<'_>> {
    // Made one at a time: a file of millions of tiny documents holds no list of them.
    let mut chunk_start = 0;
    let mut chunk_line = 0u32;
    let mut line_no = 0u32;
    let mut pos = 0;
    // Directives and comments before a `---` belong to the document it starts.
    let mut has_content = false;
    // A `...` was the last line with content: a `%` line after it is a directive.
    let mut after_end = false;
    let mut done = false;
    let bytes = text.as_bytes();
    // The next line starting `---` or `...` at or after a position (cached: a search for the
    // rarer one may run far ahead).
    let mut next_marks = [LineSearch::new(b"\n---"), LineSearch::new(b"\n...")];
    std::iter::from_fn(move || {
        while pos < text.len() {
            // In a document with content, no line but a `---` or `...` one changes anything:
            // the lines before the next are skipped, counted, unread.
            if has_content && !after_end {
                let next = next_marks.iter_mut().map(|m| m.from(bytes, pos)).min();
                let next = next.unwrap_or(text.len());
                line_no += memchr::memchr_iter(b'\n', &bytes[pos..next]).count() as u32;
                pos = next;
                if pos == text.len() {
                    break;
                }
            }
            let line_end = memchr::memchr(b'\n', &bytes[pos..]).map_or(text.len(), |i| pos + i + 1);
            let line = &text[pos..line_end];
            let starts_document = is_document_start(line);
            // A directive (after a `...`) belongs to the next document.
            let directive = after_end && line.starts_with('%');
            let mut chunk = None;
            if (starts_document || directive) && has_content {
                chunk = Some(Chunk {
                    text: &text[chunk_start..pos],
                    line_offset: chunk_line,
                });
                chunk_start = pos;
                chunk_line = line_no;
                has_content = false;
            }
            let rest = if starts_document { &line[3..] } else { line };
            let first = rest.bytes().find(|b| !b.is_ascii_whitespace());
            if !has_content {
                has_content = !matches!(first, None | Some(b'#' | b'%'));
            }
            if first.is_some_and(|b| b != b'#') {
                after_end = line.starts_with("...") && line[3..].trim().is_empty();
            }
            line_no += 1;
            pos = line_end;
            if chunk.is_some() {
                return chunk;
            }
        }
        if done {
            return None;
        }
        done = true;
        Some(Chunk {
            text: &text[chunk_start..],
            line_offset: chunk_line,
        })
    })
}

/// A node under construction: its children so far.
enum Frame {
    Seq {
        items: Vec<Node>,
        start: Pos,
        open: Open,
        anchor: usize,
        size: usize,
        height: usize,
    },
    Map {
        map: MapBuilder,
        pending_key: Option<PendingKey>,
        start: Pos,
        open: Open,
        anchor: usize,
        size: usize,
        height: usize,
    },
}

/// A key whose value has not been read yet.
struct PendingKey {
    key: String,
    span: Span,
    /// A plain `<<`: a merge key (a quoted `"<<"` is an ordinary key).
    merge: bool,
}

/// The entries of a mapping being read.
#[derive(Default)]
struct MapBuilder {
    entries: Vec<Entry>,
    /// Key → position in `entries`, built once the mapping is big enough for it to pay.
    index: Option<HashMap<String, usize>>,
    /// Per entry: where its key was last written in this mapping itself (not merged in); a
    /// key written twice is a duplicate, one that overrides a merged key is not.
    written: Vec<Option<Pos>>,
    /// Span of the last value written in the mapping (merged entries live elsewhere).
    last_value: Option<Span>,
}

impl MapBuilder {
    fn find(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => self.entries.iter().position(|e| e.key == key),
        }
    }

    fn push(&mut self, entry: Entry, written: Option<Pos>) {
        if let Some(index) = &mut self.index {
            index.insert(entry.key.clone(), self.entries.len());
        } else if self.entries.len() >= 16 {
            let mut index: HashMap<String, usize> = self
                .entries
                .iter()
                .enumerate()
                .map(|(i, e)| (e.key.clone(), i))
                .collect();
            index.insert(entry.key.clone(), self.entries.len());
            self.index = Some(index);
        }
        self.entries.push(entry);
        self.written.push(written);
    }

    /// Sets a key written in this mapping. For a duplicate, returns the entry and where the key
    /// was first written; the last value wins, as in Kubernetes' decoder.
    fn set(&mut self, entry: Entry) -> Option<(&Entry, Pos)> {
        let at = Some(entry.key_span.start);
        let Some(i) = self.find(&entry.key) else {
            self.push(entry, at);
            return None;
        };
        let before = std::mem::replace(&mut self.written[i], at);
        self.entries[i] = entry;
        before.map(|first| (&self.entries[i], first))
    }

    /// Applies a merge key the way go-yaml v2 (and so kubectl) does: the merged entries
    /// overwrite what the mapping has so far, and keys written after the `<<` overwrite them.
    fn merge(&mut self, source: Vec<Entry>) {
        for entry in source {
            match self.find(&entry.key) {
                Some(i) => self.entries[i] = entry,
                None => self.push(entry, None),
            }
        }
    }
}

struct Anchored {
    node: Node,
    size: usize,
    height: usize,
}

struct Builder<'b> {
    line_offset: u32,
    end: Pos,
    /// Indentation added by [`lenient::repair`]: line → spaces.
    shifts: &'b HashMap<u32, u32>,
    /// Where saphyr stopped, if it did.
    failure: Option<Failure>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Anchored>,
    documents: Vec<Node>,
    issues: Vec<YamlIssue>,
    root: Option<Node>,
    alias_budget: &'b mut usize,
    /// The scalar being placed is a plain `<<`.
    plain_merge_key: bool,
}

const MERGE_KEY: &str = "<<";

impl<'b> Builder<'b> {
    fn new(
        line_offset: u32,
        end: Pos,
        shifts: &'b HashMap<u32, u32>,
        alias_budget: &'b mut usize,
    ) -> Self {
        Builder {
            line_offset,
            end,
            shifts,
            failure: None,
            plain_merge_key: false,
            stack: Vec::new(),
            anchors: HashMap::new(),
            documents: Vec::new(),
            issues: Vec::new(),
            root: None,
            alias_budget,
        }
    }

    fn pos(&self, m: &saphyr_parser::Marker) -> Pos {
        let line = (m.line() as u32).saturating_add(self.line_offset);
        let added = if self.shifts.is_empty() {
            0
        } else {
            self.shifts.get(&line).copied().unwrap_or(0)
        };
        let col = (m.col() as u32).saturating_add(1);
        let pos = Pos {
            line,
            col: col.saturating_sub(added).max(1),
        };
        pos.min(self.end)
    }

    fn open_collections(&self) -> Vec<Open> {
        self.stack
            .iter()
            .map(|f| match f {
                Frame::Seq { open, .. } | Frame::Map { open, .. } => *open,
            })
            .collect()
    }

    fn span(&self, s: &saphyr_parser::Span) -> Span {
        Span {
            start: self.pos(&s.start),
            end: self.pos(&s.end),
        }
    }

    fn run(&mut self, text: &str) -> Result<(), YamlIssue> {
        let mut parser = Parser::new_from_str(text);
        loop {
            let (event, raw_span) = match parser.next_event() {
                None => return Ok(()),
                Some(Ok(ev)) => ev,
                Some(Err(e)) => {
                    self.failure = Some(Failure {
                        line0: e.marker().line().saturating_sub(1),
                        col0: e.marker().col(),
                        info: e.info().to_owned(),
                    });
                    return Err(self.syntax_issue(&e));
                }
            };
            let span = self.span(&raw_span);
            // Flow collections start with a one-character span (`[`, `{`); block ones are empty.
            let open = Open {
                flow: raw_span.start.index() != raw_span.end.index(),
                col0: raw_span.start.col(),
            };
            match event {
                Event::StreamEnd => return Ok(()),
                Event::Nothing | Event::StreamStart => {}
                Event::DocumentStart(_) => {
                    self.anchors.clear();
                    self.root = None;
                }
                Event::DocumentEnd => {
                    if let Some(root) = self.root.take() {
                        self.documents.push(root);
                    }
                }
                Event::Scalar(text, style, anchor, tag) => {
                    let tag = tag.map(|t| (t.handle.clone(), t.suffix.clone()));
                    // Keys stay as written: `y:` is the key "y", not a boolean.
                    let value = if self.expecting_key() {
                        self.plain_merge_key = style == ScalarStyle::Plain && text == MERGE_KEY;
                        Value::Str(owned(text))
                    } else {
                        let written = text.clone();
                        let value = resolve_scalar(text, style, tag.as_ref());
                        if let Value::Float(f) = value {
                            let integer = written
                                .trim_start_matches(['-', '+'])
                                .bytes()
                                .all(|b| b.is_ascii_digit());
                            if !f.is_finite() || integer {
                                let message = if integer {
                                    format!(
                                        "{written} is beyond the 64-bit integer range: the API server cannot take it"
                                    )
                                } else {
                                    format!(
                                        "{written} is not a number JSON can hold: kubectl cannot send it"
                                    )
                                };
                                self.issues.push(YamlIssue {
                                    kind: IssueKind::NotJsonNumber,
                                    span,
                                    message,
                                    help: Some("write a finite number in range, or quote it to make it a string".into()),
                                    pointer: None,
                                    document: self.documents.len(),
                                });
                            }
                        }
                        value
                    };
                    let node = Node { value, span };
                    let size = 1 + scalar_bytes(&node) / NODE_BYTES;
                    self.finish(anchor, node, size, 0)?;
                }
                Event::Alias(id) => {
                    let Some(anchored) = self.anchors.get(&id) else {
                        let open = self.stack.iter().any(|f| match f {
                            Frame::Seq { anchor, .. } | Frame::Map { anchor, .. } => *anchor == id,
                        });
                        let message = if open {
                            "an alias inside the node its anchor names: the value would contain itself, which YAML cannot expand"
                        } else {
                            "unknown anchor"
                        };
                        return Err(self.issue(IssueKind::Syntax, span, message.into()));
                    };
                    if anchored.size > *self.alias_budget {
                        return Err(self.alias_limit_issue(span));
                    }
                    if self.stack.len() + anchored.height > MAX_DEPTH {
                        return Err(self.depth_issue(span));
                    }
                    *self.alias_budget -= anchored.size;
                    let (size, height) = (anchored.size, anchored.height);
                    let mut node = anchored.node.clone();
                    // The alias itself is where this value is written.
                    node.span = span;
                    self.finish(0, node, size, height)?;
                }
                Event::SequenceStart(anchor, _) => {
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(self.depth_issue(span));
                    }
                    self.stack.push(Frame::Seq {
                        items: Vec::new(),
                        start: span.start,
                        open,
                        anchor,
                        size: 1,
                        height: 1,
                    });
                }
                Event::MappingStart(anchor, _) => {
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(self.depth_issue(span));
                    }
                    self.stack.push(Frame::Map {
                        map: MapBuilder::default(),
                        pending_key: None,
                        start: span.start,
                        open,
                        anchor,
                        size: 1,
                        height: 1,
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = self.stack.pop() else {
                        return Ok(());
                    };
                    let (node, anchor, size, height) = close_frame(frame, span);
                    self.finish(anchor, node, size, height)?;
                }
            }
        }
    }

    /// Places a finished node in its parent (or as the document root).
    fn finish(
        &mut self,
        anchor: usize,
        node: Node,
        size: usize,
        height: usize,
    ) -> Result<(), YamlIssue> {
        if anchor > 0 {
            // Keeping a copy for later aliases costs memory too: it counts against the budget.
            if size > *self.alias_budget {
                return Err(self.alias_limit_issue(node.span));
            }
            *self.alias_budget -= size;
            self.anchors.insert(
                anchor,
                Anchored {
                    node: node.clone(),
                    size,
                    height,
                },
            );
        }
        let plain_merge_key = std::mem::take(&mut self.plain_merge_key);
        let mut issue = None;
        let Some(top) = self.stack.last_mut() else {
            self.root = Some(node);
            return Ok(());
        };
        match top {
            Frame::Seq {
                items,
                size: total,
                height: tallest,
                ..
            } => {
                *total += size;
                *tallest = (*tallest).max(height + 1);
                items.push(node);
            }
            Frame::Map {
                map,
                pending_key,
                size: total,
                height: tallest,
                ..
            } => {
                *total += size;
                *tallest = (*tallest).max(height + 1);
                if pending_key.is_some() {
                    map.last_value = Some(node.span);
                }
                match pending_key.take() {
                    None => {
                        let span = node.span;
                        let key = match node.value {
                            Value::Str(s) => s,
                            other => Node { value: other, span }
                                .scalar_text()
                                .unwrap_or_else(|| "?".to_owned()),
                        };
                        *pending_key = Some(PendingKey {
                            key,
                            span,
                            merge: plain_merge_key,
                        });
                    }
                    Some(PendingKey {
                        merge: true, key, ..
                    }) => match node.value {
                        Value::Map(entries) => map.merge(entries),
                        // Earlier mappings of the list take precedence.
                        Value::Seq(items) if items.iter().all(|n| n.as_map().is_some()) => {
                            for item in items.into_iter().rev() {
                                if let Value::Map(entries) = item.value {
                                    map.merge(entries);
                                }
                            }
                        }
                        _ => issue = Some((key, node.span, None)),
                    },
                    Some(PendingKey { key, span, .. }) => {
                        let entry = Entry {
                            key,
                            key_span: span,
                            value: node,
                        };
                        if let Some((entry, first)) = map.set(entry) {
                            issue = Some((entry.key.clone(), span, Some(first)));
                        }
                    }
                }
            }
        }
        if let Some((key, span, first)) = issue {
            let pointer = self.pointer_of_key(&key);
            let document = self.documents.len();
            self.issues.push(match first {
                Some(first) => YamlIssue {
                    kind: IssueKind::DuplicateKey,
                    span,
                    message: format!(
                        "duplicate key \"{key}\" (first defined at line {}); the last value wins",
                        first.line
                    ),
                    help: Some(
                        "remove one of the two keys: Kubernetes rejects duplicate keys in strict mode and keeps only the last one otherwise".into(),
                    ),
                    pointer: Some(pointer),
                    document,
                },
                // kubectl refuses the whole document: "map merge requires map or sequence of maps".
                None => YamlIssue {
                    kind: IssueKind::InvalidMerge,
                    span,
                    message: "a merge key (`<<`) needs a mapping or a list of mappings".into(),
                    help: Some("Kubernetes' YAML decoder rejects this document; merge an anchored mapping (`<<: *defaults`)".into()),
                    pointer: Some(pointer),
                    document,
                },
            });
        }
        Ok(())
    }

    fn expecting_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame::Map {
                pending_key: None,
                ..
            })
        )
    }

    /// JSON pointer of `key` in the mapping being built, from the keys and indexes of the stack.
    fn pointer_of_key(&self, key: &str) -> String {
        let mut pointer = String::new();
        for frame in &self.stack {
            pointer.push('/');
            match frame {
                Frame::Seq { items, .. } => pointer.push_str(&items.len().to_string()),
                Frame::Map { pending_key, .. } => {
                    let k = pending_key.as_ref().map_or("", |p| p.key.as_str());
                    pointer.push_str(&super::spans::escape_pointer_token(k));
                }
            }
        }
        // The innermost frame contributed an empty token for the key being closed; replace it.
        if let Some(i) = pointer.rfind('/') {
            pointer.truncate(i);
        }
        pointer.push('/');
        pointer.push_str(&super::spans::escape_pointer_token(key));
        pointer
    }

    fn issue(&self, kind: IssueKind, span: Span, message: String) -> YamlIssue {
        YamlIssue {
            kind,
            span,
            message,
            help: None,
            pointer: None,
            document: 0,
        }
    }

    fn alias_limit_issue(&self, span: Span) -> YamlIssue {
        self.issue(
            IssueKind::Limit,
            span,
            format!(
                "anchors and aliases expand to more than {MAX_ALIAS_NODES} nodes (a \"billion laughs\" document?)"
            ),
        )
    }

    fn depth_issue(&self, span: Span) -> YamlIssue {
        self.issue(
            IssueKind::Limit,
            span,
            format!("nesting deeper than {MAX_DEPTH} levels; the document is not checked"),
        )
    }

    fn syntax_issue(&self, e: &ScanError) -> YamlIssue {
        let at = self.pos(e.marker());
        let info = e.info();
        // The parser's own bound on nesting, met before kvet's when collections are opened
        // and never closed: the same limit, said the same way.
        if info.contains("recursion limit exceeded") {
            return self.depth_issue(Span { start: at, end: at });
        }
        let help = if info.contains("mapping values are not allowed") {
            Some("two keys may have ended up on one line (`apiVersion: v1kind: ConfigMap`): in Helm templates, check `{{-` and `-}}` trimming around this line".into())
        } else if info.contains("tab") {
            Some("YAML indentation must use spaces, not tabs".into())
        } else {
            None
        };
        YamlIssue {
            kind: IssueKind::Syntax,
            span: Span { start: at, end: at },
            message: format!("invalid YAML: {info}"),
            help,
            pointer: None,
            document: 0,
        }
    }
}

/// Turns a finished frame into its node.
fn close_frame(frame: Frame, end: Span) -> (Node, usize, usize, usize) {
    // Block collections end with an empty span at the next token; flow ones at `]`/`}`.
    let end_of = |last: Option<Span>, start: Pos| {
        if end.start != end.end {
            end.end
        } else {
            last.map_or(start, |s| s.end)
        }
    };
    match frame {
        Frame::Seq {
            items,
            start,
            anchor,
            size,
            height,
            ..
        } => {
            let span = Span {
                start,
                end: end_of(items.last().map(|n| n.span), start),
            };
            // Vectors grow by doubling; a closed one keeps what it holds, no more (most hold a few
            // items, and a file can hold millions of them).
            let mut items = items;
            items.shrink_to_fit();
            (
                Node {
                    value: Value::Seq(items),
                    span,
                },
                anchor,
                size,
                height,
            )
        }
        Frame::Map {
            map,
            start,
            anchor,
            size,
            height,
            ..
        } => {
            let span = Span {
                start,
                end: end_of(map.last_value, start),
            };
            let mut entries = map.entries;
            entries.shrink_to_fit();
            (
                Node {
                    value: Value::Map(entries),
                    span,
                },
                anchor,
                size,
                height,
            )
        }
    }
}

/// The scalar's text, in an allocation of its size: the parser builds some in buffers with room
/// to spare, and a file can hold millions of scalars.
fn owned(text: std::borrow::Cow<'_, str>) -> String {
    let mut text = text.into_owned();
    text.shrink_to_fit();
    text
}

fn scalar_bytes(node: &Node) -> usize {
    match &node.value {
        Value::Str(s) => s.len(),
        _ => 0,
    }
}

/// Resolves a scalar the way Kubernetes' YAML decoder does (YAML 1.1 booleans, core numbers).
fn resolve_scalar(
    text: std::borrow::Cow<'_, str>,
    style: ScalarStyle,
    tag: Option<&(String, String)>,
) -> Value {
    if let Some((handle, suffix)) = tag
        && (handle == "tag:yaml.org,2002:" || handle == "!!")
    {
        match suffix.as_str() {
            "str" => return Value::Str(owned(text)),
            "null" => return Value::Null,
            _ => {}
        }
    }
    if style != ScalarStyle::Plain {
        return Value::Str(owned(text));
    }
    match &*text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y" => {
            return Value::Bool(true);
        }
        "false" | "False" | "FALSE" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "n" | "N" => {
            return Value::Bool(false);
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Value::Str(owned(text));
    }
    if let Some(v) = parse_int(&text) {
        return v;
    }
    if is_float(&text)
        && let Ok(f) = text.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::Str(owned(text))
}

fn parse_int(text: &str) -> Option<Value> {
    let (neg, digits) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (radix, body) = if let Some(hex) = digits.strip_prefix("0x") {
        (16, hex)
    } else if let Some(oct) = digits.strip_prefix("0o") {
        (8, oct)
    } else if digits.len() > 1
        && digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        // YAML 1.1 octal (`0644`), as go-yaml v2 reads file modes.
        (8, &digits[1..])
    } else {
        (10, digits)
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    match i64::from_str_radix(body, radix) {
        Ok(v) => Some(Value::Int(if neg { -v } else { v })),
        // Out of range: still a number.
        Err(_) if radix == 10 => text.parse::<f64>().ok().map(Value::Float),
        Err(_) => None,
    }
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_float(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(matches!(b[0], b'-' | b'+'));
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac_start;
    }
    if digits == 0 {
        return false;
    }
    if i < b.len() && matches!(b[i], b'e' | b'E') {
        i += 1;
        if i < b.len() && matches!(b[i], b'-' | b'+') {
            i += 1;
        }
        let exp_start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        let mut parsed = parse(text);
        assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
        parsed.documents.remove(0).root
    }

    #[test]
    fn scalars_resolve_like_kubernetes_yaml() {
        let r = root(
            "a: 1\nb: '1'\nc: yes\nd: ~\ne: 1.5\nf: 0x1F\ng: 0644\nh: web\ni: !!str 12\nj: 1e3\ny: n\n",
        );
        assert_eq!(r.get("a").unwrap().value, Value::Int(1));
        assert_eq!(r.get("b").unwrap().value, Value::Str("1".into()));
        assert_eq!(r.get("c").unwrap().value, Value::Bool(true));
        assert_eq!(r.get("d").unwrap().value, Value::Null);
        assert_eq!(r.get("e").unwrap().value, Value::Float(1.5));
        assert_eq!(r.get("f").unwrap().value, Value::Int(31));
        assert_eq!(r.get("g").unwrap().value, Value::Int(0o644));
        assert_eq!(r.get("h").unwrap().value, Value::Str("web".into()));
        assert_eq!(r.get("i").unwrap().value, Value::Str("12".into()));
        assert_eq!(r.get("j").unwrap().value, Value::Float(1000.0));
        // Out of the int64 range: still a number, and said (JSON cannot carry it exactly).
        let parsed = parse("k: 99999999999999999999\nl: .nan\n");
        let k = &parsed.documents[0].root;
        assert_eq!(k.get("k").unwrap().value, Value::Float(1e20));
        let kinds: Vec<_> = parsed
            .issues
            .iter()
            .map(|i| (i.kind, i.span.start.line))
            .collect();
        assert_eq!(
            kinds,
            [(IssueKind::NotJsonNumber, 1), (IssueKind::NotJsonNumber, 2)]
        );
        // Keys stay as written; values are resolved.
        assert_eq!(r.get("y").unwrap().value, Value::Bool(false));
    }

    #[test]
    fn duplicate_keys_are_reported_at_the_second_key_and_the_last_value_wins() {
        let parsed = parse("a: 1\nspec:\n  list:\n    - x: 1\n      x: 2\n");
        let issue = &parsed.issues[0];
        assert_eq!(issue.kind, IssueKind::DuplicateKey);
        assert_eq!((issue.span.start.line, issue.span.start.col), (5, 7));
        assert_eq!(issue.pointer.as_deref(), Some("/spec/list/0/x"));
        let doc = &parsed.documents[0].root;
        assert_eq!(doc.pointer("/spec/list/0/x").unwrap().value, Value::Int(2));
    }

    #[test]
    fn duplicate_keys_in_big_mappings_use_the_index() {
        let mut text: String = (0..40).map(|i| format!("k{i}: {i}\n")).collect();
        text.push_str("k7: again\n");
        let parsed = parse(&text);
        assert_eq!(parsed.issues.len(), 1);
        assert_eq!(parsed.issues[0].span.start.line, 41);
    }

    #[test]
    fn a_syntax_error_loses_only_its_own_document() {
        let parsed = parse("a: 1\n---\napiVersion: v1kind: ConfigMap\n---\nb: 2\n");
        assert_eq!(parsed.documents.len(), 2);
        assert_eq!(parsed.documents[1].index, 2);
        assert_eq!(parsed.issues.len(), 1);
        let issue = &parsed.issues[0];
        assert_eq!(issue.kind, IssueKind::Syntax);
        assert_eq!(issue.span.start.line, 3);
        assert_eq!(issue.document, 1);
    }

    #[test]
    fn billion_laughs_is_stopped_quickly() {
        let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let started = std::time::Instant::now();
        let parsed = parse(&text);
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        assert!(parsed.documents.is_empty());
        assert_eq!(parsed.issues[0].kind, IssueKind::Limit);
        assert!(
            parsed.issues[0]
                .message
                .contains("anchors and aliases expand")
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = "[".repeat(MAX_DEPTH + 10) + &"]".repeat(MAX_DEPTH + 10);
        let parsed = parse(&text);
        assert!(parsed.documents.is_empty());
        assert_eq!(parsed.issues[0].kind, IssueKind::Limit);
        // Never closed, flow or block: the same limit.
        for text in ["[".repeat(3000), "{a: ".repeat(3000), "- ".repeat(3000)] {
            let parsed = parse(&text);
            assert_eq!(parsed.issues[0].kind, IssueKind::Limit, "{text:.10}");
            assert!(
                parsed.issues[0]
                    .message
                    .starts_with("nesting deeper than 200 levels")
            );
        }
        let ok = "[".repeat(MAX_DEPTH - 1) + &"]".repeat(MAX_DEPTH - 1);
        assert!(parse(&ok).issues.is_empty());
    }

    #[test]
    fn helm_source_comments_are_kept_per_document() {
        let parsed = parse(
            "---\n# Source: c/templates/a.yaml\na: 1\n---\n# Source: c/templates/b.yaml\nb: 2\n---\nc: 3\n",
        );
        let sources: Vec<_> = parsed
            .documents
            .iter()
            .map(|d| d.source_template.as_deref())
            .collect();
        assert_eq!(
            sources,
            [Some("c/templates/a.yaml"), Some("c/templates/b.yaml"), None]
        );
    }

    #[test]
    fn document_markers_inside_block_scalars_are_not_split() {
        let parsed = parse("a: |\n  ---\n  text\nb: 1\n");
        assert!(parsed.issues.is_empty());
        assert_eq!(parsed.documents.len(), 1);
        assert_eq!(
            parsed.documents[0].root.get("a").unwrap().as_str(),
            Some("---\ntext\n")
        );
    }

    #[test]
    fn explicit_document_end_and_bare_documents() {
        let parsed = parse("a: 1\n...\nb: 2\n");
        assert!(parsed.issues.is_empty());
        assert_eq!(parsed.documents.len(), 2);
        assert_eq!(
            parsed.documents[1].root.get("b").unwrap().span.start.line,
            3
        );
    }
}

#[cfg(test)]
mod lenient_tests {
    use super::*;

    fn at(text: &str, pointer: &str) -> (u32, u32) {
        let parsed = parse(text);
        assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
        let s = parsed.documents[0].root.locate(pointer);
        assert!(s.exact);
        (s.span.start.line, s.span.start.col)
    }

    #[test]
    fn flow_collections_under_their_key_read_as_kubernetes_reads_them() {
        // Tekton's style: the closing bracket under the key (go-yaml accepts it).
        let text = "spec:\n  args: [\n  \"a\", \"b\",\n  ]\n  env: x\n";
        assert_eq!(at(text, "/spec/args/1"), (3, 8));
        assert_eq!(at(text, "/spec/env"), (5, 8));
    }

    #[test]
    fn quoted_scalars_continued_left_of_their_key_read_as_kubernetes_reads_them() {
        let text =
            "versions:\n  - description: 'CreationTimestamp is\n  a timestamp'\n    name: v1\n";
        let parsed = parse(text);
        assert!(parsed.issues.is_empty(), "{:?}", parsed.issues);
        let d = parsed.documents[0]
            .root
            .pointer("/versions/0/description")
            .unwrap();
        assert_eq!(d.as_str(), Some("CreationTimestamp is a timestamp"));
        assert_eq!(at(text, "/versions/0/name"), (4, 11));
    }

    #[test]
    fn block_indentation_errors_are_still_errors() {
        let parsed = parse("a:\n    b: 1\n  c: 2\n");
        assert_eq!(parsed.issues.len(), 1);
        assert_eq!(parsed.issues[0].span.start.line, 3);
    }
}

#[cfg(test)]
mod merge_and_limit_tests {
    use super::*;

    fn root(text: &str) -> Parsed {
        parse(text)
    }

    #[test]
    fn merge_keys_follow_go_yaml_v2_order() {
        // A `<<` after a key overwrites it; a key after the `<<` overwrites the merged one.
        let p = root("base: &b {name: base, tier: web}\nm:\n  name: real\n  <<: *b\n  tier: own\n");
        assert!(p.issues.is_empty(), "{:?}", p.issues);
        let m = p.documents[0].root.get("m").unwrap();
        assert_eq!(m.get("name").unwrap().as_str(), Some("base"));
        assert_eq!(m.get("tier").unwrap().as_str(), Some("own"));
    }

    #[test]
    fn earlier_mappings_of_a_merge_list_win() {
        let p = root("a: &a {x: 1}\nb: &b {x: 2, y: 2}\nm:\n  <<: [*a, *b]\n");
        let m = p.documents[0].root.get("m").unwrap();
        assert_eq!(m.get("x").unwrap().value, Value::Int(1));
        assert_eq!(m.get("y").unwrap().value, Value::Int(2));
    }

    #[test]
    fn a_quoted_merge_key_is_an_ordinary_key() {
        let p = root("m:\n  \"<<\": 5\n");
        assert!(p.issues.is_empty());
        assert_eq!(
            p.documents[0].root.pointer("/m/<<").unwrap().value,
            Value::Int(5)
        );
    }

    #[test]
    fn merging_a_scalar_is_an_error_like_in_kubectl() {
        let p = root("m:\n  <<: 5\n  name: x\n");
        assert_eq!(p.issues.len(), 1);
        assert_eq!(p.issues[0].kind, IssueKind::InvalidMerge);
        assert_eq!(
            (p.issues[0].span.start.line, p.issues[0].span.start.col),
            (2, 7)
        );
        // The document is still there to check.
        assert_eq!(p.documents.len(), 1);
    }

    #[test]
    fn an_alias_inside_its_own_anchor_is_said_to_be_recursive() {
        let parsed = parse("a: &x\n  b: *x\n");
        assert_eq!(parsed.issues[0].span.start, Pos { line: 2, col: 6 });
        assert!(
            parsed.issues[0]
                .message
                .starts_with("an alias inside the node its anchor names"),
            "{}",
            parsed.issues[0].message
        );
        assert!(
            parse("a: *nowhere\n").issues[0]
                .message
                .ends_with("found unknown anchor")
        );
    }

    #[test]
    fn nested_anchors_are_bounded_by_the_alias_budget() {
        let depth = 150;
        let opens: String = (0..depth).map(|i| format!("&a{i} [")).collect();
        let items: Vec<String> = (0..20_000).map(|i| format!("x{i}")).collect();
        let text = format!("data: {opens}{}{}\n", items.join(", "), "]".repeat(depth));
        let p = parse(&text);
        assert_eq!(p.issues.len(), 1);
        assert_eq!(p.issues[0].kind, IssueKind::Limit);
    }

    #[test]
    fn a_key_written_twice_around_a_merge_is_still_a_duplicate() {
        let p = parse("m:\n  a: 1\n  <<: {a: 2}\n  a: 3\n");
        assert_eq!(p.issues.len(), 1);
        assert_eq!(p.issues[0].kind, IssueKind::DuplicateKey);
        assert_eq!(p.issues[0].span.start.line, 4);
        // Overriding a merged key is not a duplicate.
        assert!(parse("m:\n  <<: {a: 2}\n  a: 3\n").issues.is_empty());
    }

    #[test]
    fn aliases_of_long_strings_count_their_length() {
        let big = "x".repeat(1 << 20);
        let aliases = vec!["*s"; 2000].join(", ");
        let p = parse(&format!("big: &s {big}\nl: [{aliases}]\n"));
        assert_eq!(p.issues.len(), 1);
        assert_eq!(p.issues[0].kind, IssueKind::Limit);
    }

    #[test]
    fn a_percent_line_inside_a_quoted_scalar_is_content() {
        let p = parse("data:\n  msg: \"50\n%d done\"\n  b: 1\n");
        assert!(p.issues.is_empty(), "{:?}", p.issues);
        let msg = p.documents[0].root.pointer("/data/msg").unwrap();
        assert_eq!(msg.as_str(), Some("50 %d done"));
    }

    #[test]
    fn many_under_indented_quoted_scalars_in_one_document_are_all_repaired() {
        let props: String = (0..70)
            .map(|i| {
                format!(
                    "    p{i}:\n      description: 'line one\n    continues'\n      type: string\n"
                )
            })
            .collect();
        let p = parse(&format!("spec:\n  props:\n{props}"));
        assert!(p.issues.is_empty(), "{:?}", p.issues);
        let d = p.documents[0]
            .root
            .pointer("/spec/props/p69/description")
            .unwrap();
        assert_eq!(d.as_str(), Some("line one continues"));
    }

    #[test]
    fn a_directive_after_a_document_end_starts_the_next_document() {
        let p = parse("a: 1\n...\n%YAML 1.1\n---\nb: 2\n");
        assert!(p.issues.is_empty(), "{:?}", p.issues);
        assert_eq!(p.documents.len(), 2);
    }

    #[test]
    fn errors_left_after_a_repair_are_reported_where_they_are() {
        let p = parse("data:\n  args: [\n  \"a\",\n  ]\n  b: c: d\n");
        assert_eq!(p.issues.len(), 1);
        let at = p.issues[0].span.start;
        assert_eq!((at.line, at.col), (5, 7));
        assert!(p.issues[0].message.contains("mapping values"));
    }
}
