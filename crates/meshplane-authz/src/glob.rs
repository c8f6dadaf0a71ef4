//! IAM wildcard patterns: `*` (any run of characters) and `?` (exactly one).
//!
//! Two flavours follow IAM's rules:
//! - actions compare case-insensitively and `*` matches anything;
//! - resource ARNs compare case-sensitively, and a wildcard stays inside its
//!   colon-separated ARN segment, except a `*` that ends a segment (or the
//!   whole pattern), which may run across colons (`arn:aws:appmesh:*` matches
//!   every App Mesh ARN).
//!
//! Matching simulates the pattern as a small automaton over the set of live
//! positions: at most O(pattern x text), no backtracking blow-up on patterns
//! such as `*a*a*a*b`, and close to linear for real ARNs.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Char(char),
    /// `?`; `any_char` false means it does not match `:`.
    One {
        any_char: bool,
    },
    /// `*`; `cross_colon` false means it does not match `:`.
    Many {
        cross_colon: bool,
    },
}

/// A compiled wildcard pattern; keeps its source text for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    tokens: Vec<Token>,
    case_insensitive: bool,
}

impl Pattern {
    /// An action pattern (`appmesh:Stream*`, `*`): case-insensitive.
    pub fn action(source: &str) -> Pattern {
        let lowered = source.to_lowercase();
        let tokens = lowered
            .chars()
            .map(|c| match c {
                '*' => Token::Many { cross_colon: true },
                '?' => Token::One { any_char: true },
                c => Token::Char(c),
            })
            .collect();
        Pattern {
            source: source.to_owned(),
            tokens,
            case_insensitive: true,
        }
    }

    /// A resource ARN pattern: case-sensitive, wildcards stay inside their
    /// ARN segment unless a `*` ends the segment.
    pub fn resource(source: &str) -> Pattern {
        let chars: Vec<char> = source.chars().collect();
        let tokens = chars
            .iter()
            .enumerate()
            .map(|(i, &c)| match c {
                '*' => Token::Many {
                    cross_colon: matches!(chars.get(i + 1), None | Some(':')),
                },
                '?' => Token::One { any_char: false },
                c => Token::Char(c),
            })
            .collect();
        Pattern {
            source: source.to_owned(),
            tokens,
            case_insensitive: false,
        }
    }

