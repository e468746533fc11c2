//! Suppressions written in the manifests: `ignore.kvet.dev/<rule-id>` annotations and
//! `# kvet:ignore` comments; and the stage that drops the diagnostics they (and the config's
//! `ignore` entries) cover, reporting those that cover nothing or give no reason.

use std::ops::RangeInclusive;

use super::{Diagnostic, Level};
use crate::config::Config;
use crate::load::object::{Object, ObjectRef};
use crate::load::spans::{Pos, Span};
use crate::load::yaml::{Node, Value};

/// The annotation prefix: `ignore.kvet.dev/<rule-id>: "<reason>"`.
pub const ANNOTATION_PREFIX: &str = "ignore.kvet.dev/";

/// How a suppression is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `ignore.kvet.dev/<rule-id>` on an object.
    Annotation,
    /// `# kvet:ignore <rule-id>`: its line, or the next one when the comment stands alone.
    Comment,
    /// `# kvet:ignore-file <rule-id>`: the whole file.
    FileComment,
}

impl Origin {
    fn describe(self, rule: &str) -> String {
        let rule = if rule.is_empty() {
            String::new()
        } else {
            format!(" {rule}")
        };
        match self {
            Origin::Annotation => format!("annotation {ANNOTATION_PREFIX}{}", rule.trim()),
            Origin::Comment => format!("`# kvet:ignore{rule}`"),
            Origin::FileComment => format!("`# kvet:ignore-file{rule}`"),
        }
    }
}

/// What a suppression covers in its file.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// Diagnostics that start on these lines.
    Lines(RangeInclusive<u32>),
    /// Diagnostics on this object.
    Object(ObjectRef),
    /// Diagnostics on the objects rendered from this Helm template (a `# kvet:ignore-file`
    /// in a template reaches only what the template renders).
    Template(String),
}

/// One rule suppressed somewhere in a file.
#[derive(Debug, Clone)]
pub struct Suppression {
    /// Empty when the comment names no rule.
    pub rule: String,
    /// `None` when none is given: the suppression is then not applied.
    pub reason: Option<String>,
    pub origin: Origin,
    pub file: String,
    pub scope: Scope,
    /// Where it is written.
    pub at: Span,
    /// For an annotation: the pointer of the annotation in its object.
    pub pointer: Option<String>,
}

impl Suppression {
    fn covers(&self, d: &Diagnostic) -> bool {
        let here = self.file == d.file;
        self.rule == d.rule
            && match &self.scope {
                Scope::Lines(lines) => here && lines.contains(&d.line),
                // A rendered object's finding may be placed in another file than the object's.
                Scope::Object(object) => {
                    (here && d.object.as_ref() == Some(object))
                        || d.origin_object.as_ref() == Some(&(self.file.clone(), object.clone()))
                }
                Scope::Template(template) => here && d.source_template.as_ref() == Some(template),
            }
    }
}

/// The `ignore.kvet.dev/...` annotations of an object; each covers the object.
pub fn in_annotations(file: &str, object: &Object) -> Vec<Suppression> {
    let Some(annotations) = object
        .root
        .get("metadata")
        .and_then(|m| m.get("annotations"))
    else {
        return Vec::new();
    };
    let Some(entries) = annotations.as_map() else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|entry| {
            let rule = entry.key.strip_prefix(ANNOTATION_PREFIX)?;
            let reason = entry
                .value
                .as_str()
                .map(str::trim)
                .filter(|r| !r.is_empty());
            let pointer = format!(
                "/metadata/annotations/{}",
                entry.key.replace('~', "~0").replace('/', "~1")
            );
            Some(Suppression {
                rule: rule.to_owned(),
                reason: reason.map(str::to_owned),
                origin: Origin::Annotation,
                file: file.to_owned(),
                scope: Scope::Object(object.id.clone()),
                at: entry.key_span,
                pointer: Some(pointer),
            })
        })
        .collect()
}

/// What the comment reader needs to know of a file's YAML: where nodes end, and which text is
/// inside scalars (where a `#` starts no comment).
#[derive(Debug, Default)]
struct Layout {
    /// For a line on which nodes start: the last line the longest of them reaches.
    extents: std::collections::HashMap<u32, u32>,
    /// Scalars that hold `kvet:ignore` (the only ones that could be mistaken for comments).
    scalars: Vec<Span>,
}

