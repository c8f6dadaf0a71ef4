//! Requests from Rust without a signer: a SigV4-shaped `Authorization`
//! header whose signature is meaningless, which only a loopback server
//! without an auth config accepts (it accepts any signature there).

use std::time::{SystemTime, UNIX_EPOCH};

use crate::REGION;

/// `X-Amz-Date` and `Authorization` headers for "now".
pub fn headers() -> Vec<(&'static str, String)> {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let date = amz_date(secs);
    let day = &date[..8];
    vec![
        ("X-Amz-Date", date.clone()),
        ("Content-Type", "application/json".to_owned()),
        (
            "Authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential=AKIDMESHPLANERUST/{day}/{REGION}/appmesh/aws4_request, SignedHeaders=host;x-amz-date, Signature={}",
                "0".repeat(64)
            ),
        ),
    ]
}

/// `YYYYMMDDTHHMMSSZ` of a Unix time.
pub fn amz_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Proleptic Gregorian date of a day count from 1970-01-01 (H. Hinnant's
/// days-to-civil algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(951_782_400), "20000229T000000Z");
        assert_eq!(amz_date(1_798_761_599), "20261231T235959Z");
    }
}
