//! Shapes shared by several resources: port mappings, durations, header
//! matches, timeouts, logging, health checks, connection pools.

use super::context::{Path, Sink};
use super::duration_limit::duration_limit;
use super::fields;
use super::log_format::log_format;
use super::regex;
use crate::common::{
    ConnectionPool, Duration, HeaderMatch, HealthCheckPolicy, HttpPathMatch, HttpQueryParameter,
    HttpTimeout, Logging, PortMapping, Protocol, TcpTimeout,
};

pub(crate) fn port_mapping(s: &mut Sink, p: &Path, pm: &PortMapping) {
    fields::port(s, &p.field("port"), Some(pm.port));
}

pub(crate) fn duration(s: &mut Sink, p: &Path, d: &Duration) {
    fields::range_opt(s, &p.field("value"), d.value, 0, None);
    duration_limit(s, p, d);
}

pub(crate) fn duration_opt(s: &mut Sink, p: &Path, d: Option<&Duration>) {
    if let Some(d) = d {
        duration(s, p, d);
    }
}

pub(crate) fn http_timeout(s: &mut Sink, p: &Path, t: &HttpTimeout) {
    duration_opt(s, &p.field("idle"), t.idle.as_ref());
    duration_opt(s, &p.field("perRequest"), t.per_request.as_ref());
}

pub(crate) fn tcp_timeout(s: &mut Sink, p: &Path, t: &TcpTimeout) {
    duration_opt(s, &p.field("idle"), t.idle.as_ref());
}

/// A list of header (or gRPC metadata) matches: 1 to 10 items.
pub(crate) fn header_matches(s: &mut Sink, p: &Path, headers: Option<&Vec<HeaderMatch>>) {
    let Some(headers) = headers else { return };
    fields::list_size(s, p, headers.len(), 1, Some(10));
    for (i, h) in headers.iter().enumerate() {
        header_match(s, &p.index(i), h);
    }
}

fn header_match(s: &mut Sink, p: &Path, h: &HeaderMatch) {
    fields::length(s, &p.field("name"), &h.name, 1, 50);
    let Some(m) = &h.match_ else { return };
    let mp = p.field("match");
    fields::exactly_one(
        s,
        &mp,
        "header match",
        &[
            ("exact", m.exact.is_some()),
            ("prefix", m.prefix.is_some()),
            ("range", m.range.is_some()),
            ("regex", m.regex.is_some()),
            ("suffix", m.suffix.is_some()),
        ],
    );
    for (name, v) in [
        ("exact", &m.exact),
        ("prefix", &m.prefix),
        ("regex", &m.regex),
        ("suffix", &m.suffix),
    ] {
        fields::length_opt(s, &mp.field(name), v.as_ref(), 1, 255);
    }
    regex::re2(s, &mp.field("regex"), m.regex.as_ref());
}

pub(crate) fn path_match(s: &mut Sink, p: &Path, m: Option<&HttpPathMatch>) {
    let Some(m) = m else { return };
    fields::length_opt(s, &p.field("exact"), m.exact.as_ref(), 1, 255);
    fields::length_opt(s, &p.field("regex"), m.regex.as_ref(), 1, 255);
    regex::re2(s, &p.field("regex"), m.regex.as_ref());
}

pub(crate) fn query_parameters(s: &mut Sink, p: &Path, q: Option<&Vec<HttpQueryParameter>>) {
    fields::list_size_opt(s, p, q, 1, Some(10));
}

/// An HTTP match prefix must start with `/`.
pub(crate) fn prefix(s: &mut Sink, p: &Path, prefix: Option<&String>) {
    if let Some(v) = prefix {
        if !v.starts_with('/') {
            s.error("match.prefix", p, format!("'{v}' must start with '/'"));
        }
    }
}

pub(crate) fn logging(s: &mut Sink, p: &Path, l: Option<&Logging>) {
    let Some(access_log) = l.and_then(|l| l.access_log.as_ref()) else {
        return;
    };
    let ap = p.field("accessLog");
    fields::exactly_one(s, &ap, "access log", &[("file", access_log.file.is_some())]);
    let Some(file) = &access_log.file else { return };
    let fp = ap.field("file");
    fields::length(s, &fp.field("path"), &file.path, 1, 255);
    let Some(format) = &file.format else { return };
    let fmt = fp.field("format");
    fields::exactly_one(
        s,
        &fmt,
        "logging format",
        &[
            ("json", format.json.is_some()),
            ("text", format.text.is_some()),
        ],
    );
    fields::length_opt(s, &fmt.field("text"), format.text.as_ref(), 1, 1000);
    if let Some(text) = &format.text {
        log_format(s, &fmt.field("text"), text);
    }
    for (i, kv) in format.json.iter().flatten().enumerate() {
        let jp = fmt.field("json").index(i);
        fields::length(s, &jp.field("key"), &kv.key, 1, 100);
        fields::length(s, &jp.field("value"), &kv.value, 1, 100);
        log_format(s, &jp.field("value"), &kv.value);
    }
}

