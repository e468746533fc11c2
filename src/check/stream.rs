//! Whole-stream checks: the Rust rules over every object's summary, and the policies evaluated
//! once over the objects of their kinds.

use std::collections::HashMap;

use rayon::prelude::*;

use super::{level_of, place, policy_level};
use crate::config::Setting;
use crate::diag::{Diagnostic, Finding, Level, Report};
use crate::load::spans::Span;
use crate::rules::{self, Check, ObjectSummary, RULES, StreamFinding};
use crate::source::{Source, guarded, read_text};
use crate::{Error, load, policy};

/// An object a whole-stream policy looks at: where it is, and its value as policy input.
#[derive(Clone)]
pub(crate) struct StreamObject {
    /// Index of its source.
    pub(crate) file: usize,
    /// Position among the file's objects.
    pub(crate) object: usize,
    pub(crate) kind: String,
    pub(crate) value: regorus::Value,
    /// The hash of its file's text when a cache keeps results (zero otherwise): a rule whose
    /// objects are all unchanged is not evaluated again.
    pub(crate) text: [u64; 2],
}

/// A result's message with where its related object is (`file:line`): in place of `{related}`
/// when the message has it, else as `(first at file:line)` at its end (the first of two
/// copies, the usual related object).
fn with_place(message: String, place: Option<String>) -> String {
    const MARK: &str = "{related}";
    match place {
        Some(place) if message.contains(MARK) => message.replace(MARK, &place),
        Some(place) => format!("{message} (first at {place})"),
        None => message.replace(MARK, "the input"),
    }
}

/// Evaluates each whole-stream policy once over the objects of its kinds, then places the
/// findings: the files they fall in are read again, as only objects' values were kept.
pub(crate) fn stream_policy_diagnostics(
    policies: &policy::Policies,
    objects: &[StreamObject],
    sources: &[Source],
    settings: &[HashMap<String, Setting>],
    whereabouts: impl Fn(usize, usize) -> Option<(String, Span)> + Sync,
    cache: Option<&super::cache::CheckCache>,
) -> Result<Vec<Diagnostic>, Error> {
    /// A finding on an object of a file, before it is placed.
    struct Hit<'a> {
        file: usize,
        object: usize,
        rule: &'a str,
        /// The level the result asks for.
        asked: Option<Level>,
        finding: Finding,
    }
    // The rules are independent: evaluated side by side (cnpg-reference alone takes a tenth of
    // a second on a large input), their hits gathered in rule order.
    let rules: Vec<&policy::PolicyRule> = policies.stream_rules().collect();
    let evaluated: Vec<Vec<Hit>> = rules
        .par_iter()
        .map(|rule| {
            let on = |o: &StreamObject| policy_level(rule, None, &settings[o.file]).is_some();
            let members: Vec<&StreamObject> = objects
                .iter()
                .filter(|o| rule.applies_to(&o.kind) && on(o))
                .collect();
            let Some(first) = members.first() else {
                return Vec::new();
            };
            let values = members.iter().map(|o| o.value.clone()).collect();
            let mut numbers: HashMap<&std::path::Path, usize> = HashMap::new();
            let folders: Vec<usize> = members
                .iter()
                .map(|o| {
                    let next = numbers.len();
                    *numbers.entry(&sources[o.file].folder).or_insert(next)
                })
                .collect();
            let key = cache
                .filter(|_| members.iter().all(|m| m.text != [0; 2]))
                .map(|_| stream_key(&rule.id, &members, &folders, sources));
            let kept = cache.zip(key).and_then(|(c, k)| c.stream_get(k));
            let evaluated = match kept {
                Some(results) => Ok(results),
                None => policies.evaluate_stream(rule, values, folders),
            };
            if let (Some(cache), Some(key), Ok(results)) = (cache, key, &evaluated) {
                cache.stream_put(key, results);
            }
            match evaluated {
                Ok(results) => results
                    .into_iter()
                    .map(|result| {
                        let at = members[result.object.unwrap_or(0)];
                        let related = result
                            .related
                            .and_then(|i| whereabouts(members[i].file, members[i].object));
                        let place = related
                            .as_ref()
                            .map(|(file, span)| format!("{file}:{}", span.start.line));
                        let message = with_place(result.message, place);
                        let mut finding = Finding::new(result.pointer, message);
                        finding.metadata = result.metadata;
                        finding.related = related.map(|(file, span)| (Some(file), span));
                        Hit {
                            file: at.file,
                            object: at.object,
                            rule: &rule.id,
                            asked: result.level,
                            finding,
                        }
                    })
                    .collect(),
                Err(message) => {
                    let finding =
                        Finding::new("", format!("{} failed on the input: {message}", rule.id));
                    vec![Hit {
                        file: first.file,
                        object: first.object,
                        rule: rules::POLICY_ERROR.meta.id,
                        asked: None,
                        finding,
                    }]
                }
            }
        })
        .collect();
    let mut by_file: std::collections::BTreeMap<usize, Vec<Hit>> = Default::default();
    for hit in evaluated.into_iter().flatten() {
        by_file.entry(hit.file).or_default().push(hit);
    }
    let placed: Vec<Vec<Diagnostic>> = by_file
        .into_par_iter()
        .map(|(file, found)| {
            let source = &sources[file];
            guarded(source, || {
                let Ok(text) = read_text(source) else {
                    return Vec::new();
                };
                let loaded = load::load_text(&text);
                let mut out = Vec::new();
                for hit in found {
                    let level = match policies.rules().iter().find(|r| r.id == hit.rule) {
                        Some(rule) => policy_level(rule, hit.asked, &settings[file]),
                        None => level_of(&rules::POLICY_ERROR, &settings[file]),
                    };
                    if let (Some(level), Some(object)) = (level, loaded.objects.get(hit.object)) {
                        let file = (source.name.as_str(), &*text);
                        out.push(place(hit.rule, level, file, object, hit.finding));
                    }
                }
                out
            })
        })
        .collect::<Result<_, Error>>()?;
    Ok(placed.into_iter().flatten().collect())
}

