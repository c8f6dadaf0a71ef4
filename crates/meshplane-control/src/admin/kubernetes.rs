//! `/debug/kubernetes` and the Kubernetes source's metrics: how this
//! replica follows the cluster's App Mesh objects, per watch (kind and
//! namespace: listed, synced, objects, relists, last event, last error)
//! and in total (rejected objects, status writes, conflicts, errors).
//! meshplane-kube keeps the counts; this file only renders its snapshot.

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use meshplane_kube::{KubeStatus, WatchStatus};
use serde_json::{json, Value};

use super::shared::AdminState;
use crate::clock::unix_seconds;

fn status(s: &AdminState) -> Option<KubeStatus> {
    s.kubernetes.as_ref().map(|f| (f.0)())
}

pub(super) async fn debug(State(s): State<AdminState>) -> Response {
    match status(&s) {
        Some(st) => Json(debug_json(&st)).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "this server follows no Kubernetes cluster (started without --kubernetes)\n",
        )
            .into_response(),
    }
}

fn watch_json(w: &WatchStatus) -> Value {
    json!({
        "kind": w.kind,
        "namespace": w.namespace,
        "listed": w.listed,
        "synced": w.synced,
        "objects": w.objects,
        "relists": w.relists,
        "errors": w.errors,
        "last_event": w.last_event.map(unix_seconds),
        "last_error": w.last_error.as_ref().map(|(at, message)| json!({
            "at": unix_seconds(*at),
            "message": message,
        })),
    })
}

/// The JSON of `/debug/kubernetes`.
pub fn debug_json(st: &KubeStatus) -> Value {
    json!({
        "up": st.up,
        "objects": st.objects,
        "rejected": st.rejected,
        "resolutions": st.resolutions,
        "status_writes": st.status_writes,
        "status_conflicts": st.status_conflicts,
        "status_errors": st.status_errors,
        "errors": st.errors,
        "last_error": st.last_error,
        "watches": st.watches.iter().map(watch_json).collect::<Vec<_>>(),
    })
}