/// A health check on a listener with `protocol`, among `listener_ports`.
pub(crate) fn health_check(
    s: &mut Sink,
    p: &Path,
    hc: &HealthCheckPolicy,
    gateway: bool,
    listener_ports: &[i64],
) {
    fields::range(
        s,
        &p.field("healthyThreshold"),
        hc.healthy_threshold,
        2,
        Some(10),
    );
    fields::range(
        s,
        &p.field("unhealthyThreshold"),
        hc.unhealthy_threshold,
        2,
        Some(10),
    );
    fields::range(
        s,
        &p.field("intervalMillis"),
        hc.interval_millis,
        5000,
        Some(300_000),
    );
    fields::range(
        s,
        &p.field("timeoutMillis"),
        hc.timeout_millis,
        2000,
        Some(60_000),
    );
    fields::port(s, &p.field("port"), hc.port);
    if gateway && hc.protocol == Protocol::Tcp {
        s.error(
            "field.enum",
            &p.field("protocol"),
            "'tcp' is not an allowed value for a virtual gateway health check; allowed values are http, http2, grpc",
        );
    }
    if matches!(hc.protocol, Protocol::Http | Protocol::Http2) && hc.path.is_none() {
        s.error(
            "health_check.required",
            &p.field("path"),
            format!(
                "{} health checks need the path to request (e.g. \"/ping\")",
                hc.protocol
            ),
        );
    }
    if let Some(port) = hc.port {
        if (1..=65535).contains(&port) && !listener_ports.contains(&port) {
            s.error(
                "health_check.port",
                &p.field("port"),
                format!(
                    "port {port} is not a listener port of this resource; use one of {}",
                    ports_list(listener_ports)
                ),
            );
        }
    }
}

/// A connection pool on a listener with `protocol`; gateways have no tcp pool.
pub(crate) fn connection_pool(
    s: &mut Sink,
    p: &Path,
    pool: &ConnectionPool,
    protocol: Protocol,
    gateway: bool,
) {
    let members = [
        ("grpc", pool.grpc.is_some()),
        ("http", pool.http.is_some()),
        ("http2", pool.http2.is_some()),
        ("tcp", pool.tcp.is_some()),
    ];
    let gateway_tcp = gateway && pool.tcp.is_some();
    if gateway_tcp {
        s.error(
            "connection_pool.protocol",
            &p.field("tcp"),
            "a virtual gateway has no tcp connection pool; use grpc, http or http2 to match the listener",
        );
    }
    let one = fields::exactly_one(s, p, "connection pool", &members);
    if let Some(grpc) = &pool.grpc {
        fields::range(
            s,
            &p.field("grpc").field("maxRequests"),
            grpc.max_requests,
            1,
            None,
        );
    }
    if let Some(http2) = &pool.http2 {
        fields::range(
            s,
            &p.field("http2").field("maxRequests"),
            http2.max_requests,
            1,
            None,
        );
    }
    if let Some(http) = &pool.http {
        let hp = p.field("http");
        fields::range(
            s,
            &hp.field("maxConnections"),
            http.max_connections,
            1,
            None,
        );
        fields::range_opt(
            s,
            &hp.field("maxPendingRequests"),
            http.max_pending_requests,
            1,
            None,
        );
    }
    if let Some(tcp) = &pool.tcp {
        fields::range(
            s,
            &p.field("tcp").field("maxConnections"),
            tcp.max_connections,
            1,
            None,
        );
    }
    if one && !gateway_tcp {
        let key = members
            .iter()
            .find(|(_, on)| *on)
            .map(|(k, _)| *k)
            .unwrap_or_default();
        if key != protocol.as_str() {
            s.error(
                "connection_pool.protocol",
                &p.field(key),
                format!("'{key}' connection pool on the {protocol} listener; the pool's key must be the listener's protocol ('{protocol}')"),
            );
        }
    }
}

pub(crate) fn ports_list(ports: &[i64]) -> String {
    if ports.is_empty() {
        return "none (no listeners are defined)".to_owned();
    }
    ports
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
