//! `random(pattern)`: a string matching a regular expression.
//!
//! Kyverno uses goregen. This generator supports the common subset: literals,
//! escapes (`\d \w \s` and escaped punctuation), `.`, classes `[a-z0-9_]` and
//! `[^...]`, groups `(...)`/`(?:...)`, alternation `|`, anchors (ignored) and
//! quantifiers `* + ? {n} {n,} {n,m}`. Unbounded repeats stop at 10, like
//! goregen's default. Randomness comes from std's per-process hash keys.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::super::{arg_str, generic_error};

const UNBOUNDED_MAX: u32 = 10;
const REPEAT_LIMIT: u32 = 1000;
const PRINTABLE: std::ops::RangeInclusive<u8> = 0x20..=0x7e;
/// Bounds on what a pattern may ask for (they come from policies and, through variables, from
/// the objects checked): nested groups and classes, and the length of the generated text.
const MAX_NESTING: usize = 32;
const MAX_OUTPUT: usize = 64 * 1024;

pub(super) fn random(args: &[Value]) -> Result<Value, String> {
    let pattern = arg_str("random", args, 0)?;
    if pattern.is_empty() {
        return Err("no pattern provided".to_owned());
    }
    let chars: Vec<char> = pattern.chars().collect();
    if nesting(&chars) > MAX_NESTING {
        return Err(generic_error("random", "pattern nested too deeply"));
    }
    let mut parser = Parser {
        chars: &chars,
        pos: 0,
    };
    let node = parser.alternation()?;
    if parser.pos < chars.len() {
        return Err(generic_error("random", "unbalanced ')' in pattern"));
    }
    let mut out = String::new();
    node.generate(&mut Rng::new(), &mut out);
    if out.len() > MAX_OUTPUT {
        return Err(generic_error(
            "random",
            "pattern generates more than 64 KiB of text",
        ));
    }
    Ok(Value::String(out))
}

