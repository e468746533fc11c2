//! ApplicationSets expanded to the Applications they generate, for the generators whose
//! output is known offline: a `list` generator's elements, and a `git` generator's directories
//! of this repository. The set's `template` is filled in with each parameter set, as Argo CD
//! fills it in (`{{name}}`, or `{{.name}}` with `goTemplate: true`); the Applications keep the
//! template's lines. Other generators (clusters, SCM providers, pull requests, git files,
//! matrix, merge...) are one info on the generator each: their Applications are not known here.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

use super::applications::{App, is_local};
use crate::load::object::Object;
use crate::load::spans::Span;
use crate::load::yaml::{Node, Value};

/// What an ApplicationSet generates, and what kvet cannot tell.
#[derive(Default)]
pub struct Expanded {
    pub applications: Vec<App>,
    /// Generators whose Applications are not known offline: where, and what to say.
    pub problems: Vec<(Span, String)>,
}

/// `{{name}}`, `{{ .name }}`, `{{- .path.basename -}}`.
static PARAMETER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{\{-?\s*(\.?)([A-Za-z0-9_.\[\]-]+)\s*-?\}\}").expect("valid regex")
});

/// The Applications `set` generates; `root` is the repository its file is in, `urls` this
/// repository's URLs.
pub fn expand(set: &Object, root: &Path, urls: &[String]) -> Expanded {
    let mut out = Expanded::default();
    let name = set.id.name.clone().unwrap_or_default();
    let Some(spec) = set.root.get("spec") else {
        return out;
    };
    let Some(template) = spec.get("template") else {
        return out;
    };
    let go = spec
        .get("goTemplate")
        .and_then(Node::scalar_text)
        .as_deref()
        == Some("true");
    let generators = spec
        .get("generators")
        .and_then(Node::as_seq)
        .unwrap_or_default();
    for generator in generators {
        let Some(entries) = generator.as_map() else {
            continue;
        };
        for entry in entries {
            let parameters = match entry.key.as_str() {
                "list" => Some(list(&entry.value)),
                "git" => git(&entry.value, root, urls),
                "selector" => continue,
                _ => None,
            };
            match parameters {
                Some(sets) => out.applications.extend(sets.iter().map(|parameters| {
                    let mut app = application(template, parameters, go);
                    // Argo CD makes them in the set's namespace.
                    app.namespace = app.namespace.or_else(|| set.id.namespace.clone());
                    app
                })),
                None => out.problems.push((
                    entry.key_span,
                    format!(
                        "ApplicationSet {name}: what its `{}` generator generates is not known offline, so those Applications were not rendered",
                        entry.key
                    ),
                )),
            }
        }
    }
    out
}

type Parameters = Vec<(String, String)>;

/// A `list` generator's elements: each a parameter set (nested keys as `a.b`).
fn list(generator: &Node) -> Vec<Parameters> {
    let elements = generator
        .get("elements")
        .and_then(Node::as_seq)
        .unwrap_or_default();
    elements
        .iter()
        .map(|element| {
            let mut parameters = Vec::new();
            flatten(element, "", &mut parameters);
            parameters
        })
        .collect()
}

fn flatten(node: &Node, prefix: &str, out: &mut Parameters) {
    match &node.value {
        Value::Map(entries) => {
            for e in entries {
                let key = match prefix {
                    "" => e.key.clone(),
                    _ => format!("{prefix}.{}", e.key),
                };
                flatten(&e.value, &key, out);
            }
        }
        _ => {
            if let Some(text) = node.scalar_text() {
                out.push((prefix.to_owned(), text));
            }
        }
    }
}