/// What a whole-stream rule's results depend on: the rule, and for each of its objects (in
/// order) its file's name and text, its place in the file and its folder's number.
fn stream_key(
    rule: &str,
    members: &[&StreamObject],
    folders: &[usize],
    sources: &[Source],
) -> [u64; 2] {
    let each = members.iter().zip(folders).map(|(member, folder)| {
        let name = &sources[member.file].name;
        (name, member.text, member.object, folder)
    });
    super::cache::hash128((rule, each.collect::<Vec<_>>()))
}

pub(crate) fn run_stream_rules(
    objects: &[ObjectSummary],
    file_of: &[usize],
    settings: &[HashMap<String, Setting>],
    report: &mut Report,
) {
    for rule in RULES {
        let Check::Stream(check) = rule.check else {
            continue;
        };
        let mut found: Vec<StreamFinding> = Vec::new();
        check(objects, &mut found);
        for f in found {
            let summary = &objects[f.object];
            let Some(level) = level_of(rule, &settings[file_of[f.object]]) else {
                continue;
            };
            let mut d = Diagnostic::new(
                rule.meta.id,
                level,
                &summary.file,
                f.span,
                f.finding.message,
            );
            d.help = f.finding.help;
            d.related = f
                .finding
                .related
                .map(|(other, span)| (other.unwrap_or_else(|| summary.file.to_string()), span));
            d.pointer = Some(f.finding.pointer);
            d.object = Some(summary.id.clone());
            d.source_template = summary.source_template.clone();
            report.diagnostics.push(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_place;

    #[test]
    fn the_related_place_goes_where_the_message_says() {
        let place = || Some("a.yaml:6".to_owned());
        assert_eq!(
            with_place("x is a copy".into(), place()),
            "x is a copy (first at a.yaml:6)"
        );
        assert_eq!(
            with_place("closest: y ({related})".into(), place()),
            "closest: y (a.yaml:6)"
        );
        assert_eq!(
            with_place("closest: y ({related})".into(), None),
            "closest: y (the input)"
        );
        assert_eq!(with_place("x".into(), None), "x");
    }
}
