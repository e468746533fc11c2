//! Helm's `# Source: chart/templates/x.yaml` comments, which `helm template` writes before each
//! rendered document.

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
    use super::source_comment;

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
