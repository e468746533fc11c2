//! Where Kubernetes' YAML reader is more lenient than the YAML spec, and so than saphyr.
//!
//! `kubectl`, the API server and Argo CD read YAML with go-yaml, a port of libyaml, which does
//! not check indentation inside flow collections or multi-line quoted scalars. Real manifests
//! rely on that (Tekton's `args: [` … `]` with the bracket under the key, Istio CRDs with
//! `description: '…` continuation lines left of the key). saphyr rejects them with "invalid
//! indentation". kvet must not call valid-for-Kubernetes YAML broken, so such a document is
//! re-indented and parsed again: leading whitespace on the continuation lines of flow
//! collections and quoted scalars carries no meaning, so the values are unchanged, and the
//! columns are shifted back when positions are reported.

/// Where and why saphyr stopped, in the coordinates of the text it was given.
#[derive(Debug, Clone)]
pub struct Failure {
    /// 0-based line within the text.
    pub line0: usize,
    /// 0-based column, in characters.
    pub col0: usize,
    pub info: String,
}

/// A collection that was open when parsing stopped.
#[derive(Debug, Clone, Copy)]
pub struct Open {
    /// Written in flow style (`[`, `{`).
    pub flow: bool,
    /// 0-based column of its start, in characters, in the text given to the parser.
    pub col0: usize,
}

/// Added indentation: `(0-based line, spaces added at its start)`.
pub type Shift = (usize, usize);

/// The text with the offending lines indented further, if the failure is one go-yaml accepts.
pub fn repair(text: &str, failure: &Failure, open: &[Open]) -> Option<(String, Vec<Shift>)> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let shifts = match failure.info.as_str() {
        "invalid indentation" | "invalid indentation in flow construct" => {
            if !open.iter().any(|o| o.flow) {
                return None;
            }
            // Deeper than the innermost block collection is always enough.
            let block_col = open.iter().rev().find(|o| !o.flow).map_or(0, |o| o.col0);
            let line = lines.get(failure.line0)?;
            if leading_blanks(line) != failure.col0 {
                return None;
            }
            let depth = open.iter().filter(|o| o.flow).count();
            flow_shifts(&lines, failure.line0, depth, block_col + 1)
        }
        "invalid indentation in quoted scalar" => quoted_scalar_shifts(&lines, failure)?,
        _ => return None,
    };
    if shifts.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 64);
    let mut pending = shifts.iter().peekable();
    for (i, line) in lines.iter().enumerate() {
        // Shifts are in line order.
        if let Some((_, n)) = pending.next_if(|(l, _)| *l == i) {
            out.extend(std::iter::repeat_n(' ', *n));
        }
        out.push_str(line);
    }
    Some((out, shifts))
}

fn leading_blanks(line: &str) -> usize {
    line.chars().take_while(|c| *c == ' ' || *c == '\t').count()
}

/// Indents the lines of the open flow collections, from `line0` to the line that closes them,
/// to at least `target` (in one go, so that a long list costs one more parse, not one per line).
/// Nothing is changed unless the collections are seen to close.
fn flow_shifts(lines: &[&str], line0: usize, mut depth: usize, target: usize) -> Vec<Shift> {
    let mut shifts = Vec::new();
    let mut quote: Option<char> = None;
    // The last character that was not blank: a quote opens a scalar only after one of `[{,:?`
    // (`O'Brien` is a plain scalar), or as the first token scanned.
    let mut last: Option<char> = None;
    for (i, line) in lines.iter().enumerate().skip(line0) {
        let indent = leading_blanks(line);
        if quote.is_none() && !line.trim().is_empty() && indent < target {
            shifts.push((i, target - indent));
        }
        let mut prev = ' ';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (quote, c) {
                (Some('"'), '\\') => {
                    chars.next();
                }
                (Some('\''), '\'') if chars.peek() == Some(&'\'') => {
                    chars.next();
                }
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') if matches!(last, None | Some('[' | '{' | ',' | ':' | '?')) => {
                    quote = Some(c);
                }
                (None, '#') if prev.is_whitespace() => break,
                (None, '[' | '{') => depth += 1,
                (None, ']' | '}') => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return shifts;
                    }
                }
                _ => {}
            }
            if !c.is_whitespace() {
                last = Some(c);
            }
            prev = c;
        }
    }
    Vec::new()
}