/// How deeply groups and classes nest in a pattern.
fn nesting(chars: &[char]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for c in chars {
        match c {
            '(' | '[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

enum Node {
    Literal(char),
    Class(Vec<char>),
    Concat(Vec<Node>),
    Alternate(Vec<Node>),
    Repeat(Box<Node>, u32, u32),
}

impl Node {
    fn generate(&self, rng: &mut Rng, out: &mut String) {
        match self {
            Node::Literal(c) => out.push(*c),
            Node::Class(set) => {
                if let Some(c) = set.get(rng.below(set.len())) {
                    out.push(*c);
                }
            }
            // Past the limit nothing more is generated: the caller refuses the result.
            _ if out.len() > MAX_OUTPUT => {}
            Node::Concat(nodes) => nodes.iter().for_each(|n| n.generate(rng, out)),
            Node::Alternate(nodes) => {
                if let Some(n) = nodes.get(rng.below(nodes.len())) {
                    n.generate(rng, out);
                }
            }
            Node::Repeat(node, min, max) => {
                let span = max.saturating_sub(*min) as usize + 1;
                let count = *min as usize + rng.below(span);
                (0..count).for_each(|_| node.generate(rng, out));
            }
        }
    }
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek();
        self.pos += 1;
        c
    }

    fn alternation(&mut self) -> Result<Node, String> {
        let mut branches = vec![self.concat()?];
        while self.peek() == Some('|') {
            self.pos += 1;
            branches.push(self.concat()?);
        }
        Ok(if branches.len() == 1 {
            branches.pop().unwrap_or(Node::Concat(Vec::new()))
        } else {
            Node::Alternate(branches)
        })
    }

    fn concat(&mut self) -> Result<Node, String> {
        let mut nodes = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            nodes.push(self.quantified(atom)?);
        }
        Ok(Node::Concat(nodes))
    }

    fn atom(&mut self) -> Result<Node, String> {
        match self.next() {
            Some('(') => {
                if self.chars.get(self.pos..self.pos + 2) == Some(&['?', ':']) {
                    self.pos += 2;
                }
                let inner = self.alternation()?;
                if self.next() != Some(')') {
                    return Err(generic_error("random", "missing ')' in pattern"));
                }
                Ok(inner)
            }
            Some('[') => self.class(),
            Some('.') => Ok(Node::Class(PRINTABLE.map(char::from).collect())),
            Some('^' | '$') => Ok(Node::Concat(Vec::new())),
            Some('\\') => self.escape(),
            Some(c @ ('*' | '+' | '?' | '{')) => Err(generic_error(
                "random",
                &format!("missing argument to repetition operator: {c}"),
            )),
            Some(c) => Ok(Node::Literal(c)),
            None => Err(generic_error("random", "unexpected end of pattern")),
        }
    }

    fn escape(&mut self) -> Result<Node, String> {
        match self.next() {
            Some(c) => Ok(escape_class(c).map_or(Node::Literal(escape_literal(c)), Node::Class)),
            None => Err(generic_error("random", "trailing backslash in pattern")),
        }
    }

    fn class(&mut self) -> Result<Node, String> {
        let negated = self.peek() == Some('^');
        if negated {
            self.pos += 1;
        }
        let mut set = Vec::new();
        let mut first = true;
        loop {
            let c = self
                .next()
                .ok_or_else(|| generic_error("random", "missing ']' in pattern"))?;
            if c == ']' && !first {
                break;
            }
            first = false;
            if c == '\\' {
                let e = self.next().unwrap_or('\\');
                match escape_class(e) {
                    Some(chars) => set.extend(chars),
                    None => set.push(escape_literal(e)),
                }
                continue;
            }
            let is_range =
                self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|n| *n != ']');
            if is_range {
                let end = self.chars.get(self.pos + 1).copied().unwrap_or(c);
                self.pos += 2;
                set.extend(c..=end);
            } else {
                set.push(c);
            }
        }
        if negated {
            set = PRINTABLE
                .map(char::from)
                .filter(|c| !set.contains(c))
                .collect();
        }
        if set.is_empty() {
            return Err(generic_error("random", "empty character class"));
        }
        Ok(Node::Class(set))
    }

    fn quantified(&mut self, atom: Node) -> Result<Node, String> {
        let (min, max) = match self.peek() {
            Some('*') => (0, UNBOUNDED_MAX),
            Some('+') => (1, UNBOUNDED_MAX),
            Some('?') => (0, 1),
            Some('{') => return self.braces(atom),
            _ => return Ok(atom),
        };
        self.pos += 1;
        self.skip_lazy();
        Ok(Node::Repeat(Box::new(atom), min, max))
    }

    fn skip_lazy(&mut self) {
        if self.peek() == Some('?') {
            self.pos += 1;
        }
    }

    fn braces(&mut self, atom: Node) -> Result<Node, String> {
        let missing = || generic_error("random", "missing '}' in pattern");
        let rest = self.chars.get(self.pos..).unwrap_or(&[]);
        let close = rest.iter().position(|c| *c == '}').ok_or_else(missing)?;
        let body: String = rest.get(1..close).ok_or_else(missing)?.iter().collect();
        self.pos += close + 1;
        self.skip_lazy();
        let bad = || generic_error("random", &format!("invalid repeat count {{{body}}}"));
        let parse = |s: &str| s.trim().parse::<u32>().map_err(|_| bad());
        let (min, max) = match body.split_once(',') {
            None => {
                let n = parse(&body)?;
                (n, n)
            }
            Some((lo, "")) => {
                let lo = parse(lo)?;
                (lo, lo.saturating_add(UNBOUNDED_MAX))
            }
            Some((lo, hi)) => (parse(lo)?, parse(hi)?),
        };
        if min > max || max > REPEAT_LIMIT {
            return Err(bad());
        }
        Ok(Node::Repeat(Box::new(atom), min, max))
    }
}

fn escape_class(c: char) -> Option<Vec<char>> {
    match c {
        'd' => Some(('0'..='9').collect()),
        'w' => Some(
            ('a'..='z')
                .chain('A'..='Z')
                .chain('0'..='9')
                .chain(['_'])
                .collect(),
        ),
        's' => Some(vec![' ', '\t', '\n', '\r', '\x0c']),
        _ => None,
    }
}

fn escape_literal(c: char) -> char {
    match c {
        'n' => '\n',
        't' => '\t',
        'r' => '\r',
        other => other,
    }
}

/// xorshift64* seeded from std's random hash keys and the clock.
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let mut hasher = RandomState::new().build_hasher();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        hasher.write_u128(nanos);
        Rng(hasher.finish() | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        if n == 0 { 0 } else { (r % n as u64) as usize }
    }
}
