//! Typed reads of the environment map, with the conventions of App Mesh's
//! Envoy image: values are trimmed, an empty value counts as unset, booleans
//! take Go's `strconv.ParseBool` spellings and integers must be decimal.

use std::collections::BTreeMap;

use crate::error::BootstrapError;

/// A read-only view of the environment variables a bootstrap is built from.
#[derive(Debug, Clone, Copy)]
pub struct Env<'a> {
    vars: &'a BTreeMap<String, String>,
}

impl<'a> Env<'a> {
    pub fn new(vars: &'a BTreeMap<String, String>) -> Env<'a> {
        Env { vars }
    }

    /// The trimmed value, or `None` when unset or blank.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    pub fn get_or(&self, name: &str, default: &'a str) -> &'a str {
        self.get(name).unwrap_or(default)
    }

    /// The first of `names` that is set, with the name it came from.
    pub fn first_of(&self, names: &[&'static str]) -> Option<(&'static str, &'a str)> {
        names.iter().find_map(|n| self.get(n).map(|v| (*n, v)))
    }

    /// A boolean flag: `1 t T TRUE true True` or `0 f F FALSE false False`.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, BootstrapError> {
        match self.get(name) {
            None => Ok(default),
            Some("1" | "t" | "T" | "TRUE" | "true" | "True") => Ok(true),
            Some("0" | "f" | "F" | "FALSE" | "false" | "False") => Ok(false),
            Some(other) => Err(BootstrapError::invalid(
                name,
                other,
                "expected a boolean: 1, true, 0 or false",
            )),
        }
    }

    /// A TCP or UDP port, 1-65535.
    pub fn port(&self, name: &str, default: u16) -> Result<u16, BootstrapError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => parse_port(v).ok_or_else(|| {
                BootstrapError::invalid(name, v, "expected a port number from 1 to 65535")
            }),
        }
    }

    /// A port, or 0 for one the system picks (for listening sockets).
    pub fn listen_port(&self, name: &str, default: u16) -> Result<u16, BootstrapError> {
        match self.get(name) {
            Some("0") => Ok(0),
            None => Ok(default),
            Some(v) => parse_port(v).ok_or_else(|| {
                BootstrapError::invalid(
                    name,
                    v,
                    "expected a port number from 0 (any free port) to 65535",
                )
            }),
        }
    }

    /// A positive decimal integer no larger than `max`.
    pub fn positive(&self, name: &str, max: u64) -> Result<Option<u64>, BootstrapError> {
        match self.get(name) {
            None => Ok(None),
            Some(v) => match v.parse::<u64>() {
                Ok(n) if n >= 1 && n <= max => Ok(Some(n)),
                _ => Err(BootstrapError::invalid(
                    name,
                    v,
                    format!("expected a whole number from 1 to {max}"),
                )),
            },
        }
    }
}

pub(crate) fn parse_port(v: &str) -> Option<u16> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse::<u16>().ok().filter(|p| *p != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn blank_values_count_as_unset_and_values_are_trimmed() {
        let v = vars(&[("A", "  "), ("B", " x ")]);
        let env = Env::new(&v);
        assert_eq!(env.get("A"), None);
        assert_eq!(env.get("B"), Some("x"));
        assert_eq!(env.get_or("A", "d"), "d");
    }

    #[test]
    fn flags_take_go_spellings_and_reject_others() {
        let v = vars(&[("Y", "True"), ("N", "0"), ("BAD", "yes")]);
        let env = Env::new(&v);
        assert!(env.flag("Y", false).unwrap_or(false));
        assert!(!env.flag("N", true).unwrap_or(true));
        assert!(env.flag("UNSET", true).unwrap_or(false));
        let err = env
            .flag("BAD", false)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("BAD=\"yes\""), "{err}");
    }

    #[test]
    fn ports_must_be_decimal_and_in_range() {
        for bad in ["0", "65536", "-1", "+80", "8o", "0x50"] {
            let v = vars(&[("P", bad)]);
            let err = Env::new(&v)
                .port("P", 1)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.starts_with("P="), "{bad}: {err}");
        }
        let v = vars(&[("P", "65535")]);
        assert_eq!(Env::new(&v).port("P", 1).ok(), Some(65535));
    }
}
