//! A rule's documentation as Markdown: what `kvet explain` prints and an editor shows on
//! hover.

use crate::rules::{SCHEMA, meta};

/// The documentation of the rule `id`, `None` for an unknown rule.
pub fn explanation(id: &str) -> Option<String> {
    let m = meta(id)?;
    let mut out = format!(
        "# {}\n\n{}\n\nDefault level: {} · Category: {}",
        m.id, m.summary, m.default_level, m.category
    );
    if !m.kinds.is_empty() {
        out.push_str(&format!(" · Kinds: {}", m.kinds.join(", ")));
    }
    out.push_str("\n\n");
    for line in m.docs.lines() {
        out.push_str(line.strip_prefix(' ').unwrap_or(line));
        out.push('\n');
    }
    if m.id == SCHEMA.meta.id {
        out.push_str(&catalog_rules());
    }
    Some(out)
}

/// The documentation of a rule only a run knows (a Kyverno policy's), as [`explanation`]
/// prints a built-in one.
pub fn run_rule_explanation(id: &str, rule: &super::RunRule) -> String {
    format!(
        "# {id}\n\n{}\n\nDefault level: {} · Category: {}\n\n{}\n",
        rule.summary,
        rule.default_level,
        rule.category,
        rule.docs.trim()
    )
}

/// What `kvet explain schema` says of the CEL rules of the CRD catalog: how many, and which
/// are skipped and why.
fn catalog_rules() -> String {
    let (total, skipped) = match crate::schema::catalog::cel_rules() {
        Ok(found) => found,
        Err(e) => {
            return format!("\n## CEL rules of the CRD catalog\nThe catalog is damaged: {e}\n");
        }
    };
    let mut out = format!(
        "\n## CEL rules of the CRD catalog\n{total} distinct rules in the catalog's schemas; kvet runs {} and skips {}.\n",
        total - skipped.len(),
        skipped.len()
    );
    for (rule, why) in skipped {
        out.push_str(&format!("- `{}`: {why}\n", rule.replace('\n', " ")));
    }
    out
}
