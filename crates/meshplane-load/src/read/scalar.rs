//! YAML 1.2 core-schema resolution of plain scalars (the workspace's one
//! rule, from meshplane-yaml) as positioned nodes, and its inverse for the
//! YAML writer (which strings must be quoted to stay strings).

use serde_json::Value;

use crate::node::NodeKind;

/// The value of a plain (unquoted) scalar, by the workspace's one YAML
/// schema (`meshplane_yaml::resolve_plain`).
pub fn resolve_plain(s: &str) -> NodeKind {
    match meshplane_yaml::resolve_plain(s) {
        Value::Null => NodeKind::Null,
        Value::Bool(b) => NodeKind::Bool(b),
        Value::Number(n) => NodeKind::Number(n),
        // Only scalars come back; anything else stays the text it was.
        Value::String(text) => NodeKind::String(text),
        Value::Array(_) | Value::Object(_) => NodeKind::String(s.to_owned()),
    }
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
    use serde_json::Number;

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
