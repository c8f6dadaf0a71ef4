//! `/debug/store` and the store's metrics: how this replica follows the
//! API's store (applied revision, lag, wake-ups, catch-ups, last error).

use std::fmt::Write as _;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::shared::AdminState;
use crate::pipeline::SourceStatus;

fn status(s: &AdminState) -> Option<SourceStatus> {
    let source = s.source.as_ref()?;
    source.status.as_ref().map(|f| f())
}

pub(super) async fn debug(axum::extract::State(s): axum::extract::State<AdminState>) -> Response {
    match status(&s) {
        Some(st) => Json(st).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "this server keeps no store (started with --config and without --store)\n",
        )
            .into_response(),
    }
}

/// Why the store is down, if it is.
pub(super) fn down(s: &AdminState) -> Option<String> {
    let st = status(s)?;
    (!st.up).then(|| {
        format!(
            "{}: {}",
            st.location,
            st.last_error.as_deref().unwrap_or("unreachable")
        )
    })
}

pub(super) fn render_metrics(s: &AdminState) -> String {
    let Some(st) = status(s) else {
        return String::new();
    };
    let mut out = String::new();
    let mut gauge = |name: &str, kind: &str, help: &str, value: u64| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        let _ = writeln!(out, "{name} {value}");
    };
    gauge(
        "meshplane_store_up",
        "gauge",
        "1 when the API's store answered its last call, 0 while it is unreachable.",
        u64::from(st.up),
    );
    gauge(
        "meshplane_store_applied_revision",
        "gauge",
        "The store revision this replica serves.",
        st.applied_revision,
    );
    gauge(
        "meshplane_store_database_revision",
        "gauge",
        "The store's revision when last read.",
        st.database_revision,
    );
    gauge(
        "meshplane_store_lag_revisions",
        "gauge",
        "Revisions committed to the store that this replica does not serve yet.",
        st.lag,
    );
    gauge(
        "meshplane_store_notifications_total",
        "counter",
        "Wake-ups received from other writers of the store.",
        st.notifications,
    );
    gauge(
        "meshplane_store_catch_ups_total",
        "counter",
        "Reads of what changed in the store since the applied revision.",
        st.catch_ups,
    );
    gauge(
        "meshplane_store_listen_connections_total",
        "counter",
        "Times the store's wake-up connection was opened.",
        st.listen_connections,
    );
    gauge(
        "meshplane_store_errors_total",
        "counter",
        "Failed calls to the store.",
        st.errors,
    );
    out
}
