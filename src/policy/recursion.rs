//! Recursive functions in a user's policy, found before it is evaluated: OPA rejects them at
//! compile time (`rego_recursion_error`), and the engine kvet embeds would recurse until the
//! process dies of a stack overflow, with no output at all.
//!
//! Read from the text: a function is a rule head at the start of a line with parameters
//! (`name(x) := y if {`); its body runs to the next head. A call is `name(` not preceded by a
//! `.` or a word character (so `data.x.name(` and `my_name(` are not calls of `name`).

use std::collections::HashMap;

/// The first cycle of calls among the functions of `source`: the line of the function it
/// starts at and the names along it (`f → g → f`).
pub fn find(source: &str) -> Option<(usize, String)> {
    let mut lines: Vec<String> = source.lines().map(without_comment).collect();
    // `data.<package>.f(x)` in the package's own file is a call of `f`.
    let package = lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("package "))
        .map(|p| format!("data.{}.", p.trim()));
    if let Some(prefix) = package {
        for line in &mut lines {
            if line.contains(&prefix) {
                *line = line.replace(&prefix, "");
            }
        }
    }
    // (name, head line index) of every rule head; functions are those with parameters.
    let heads: Vec<(String, usize, bool)> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, line)| {
            let name = leading_identifier(line)?;
            // `package`, `import` and `default` lines end the rule before them, and are none.
            let keyword = matches!(name, "package" | "import" | "default");
            let function = !keyword && line[name.len()..].starts_with('(');
            Some((name.to_owned(), i, function))
        })
        .collect();
    let functions: Vec<&str> = heads
        .iter()
        .filter(|(_, _, f)| *f)
        .map(|(n, _, _)| n.as_str())
        .collect();
    // What each function calls (all its definitions together).
    let mut calls: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut first_line: HashMap<&str, usize> = HashMap::new();
    for (k, (name, start, function)) in heads.iter().enumerate() {
        if !function {
            continue;
        }
        first_line.entry(name).or_insert(*start);
        let end = heads.get(k + 1).map_or(lines.len(), |(_, l, _)| *l);
        let body = lines[*start..end].join("\n");
        // The head's own name is its definition, not a call.
        let body = &body[name.len()..];
        let called = calls.entry(name).or_default();
        for callee in &functions {
            if calls_function(body, callee) && !called.contains(callee) {
                called.push(callee);
            }
        }
    }
    let mut order: Vec<&str> = first_line.keys().copied().collect();
    order.sort_by_key(|n| first_line[n]);
    for start in order {
        let mut path = vec![start];
        if let Some(cycle) = cycle_from(start, &calls, &mut path) {
            return Some((first_line[start] + 1, cycle.join(" → ")));
        }
    }
    None
}

/// A path of calls from `path`'s last function back to `path[0]`.
fn cycle_from<'a>(
    start: &'a str,
    calls: &HashMap<&'a str, Vec<&'a str>>,
    path: &mut Vec<&'a str>,
) -> Option<Vec<&'a str>> {
    let at = *path.last()?;
    for &next in calls.get(at).map(Vec::as_slice).unwrap_or_default() {
        if next == start {
            let mut cycle = path.clone();
            cycle.push(start);
            return Some(cycle);
        }
        if !path.contains(&next) {
            path.push(next);
            if let Some(cycle) = cycle_from(start, calls, path) {
                return Some(cycle);
            }
            path.pop();
        }
    }
    None
}

pub(super) fn calls_function(body: &str, name: &str) -> bool {
    body.match_indices(name).any(|(at, _)| {
        let before = body[..at].chars().next_back();
        let after = &body[at + name.len()..];
        after.starts_with('(')
            && !before.is_some_and(|c| c == '.' || c == '_' || c.is_alphanumeric())
    })
}

/// An identifier at the very start of a line.
fn leading_identifier(line: &str) -> Option<&str> {
    let end = line
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_'))
        .map_or(line.len(), |(i, _)| i);
    let name = &line[..end];
    (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit())).then_some(name)
}

/// A line without its `#` comment, and with the text of its strings blanked (a `#` or a
/// `f(` inside a string is neither a comment nor a call).
pub(super) fn without_comment(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in line.chars() {
        if in_string {
            match c {
                '\\' if !escaped => escaped = true,
                '"' if !escaped => {
                    in_string = false;
                    out.push('"');
                    continue;
                }
                _ => escaped = false,
            }
            out.push(' ');
            continue;
        }
        match c {
            '"' => in_string = true,
            '#' => break,
            _ => {}
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::find;

    #[test]
    fn direct_and_mutual_recursion_are_found() {
        let direct = "package main\nimport rego.v1\n\nf(x) := y if {\n\ty := f(x + 1)\n}\n";
        assert_eq!(find(direct), Some((4, "f → f".to_owned())));
        let mutual = "package p\ng(x) := h(x)\nh(x) := y if { y := g(x) }\n";
        assert_eq!(find(mutual), Some((2, "g → h → g".to_owned())));
        // Called by its full name in its own package.
        let full = "package k8s.rules\nf(x) := y if {\n\ty := data.k8s.rules.f(x + 1)\n}\n";
        assert_eq!(find(full), Some((2, "f → f".to_owned())));
    }

    #[test]
    fn calls_that_are_not_recursion_are_not() {
        let fine = "package p\n# f(x) in a comment\nf(x) := y if { y := g(x); z := data.lib.f(1); w := my_f(2); s := \"f(3)\" }\ng(x) := x + 1\nmy_f(x) := x\n";
        assert_eq!(find(fine), None);
        // Two definitions of one function (an `else`-like split) calling another, and its
        // default.
        let split = "package p\nf(x) := 1 if { x > 0 }\nf(x) := g(x) if { x <= 0 }\ndefault f(_) := 0\ng(x) := 2\n";
        assert_eq!(find(split), None);
    }
}
