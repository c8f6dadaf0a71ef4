//! YAML 1.2 core-schema resolution of plain (unquoted) scalars.

use serde_json::{Number, Value};

/// The value of a plain scalar.
pub fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    match number(s) {
        Some(n) => Value::Number(n),
        None => Value::String(s.to_owned()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn plain_scalars_resolve_by_the_core_schema() {
        for (text, value) in [
            ("80", json!(80)),
            ("-3", json!(-3)),
            ("+3", json!(3)),
            ("0x1F", json!(31)),
            ("0o17", json!(15)),
            ("1.5", json!(1.5)),
            (".5", json!(0.5)),
            ("1e3", json!(1000.0)),
            ("~", Value::Null),
            ("", Value::Null),
            ("NULL", Value::Null),
            ("True", json!(true)),
            ("FALSE", json!(false)),
        ] {
            assert_eq!(resolve_plain(text), value, "{text}");
        }
        for s in [
            "yes",
            "no",
            "on",
            "off",
            "1.2.3",
            "IPv4_ONLY",
            "0x",
            "-",
            ".",
            "1e",
            "e5",
            ".inf",
            ".nan",
            "tRUE",
        ] {
            assert_eq!(resolve_plain(s), json!(s), "{s}");
        }
    }
}
