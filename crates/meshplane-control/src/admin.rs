//! The admin HTTP server: health, readiness, Prometheus metrics and debug
//! views of proxies, rendered configuration, the last reload, Cloud Map,
//! the store and the Kubernetes source (`/debug/kubernetes`).
//!
//! Its JSON endpoints have no authentication: `/debug/config` shows any
//! proxy's full configuration. Keep it on loopback or behind a network
//! policy. The web console (`/ui`, [`crate::console`]) asks for sign-in
//! beyond loopback.

mod debug;
mod kubernetes;
mod shared;
mod store;

pub use shared::{AdminState, KubeStatusFn};

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/debug/proxies", get(proxies))
        .route("/debug/config", get(config))
        .route("/debug/reload", get(reload))
        .route("/debug/cloudmap", get(cloud_map))
        .route("/debug/diff", post(diff))
        .route("/debug/store", get(store::debug))
        .route("/debug/kubernetes", get(kubernetes::debug))
        .with_state(state)
}

/// Why the Kubernetes source is not synced, if it is not (the console's
/// Problems page shows it).
pub(crate) fn kubernetes_not_synced(s: &AdminState) -> Option<String> {
    kubernetes::not_synced(s)
}

/// `/debug/proxies`' JSON (the console builds on it).
pub(crate) fn debug_proxies(s: &AdminState) -> serde_json::Value {
    debug::proxies(s)
}

async fn readyz(State(s): State<AdminState>) -> Response {
    if s.control.is_ready() {
        // A store that cannot be reached does not stop the xDS service
        // (proxies keep getting the last snapshots), so the replica stays
        // ready; the answer says so.
        match store::down(&s) {
            Some(why) => (
                StatusCode::OK,
                format!("ready (serving the last snapshots); store down: {why}\n"),
            )
                .into_response(),
            None => (StatusCode::OK, "ready\n").into_response(),
        }
    } else {
        let why = s
            .control
            .last_reload()
            .and_then(|r| r.error.clone())
            .unwrap_or_else(|| "the first spec set is not built yet".to_owned());
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        )
            .into_response()
    }
}

async fn metrics(State(s): State<AdminState>) -> Response {
    let mut text = s
        .control
        .metrics
        .render(s.server.registry(), &s.control.arn);
    if let Some(feed) = s.control.cloud_map() {
        text.push_str(&crate::cloud_map::admin::render_metrics(feed));
    }
    text.push_str(&store::render_metrics(&s));
    text.push_str(&kubernetes::render_metrics(&s));
    if let Some(stats) = s.allocator.as_ref().and_then(|read| read.0()) {
        text.push_str(&crate::metrics::allocator::render(&stats));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn proxies(State(s): State<AdminState>) -> Response {
    Json(debug::proxies(&s)).into_response()
}

#[derive(Debug, Deserialize)]
struct ConfigQuery {
    node: Option<String>,
}

async fn config(State(s): State<AdminState>, Query(q): Query<ConfigQuery>) -> Response {
    match debug::config(&s.control, q.node.as_deref()) {
        Ok(v) => Json(v).into_response(),
        Err((code, message)) => (code, format!("{message}\n")).into_response(),
    }
}

async fn reload(State(s): State<AdminState>) -> Response {
    match s.control.last_reload() {
        Some(r) => Json(debug::reload(&s, r.as_ref())).into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "no reload has finished yet\n",
        )
            .into_response(),
    }
}

async fn cloud_map(State(s): State<AdminState>) -> Response {
    match s.control.cloud_map() {
        Some(feed) => Json(crate::cloud_map::admin::debug_json(feed)).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "Cloud Map discovery is not enabled\n",
        )
            .into_response(),
    }
}

/// `POST /debug/diff` with a spec set (any input format) as the body: what
/// it would change if it replaced the served specs, as `meshplane diff
/// --format json` prints it. 422 with the findings when it is invalid.
async fn diff(State(s): State<AdminState>, body: String) -> Response {
    let Some(pipeline) = s.pipeline.clone() else {
        return (StatusCode::NOT_FOUND, "no reload pipeline here\n").into_response();
    };
    match tokio::task::spawn_blocking(move || pipeline.dry_run(&body)).await {
        Ok(Ok(report)) => Json(report).into_response(),
        Ok(Err(diagnostics)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(serde_json::json!({ "valid": false, "diagnostics": diagnostics })),
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")).into_response(),
    }
}
