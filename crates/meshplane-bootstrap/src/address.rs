//! Addresses given in variables (`host:port`, `[v6]:port`, `unix:<path>`) and
//! their Envoy `config.core.v3.Address` JSON.

use std::net::IpAddr;

use serde_json::{json, Value};

use crate::env::parse_port;
use crate::error::BootstrapError;

/// Where a static cluster connects to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An IP literal; the cluster is STATIC.
    Ip { ip: IpAddr, port: u16 },
    /// A DNS name; the cluster is STRICT_DNS.
    Dns { host: String, port: u16 },
    /// A Unix domain socket; the cluster is STATIC with a pipe address.
    Unix { path: String },
}

impl Target {
    /// Parses `host:port`, `[ipv6]:port` or `unix:<path>` read from `variable`.
    pub fn parse(variable: &str, value: &str) -> Result<Target, BootstrapError> {
        let bad = |why: &str| BootstrapError::invalid(variable, value, why);
        if let Some(path) = value.strip_prefix("unix:") {
            // `unix:///run/x.sock` and `unix:/run/x.sock` both name /run/x.sock.
            let path = path.strip_prefix("//").unwrap_or(path);
            if !path.starts_with('/') {
                return Err(bad(
                    "a unix socket path must be absolute (unix:/path/to/socket)",
                ));
            }
            return Ok(Target::Unix {
                path: path.to_owned(),
            });
        }
        let expected = "expected host:port, [ipv6]:port or unix:/path";
        let (host, port) = if let Some(rest) = value.strip_prefix('[') {
            let (host, port) = rest.split_once("]:").ok_or_else(|| bad(expected))?;
            (host, port)
        } else {
            value.rsplit_once(':').ok_or_else(|| bad(expected))?
        };
        let port =
            parse_port(port).ok_or_else(|| bad("the port must be a number from 1 to 65535"))?;
        if let Ok(ip) = host.parse::<IpAddr>() {
            if ip.is_ipv6() && !value.starts_with('[') {
                return Err(bad("write an IPv6 address in brackets: [::1]:15010"));
            }
            return Ok(Target::Ip { ip, port });
        }
        if !is_dns_name(host) {
            return Err(bad("the host is neither an IP address nor a DNS name"));
        }
        Ok(Target::Dns {
            host: host.to_owned(),
            port,
        })
    }

    /// A host (IP or DNS name) from `host_variable` and a port.
    pub fn host_port(host_variable: &str, host: &str, port: u16) -> Result<Target, BootstrapError> {
        if let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            return Ok(Target::Ip { ip, port });
        }
        if !is_dns_name(host) {
            return Err(BootstrapError::invalid(
                host_variable,
                host,
                "expected an IP address or a DNS name",
            ));
        }
        Ok(Target::Dns {
            host: host.to_owned(),
            port,
        })
    }

    /// The Envoy cluster discovery type for this target.
    pub fn cluster_type(&self) -> &'static str {
        match self {
            Target::Dns { .. } => "STRICT_DNS",
            Target::Ip { .. } | Target::Unix { .. } => "STATIC",
        }
    }

    /// The `config.core.v3.Address` JSON.
    pub fn address(&self) -> Value {
        match self {
            Target::Ip { ip, port } => socket_address(&ip.to_string(), *port),
            Target::Dns { host, port } => socket_address(host, *port),
            Target::Unix { path } => pipe(path),
        }
    }

    /// The DNS name, if the target is one.
    pub fn dns_name(&self) -> Option<&str> {
        match self {
            Target::Dns { host, .. } => Some(host),
            _ => None,
        }
    }

    /// True for loopback IPs, `localhost` and Unix sockets: traffic that never
    /// leaves the host.
    pub fn is_local(&self) -> bool {
        match self {
            Target::Ip { ip, .. } => ip.is_loopback(),
            Target::Dns { host, .. } => host.eq_ignore_ascii_case("localhost"),
            Target::Unix { .. } => true,
        }
    }
}

fn is_dns_name(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

pub fn socket_address(address: &str, port: u16) -> Value {
    json!({ "socket_address": { "address": address, "port_value": port } })
}

pub fn udp_socket_address(address: &str, port: u16) -> Value {
    json!({ "socket_address": { "protocol": "UDP", "address": address, "port_value": port } })
}

pub fn pipe(path: &str) -> Value {
    json!({ "pipe": { "path": path } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_form() {
        let t = |v: &str| Target::parse("X", v).map_err(|e| e.to_string());
        assert_eq!(
            t("127.0.0.1:15010"),
            Ok(Target::Ip {
                ip: [127, 0, 0, 1].into(),
                port: 15010
            })
        );
        assert_eq!(t("[::1]:443").map(|t| t.cluster_type()), Ok("STATIC"));
        assert_eq!(
            t("meshplane.internal:443"),
            Ok(Target::Dns {
                host: "meshplane.internal".into(),
                port: 443
            })
        );
        assert_eq!(
            t("unix:///run/mp.sock"),
            Ok(Target::Unix {
                path: "/run/mp.sock".into()
            })
        );
        assert_eq!(
            t("unix:/run/mp.sock"),
            Ok(Target::Unix {
                path: "/run/mp.sock".into()
            })
        );
    }

    #[test]
    fn rejects_malformed_values_naming_the_variable() {
        for bad in [
            "meshplane",
            "host:",
            "host:http",
            "::1:443",
            "bad host:80",
            "unix:rel.sock",
            "h:70000",
        ] {
            let err = Target::parse("APPMESH_XDS_ENDPOINT", bad)
                .map(|_| ())
                .map_err(|e| e.to_string());
            let msg = err.err().unwrap_or_default();
            assert!(msg.starts_with("APPMESH_XDS_ENDPOINT="), "{bad}: {msg}");
        }
    }
}
