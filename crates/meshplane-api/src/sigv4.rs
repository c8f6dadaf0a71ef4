//! Verifying AWS Signature Version 4 on a request.
//!
//! The `Authorization` header names the access key, the credential scope and
//! the signed headers; the expected signature is computed by `aws-sigv4`
//! (the AWS SDK's signer) over the same method, path, query, signed headers
//! and body with the key's secret, and compared in constant time.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use axum::http::HeaderMap;
use subtle::ConstantTimeEq;

use crate::error::{ApiError, ErrorKind};

/// How far a request's timestamp may be from the server's clock.
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::InvalidSignature, message)
}

/// Parses the header; `None` when the request is not SigV4-signed at all.
pub fn parse_authorization(headers: &HeaderMap) -> Result<Option<Authorization>, ApiError> {
    let Some(value) = headers.get("authorization") else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| invalid("the Authorization header is not ASCII"))?;
    let rest = value.strip_prefix("AWS4-HMAC-SHA256 ").ok_or_else(|| {
        ApiError::new(
            ErrorKind::InvalidSignature,
            "the Authorization header is not AWS4-HMAC-SHA256 (Signature Version 4)",
        )
    })?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=').unwrap_or((part.trim(), ""));
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let (Some(credential), Some(signed), Some(signature)) = (credential, signed, signature) else {
        return Err(invalid(
            "the Authorization header lacks Credential, SignedHeaders or Signature",
        ));
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [key, date, region, service, "aws4_request"] = scope.as_slice() else {
        return Err(invalid(format!(
            "Credential '{credential}' is not <access key>/<date>/<region>/<service>/aws4_request"
        )));
    };
    Ok(Some(Authorization {
        access_key_id: (*key).to_owned(),
        date: (*date).to_owned(),
        region: (*region).to_owned(),
        service: (*service).to_owned(),
        signed_headers: signed.split(';').map(str::to_owned).collect(),
        signature: signature.to_owned(),
    }))
}

/// `20250102T030405Z` as a time.
pub fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from the civil date (proleptic Gregorian), Howard Hinnant's method.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hh * 3600 + mm * 60 + ss;
    u64::try_from(secs)
        .ok()
        .map(|s| UNIX_EPOCH + Duration::from_secs(s))
}

/// The request as received, for verification.
#[derive(Debug)]
pub struct Received<'a> {
    pub method: &'a str,
    /// Path and query exactly as sent (still percent-encoded).
    pub path_and_query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Checks the date, scope and signature of a signed request made with
/// `secret`.
pub fn verify(
    req: &Received<'_>,
    auth: &Authorization,
    secret: &str,
    region: &str,
    now: SystemTime,
) -> Result<(), ApiError> {
    let date_header = req
        .headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| invalid("the X-Amz-Date header is missing"))?;
    let time = parse_amz_date(date_header).ok_or_else(|| {
        invalid(format!(
            "X-Amz-Date '{date_header}' is not YYYYMMDDTHHMMSSZ"
        ))
    })?;
    let skew = now
        .duration_since(time)
        .or_else(|_| time.duration_since(now))
        .unwrap_or_default();
    if skew > MAX_SKEW {
        return Err(invalid(format!(
            "Signature expired: {date_header} is more than 15 minutes from the server's time"
        )));
    }
    if !date_header.starts_with(&auth.date) || auth.date.len() != 8 {
        return Err(invalid(format!(
            "the credential scope date {} is not the date of X-Amz-Date {date_header}",
            auth.date
        )));
    }
    if auth.service != "appmesh" {
        return Err(invalid(format!(
            "the credential scope names service '{}'; this is 'appmesh'",
            auth.service
        )));
    }
    if auth.region != region {
        return Err(invalid(format!(
            "the credential scope names region '{}'; this server is '{region}'",
            auth.region
        )));
    }
    let mut headers: Vec<(&str, &str)> = Vec::new();
    for name in &auth.signed_headers {
        let value = req
            .headers
            .get(name.as_str())
            .ok_or_else(|| invalid(format!("the signed header '{name}' is missing")))?
            .to_str()
            .map_err(|_| invalid(format!("the signed header '{name}' is not ASCII")))?;
        headers.push((name.as_str(), value));
    }
    let precomputed;
    let body = match req
        .headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
    {
        Some(v)
            if auth
                .signed_headers
                .iter()
                .any(|h| h == "x-amz-content-sha256") =>
        {
            precomputed = v.to_owned();
            SignableBody::Precomputed(precomputed)
        }
        _ => SignableBody::Bytes(req.body),
    };
    let identity = aws_credential_types::Credentials::new(
        auth.access_key_id.clone(),
        secret.to_owned(),
        None,
        None,
        "meshplane-auth-config",
    )
    .into();
    let mut settings = SigningSettings::default();
    // Verify exactly the headers the client signed.
    settings.excluded_headers = None;
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("appmesh")
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| ApiError::internal(format!("SigV4 parameters: {e}")))?
        .into();
    let signable = SignableRequest::new(req.method, req.path_and_query, headers.into_iter(), body)
        .map_err(|e| invalid(format!("the request cannot be canonicalized: {e}")))?;
    let expected = sign(signable, &params)
        .map_err(|e| invalid(format!("the request cannot be canonicalized: {e}")))?;
    let expected = expected.signature();
    if expected.as_bytes().ct_eq(auth.signature.as_bytes()).into() {
        Ok(())
    } else {
        Err(invalid(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_parse() {
        let t = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_440_938_160
        );
        assert!(parse_amz_date("20151330T123600Z").is_none());
        assert!(parse_amz_date("2015-08-30").is_none());
    }
}