impl Layout {
    fn of<'a>(roots: impl IntoIterator<Item = &'a Node>) -> Layout {
        let mut layout = Layout::default();
        for root in roots {
            layout.walk(root, root.span.start.line);
        }
        layout
    }

    /// Records `node`, which starts on line `start` (a mapping entry starts at its key),
    /// and returns the last line it reaches.
    fn walk(&mut self, node: &Node, start: u32) -> u32 {
        let last = match &node.value {
            Value::Map(entries) => entries
                .iter()
                .map(|e| {
                    self.walk(&e.value, e.key_span.start.line)
                        .max(e.key_span.end.line)
                })
                .max()
                .unwrap_or(node.span.start.line),
            Value::Seq(items) => items
                .iter()
                .map(|item| self.walk(item, item.span.start.line))
                .max()
                .unwrap_or(node.span.start.line),
            Value::Str(text) => {
                if text.contains("kvet:ignore") {
                    self.scalars.push(node.span);
                }
                node.span.end.line
            }
            _ => node.span.end.line,
        };
        let extent = self.extents.entry(start).or_insert(start);
        *extent = (*extent).max(last);
        last
    }

    fn extent(&self, line: u32) -> u32 {
        self.extents.get(&line).copied().unwrap_or(line).max(line)
    }

    fn in_scalar(&self, at: Pos) -> bool {
        self.scalars.iter().any(|s| s.start <= at && at < s.end)
    }
}

/// The `# kvet:ignore` and `# kvet:ignore-file` comments of a file. A comment is a `#` at the
/// start of a line or after a blank, outside any scalar. `# kvet:ignore` covers its line, or
/// the next line with content when it stands alone, and the node that starts there (a list
/// item, a key with its value). In Helm output, `# kvet:ignore-file` covers the documents of
/// its template.
pub fn in_comments(file: &str, text: &str, objects: &[Object]) -> Vec<Suppression> {
    in_comments_of_nodes(file, text, objects.iter().map(|o| &o.root))
}

/// The `# kvet:ignore` comments of a file whose documents are these nodes (a kustomization or
/// a patch: YAML, but no objects).
pub fn in_comments_of_nodes<'a>(
    file: &str,
    text: &str,
    roots: impl IntoIterator<Item = &'a Node>,
) -> Vec<Suppression> {
    // Quick exit for the common file without any.
    if !text.contains("kvet:ignore") {
        return Vec::new();
    }
    let layout = Layout::of(roots);
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    // The template named by the last `# Source:` comment, in Helm output.
    let mut template: Option<String> = None;
    for (index, line) in lines.iter().enumerate() {
        let number = index as u32 + 1;
        if let Some(source) = crate::load::helm::source_comment(line) {
            template = Some(source);
        }
        let Some(hash) = comment_start(line) else {
            continue;
        };
        let at = Span {
            start: Pos {
                line: number,
                col: line[..hash].chars().count() as u32 + 1,
            },
            end: Pos {
                line: number,
                col: line.chars().count() as u32 + 1,
            },
        };
        if layout.in_scalar(at.start) {
            continue;
        }
        let comment = line[hash + 1..].trim();
        let (origin, rest) = if let Some(rest) = comment.strip_prefix("kvet:ignore-file") {
            (Origin::FileComment, rest)
        } else if let Some(rest) = comment.strip_prefix("kvet:ignore") {
            (Origin::Comment, rest)
        } else {
            continue;
        };
        if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
            continue; // `kvet:ignored`, say: not ours.
        }
        let (rules, reason) = rules_and_reason(rest);
        let scope = match origin {
            Origin::FileComment => match &template {
                Some(template) => Scope::Template(template.clone()),
                None => Scope::Lines(1..=u32::MAX),
            },
            _ => {
                let target = if line[..hash].trim().is_empty() {
                    // A comment on its own line covers the next line with content.
                    lines[index + 1..]
                        .iter()
                        .position(|l| {
                            let l = l.trim();
                            !l.is_empty() && !l.starts_with('#') && l != "---"
                        })
                        .map(|offset| number + offset as u32 + 1)
                } else {
                    Some(number)
                };
                #[allow(clippy::reversed_empty_ranges)]
                match target {
                    Some(target) => Scope::Lines(target..=layout.extent(target)),
                    None => Scope::Lines(1..=0),
                }
            }
        };
        for rule in rules {
            out.push(Suppression {
                rule,
                reason: reason.clone(),
                origin,
                file: file.to_owned(),
                scope: scope.clone(),
                at,
                pointer: None,
            });
        }
    }
    out
}

/// `a, b -- why` → `[a, b]` and the reason; without `--`, the rules are the first word and
/// the words a comma joins to it, and the rest is the reason. No rule gives `[""]`.
fn rules_and_reason(rest: &str) -> (Vec<String>, Option<String>) {
    let rest = rest.trim();
    let (rules, reason) = match rest.split_once("--") {
        Some((rules, reason)) => (rules.to_owned(), reason.trim().to_owned()),
        None => {
            let mut words = rest.split_whitespace().peekable();
            let mut rules = String::new();
            while let Some(word) = words.next() {
                rules.push_str(word);
                let joined =
                    word.ends_with(',') || words.peek().is_some_and(|w| w.starts_with(','));
                if !joined {
                    break;
                }
            }
            (rules, words.collect::<Vec<_>>().join(" "))
        }
    };
    let mut rules: Vec<String> = rules
        .split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    if rules.is_empty() {
        rules.push(String::new());
    }
    (rules, (!reason.is_empty()).then_some(reason))
}

