//! Recursive functions in a user's policy, found before it is evaluated: OPA rejects them at
//! compile time (`rego_recursion_error`), and the engine kvet embeds would recurse until the
//! process dies of a stack overflow, with no output at all.
//!
//! Read from the text: a function is a rule head at the start of a line with parameters
//! (`name(x) := y if {`); its body runs to the next head. A call is `name(` not preceded by a
//! `.` or a word character (so `data.x.name(` and `my_name(` are not calls of `name`), or the
//! function's full name (`data.pkg.name(`), or its name through an import (`pkg.name(`), so
//! cycles through the files of one run are found too.

use std::collections::HashMap;

/// A function of one of the files: its package-qualified name (`main.f`), file, head line
/// (0-based) and body text (comments and string contents blanked).
struct Function {
    name: String,
    file: usize,
    line: usize,
    body: String,
}

/// The first cycle of calls among the functions of `sources` (the files of one run, which
/// may call each other's functions as `data.pkg.f(…)` or through an import): the file it
/// starts in, the line of that function, and the names along it. Names are written as called
/// in the file the cycle starts in: bare for its package, qualified for others
/// (`f → lib.g → f`).
pub fn find_across(sources: &[&str]) -> Option<(usize, usize, String)> {
    let mut functions: Vec<Function> = Vec::new();
    // Per file: its package and its import aliases (alias → imported path under `data.`).
    let mut packages: Vec<String> = Vec::new();
    let mut aliases: Vec<Vec<(String, String)>> = Vec::new();
    for (file, source) in sources.iter().enumerate() {
        let lines: Vec<String> = source.lines().map(without_comment).collect();
        let package = lines
            .iter()
            .find_map(|l| l.trim().strip_prefix("package "))
            .map_or_else(String::new, |p| p.trim().to_owned());
        aliases.push(lines.iter().filter_map(|l| import_alias(l)).collect());
        // (name, head line index, whether it is a function) of every rule head.
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
        for (k, (name, start, function)) in heads.iter().enumerate() {
            if !function {
                continue;
            }
            let end = heads.get(k + 1).map_or(lines.len(), |(_, l, _)| *l);
            // The head's own name is its definition, not a call.
            let body = lines[*start..end].join("\n")[name.len()..].to_owned();
            functions.push(Function {
                name: format!("{package}.{name}"),
                file,
                line: *start,
                body,
            });
        }
        packages.push(package);
    }
    // What each function calls (all its definitions together), by qualified name: every
    // `name(` of its body resolved as its file resolves it, in one pass over the body.
    let known: std::collections::HashSet<&str> =
        functions.iter().map(|f| f.name.as_str()).collect();
    let mut calls: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut first: HashMap<&str, (usize, usize)> = HashMap::new();
    for f in &functions {
        first.entry(f.name.as_str()).or_insert((f.file, f.line));
        let called = calls.entry(f.name.as_str()).or_default();
        for written in written_calls(&f.body) {
            let Some(qualified) = resolve(written, &packages[f.file], &aliases[f.file]) else {
                continue;
            };
            if let Some(&g) = known.get(qualified.as_str())
                && !called.contains(&g)
            {
                called.push(g);
            }
        }
    }
    let mut order: Vec<&str> = first.keys().copied().collect();
    order.sort_by_key(|n| first[n]);
    for start in order {
        let mut path = vec![start];
        if let Some(cycle) = cycle_from(start, &calls, &mut path) {
            let (file, line) = first[start];
            let package = format!("{}.", packages[file]);
            let shown: Vec<&str> = cycle
                .iter()
                .map(|n| n.strip_prefix(package.as_str()).unwrap_or(n))
                .collect();
            return Some((file, line + 1, shown.join(" → ")));
        }
    }
    None
}

/// Every dotted name written right before a `(` in `body` (`f`, `lib.g`, `data.main.f`).
fn written_calls(body: &str) -> Vec<&str> {
    body.match_indices('(')
        .filter_map(|(at, _)| {
            let start = body[..at]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
                .map_or(0, |i| i + 1);
            let name = &body[start..at];
            let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
            (word(name.chars().next()) && !name.ends_with('.')).then_some(name)
        })
        .collect()
}

/// The function a file of `package` with import `aliases` means by `written`: `data.pkg.f`
/// is `pkg.f`, a bare `f` is its own package's, `alias.rest.f` goes through an import.
fn resolve(written: &str, package: &str, aliases: &[(String, String)]) -> Option<String> {
    if let Some(rest) = written.strip_prefix("data.") {
        return Some(rest.to_owned());
    }
    match written.split_once('.') {
        None => Some(format!("{package}.{written}")),
        Some((first, rest)) => aliases
            .iter()
            .find(|(alias, _)| alias == first)
            .map(|(_, path)| format!("{path}.{rest}")),
    }
}

/// `import data.a.b` → (`b`, `a.b`); `import data.a.b as c` → (`c`, `a.b`).
fn import_alias(line: &str) -> Option<(String, String)> {
    let rest = line.trim().strip_prefix("import data.")?;
    let mut words = rest.split_whitespace();
    let path = words.next()?.to_owned();
    let alias = match (words.next(), words.next()) {
        (Some("as"), Some(alias)) => alias.to_owned(),
        _ => path.rsplit('.').next()?.to_owned(),
    };
    Some((alias, path))
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
    use super::find_across;

    /// The cycle of one file: its line and names.
    fn find(source: &str) -> Option<(usize, String)> {
        find_across(&[source]).map(|(_, line, cycle)| (line, cycle))
    }

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
    fn cycles_through_files_are_found() {
        let main = "package main\nimport data.lib\n\nf(x) := y if {\n\ty := lib.g(x)\n}\n";
        let lib = "package lib\n\ng(x) := y if {\n\ty := data.main.f(x)\n}\n";
        assert_eq!(
            find_across(&[main, lib]),
            Some((0, 4, "f → lib.g → f".to_owned()))
        );
        let aliased = "package main\nimport data.lib as helpers\nf(x) := helpers.g(x)\n";
        assert_eq!(
            find_across(&[aliased, lib]),
            Some((0, 3, "f → lib.g → f".to_owned()))
        );
        // A call of another package's function of the same name is not a call of this one.
        let other = "package other\ng(x) := x\n";
        let calls_other = "package lib\ng(x) := data.other.g(x)\n";
        assert_eq!(find_across(&[other, calls_other]), None);
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
