//! YAML 1.2 core-schema resolution of plain scalars, and its inverse for the
//! YAML writer (which strings must be quoted to stay strings).

use serde_json::Number;

use crate::node::NodeKind;

/// The value of a plain (unquoted) scalar.
pub fn resolve_plain(s: &str) -> NodeKind {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return NodeKind::Null,
        "true" | "True" | "TRUE" => return NodeKind::Bool(true),
        "false" | "False" | "FALSE" => return NodeKind::Bool(false),
        _ => {}
    }
    match number(s) {
        Some(n) => NodeKind::Number(n),
        None => NodeKind::String(s.to_owned()),
    }
}

fn number(s: &str) -> Option<Number> {
    let first = s.as_bytes().first()?;
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return None;
    }
    if let Some(hex) = s.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok().map(Number::from);
    }
    if let Some(oct) = s.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok().map(Number::from);
    }
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = s.parse::<i64>() {
            return Some(Number::from(i));
        }
    }
    if !is_float(unsigned) {
        return None;
    }
    s.parse::<f64>().ok().and_then(Number::from_f64)
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (int.is_empty() && digits(frac)) || (digits(int) && (frac.is_empty() || digits(frac)))
        }
        None => digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| digits(e.strip_prefix(['-', '+']).unwrap_or(e)));
    mantissa_ok && exponent_ok
}

/// True when `s` written as a plain scalar would not read back as the same
/// string (or could confuse a YAML 1.1 reader).
pub fn needs_quotes(s: &str) -> bool {
    const YAML11_WORDS: [&str; 10] = ["y", "n", "yes", "no", "on", "off", "Y", "N", "=", "<<"];
    if !matches!(resolve_plain(s), NodeKind::String(_)) {
        return true;
    }
    if YAML11_WORDS.contains(&s)
        || ["yes", "no", "on", "off"].contains(&s.to_ascii_lowercase().as_str())
    {
        return true;
    }
    let Some(first) = s.chars().next() else {
        return true;
    };
    if !(first.is_ascii_alphanumeric() || first == '/' || first == '_') {
        return true;
    }
    if s.ends_with(':') || s.contains(": ") || s.contains(" #") || s.ends_with(' ') {
        return true;
    }
    !s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:@ ".contains(c))
        || s.starts_with(|c: char| c.is_ascii_digit() || c == '.') && s.parse::<f64>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_by_the_core_schema() {
        assert_eq!(resolve_plain("80"), NodeKind::Number(80.into()));
        assert_eq!(resolve_plain("-3"), NodeKind::Number((-3).into()));
        assert_eq!(resolve_plain("0x1F"), NodeKind::Number(31.into()));
        assert_eq!(
            resolve_plain("1.5"),
            NodeKind::Number(Number::from_f64(1.5).unwrap())
        );
        assert_eq!(resolve_plain("~"), NodeKind::Null);
        assert_eq!(resolve_plain("True"), NodeKind::Bool(true));
        for s in [
            "yes",
            "1.2.3",
            "serviceA.apps.local",
            "IPv4_ONLY",
            "0x",
            "-",
            ".",
            "1e",
            "e5",
            ".inf",
        ] {
            assert_eq!(resolve_plain(s), NodeKind::String(s.into()), "{s}");
        }
    }

    #[test]
    fn strings_that_would_change_meaning_are_quoted() {
        for s in [
            "80", "true", "null", "", "yes", "No", "a: b", "#x", "x #y", "-x", "1e5", "*a", "!Ref",
            "é",
        ] {
            assert!(needs_quotes(s), "{s}");
        }
        for s in [
            "serviceA",
            "serviceb.apps.local",
            "/",
            "/ping",
            "arn:aws:appmesh:us-east-1:1:mesh/m",
            "IPv4_ONLY",
            "http2",
        ] {
            assert!(!needs_quotes(s), "{s}");
        }
    }
}
