//! Suppressions written in the manifests: `ignore.kvet.dev/<rule-id>` annotations and
//! `# kvet:ignore` comments; and the stage that drops the diagnostics they (and the config's
//! `ignore` entries) cover, reporting those that cover nothing or give no reason.

use std::ops::RangeInclusive;
use std::path::Path;

use super::{Diagnostic, Level};
use crate::config::Config;
use crate::load::object::Object;
use crate::load::spans::{Pos, Span};
use crate::load::yaml::{Node, Value};

/// The annotation prefix: `ignore.kvet.dev/<rule-id>: "<reason>"`.
pub const ANNOTATION_PREFIX: &str = "ignore.kvet.dev/";

/// How a suppression is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `ignore.kvet.dev/<rule-id>` on an object: its lines.
    Annotation,
    /// `# kvet:ignore <rule-id>`: its own line, or the next one when the comment stands alone.
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

/// One rule suppressed on some lines of a file.
#[derive(Debug, Clone)]
pub struct Suppression {
    /// Empty when the comment names no rule.
    pub rule: String,
    /// `None` when none is given: the suppression is then not applied.
    pub reason: Option<String>,
    pub origin: Origin,
    pub file: String,
    /// The lines whose diagnostics it drops.
    pub lines: RangeInclusive<u32>,
    /// Where it is written.
    pub at: Span,
    /// For an annotation: the object and the pointer of the annotation.
    pub object: Option<(crate::load::object::ObjectRef, String)>,
}

/// The `ignore.kvet.dev/...` annotations of an object; each covers the object's lines.
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
    let lines = object.root.span.start.line..=last_line(&object.root);
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
                lines: lines.clone(),
                at: entry.key_span,
                object: Some((object.id.clone(), pointer)),
            })
        })
        .collect()
}

/// The last line a node's content reaches (a block mapping's own end is where the next token
/// starts, possibly the next object's first line).
fn last_line(node: &Node) -> u32 {
    match &node.value {
        Value::Map(entries) => entries
            .iter()
            .map(|e| last_line(&e.value).max(e.key_span.end.line))
            .max()
            .unwrap_or(node.span.start.line),
        Value::Seq(items) => items
            .iter()
            .map(last_line)
            .max()
            .unwrap_or(node.span.start.line),
        _ => node.span.end.line,
    }
}

/// The `# kvet:ignore` and `# kvet:ignore-file` comments of a file. A comment is a `#` at the
/// start of a line or after a blank; kvet does not tell whether it stands in a block scalar.
pub fn in_comments(file: &str, text: &str) -> Vec<Suppression> {
    // Quick exit for the common file without any.
    if !text.contains("kvet:ignore") {
        return Vec::new();
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Some(hash) = comment_start(line) else {
            continue;
        };
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
        let rest = rest.trim();
        let (rules, reason) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        let reason = reason.trim();
        let reason = reason.strip_prefix("--").unwrap_or(reason).trim();
        let reason = (!reason.is_empty()).then(|| reason.to_owned());
        let number = index as u32 + 1;
        let covered = match origin {
            Origin::FileComment => 1..=u32::MAX,
            _ if !line[..hash].trim().is_empty() => number..=number,
            // A comment on its own line covers the next line with content.
            _ => match lines[index + 1..]
                .iter()
                .position(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            {
                Some(offset) => {
                    let target = number + offset as u32 + 1;
                    target..=target
                }
                #[allow(clippy::reversed_empty_ranges)]
                None => 1..=0,
            },
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
        let rules: Vec<&str> = rules.split(',').map(str::trim).collect();
        for rule in rules {
            out.push(Suppression {
                rule: rule.to_owned(),
                reason: reason.clone(),
                origin,
                file: file.to_owned(),
                lines: covered.clone(),
                at,
                object: None,
            });
        }
    }
    out
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
    /// Whether the run checked the config's whole folder: only then can a config entry, or a
    /// suppression of a rule that looks across files, be known to suppress nothing.
    pub whole_repository: bool,
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
            if s.reason.is_some()
                && s.rule == d.rule
                && s.file == d.file
                && s.lines.contains(&d.line)
            {
                used[i] = true;
                suppressed = true;
            }
        }
        if !context.config.ignores.is_empty() {
            let relative = context.config.relative(Path::new(&d.file));
            for (i, ignore) in context.config.ignores.iter().enumerate() {
                if ignore.matches(&d.rule, d.object.as_ref(), &relative) {
                    config_used[i] = true;
                    suppressed = true;
                }
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
        if let Some((object, pointer)) = &s.object {
            d.object = Some(object.clone());
            d.pointer = Some(pointer.clone());
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
        in_comments("f.yaml", text)
            .into_iter()
            .map(|s| (s.rule, s.reason, s.lines))
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
            for s in in_comments("f.yaml", &text) {
                proptest::prop_assert!(s.at.start.line as usize <= text.lines().count());
            }
        }
    }

    #[test]
    fn a_lone_comment_at_the_end_covers_nothing() {
        let found = comments("a: 1\n# kvet:ignore r1 -- why\n");
        assert!(found[0].2.is_empty());
    }
}
