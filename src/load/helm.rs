//! Helm's `# Source: chart/templates/x.yaml` comments, which `helm template` writes before each
//! rendered document.

/// Whether a file is a template of a Helm chart: under `templates/` of a folder that holds a
/// `Chart.yaml`.
pub fn is_chart_template(path: &std::path::Path) -> bool {
    // Absolute: `x.yaml` named from inside `templates/` is a template as `chart/templates/x.yaml`
    // is, whether it is a file or an editor's buffer named so.
    let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    path.ancestors()
        .skip(1)
        .filter(|dir| dir.file_name().is_some_and(|n| n == "templates"))
        .any(|dir| {
            dir.parent()
                .is_some_and(|chart| chart.join("Chart.yaml").is_file())
        })
}

/// The template named by the last `# Source:` comment before a document's content. (Helm also
/// renders comment-only documents, whose `# Source:` is not the next object's.)
pub fn source_comment(chunk: &str) -> Option<String> {
    let mut found = None;
    for line in chunk.lines() {
        let line = line.trim();
        if line == "---" {
            // A comment-only document before this one keeps its `# Source:` to itself.
            found = None;
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let Some(comment) = line.strip_prefix('#') else {
            // Content started: the comment, if any, came before it.
            break;
        };
        if let Some(path) = comment.trim_start().strip_prefix("Source:") {
            let path = path.trim();
            if !path.is_empty() {
                found = Some(path.to_owned());
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::{is_chart_template, source_comment};

    #[test]
    fn templates_of_a_chart_are_told_apart_from_manifests() {
        let chart = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/render/shop");
        assert!(is_chart_template(&chart.join("templates/deployment.yaml")));
        assert!(is_chart_template(
            &chart.join("charts/cache/templates/deployment.yaml")
        ));
        assert!(!is_chart_template(&chart.join("values.yaml")));
        // A `templates` folder that is no chart's.
        assert!(!is_chart_template(std::path::Path::new(
            "testdata/templates/x.yaml"
        )));
    }

    #[test]
    fn finds_the_source_comment_after_the_separator() {
        let doc = "---\n# Source: app/templates/deploy.yaml\napiVersion: v1\n";
        assert_eq!(
            source_comment(doc).as_deref(),
            Some("app/templates/deploy.yaml")
        );
    }

    #[test]
    fn a_comment_only_document_does_not_lend_its_source() {
        let doc = "---\n# Source: c/templates/a.yaml\n# Copyright\n---\n# Source: c/templates/b.yaml\nkind: X\n";
        assert_eq!(source_comment(doc).as_deref(), Some("c/templates/b.yaml"));
    }

    #[test]
    fn a_comment_only_document_without_a_successor_source_lends_nothing() {
        let doc = "---\n# Source: c/templates/c.yaml\n\n---\nkind: X\n";
        assert_eq!(source_comment(doc), None);
    }

    #[test]
    fn ignores_comments_after_content() {
        assert_eq!(source_comment("a: 1\n# Source: x.yaml\n"), None);
    }
}