/// Byte offset of the `#` that starts a comment on the line, if any.
fn comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    (0..bytes.len()).find(|&i| bytes[i] == b'#' && (i == 0 || matches!(bytes[i - 1], b' ' | b'\t')))
}

/// What the suppression stage needs to know of the run.
pub struct Context<'a> {
    pub config: &'a Config,
    /// Whether a rule id is one kvet or the user's policies define.
    pub known: &'a dyn Fn(&str) -> bool,
    /// A rule's level for a file (`None` when it is off there).
    pub level: &'a dyn Fn(&str, &str) -> Option<Level>,
    /// Whether a rule's findings depend on other files (whole-stream rules).
    pub looks_across_files: &'a dyn Fn(&str) -> bool,
    /// The path config `files` globs match a diagnostic's file as (for a rendered chart, the
    /// template it came from).
    pub config_path: &'a dyn Fn(&Diagnostic) -> std::path::PathBuf,
    /// Whether the run checked the config's whole folder: only then can a config entry, or a
    /// suppression of a rule that looks across files, be known to suppress nothing.
    pub whole_repository: bool,
    /// Every file of the run, as config `files` globs match it (a rendered chart's templates
    /// and values files included).
    pub checked: &'a [std::path::PathBuf],
}

/// Drops the diagnostics that a suppression with a reason covers; returns how many were
/// dropped, and adds an `unused-suppression` diagnostic for each suppression that covered
/// nothing or gave no reason.
pub fn apply(
    diagnostics: &mut Vec<Diagnostic>,
    suppressions: &[Suppression],
    context: &Context,
) -> usize {
    let mut used = vec![false; suppressions.len()];
    let mut config_used = vec![false; context.config.ignores.len()];
    let before = diagnostics.len();
    diagnostics.retain(|d| {
        let mut suppressed = false;
        for (i, s) in suppressions.iter().enumerate() {
            if s.reason.is_some() && s.covers(d) {
                used[i] = true;
                suppressed = true;
            }
        }
        if !context.config.ignores.is_empty() {
            let relative = context.config.relative(&(context.config_path)(d));
            for i in context
                .config
                .ignoring(&d.rule, d.object.as_ref(), &relative)
            {
                config_used[i] = true;
                suppressed = true;
            }
        }
        !suppressed
    });
    let dropped = before - diagnostics.len();

    let unused_rule = crate::rules::UNUSED_SUPPRESSION.meta.id;
    for (s, used) in suppressions.iter().zip(used) {
        let Some(level) = (context.level)(unused_rule, &s.file) else {
            continue;
        };
        let what = s.origin.describe(&s.rule);
        let message = if s.rule.is_empty() {
            format!("{what} names no rule")
        } else if !(context.known)(&s.rule) {
            format!("{what} names an unknown rule \"{}\"", s.rule)
        } else if s.reason.is_none() {
            format!("{what} gives no reason, so it is not applied")
        } else if used || ((context.looks_across_files)(&s.rule) && !context.whole_repository) {
            continue;
        } else if (context.level)(&s.rule, &s.file).is_none() {
            format!("{what} suppresses nothing: the rule is off for this file")
        } else {
            format!("{what} suppresses nothing")
        };
        let mut d = Diagnostic::new(unused_rule, level, &s.file, s.at, message);
        d.help = Some(match (s.origin, s.reason.is_none() && !s.rule.is_empty()) {
            (Origin::Annotation, true) => {
                "give the reason as the annotation's value: \"<why the finding may stay>\"".into()
            }
            (_, true) => {
                "write the reason after the rule: `# kvet:ignore <rule-id> -- <why>`".into()
            }
            _ => "delete it".into(),
        });
        if let Scope::Object(object) = &s.scope {
            d.object = Some(object.clone());
            d.pointer = s.pointer.clone();
        }
        diagnostics.push(d);
    }

    if context.whole_repository
        && let Some(path) = &context.config.path
        && let Some(level) = (context.level)(unused_rule, &path.display().to_string())
    {
        // Named as the manifests are: relative to the current folder when it is below it.
        let cwd = std::env::current_dir().unwrap_or_default();
        let path = path.strip_prefix(&cwd).unwrap_or(path);
        let config = &context.config;
        let mut matched = vec![false; config.overrides.len()];
        for file in context.checked {
            for (seen, matches) in matched.iter_mut().zip(config.overrides_matching(file)) {
                *seen |= matches;
            }
        }
        for (entry, matched) in config.overrides.iter().zip(matched) {
            if !matched {
                let message = format!(
                    "the config's override for {} matches no file of this run",
                    entry.files.join(", ")
                );
                let file = path.display().to_string();
                let mut d = Diagnostic::new(unused_rule, level, &file, entry.span, message);
                d.help = Some(
                    "correct its `files` globs (relative to the config's folder), or delete it"
                        .into(),
                );
                diagnostics.push(d);
            }
        }
        for (ignore, used) in context.config.ignores.iter().zip(config_used) {
            if !used {
                let message = format!(
                    "the config's ignore entry for {} suppresses nothing",
                    ignore.rules.join(", ")
                );
                let mut d = Diagnostic::new(
                    unused_rule,
                    level,
                    &path.display().to_string(),
                    ignore.span,
                    message,
                );
                d.help = Some("delete it".into());
                diagnostics.push(d);
            }
        }
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comments(text: &str) -> Vec<(String, Option<String>, RangeInclusive<u32>)> {
        let objects = crate::load::load_text(text).objects;
        in_comments("f.yaml", text, &objects)
            .into_iter()
            .map(|s| match s.scope {
                Scope::Lines(lines) => (s.rule, s.reason, lines),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_trailing_comment_covers_its_line_and_a_lone_one_the_next_content_line() {
        let text =
            "a: 1 # kvet:ignore r1 -- why\n# kvet:ignore r2,r3 -- because\n\n# other\nb: 2\n";
        assert_eq!(
            comments(text),
            [
                ("r1".into(), Some("why".into()), 1..=1),
                ("r2".into(), Some("because".into()), 5..=5),
                ("r3".into(), Some("because".into()), 5..=5),
            ]
        );
    }

    #[test]
    fn reasons_may_omit_the_dashes_and_may_be_missing() {
        let text = "#kvet:ignore r1 plain words\n# kvet:ignore r2\n# kvet:ignore-file r3 --\n# kvet:ignore\nx: 1\n";
        assert_eq!(
            comments(text),
            [
                ("r1".into(), Some("plain words".into()), 5..=5),
                ("r2".into(), None, 5..=5),
                ("r3".into(), None, 1..=u32::MAX),
                ("".into(), None, 5..=5),
            ]
        );
    }

    #[test]
    fn hashes_inside_words_and_other_tools_comments_are_not_suppressions() {
        let text = "url: http://x/#kvet:ignore r1\nb: 1 # kvet:ignored r2\n# kvet: ignore r3\n";
        assert!(comments(text).is_empty());
    }

    proptest::proptest! {
        /// Any text: suppressions or none, never a panic; each covers lines of the file.
        #[test]
        fn any_text_is_read(text in "((\\PC| |#|-|,)*(# ?kvet:ignore(-file)?)?[ ,a-z-]*\n?){0,8}") {
            for s in in_comments("f.yaml", &text, &crate::load::load_text(&text).objects) {
                proptest::prop_assert!(s.at.start.line as usize <= text.lines().count());
            }
        }
    }

    #[test]
    fn a_lone_comment_at_the_end_covers_nothing() {
        let found = comments("a: 1\n# kvet:ignore r1 -- why\n");
        assert!(found[0].2.is_empty());
    }

    #[test]
    fn rules_may_be_listed_with_spaces_after_commas() {
        let text = "a: 1 # kvet:ignore r1, r2 -- why\nb: 1 # kvet:ignore r3 ,r4 because\n";
        assert_eq!(
            comments(text),
            [
                ("r1".into(), Some("why".into()), 1..=1),
                ("r2".into(), Some("why".into()), 1..=1),
                ("r3".into(), Some("because".into()), 2..=2),
                ("r4".into(), Some("because".into()), 2..=2),
            ]
        );
    }

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  volumes:\n    # kvet:ignore r1 -- why\n    - name: logs\n      hostPath:\n        path: /var/log\n    - name: other\n  note: |\n    # kvet:ignore-file r2 -- inside a scalar\n  title: \"a # kvet:ignore r3 -- quoted\"\n";

    #[test]
    fn a_comment_covers_the_node_that_starts_on_its_line() {
        // The list item from line 7 to 9, not the next item.
        assert_eq!(comments(POD), [("r1".into(), Some("why".into()), 7..=9)]);
    }

    #[test]
    fn in_helm_output_a_file_comment_covers_its_template() {
        let text = "---\n# Source: c/templates/a.yaml\n# kvet:ignore-file r1 -- why\nkind: A\n---\n# Source: c/templates/b.yaml\nkind: B\n";
        let found = in_comments("out", text, &[]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].scope, Scope::Template("c/templates/a.yaml".into()));
    }
}
