//! `semver_compare(version, range)` with blang/semver v4 range semantics:
//! space-separated comparators are ANDed, `||` ORs groups, `x` wildcards are
//! expanded exactly as blang does (so `!4.x.x` expands to the AND of `<4.0.0`
//! and `>=4.1.0`). An unparsable version counts as `0.0.0`, as in Kyverno.

use std::cmp::Ordering;

use semver::Version;

/// Whether `version` satisfies `range`.
pub fn matches(version: &str, range: &str) -> Result<bool, String> {
    let version = Version::parse(version).unwrap_or(Version::new(0, 0, 0));
    let groups = parse_range(range)?;
    Ok(groups
        .iter()
        .any(|group| group.iter().all(|c| c.accepts(&version))))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

struct Comparator {
    op: Op,
    version: Version,
}

impl Comparator {
    fn accepts(&self, v: &Version) -> bool {
        let ord = v.cmp_precedence(&self.version);
        match self.op {
            Op::Eq => ord == Ordering::Equal,
            Op::Ne => ord != Ordering::Equal,
            Op::Gt => ord == Ordering::Greater,
            Op::Ge => ord != Ordering::Less,
            Op::Lt => ord == Ordering::Less,
            Op::Le => ord != Ordering::Greater,
        }
    }
}

fn invalid(range: &str) -> String {
    format!("Could not parse Range \"{range}\"")
}

fn parse_range(range: &str) -> Result<Vec<Vec<Comparator>>, String> {
    let mut groups = Vec::new();
    for group in split_or(&split_and_trim(range)) {
        if group.is_empty() {
            return Err(invalid(range));
        }
        let mut comparators = Vec::new();
        for part in group.iter().flat_map(|p| expand_wildcard(p)) {
            comparators.push(build(&part).ok_or_else(|| invalid(range))?);
        }
        groups.push(comparators);
    }
    Ok(groups)
}

/// blang's `splitAndTrim`: split on spaces, except after `<`, `>` or `=`.
fn split_and_trim(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut last = ' ';
    for c in s.chars() {
        if c == ' ' {
            if !matches!(last, '<' | '>' | '=') && !current.is_empty() {
                parts.push(std::mem::take(&mut current));
            }
        } else {
            current.push(c);
            last = c;
        }
    }
    if !current.is_empty() {
        parts.push(current);
    }
    parts
}

fn split_or(parts: &[String]) -> Vec<Vec<String>> {
    parts.split(|p| p == "||").map(<[String]>::to_vec).collect()
}

/// Operator text and version text (`">=1.2.3"` → `(">=", "1.2.3")`).
fn split_comparator(part: &str) -> Option<(&str, &str)> {
    let i = part.find(|c: char| c.is_ascii_digit())?;
    Some((part.get(..i)?.trim(), part.get(i..)?))
}

/// blang's `expandWildcardVersion` for one comparator.
fn expand_wildcard(part: &str) -> Vec<String> {
    if !part.contains('x') {
        return vec![part.to_owned()];
    }
    let Some((op, version)) = split_comparator(part) else {
        return vec![part.to_owned()];
    };
    let pieces: Vec<&str> = version.split('.').collect();
    let is_wildcard = pieces.last() == Some(&"x");
    let flat = flatten(version);
    let bump = |flat: &str| match (is_wildcard, pieces.len()) {
        (true, 3) => increment(flat, 1),
        (true, 2) => increment(flat, 0),
        _ => flat.to_owned(),
    };
    match op {
        ">" => vec![format!(">={}", bump(&flat))],
        ">=" => vec![format!(">={flat}")],
        "<" => vec![format!("<{flat}")],
        "<=" => vec![format!("<{}", bump(&flat))],
        "" | "=" | "==" => vec![format!(">={flat}"), format!("<{}", bump(&flat))],
        "!" | "!=" => vec![format!("<{flat}"), format!(">={}", bump(&flat))],
        _ => vec![part.to_owned()],
    }
}

/// blang's `createVersionFromWildcard`.
fn flatten(version: &str) -> String {
    let flat = version.replacen(".x.x", ".x", 1).replacen(".x", ".0", 1);
    if flat.split('.').count() == 2 {
        format!("{flat}.0")
    } else {
        flat
    }
}

fn increment(version: &str, index: usize) -> String {
    let mut parts: Vec<String> = version.split('.').map(str::to_owned).collect();
    if let Some(part) = parts.get_mut(index)
        && let Ok(n) = part.parse::<u64>()
    {
        *part = (n + 1).to_string();
    }
    parts.join(".")
}

fn build(part: &str) -> Option<Comparator> {
    let (op, version) = split_comparator(part)?;
    let op = match op {
        "" | "=" | "==" => Op::Eq,
        "!" | "!=" => Op::Ne,
        ">" => Op::Gt,
        ">=" => Op::Ge,
        "<" => Op::Lt,
        "<=" => Op::Le,
        _ => return None,
    };
    Some(Comparator {
        op,
        version: Version::parse(version).ok()?,
    })
}
