//! Access log format strings as the proxy parses them. The API takes any
//! text (1 to 1000 characters), but the proxy refuses a format in which a
//! `%` neither starts a command nor is doubled: a command is `%NAME%`,
//! `%NAME(argument)%` or `%NAME(argument):length%` with NAME made of
//! capital letters, digits and `_` (the grammar of the proxy's substitution
//! formatter; its message is "Couldn't find valid command at position N").
//! JSON format values are format strings too. Unknown command names are
//! not checked here (the proxy's list changes between versions).

use super::context::{Path, Sink};

/// The rule id of a format string the proxy refuses.
pub(crate) const RULE: &str = "logging.format";

/// Reports `format` at `p` when the proxy cannot parse it.
pub(crate) fn log_format(s: &mut Sink, p: &Path, format: &str) {
    if !s.rules.proxy_compatibility {
        return;
    }
    if let Some(position) = bad_command(format) {
        s.error(
            RULE,
            p,
            format!(
                "'{}': the '%' at position {position} does not start a command; write %NAME%, %NAME(argument)% or %NAME(argument):length% (NAME in capitals, digits and _), or %% for a literal %",
                format.escape_debug()
            ),
        );
    }
}

/// The byte position of the first `%` that starts no valid command.
fn bad_command(format: &str) -> Option<usize> {
    let b = format.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            i += 1;
            continue;
        }
        if b.get(i + 1) == Some(&b'%') {
            i += 2;
            continue;
        }
        match command_len(&b[i..]) {
            Some(n) => i += n,
            None => return Some(i),
        }
    }
    None
}

/// The length of the command at the start of `b` (which starts with `%`):
/// `%[A-Z0-9_]+(\([^)]*\))?(:[0-9]+)?%`.
fn command_len(b: &[u8]) -> Option<usize> {
    let mut i = 1;
    let name = b[i..]
        .iter()
        .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || **c == b'_')
        .count();
    if name == 0 {
        return None;
    }
    i += name;
    if b.get(i) == Some(&b'(') {
        let close = b[i..].iter().position(|c| *c == b')')?;
        i += close + 1;
    }
    if b.get(i) == Some(&b':') {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        i += 1 + digits;
    }
    (b.get(i) == Some(&b'%')).then_some(i + 1)
}

#[cfg(test)]
mod tests {
    use super::bad_command;

    /// Each case was checked with the real proxy (`--mode validate` on an
    /// access log with this text format): `None` accepted, `Some(n)` refused
    /// at position n.
    #[test]
    fn the_grammar_matches_what_the_proxy_accepts() {
        for (format, expected) in [
            ("%START_TIME%", None),
            ("%%", None),
            ("%REQ(x-a)%", None),
            ("%REQ(x-a):10%", None),
            ("100%", Some(3)),
            ("%START_TIME(%s)% %", Some(17)),
            ("% x", Some(0)),
            ("%req(x)%", Some(0)),
            ("%START_TIME( %", Some(0)),
            ("%DOWNSTREAM_REMOTE_ADDRESS%x%", Some(28)),
        ] {
            assert_eq!(bad_command(format), expected, "{format}");
        }
    }
}
