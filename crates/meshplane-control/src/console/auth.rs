//! Who may see the console. On a loopback admin address, or when the
//! operator passed `--insecure-no-auth`, everyone who reaches it. Beyond
//! loopback, a person signs in with a bearer token of the auth config's
//! `tokens` (the same principals proxies use); the console then sets an
//! HttpOnly, SameSite=Strict session cookie scoped to `/ui`.
//!
//! The console is read-only: the only state-changing requests are signing
//! in and out, which refuse cross-origin posts (the `Origin` header must
//! match `Host`) on top of the SameSite=Strict cookie.

use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use meshplane_authz::{AccessControl, PeerCredentials};

/// The session cookie's name.
pub const COOKIE: &str = "meshplane_console";
/// How long a session lasts after sign-in.
const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

#[derive(Debug)]
pub struct ConsoleAuth {
    /// No sign-in needed (loopback admin address, or insecure mode).
    loopback: bool,
    /// Session id → (principal, expiry).
    sessions: Mutex<HashMap<String, (String, Instant)>>,
}

impl ConsoleAuth {
    /// `loopback`: whether the admin server listens on a loopback address.
    pub fn new(loopback: bool) -> ConsoleAuth {
        ConsoleAuth {
            loopback,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// Whether a request needs no sign-in under the current access config.
    pub fn open(&self, access: &AccessControl) -> bool {
        self.loopback || access.is_insecure()
    }

    /// The signed-in principal of a request, from its session cookie.
    pub fn principal(&self, headers: &HeaderMap) -> Option<String> {
        let id = cookie(headers, COOKIE)?;
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        sessions.retain(|_, (_, exp)| *exp > now);
        sessions.get(&id).map(|(p, _)| p.clone())
    }

    /// Check `token` against the auth config; on success a new session id.
    pub fn sign_in(&self, access: &AccessControl, token: &str) -> Result<String, String> {
        let creds = PeerCredentials {
            bearer_token: Some(token.trim().to_owned()),
            ..PeerCredentials::default()
        };
        let principal = access.authenticate(&creds).map_err(|e| e.to_string())?;
        let id = random_id().map_err(|e| format!("reading /dev/urandom: {e}"))?;
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.insert(id.clone(), (principal.id, Instant::now() + SESSION_TTL));
        Ok(id)
    }

    pub fn sign_out(&self, headers: &HeaderMap) {
        if let Some(id) = cookie(headers, COOKIE) {
            let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
            sessions.remove(&id);
        }
    }
}

/// Whether a POST comes from a page of this origin: its `Origin` header
/// (browsers always send one on POST) names the `Host` it was sent to.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let host = headers.get("host").and_then(|h| h.to_str().ok());
    let origin = headers.get("origin").and_then(|h| h.to_str().ok());
    match (host, origin) {
        (Some(host), Some(origin)) => {
            origin
                .strip_prefix("http://")
                .or_else(|| origin.strip_prefix("https://"))
                == Some(host)
        }
        _ => false,
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| {
            let (k, v) = kv.trim().split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
}

fn random_id() -> std::io::Result<String> {
    let mut buf = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// The value of `key` in an `application/x-www-form-urlencoded` body.
pub fn form_value(body: &str, key: &str) -> Option<String> {
    body.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_decoded() {
        assert_eq!(
            form_value("a=1&token=ab%2Bc+d%", "token").as_deref(),
            Some("ab+c d%")
        );
        assert_eq!(form_value("a=1", "token"), None);
    }

    #[test]
    fn cross_origin_posts_are_refused() {
        let mut h = HeaderMap::new();
        h.insert("host", "10.0.0.1:9000".parse().unwrap());
        h.insert("origin", "http://10.0.0.1:9000".parse().unwrap());
        assert!(same_origin(&h));
        h.insert("origin", "http://evil.example".parse().unwrap());
        assert!(!same_origin(&h));
        h.remove("origin");
        assert!(!same_origin(&h));
    }
}