/// A `git` generator's directories of this repository: `None` (not known) for its `files`,
/// `Some` empty for another repository's.
fn git(generator: &Node, root: &Path, urls: &[String]) -> Option<Vec<Parameters>> {
    let url = generator.get("repoURL").and_then(Node::as_str)?;
    let directories = generator.get("directories").and_then(Node::as_seq)?;
    if !is_local(url, urls) {
        return Some(Vec::new());
    }
    let glob = |pattern: &str| {
        globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .ok()
            .map(|g| g.compile_matcher())
    };
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    for directory in directories {
        let Some(matcher) = directory.get("path").and_then(Node::as_str).and_then(glob) else {
            continue;
        };
        let excluded = directory
            .get("exclude")
            .and_then(Node::scalar_text)
            .as_deref()
            == Some("true");
        if excluded {
            exclude.push(matcher);
        } else {
            include.push(matcher);
        }
    }
    let mut found = Vec::new();
    for entry in ignore::WalkBuilder::new(root).build().flatten() {
        if !entry.file_type().is_some_and(|t| t.is_dir()) {
            continue;
        }
        let Ok(relative) = entry.path().strip_prefix(root) else {
            continue;
        };
        let path = relative.to_string_lossy().replace('\\', "/");
        if path.is_empty()
            || !include.iter().any(|m| m.is_match(&path))
            || exclude.iter().any(|m| m.is_match(&path))
        {
            continue;
        }
        found.push(path);
    }
    found.sort();
    Some(
        found
            .into_iter()
            .map(|path| directory_parameters(&path))
            .collect(),
    )
}

/// The parameters of a directory, for both template styles: `path`, `path.basename`,
/// `path.basenameNormalized`, `path[0]`… and `path.path`.
fn directory_parameters(path: &str) -> Parameters {
    let basename = path.rsplit('/').next().unwrap_or(path).to_owned();
    let normalized: String = basename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let mut parameters = vec![
        ("path".to_owned(), path.to_owned()),
        ("path.path".to_owned(), path.to_owned()),
        ("path.basename".to_owned(), basename),
        ("path.basenameNormalized".to_owned(), normalized),
    ];
    for (i, segment) in path.split('/').enumerate() {
        parameters.push((format!("path[{i}]"), segment.to_owned()));
    }
    parameters
}

/// The template filled in with one parameter set.
fn application(template: &Node, parameters: &Parameters, go: bool) -> App {
    let root = fill(template, parameters, go);
    let metadata = root.get("metadata");
    let field = |key: &str| {
        metadata
            .and_then(|m| m.get(key))
            .and_then(Node::as_str)
            .map(str::to_owned)
    };
    App {
        name: field("name").unwrap_or_default(),
        namespace: field("namespace"),
        root,
    }
}

fn fill(node: &Node, parameters: &Parameters, go: bool) -> Node {
    let value = match &node.value {
        Value::Str(text) => Value::Str(
            PARAMETER
                .replace_all(text, |c: &regex::Captures| {
                    let dotted = !c[1].is_empty();
                    let value = (dotted == go)
                        .then(|| parameters.iter().find(|(k, _)| *k == c[2]))
                        .flatten();
                    value.map_or_else(|| c[0].to_owned(), |(_, v)| v.clone())
                })
                .into_owned(),
        ),
        Value::Seq(items) => Value::Seq(items.iter().map(|i| fill(i, parameters, go)).collect()),
        Value::Map(entries) => Value::Map(
            entries
                .iter()
                .map(|e| crate::load::yaml::Entry {
                    value: fill(&e.value, parameters, go),
                    ..e.clone()
                })
                .collect(),
        ),
        other => other.clone(),
    };
    Node {
        value,
        span: node.span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_fill_the_template_in_either_style() {
        let node = |text: &str| Node {
            value: Value::Str(text.to_owned()),
            span: Span::default(),
        };
        let parameters = directory_parameters("apps/Web_Shop");
        let filled = |text, go| {
            fill(&node(text), &parameters, go)
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(
            filled("{{path.basename}}-{{path[0]}}", false),
            "Web_Shop-apps"
        );
        assert_eq!(filled("{{ .path.path }}", true), "apps/Web_Shop");
        assert_eq!(filled("{{path.basenameNormalized}}", false), "web-shop");
        // The other style, or a parameter the set does not have: left as written.
        assert_eq!(
            filled("{{.path.path}} {{cluster}}", false),
            "{{.path.path}} {{cluster}}"
        );
    }
}
