//! Builtins that reach the network, refused when a user's policy loads: kvet checks a
//! stranger's pull request in CI, where a policy must not call out (and the engine kvet embeds
//! has no network builtins, so a call would only fail on every object, one `policy-error`
//! each, instead of once, naming the line).

use super::recursion::{calls_function, without_comment};

/// The builtins of OPA that reach the network.
const NETWORK: &[&str] = &["http.send", "net.lookup_ip_addr"];

/// The first line (1-based) that calls a network builtin, and the builtin.
pub fn find(source: &str) -> Option<(usize, &'static str)> {
    source.lines().enumerate().find_map(|(i, line)| {
        let code = without_comment(line);
        NETWORK
            .iter()
            .find(|name| calls_function(&code, name))
            .map(|name| (i + 1, *name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_found_not_names_in_strings_or_comments() {
        let source =
            "package p\n# http.send({})\nx := \"http.send(\"\ny := http.send({\"url\": \"u\"})\n";
        assert_eq!(find(source), Some((4, "http.send")));
        assert_eq!(find("z := my.http.send(1)\n"), None);
        assert_eq!(
            find("a := net.lookup_ip_addr(\"x\")"),
            Some((1, "net.lookup_ip_addr"))
        );
    }
}
