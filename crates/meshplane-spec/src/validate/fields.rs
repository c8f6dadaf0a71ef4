//! Field constraints of the API model: string lengths, numeric ranges, list
//! sizes, patterns, allowed values and exactly-one-of unions.

use super::context::{Path, Sink};

/// `min..=max` characters.
pub(crate) fn length(s: &mut Sink, p: &Path, value: &str, min: usize, max: usize) {
    let n = value.chars().count();
    if n < min {
        s.error(
            "field.length",
            p,
            format!("must not be empty; allowed length is {min} to {max} characters"),
        );
    } else if n > max {
        s.error(
            "field.length",
            p,
            format!("is {n} characters long; allowed length is {min} to {max} characters"),
        );
    }
}

pub(crate) fn length_opt(s: &mut Sink, p: &Path, value: Option<&String>, min: usize, max: usize) {
    if let Some(v) = value {
        length(s, p, v, min, max);
    }
}

/// `min..=max`, or `min..` when `max` is `None`.
pub(crate) fn range(s: &mut Sink, p: &Path, value: i64, min: i64, max: Option<i64>) {
    let ok = value >= min && max.is_none_or(|m| value <= m);
    if !ok {
        let allowed = match max {
            Some(m) => format!("allowed range is {min} to {m}"),
            None => format!("must be at least {min}"),
        };
        s.error(
            "field.range",
            p,
            format!("{value} is out of range; {allowed}"),
        );
    }
}

pub(crate) fn range_opt(s: &mut Sink, p: &Path, value: Option<i64>, min: i64, max: Option<i64>) {
    if let Some(v) = value {
        range(s, p, v, min, max);
    }
}

/// A port number: 1 to 65535.
pub(crate) fn port(s: &mut Sink, p: &Path, value: Option<i64>) {
    range_opt(s, p, value, 1, Some(65535));
}

/// A list of `min..=max` items (`max` `None`: no upper bound).
pub(crate) fn list_size(s: &mut Sink, p: &Path, len: usize, min: usize, max: Option<usize>) {
    let ok = len >= min && max.is_none_or(|m| len <= m);
    if !ok {
        let allowed = match max {
            Some(m) if m == min => format!("exactly {m}"),
            Some(m) => format!("{min} to {m}"),
            None => format!("at least {min}"),
        };
        s.error(
            "field.list_size",
            p,
            format!("has {len} items; allowed is {allowed}"),
        );
    }
}

pub(crate) fn list_size_opt<T>(
    s: &mut Sink,
    p: &Path,
    list: Option<&Vec<T>>,
    min: usize,
    max: Option<usize>,
) {
    if let Some(l) = list {
        list_size(s, p, l.len(), min, max);
    }
}

/// A value from a documented set the types keep as a free string.
pub(crate) fn one_of(s: &mut Sink, p: &Path, value: &str, allowed: &[&str]) {
    if !allowed.contains(&value) {
        s.error(
            "field.enum",
            p,
            format!(
                "'{value}' is not an allowed value; allowed values are {}",
                allowed.join(", ")
            ),
        );
    }
}

/// A member the API requires but the types keep optional.
pub(crate) fn required<T>(s: &mut Sink, p: &Path, value: Option<&T>, what: &str) {
    if value.is_none() {
        s.error("field.required", p, format!("is required: {what}"));
    }
}

/// An API union: exactly one of `members` (name, is set) must be set.
/// Reports at `p`, the union itself. Returns true when exactly one is set.
pub(crate) fn exactly_one(s: &mut Sink, p: &Path, shape: &str, members: &[(&str, bool)]) -> bool {
    let set: Vec<&str> = members
        .iter()
        .filter(|(_, on)| *on)
        .map(|(n, _)| *n)
        .collect();
    let names: Vec<&str> = members.iter().map(|(n, _)| *n).collect();
    let expected = if names.len() == 1 {
        format!("'{}' must be set", names[0])
    } else {
        format!("exactly one of {} must be set", names.join(", "))
    };
    match set.len() {
        1 => true,
        0 => {
            s.error(
                "union.exactly_one",
                p,
                format!("{shape}: {expected}, but none is"),
            );
            false
        }
        _ => {
            s.error(
                "union.exactly_one",
                p,
                format!("{shape}: {expected}, but {} are all set", set.join(", ")),
            );
            false
        }
    }
}

