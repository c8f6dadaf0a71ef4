//! Go-style durations (`1m30s`, `500ms`), the format the image's variables
//! used, and proto3 JSON durations (`90s`, `0.500s`).

/// Nanoseconds of a Go duration: one or more `<decimal><unit>` terms with
/// units `ns`, `us`, `µs`, `ms`, `s`, `m`, `h`. A bare `0` is zero.
pub fn parse_go_duration(s: &str) -> Option<u64> {
    if s == "0" {
        return Some(0);
    }
    let mut rest = s;
    let mut total: u64 = 0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        if number.is_empty() || number == "." {
            return None;
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let scale: u64 = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let value: f64 = number.parse().ok()?;
        let nanos = value * scale as f64;
        if !nanos.is_finite() || nanos > u64::MAX as f64 / 2.0 {
            return None;
        }
        total = total.checked_add(nanos.round() as u64)?;
        rest = next;
    }
    Some(total)
}

/// The proto3 JSON form of a duration: whole seconds as `Ns`, else with
/// 3, 6 or 9 fractional digits.
pub fn proto_duration(nanos: u64) -> String {
    let secs = nanos / 1_000_000_000;
    let frac = nanos % 1_000_000_000;
    if frac == 0 {
        format!("{secs}s")
    } else if frac.is_multiple_of(1_000_000) {
        format!("{secs}.{:03}s", frac / 1_000_000)
    } else if frac.is_multiple_of(1_000) {
        format!("{secs}.{:06}s", frac / 1_000)
    } else {
        format!("{secs}.{frac:09}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        assert_eq!(parse_go_duration("10s"), Some(10_000_000_000));
        assert_eq!(parse_go_duration("1m30s"), Some(90_000_000_000));
        assert_eq!(parse_go_duration("500ms"), Some(500_000_000));
        assert_eq!(parse_go_duration("1.5s"), Some(1_500_000_000));
        assert_eq!(parse_go_duration("0"), Some(0));
        for bad in ["", "10", "s", "10x", "1..2s", "-1s"] {
            assert_eq!(parse_go_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_proto_durations() {
        assert_eq!(proto_duration(90_000_000_000), "90s");
        assert_eq!(proto_duration(500_000_000), "0.500s");
        assert_eq!(proto_duration(1_000), "0.000001s");
        assert_eq!(proto_duration(1), "0.000000001s");
    }
}
