//! Regular expressions as the proxy compiles them: RE2 syntax (no
//! backreferences, no lookaround), RE2's repetition limits (a count above
//! 1000, or nested counts whose product exceeds 1000) and the program size
//! limit the bootstrap configures (`meshplane_re2::MAX_PROGRAM_SIZE`).

use super::context::{Path, Sink};

/// The rule id of a regular expression RE2 refuses.
pub(crate) const RULE: &str = "regex.re2";

/// Reports `pattern` at `p` when RE2 would refuse it.
pub(crate) fn re2(s: &mut Sink, p: &Path, pattern: Option<&String>) {
    if !s.rules.proxy_compatibility {
        return;
    }
    let Some(pattern) = pattern else { return };
    if pattern.is_empty() {
        return; // field.length reports it
    }
    if let Err(e) = meshplane_re2::check(pattern) {
        s.error(
            RULE,
            p,
            format!("RE2 refuses the regular expression '{pattern}': {e}"),
        );
    }
}