/// Printable ASCII without space (`!` to `~`), the API's `[a-zA-Z0-9!-~]`.
fn visible(c: char) -> bool {
    ('!'..='~').contains(&c)
}

/// `AwsCloudMapInstanceAttributeKey`: `^[a-zA-Z0-9!-~]+$`.
pub(crate) fn cloud_map_attribute_key(s: &mut Sink, p: &Path, key: &str) {
    length(s, p, key, 1, 255);
    if !key.is_empty() && !key.chars().all(visible) {
        s.error(
            "field.pattern",
            p,
            format!("'{key}' may contain only printable ASCII characters without spaces (pattern ^[a-zA-Z0-9!-~]+$)"),
        );
    }
}

/// `AwsCloudMapInstanceAttributeValue`: printable ASCII, spaces allowed
/// except as the first character.
pub(crate) fn cloud_map_attribute_value(s: &mut Sink, p: &Path, value: &str) {
    length(s, p, value, 1, 1024);
    let first_ok = value.chars().next().is_none_or(visible);
    let rest_ok = value.chars().all(|c| c == ' ' || visible(c));
    if !(first_ok && rest_ok) {
        s.error(
            "field.pattern",
            p,
            format!("'{value}' may contain only printable ASCII characters and spaces, and may not start with a space"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{ArnContext, ResourceId, ResourceKind};
    use crate::model::Origins;

    /// Runs `f` against a sink and returns `rule: message` per finding.
    fn findings(f: impl FnOnce(&mut Sink, &Path)) -> Vec<String> {
        let (ctx, origins, mut out) = (ArnContext::default(), Origins::default(), Vec::new());
        let id = ResourceId::new("m", "1", ResourceKind::VirtualNode, "a");
        f(
            &mut Sink::new(id, &ctx, &origins, &mut out),
            &Path::root().field("x"),
        );
        out.into_iter()
            .map(|d| format!("{}: {}", d.rule, d.message))
            .collect()
    }

    #[test]
    fn messages_say_what_is_wrong_and_what_is_allowed() {
        let cases: Vec<(Vec<String>, &[&str])> = vec![
            (
                findings(|s, p| length(s, p, "", 1, 50)),
                &["field.length: must not be empty; allowed length is 1 to 50 characters"],
            ),
            (
                findings(|s, p| length(s, p, "abc", 1, 2)),
                &["field.length: is 3 characters long; allowed length is 1 to 2 characters"],
            ),
            (findings(|s, p| length(s, p, "é", 1, 1)), &[]),
            (
                findings(|s, p| range(s, p, 0, 1, None)),
                &["field.range: 0 is out of range; must be at least 1"],
            ),
            (
                findings(|s, p| range(s, p, 11, 2, Some(10))),
                &["field.range: 11 is out of range; allowed range is 2 to 10"],
            ),
            (
                findings(|s, p| list_size(s, p, 2, 1, Some(1))),
                &["field.list_size: has 2 items; allowed is exactly 1"],
            ),
            (
                findings(|s, p| one_of(s, p, "x", &["a", "b"])),
                &["field.enum: 'x' is not an allowed value; allowed values are a, b"],
            ),
            (
                findings(|s, p| {
                    exactly_one(s, p, "pool", &[("a", true), ("b", true), ("c", false)]);
                }),
                &["union.exactly_one: pool: exactly one of a, b, c must be set, but a, b are all set"],
            ),
            (
                findings(|s, p| {
                    exactly_one(s, p, "backend", &[("virtualService", false)]);
                }),
                &["union.exactly_one: backend: 'virtualService' must be set, but none is"],
            ),
            (findings(|s, p| cloud_map_attribute_key(s, p, "a!~Z")), &[]),
            (findings(|s, p| cloud_map_attribute_value(s, p, "a b ")), &[]),
        ];
        for (got, want) in cases {
            assert_eq!(got, want.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        }
    }
}
