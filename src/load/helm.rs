//! Helm's `# Source: chart/templates/x.yaml` comments, which `helm template` writes before each
//! rendered document.

/// The template named by a `# Source:` comment in the leading comment lines of a document.
pub fn source_comment(chunk: &str) -> Option<String> {
    for line in chunk.lines() {
        let line = line.trim();
        if line.is_empty() || line == "---" {
            continue;
        }
        let Some(comment) = line.strip_prefix('#') else {
            // Content started: the comment, if any, came before it.
            return None;
        };
        if let Some(path) = comment.trim_start().strip_prefix("Source:") {
            let path = path.trim();
            if !path.is_empty() {
                return Some(path.to_owned());
            }
        }
    }
    None
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
    fn ignores_comments_after_content() {
        assert_eq!(source_comment("a: 1\n# Source: x.yaml\n"), None);
    }
}
