//! Cloud Map on `/metrics` (per query and per service) and `/debug/cloudmap`.

use std::fmt::Write as _;
use std::time::SystemTime;

use meshplane_cloudmap::{CloudMapMetrics, QueryKey};
use serde_json::{json, Value};

use super::CloudMapFeed;
use crate::clock::unix_seconds;

fn labels(k: &QueryKey) -> String {
    let attrs: Vec<String> = k
        .attributes
        .iter()
        .map(|(a, v)| format!("{a}={v}"))
        .collect();
    format!(
        "namespace=\"{}\",service=\"{}\",attributes=\"{}\"",
        escape(&k.namespace),
        escape(&k.service),
        escape(&attrs.join(","))
    )
}

fn ts(t: Option<SystemTime>) -> f64 {
    t.map(unix_seconds).unwrap_or(0.0)
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// The Prometheus lines of the Cloud Map queries (nothing before the
/// source started: no node uses Cloud Map).
pub fn render_metrics(feed: &CloudMapFeed) -> String {
    let mut out = String::new();
    let Some(m) = feed.metrics() else {
        return out;
    };
    render(&mut out, &m);
    out
}

fn render(out: &mut String, m: &CloudMapMetrics) {
    type Gauge = fn(&meshplane_cloudmap::QueryMetrics) -> Option<f64>;
    let per_query: [(&str, &str, &str, Gauge); 7] = [
        (
            "meshplane_cloudmap_last_success_timestamp_seconds",
            "gauge",
            "When Cloud Map last answered for the query (0: never).",
            |q| Some(ts(q.last_success)),
        ),
        (
            "meshplane_cloudmap_last_error_timestamp_seconds",
            "gauge",
            "When the query last failed (0: never).",
            |q| Some(ts(q.last_error_at)),
        ),
        (
            "meshplane_cloudmap_failing",
            "gauge",
            "1 while the query's last call failed (the last instances are kept).",
            |q| Some(if q.last_error.is_some() { 1.0 } else { 0.0 }),
        ),
        (
            "meshplane_cloudmap_instances",
            "gauge",
            "Healthy instances in the last answer (absent before the first).",
            |q| q.instance_count.map(|n| n as f64),
        ),
        (
            "meshplane_cloudmap_revision",
            "gauge",
            "The service's InstancesRevision the instances were read at.",
            |q| q.revision.map(|r| r as f64),
        ),
        (
            "meshplane_cloudmap_discover_calls_total",
            "counter",
            "DiscoverInstances calls sent for the query.",
            |q| Some(q.discover_calls as f64),
        ),
        (
            "meshplane_cloudmap_discover_errors_total",
            "counter",
            "DiscoverInstances calls that failed.",
            |q| Some(q.discover_errors as f64),
        ),
    ];
    for (name, kind, help, value) in per_query {
        header(out, name, kind, help);
        for q in &m.queries {
            if let Some(v) = value(q) {
                let _ = writeln!(out, "{name}{{{}}} {v}", labels(&q.key));
            }
        }
    }
    header(
        out,
        "meshplane_cloudmap_revision_calls_total",
        "counter",
        "DiscoverInstancesRevision calls sent, by Cloud Map service.",
    );
    for s in &m.services {
        let _ = writeln!(
            out,
            "meshplane_cloudmap_revision_calls_total{{namespace=\"{}\",service=\"{}\"}} {}",
            escape(&s.namespace),
            escape(&s.service),
            s.revision_calls
        );
    }
    header(
        out,
        "meshplane_cloudmap_throttled_total",
        "counter",
        "Cloud Map calls answered with a throttling error, by service.",
    );
    for s in &m.services {
        let _ = writeln!(
            out,
            "meshplane_cloudmap_throttled_total{{namespace=\"{}\",service=\"{}\"}} {}",
            escape(&s.namespace),
            escape(&s.service),
            s.throttled
        );
    }
}

/// `/debug/cloudmap`: settings, and per query what is known and served.
pub fn debug_json(feed: &CloudMapFeed) -> Value {
    let states = feed.states();
    let metrics = feed.metrics().unwrap_or_default();
    let queries: Vec<Value> = feed
        .queries()
        .iter()
        .map(|k| {
            let st = states.get(k);
            let m = metrics.query(k);
            let instances = st.and_then(|s| s.instances.as_ref()).map(|list| {
                list.iter()
                    .map(|i| {
                        json!({
                            "id": i.instance_id,
                            "ipv4": i.ipv4.map(|a| a.to_string()),
                            "ipv6": i.ipv6.map(|a| a.to_string()),
                            "port": i.port,
                            "attributes": i.attributes,
                        })
                    })
                    .collect::<Vec<_>>()
            });
            json!({
                "namespace": k.namespace,
                "service": k.service,
                "attributes": k.attributes.iter().map(|(a, v)| json!({"key": a, "value": v})).collect::<Vec<_>>(),
                "known": st.is_some_and(|s| s.is_known()),
                "instances": instances,
                "revision": st.and_then(|s| s.revision),
                "last_success": st.and_then(|s| s.last_success).map(unix_seconds),
                "last_error": st.and_then(|s| s.last_error.clone()),
                "consecutive_errors": st.map_or(0, |s| s.consecutive_errors),
                "discover_calls": m.map_or(0, |m| m.discover_calls),
                "discover_errors": m.map_or(0, |m| m.discover_errors),
                "changes": m.map_or(0, |m| m.changes),
            })
        })
        .collect();
    let services: Vec<Value> = metrics
        .services
        .iter()
        .map(|s| {
            json!({
                "namespace": s.namespace,
                "service": s.service,
                "polls": s.polls,
                "revision_calls": s.revision_calls,
                "revision_errors": s.revision_errors,
                "throttled": s.throttled,
                "revision_api_supported": s.revision_api_supported,
                "revision": s.revision,
            })
        })
        .collect();
    let settings = feed.settings();
    json!({
        "started": feed.started(),
        "endpoint": settings.endpoint,
        "interval_seconds": settings.config.interval.as_secs_f64(),
        "queries": queries,
        "services": services,
    })
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
