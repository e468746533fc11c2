//! The OPA-style `# METADATA` block of a built-in policy: its title, documentation, level,
//! kinds and category. regorus does not expose `rego.metadata`, so kvet reads the comment.

use crate::diag::Level;
use crate::load::yaml::{self, Node};

/// What a policy's METADATA says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyMeta {
    /// One line: what is wrong (becomes the rule's summary).
    pub title: String,
    /// Markdown: What it checks / Why / How to fix / Example.
    pub description: String,
    pub level: Level,
    pub category: String,
    /// Kinds the policy looks at; empty for every kind.
    pub kinds: Vec<String>,
    pub scope: Scope,
}

/// What a policy's `input` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// One object; the policy is evaluated on each object of its kinds.
    #[default]
    Object,
    /// `{"objects": [...]}`: every object of its kinds in the input, in input order; the
    /// policy is evaluated once and each result names its object by index (`"object": i`).
    Stream,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetaError {
    #[error("no `# METADATA` comment block before the package")]
    Missing,
    #[error("the METADATA block is not valid YAML: {0}")]
    Yaml(String),
    #[error("METADATA `{field}`: {problem}")]
    Field {
        field: &'static str,
        problem: &'static str,
    },
}

/// Reads the first `# METADATA` block of a policy's source.
pub fn parse(source: &str) -> Result<PolicyMeta, MetaError> {
    let block = block(source).ok_or(MetaError::Missing)?;
    let parsed = yaml::parse(&block);
    if let Some(issue) = parsed.issues.first() {
        return Err(MetaError::Yaml(issue.message.clone()));
    }
    let root = parsed
        .documents
        .into_iter()
        .next()
        .map(|d| d.root)
        .ok_or(MetaError::Missing)?;
    let text = |node: Option<&Node>, field: &'static str| {
        node.and_then(Node::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
            .ok_or(MetaError::Field {
                field,
                problem: "must be a non-empty string",
            })
    };
    let custom = root.get("custom");
    let level = text(custom.and_then(|c| c.get("level")), "custom.level")?
        .parse::<Level>()
        .map_err(|_| MetaError::Field {
            field: "custom.level",
            problem: "must be error, warning or info",
        })?;
    let (scope, kinds) = targets_of(custom)?;
    Ok(PolicyMeta {
        title: text(root.get("title"), "title")?,
        description: text(root.get("description"), "description")?,
        level,
        category: text(custom.and_then(|c| c.get("category")), "custom.category")?,
        kinds,
        scope,
    })
}

/// The scope and kinds a policy's METADATA gives (`custom.scope`, `custom.kinds`), for
/// users' policies, whose METADATA is optional: without one, an object policy for every kind.
pub fn targets(source: &str) -> Result<(Scope, Vec<String>), MetaError> {
    let Some(block) = block(source) else {
        return Ok((Scope::Object, Vec::new()));
    };
    let parsed = yaml::parse(&block);
    if let Some(issue) = parsed.issues.first() {
        return Err(MetaError::Yaml(issue.message.clone()));
    }
    let root = parsed.documents.into_iter().next().map(|d| d.root);
    targets_of(root.as_ref().and_then(|r| r.get("custom")))
}

/// The word in `custom.kinds` that stands for every workload kind.
const WORKLOADS: &str = "workloads";

fn targets_of(custom: Option<&Node>) -> Result<(Scope, Vec<String>), MetaError> {
    let kinds = match custom.and_then(|c| c.get("kinds")) {
        None => Vec::new(),
        Some(list) => {
            let names: Option<Vec<&str>> = list
                .as_seq()
                .and_then(|items| items.iter().map(Node::as_str).collect());
            let names = names.ok_or(MetaError::Field {
                field: "custom.kinds",
                problem: "must be a list of kinds",
            })?;
            let mut kinds = Vec::new();
            for name in names {
                // `workloads`: every kind kvet knows to run pods (kinds are capitalised, so
                // it names no kind).
                if name == WORKLOADS {
                    kinds.extend(crate::workload::KINDS.iter().map(|k| (*k).to_owned()));
                } else {
                    kinds.push(name.to_owned());
                }
            }
            kinds
        }
    };
    let scope = match custom.and_then(|c| c.get("scope")).map(|s| s.as_str()) {
        None | Some(Some("object")) => Scope::Object,
        Some(Some("stream")) => Scope::Stream,
        Some(_) => {
            return Err(MetaError::Field {
                field: "custom.scope",
                problem: "must be object or stream",
            });
        }
    };
    Ok((scope, kinds))
}

/// The YAML of the first METADATA block: the comment lines that follow `# METADATA`, without
/// their `#` and the one space after it.
fn block(source: &str) -> Option<String> {
    let mut lines = source.lines().skip_while(|l| l.trim() != "# METADATA");
    lines.next()?;
    let mut out = String::new();
    for line in lines {
        let Some(comment) = line.trim_start().strip_prefix('#') else {
            break;
        };
        out.push_str(comment.strip_prefix(' ').unwrap_or(comment));
        out.push('\n');
    }
    Some(out)
}

/// The package a policy declares (`kvet.rules.host_path_mount`), from its `package` line.
pub fn package(source: &str) -> Option<&str> {
    source
        .lines()
        .find_map(|l| l.trim().strip_prefix("package "))
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = "# METADATA\n# title: a thing is wrong\n# description: |-\n#   ## What it checks\n#   Things.\n# custom:\n#   level: warning\n#   category: workload\n#   kinds: [Pod, Job]\npackage kvet.rules.thing\n\n# not metadata\n";

    #[test]
    fn reads_the_block_before_the_package() {
        let meta = parse(POLICY).unwrap();
        assert_eq!(meta.title, "a thing is wrong");
        assert_eq!(meta.description, "## What it checks\nThings.");
        assert_eq!(meta.level, Level::Warning);
        assert_eq!(meta.category, "workload");
        assert_eq!(meta.kinds, ["Pod", "Job"]);
        assert_eq!(meta.scope, Scope::Object);
        let stream = POLICY.replace("kinds: [Pod, Job]", "kinds: [Pod, Job]\n#   scope: stream");
        assert_eq!(parse(&stream).unwrap().scope, Scope::Stream);
        assert_eq!(package(POLICY), Some("kvet.rules.thing"));
    }

    #[test]
    fn workloads_stands_for_every_workload_kind() {
        let policy = POLICY.replace("kinds: [Pod, Job]", "kinds: [Namespace, workloads]");
        let (_, kinds) = targets(&policy).unwrap();
        assert_eq!(kinds[0], "Namespace");
        assert_eq!(kinds[1..], crate::workload::KINDS);
        assert!(kinds.iter().any(|k| k == "DeploymentConfig"));
    }

    #[test]
    fn says_what_is_missing_or_wrong() {
        assert_eq!(parse("package x\n"), Err(MetaError::Missing));
        let bad_level = POLICY.replace("level: warning", "level: fatal");
        assert!(matches!(
            parse(&bad_level),
            Err(MetaError::Field {
                field: "custom.level",
                ..
            })
        ));
        let no_title = POLICY.replace("# title: a thing is wrong\n", "");
        assert!(matches!(
            parse(&no_title),
            Err(MetaError::Field { field: "title", .. })
        ));
        assert!(matches!(
            parse("# METADATA\n# title: [\npackage x\n"),
            Err(MetaError::Yaml(_))
        ));
    }
}