/// Indents the continuation lines of the quoted scalar that starts at the failure to the
/// column of its opening quote.
fn quoted_scalar_shifts(lines: &[&str], failure: &Failure) -> Option<Vec<Shift>> {
    let first = lines.get(failure.line0)?;
    let mut chars = first.chars().skip(failure.col0);
    let quote = chars.next().filter(|c| *c == '\'' || *c == '"')?;
    let target = failure.col0;
    let mut shifts = Vec::new();
    let mut rest: Vec<char> = chars.collect();
    let mut line0 = failure.line0;
    loop {
        let mut i = 0;
        while i < rest.len() {
            match rest[i] {
                '\\' if quote == '"' => i += 2,
                '\'' if quote == '\'' && rest.get(i + 1) == Some(&'\'') => i += 2,
                c if c == quote => return Some(shifts),
                _ => i += 1,
            }
        }
        line0 += 1;
        let line = lines.get(line0)?;
        let indent = leading_blanks(line);
        if !line.trim().is_empty() && indent < target {
            shifts.push((line0, target - indent));
        }
        rest = line.chars().collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stopped at line 2, column 2 with "invalid indentation", inside `open`.
    fn repair_at_2_2(text: &str, open: &[Open]) -> Option<(String, Vec<Shift>)> {
        let failure = Failure {
            line0: 2,
            col0: 2,
            info: "invalid indentation".into(),
        };
        repair(text, &failure, open)
    }

    fn block(col0: usize) -> Open {
        Open { flow: false, col0 }
    }

    const FLOW_AT_8: Open = Open {
        flow: true,
        col0: 8,
    };

    /// `args: [` at column 2 of a mapping at column 0.
    fn repair_args_list(text: &str) -> (String, Vec<Shift>) {
        repair_at_2_2(text, &[block(0), block(2), FLOW_AT_8]).unwrap()
    }

    #[test]
    fn pads_a_closing_bracket_under_its_key() {
        let (fixed, shifts) = repair_args_list("a:\n  args: [\n  \"x\"\n  ]\n");
        assert_eq!(fixed, "a:\n  args: [\n   \"x\"\n   ]\n");
        assert_eq!(shifts, [(2, 1), (3, 1)]);
    }

    #[test]
    fn pads_a_whole_flow_list_and_stops_where_it_closes() {
        let text = "a:\n  args: [\n  \"x]\", # ]\n  {b: c},\n  ]\n  env: x\n";
        let (fixed, shifts) = repair_args_list(text);
        assert_eq!(shifts, [(2, 1), (3, 1), (4, 1)]);
        assert!(fixed.ends_with("   ]\n  env: x\n"));
    }

    #[test]
    fn quotes_inside_plain_scalars_do_not_open_strings() {
        let (fixed, shifts) = repair_args_list("a:\n  args: [\n  don't,\n  ]\n  env: it's\n");
        assert_eq!(shifts, [(2, 1), (3, 1)]);
        assert!(fixed.ends_with("   ]\n  env: it's\n"));
    }

    #[test]
    fn nothing_changes_when_the_collection_never_closes() {
        let text = "a:\n  args: [\n  x,\n  y\n";
        assert!(repair_at_2_2(text, &[block(2), FLOW_AT_8]).is_none());
    }

    #[test]
    fn leaves_block_indentation_errors_alone() {
        let text = "a:\n    b: 1\n  c: 2\n";
        assert!(repair_at_2_2(text, &[block(0), block(4)]).is_none());
    }

    #[test]
    fn pads_quoted_scalar_continuations() {
        let text = "- d: 'it''s\n a\n\n b'\n";
        let failure = Failure {
            line0: 0,
            col0: 5,
            info: "invalid indentation in quoted scalar".into(),
        };
        let (fixed, shifts) = repair(text, &failure, &[]).unwrap();
        assert_eq!(fixed, "- d: 'it''s\n     a\n\n     b'\n");
        assert_eq!(shifts, [(1, 4), (3, 4)]);
    }
}