    /// A principal-name pattern (config keys): case-sensitive, `*` matches anything.
    pub fn principal(source: &str) -> Pattern {
        let tokens = source
            .chars()
            .map(|c| match c {
                '*' => Token::Many { cross_colon: true },
                c => Token::Char(c),
            })
            .collect();
        Pattern {
            source: source.to_owned(),
            tokens,
            case_insensitive: false,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern has any wildcard.
    pub fn has_wildcard(&self) -> bool {
        self.tokens.iter().any(|t| !matches!(t, Token::Char(_)))
    }

    pub fn matches(&self, text: &str) -> bool {
        if !self.has_wildcard() {
            return if self.case_insensitive {
                self.source.to_lowercase() == text.to_lowercase()
            } else {
                self.source == text
            };
        }
        if self.case_insensitive {
            self.run(&text.to_lowercase())
        } else {
            self.run(text)
        }
    }

    fn run(&self, text: &str) -> bool {
        let n = self.tokens.len();
        // The live states: j means the first j tokens match the text so far.
        // A sparse list (usually one to three states) plus a membership
        // bitmap, so each step costs O(live states).
        let mut live = States::new(n);
        let mut next = States::new(n);
        live.add(0);
        self.close(&mut live);
        for c in text.chars() {
            next.clear();
            for &j in &live.list {
                let Some(token) = self.tokens.get(j) else {
                    continue;
                };
                match *token {
                    Token::Char(p) if p == c => next.add(j + 1),
                    Token::One { any_char } if any_char || c != ':' => next.add(j + 1),
                    Token::Many { cross_colon } if cross_colon || c != ':' => next.add(j),
                    _ => {}
                }
            }
            self.close(&mut next);
            if next.list.is_empty() {
                return false;
            }
            std::mem::swap(&mut live, &mut next);
        }
        live.has(n)
    }

    /// A `*` may match nothing: a state before a `*` is also a state after it.
    fn close(&self, states: &mut States) {
        let mut i = 0;
        while i < states.list.len() {
            let j = states.list[i];
            if matches!(self.tokens.get(j), Some(Token::Many { .. })) {
                states.add(j + 1);
            }
            i += 1;
        }
    }
}

/// A set of automaton states 0..=n.
struct States {
    list: Vec<usize>,
    member: Vec<bool>,
}

impl States {
    fn new(n: usize) -> States {
        States {
            list: Vec::with_capacity(8),
            member: vec![false; n + 1],
        }
    }

    fn add(&mut self, j: usize) {
        if !self.member[j] {
            self.member[j] = true;
            self.list.push(j);
        }
    }

    fn has(&self, j: usize) -> bool {
        self.member[j]
    }

    fn clear(&mut self) {
        for &j in &self.list {
            self.member[j] = false;
        }
        self.list.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_case_insensitive_with_wildcards() {
        let p = Pattern::action("appmesh:Stream*");
        assert!(p.matches("appmesh:StreamAggregatedResources"));
        assert!(p.matches("APPMESH:streamaggregatedresources"));
        assert!(!p.matches("appmesh:DescribeVirtualNode"));
        assert!(Pattern::action("*").matches("appmesh:StreamAggregatedResources"));
        assert!(Pattern::action("appmesh:*").matches("appmesh:StreamAggregatedResources"));
        assert!(!Pattern::action("s3:*").matches("appmesh:StreamAggregatedResources"));
        assert!(Pattern::action("appmesh:StreamAggregatedResource?")
            .matches("appmesh:StreamAggregatedResources"));
        assert!(!Pattern::action("appmesh:StreamAggregatedResource?")
            .matches("appmesh:StreamAggregatedResource"));
        assert!(!Pattern::action("appmesh:Stream").matches("appmesh:StreamAggregatedResources"));
    }

    #[test]
    fn resources_are_case_sensitive() {
        let p = Pattern::resource("arn:aws:appmesh:us-east-1:111122223333:mesh/apps/virtualNode/*");
        assert!(p.matches("arn:aws:appmesh:us-east-1:111122223333:mesh/apps/virtualNode/serviceA"));
        assert!(!p.matches("arn:aws:appmesh:us-east-1:111122223333:mesh/Apps/virtualNode/serviceA"));
        assert!(!p.matches("arn:aws:appmesh:us-east-1:111122223333:mesh/apps/virtualGateway/gw"));
    }

    #[test]
    fn star_inside_a_segment_does_not_cross_colons() {
        let arn = "arn:aws:appmesh:us-east-1:111122223333:mesh/apps/virtualNode/a";
        // `us-*1` is inside the region segment: it may not swallow `:111122223333`.
        assert!(
            Pattern::resource("arn:aws:appmesh:us-*1:111122223333:mesh/apps/virtualNode/a")
                .matches(arn)
        );
        assert!(!Pattern::resource("arn:aws:appmesh:u*3:mesh/apps/virtualNode/a").matches(arn));
        // A `*` ending a segment may run past colons.
        assert!(Pattern::resource("arn:aws:appmesh:*:mesh/apps/virtualNode/a").matches(arn));
        assert!(Pattern::resource("arn:aws:appmesh:*").matches(arn));
        assert!(Pattern::resource("*").matches(arn));
        // `?` is exactly one character, never a colon.
        assert!(Pattern::resource(
            "arn:aws:appmesh:us-east-?:111122223333:mesh/apps/virtualNode/?"
        )
        .matches(arn));
        assert!(!Pattern::resource(
            "arn:aws:appmesh:us-east-1?111122223333:mesh/apps/virtualNode/a"
        )
        .matches(arn));
    }

    #[test]
    fn star_spans_slashes_in_the_resource_segment() {
        let p = Pattern::resource("arn:aws:appmesh:*:*:mesh/apps/*");
        assert!(p.matches("arn:aws:appmesh:eu-west-1:1:mesh/apps/virtualGateway/gw/gatewayRoute/r"));
        assert!(!p.matches("arn:aws:appmesh:eu-west-1:1:mesh/other/virtualNode/a"));
    }

    #[test]
    fn pathological_patterns_stay_linear() {
        let text = "a".repeat(2000);
        let p = Pattern::action(&"*a".repeat(50));
        assert!(p.matches(&text));
        let p = Pattern::action(&format!("{}b", "*a".repeat(50)));
        assert!(!p.matches(&text));
    }

    #[test]
    fn principal_patterns() {
        let p = Pattern::principal("spiffe://example.org/ns/apps/*");
        assert!(p.matches("spiffe://example.org/ns/apps/sa/web"));
        assert!(!p.matches("spiffe://example.org/ns/other/sa/web"));
        assert!(!Pattern::principal("web?").matches("webx"));
        assert!(Pattern::principal("web?").matches("web?"));
        assert!(p.has_wildcard());
        assert!(!Pattern::principal("exact").has_wildcard());
    }

    /// The obvious exponential matcher, straight from the rules, as an oracle.
    fn reference(pattern: &[char], text: &[char], resource: bool) -> bool {
        match pattern.split_first() {
            None => text.is_empty(),
            Some(('*', rest)) => {
                let crosses = !resource || matches!(rest.first(), None | Some(':'));
                (0..=text.len())
                    .take_while(|&k| k == 0 || crosses || text[k - 1] != ':')
                    .any(|k| reference(rest, &text[k..], resource))
            }
            Some(('?', rest)) => match text.split_first() {
                Some((c, tail)) => (!resource || *c != ':') && reference(rest, tail, resource),
                None => false,
            },
            Some((p, rest)) => text.first() == Some(p) && reference(rest, &text[1..], resource),
        }
    }

    proptest::proptest! {
        #[test]
        fn automaton_agrees_with_the_reference(pattern in "[ab:*?]{0,10}", text in "[ab:]{0,12}") {
            let p: Vec<char> = pattern.chars().collect();
            let t: Vec<char> = text.chars().collect();
            proptest::prop_assert_eq!(Pattern::resource(&pattern).matches(&text), reference(&p, &t, true), "resource {} vs {}", pattern, text);
            proptest::prop_assert_eq!(Pattern::action(&pattern).matches(&text), reference(&p, &t, false), "action {} vs {}", pattern, text);
        }
    }
}