/// Why the source is not synced, if it is not: the watches not listed or
/// failing, and the last error.
pub(crate) fn not_synced(s: &AdminState) -> Option<String> {
    let st = status(s)?;
    if st.up {
        return None;
    }
    let behind: Vec<String> = st
        .watches
        .iter()
        .filter(|w| !w.synced)
        .map(|w| match &w.namespace {
            Some(ns) => format!("{} in {ns}", w.kind),
            None => w.kind.to_owned(),
        })
        .collect();
    Some(format!(
        "Kubernetes watches not synced: {}; last error: {}",
        if behind.is_empty() {
            "none".to_owned()
        } else {
            behind.join(", ")
        },
        st.last_error.as_deref().unwrap_or("none")
    ))
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The labels of one watch; `namespace=""` is all namespaces.
fn labels(w: &WatchStatus) -> String {
    format!(
        "kind=\"{}\",namespace=\"{}\"",
        escape(w.kind),
        escape(w.namespace.as_deref().unwrap_or(""))
    )
}

pub(super) fn render_metrics(s: &AdminState) -> String {
    match status(s) {
        Some(st) => metrics_text(&st),
        None => String::new(),
    }
}

/// The Prometheus lines of the Kubernetes source.
pub fn metrics_text(st: &KubeStatus) -> String {
    let mut out = String::new();
    let single = |out: &mut String, name: &str, kind: &str, help: &str, value: u64| {
        header(out, name, kind, help);
        let _ = writeln!(out, "{name} {value}");
    };
    single(
        &mut out,
        "meshplane_kubernetes_up",
        "gauge",
        "1 when every Kubernetes watch has listed and none is failing.",
        u64::from(st.up),
    );
    single(
        &mut out,
        "meshplane_kubernetes_rejected_objects",
        "gauge",
        "Kubernetes objects whose current version is not served (invalid; the last good version or nothing is).",
        st.rejected as u64,
    );
    single(
        &mut out,
        "meshplane_kubernetes_resolutions_total",
        "counter",
        "Times the Kubernetes objects were loaded and validated into a model.",
        st.resolutions,
    );
    single(
        &mut out,
        "meshplane_kubernetes_status_writes_total",
        "counter",
        "Status subresource writes that succeeded.",
        st.status_writes,
    );
    single(
        &mut out,
        "meshplane_kubernetes_status_conflicts_total",
        "counter",
        "Status writes answered 409 Conflict (another writer; retried on the fresh object).",
        st.status_conflicts,
    );
    single(
        &mut out,
        "meshplane_kubernetes_status_errors_total",
        "counter",
        "Status writes that failed otherwise.",
        st.status_errors,
    );
    let mut per_watch = |name: &str, kind: &str, help: &str, value: fn(&WatchStatus) -> u64| {
        header(&mut out, name, kind, help);
        for w in &st.watches {
            let _ = writeln!(out, "{name}{{{}}} {}", labels(w), value(w));
        }
    };
    per_watch(
        "meshplane_kubernetes_synced",
        "gauge",
        "1 when the watch of a kind (in a namespace, or all: namespace=\"\") has listed and its last call succeeded.",
        |w| u64::from(w.synced),
    );
    per_watch(
        "meshplane_kubernetes_objects",
        "gauge",
        "Kubernetes objects held from the watch.",
        |w| w.objects as u64,
    );
    per_watch(
        "meshplane_kubernetes_relists_total",
        "counter",
        "Lists after the first: the watch's resource version had expired (410 Gone).",
        |w| w.relists,
    );
    per_watch(
        "meshplane_kubernetes_watch_errors_total",
        "counter",
        "Failed list or watch calls (retried with backoff).",
        |w| w.errors,
    );
    out
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    fn sample() -> KubeStatus {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        KubeStatus {
            up: false,
            objects: 3,
            rejected: 1,
            resolutions: 4,
            status_writes: 5,
            status_conflicts: 2,
            status_errors: 0,
            errors: 1,
            last_error: Some("too old resource version".to_owned()),
            watches: vec![
                WatchStatus {
                    kind: "Mesh",
                    namespace: None,
                    listed: true,
                    synced: true,
                    objects: 1,
                    relists: 0,
                    errors: 0,
                    last_event: Some(at),
                    last_error: None,
                },
                WatchStatus {
                    kind: "VirtualRouter",
                    namespace: Some("shop".to_owned()),
                    listed: true,
                    synced: false,
                    objects: 2,
                    relists: 3,
                    errors: 1,
                    last_event: Some(at),
                    last_error: Some((at, "too old resource version".to_owned())),
                },
            ],
        }
    }

    #[test]
    fn metrics_carry_each_watch_and_the_totals() {
        let text = metrics_text(&sample());
        for line in [
            "meshplane_kubernetes_up 0",
            "meshplane_kubernetes_rejected_objects 1",
            "meshplane_kubernetes_status_writes_total 5",
            "meshplane_kubernetes_status_conflicts_total 2",
            "meshplane_kubernetes_objects{kind=\"Mesh\",namespace=\"\"} 1",
            "meshplane_kubernetes_objects{kind=\"VirtualRouter\",namespace=\"shop\"} 2",
            "meshplane_kubernetes_relists_total{kind=\"VirtualRouter\",namespace=\"shop\"} 3",
            "meshplane_kubernetes_watch_errors_total{kind=\"VirtualRouter\",namespace=\"shop\"} 1",
            "meshplane_kubernetes_synced{kind=\"VirtualRouter\",namespace=\"shop\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "no line {line} in\n{text}");
        }
        // Every sample has its HELP and TYPE.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let name = l.split(['{', ' ']).next().unwrap_or_default();
            assert!(text.contains(&format!("# TYPE {name} ")), "{name}");
        }
    }

    #[test]
    fn debug_json_shows_each_watch_with_its_last_error() {
        let v = debug_json(&sample());
        assert_eq!(v["rejected"], 1);
        assert_eq!(v["watches"][1]["kind"], "VirtualRouter");
        assert_eq!(v["watches"][1]["namespace"], "shop");
        assert_eq!(v["watches"][1]["relists"], 3);
        assert_eq!(v["watches"][1]["last_error"]["at"], 1000.0);
        assert_eq!(
            v["watches"][1]["last_error"]["message"],
            "too old resource version"
        );
        assert_eq!(v["watches"][0]["namespace"], Value::Null);
        assert_eq!(v["watches"][0]["last_error"], Value::Null);
    }
}
