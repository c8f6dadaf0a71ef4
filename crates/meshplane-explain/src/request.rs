//! The request (or connection) to explain, parsed from the command line's
//! `'METHOD URL'` and `-H 'name: value'`, or `HOST:PORT` for TCP.

use serde::Serialize;

/// What the proxy receives: an HTTP request or a TCP/TLS connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Request {
    /// The host the application connects to (a name or an IP address).
    pub host: String,
    /// The destination port (the URL's, else 80 for http and 443 for https).
    pub port: u32,
    /// The TLS server name the client sends, if it speaks TLS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// The HTTP part; `None` for a TCP connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpRequest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HttpRequest {
    pub method: String,
    pub scheme: String,
    /// The path without the query string.
    pub path: String,
    /// The raw query string (without `?`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Headers, names lowercased, in order; `:authority` is the Host the
    /// client sends (with the port when the URL names one).
    pub headers: Vec<(String, String)>,
}

/// A request the command line describes wrongly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError(pub String);

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RequestError {}

fn err(msg: impl Into<String>) -> RequestError {
    RequestError(msg.into())
}

impl Request {
    /// `'GET http://cart.shop.local:9000/checkout?x=1'` (the method may be
    /// left out: GET) and headers `name: value`.
    pub fn http(line: &str, headers: &[String]) -> Result<Request, RequestError> {
        let line = line.trim();
        let (method, url) = match line.split_once(char::is_whitespace) {
            Some((m, u)) => (m.to_ascii_uppercase(), u.trim()),
            None => ("GET".to_owned(), line),
        };
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            err(format!(
                "--request '{line}': the URL needs a scheme (http://HOST[:PORT]/PATH)"
            ))
        })?;
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            other => {
                return Err(err(format!(
                    "--request '{line}': scheme '{other}' is not http or https"
                )))
            }
        };
        let (authority, path_query) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() {
            return Err(err(format!("--request '{line}': the URL names no host")));
        }
        let (host, port) =
            split_host_port(authority).map_err(|e| err(format!("--request '{line}': {e}")))?;
        let port = port.unwrap_or(default_port);
        let (path, query) = match path_query.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (path_query.to_owned(), None),
        };
        let mut hdrs = vec![
            (":authority".to_owned(), authority.to_owned()),
            (":method".to_owned(), method.clone()),
            (":path".to_owned(), path_query.to_owned()),
            (":scheme".to_owned(), scheme.clone()),
        ];
        let mut host_given = false;
        for h in headers {
            let (name, value) = h
                .split_once(':')
                .filter(|(n, _)| !n.trim().is_empty())
                .ok_or_else(|| err(format!("-H '{h}': a header is 'name: value'")))?;
            let name = name.trim().to_ascii_lowercase();
            let value = value.trim().to_owned();
            if name == "host" || name == ":authority" {
                if host_given {
                    return Err(err(format!(
                        "-H '{h}': a second Host header (Envoy refuses such a request with 400)"
                    )));
                }
                host_given = true;
                hdrs.retain(|(n, _)| n != ":authority");
                hdrs.insert(0, (":authority".to_owned(), value));
            } else {
                hdrs.push((name, value));
            }
        }
        let sni = (scheme == "https").then(|| host.clone());
        Ok(Request {
            host,
            port,
            sni,
            http: Some(HttpRequest {
                method,
                scheme,
                path,
                query,
                headers: hdrs,
            }),
        })
    }

    /// `HOST:PORT`, with the TLS server name if the client speaks TLS.
    pub fn tcp(target: &str, sni: Option<&str>) -> Result<Request, RequestError> {
        let (host, port) =
            split_host_port(target).map_err(|e| err(format!("--tcp '{target}': {e}")))?;
        let port = port.ok_or_else(|| err(format!("--tcp '{target}': HOST:PORT needs a port")))?;
        Ok(Request {
            host,
            port,
            sni: sni.map(str::to_owned),
            http: None,
        })
    }

    /// The transport protocol Envoy's TLS inspector detects.
    pub fn transport(&self) -> &'static str {
        if self.sni.is_some() {
            "tls"
        } else {
            "raw_buffer"
        }
    }
}

impl HttpRequest {
    /// The value of a header (lowercase name); repeated headers joined by `,`.
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(","))
    }

    /// The Host Envoy matches virtual hosts against (lowercased).
    pub fn authority(&self) -> String {
        self.header(":authority")
            .unwrap_or_default()
            .to_ascii_lowercase()
    }

    /// Sets a header, replacing every earlier value.
    pub fn set_header(&mut self, name: &str, value: &str) {
        self.headers.retain(|(n, _)| n != name);
        self.headers.push((name.to_owned(), value.to_owned()));
    }

    /// Replaces the path (and `:path`), keeping the query string.
    pub fn set_path(&mut self, path: String) {
        let full = match &self.query {
            Some(q) => format!("{path}?{q}"),
            None => path.clone(),
        };
        self.path = path;
        self.set_header(":path", &full);
    }

    /// The query parameters, percent-decoded, in order.
    pub fn query_params(&self) -> Vec<(String, String)> {
        let Some(q) = &self.query else {
            return Vec::new();
        };
        q.split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (decode(k), decode(v)),
                None => (decode(p), String::new()),
            })
            .collect()
    }
}

fn split_host_port(authority: &str) -> Result<(String, Option<u32>), String> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (h, tail) = rest
            .split_once(']')
            .ok_or("an IPv6 address needs its closing ']'")?;
        (h, tail.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    let port = match port {
        Some(p) => Some(
            p.parse::<u32>()
                .ok()
                .filter(|p| (1..=65535).contains(p))
                .ok_or_else(|| format!("port '{p}' is not a number from 1 to 65535"))?,
        ),
        None => None,
    };
    if host.is_empty() {
        return Err("the host is empty".to_owned());
    }
    Ok((host.to_ascii_lowercase(), port))
}

/// Percent-decoding (and `+` as space) of a query string part.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_host_port_and_query() {
        let r = Request::http("get http://Cart.shop.local:9000/checkout?x=1&y", &[]).unwrap();
        assert_eq!((r.host.as_str(), r.port), ("cart.shop.local", 9000));
        let h = r.http.unwrap();
        assert_eq!(h.method, "GET");
        assert_eq!(h.path, "/checkout");
        assert_eq!(h.authority(), "cart.shop.local:9000");
        assert_eq!(
            h.query_params(),
            vec![("x".into(), "1".into()), ("y".into(), String::new())]
        );
    }

    #[test]
    fn default_ports_and_bad_input() {
        assert_eq!(Request::http("http://a", &[]).unwrap().port, 80);
        assert_eq!(Request::http("https://a/", &[]).unwrap().port, 443);
        assert!(Request::http("a/b", &[]).is_err());
        assert!(Request::http("http://a:99999/", &[]).is_err());
        assert!(Request::http("http://a/", &["nocolon".into()]).is_err());
        assert!(Request::tcp("db:5432", None).is_ok());
        assert!(Request::tcp("db", None).is_err());
    }
}
