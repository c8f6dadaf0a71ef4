//! JSON of `/debug/proxies` and `/debug/config`.

use axum::http::StatusCode;
use meshplane_spec::ResourceId;
use meshplane_translate::render;
use serde_json::{json, Map, Value};

use super::shared::AdminState;
use crate::clock::unix_seconds;
use crate::state::{ControlState, ReloadReport};
use meshplane_xds::ProxyKey;

/// Every open stream: identity, principal, per-type versions and last NACK.
pub fn proxies(s: &AdminState) -> Value {
    let streams = s.server.registry().streams();
    let mut out = Vec::new();
    for st in &streams {
        let mut types = Map::new();
        for (t, status) in &st.types {
            // A NACK stands until the stream's next ACK (the registry's).
            let nack = status
                .last_nack
                .as_ref()
                .and_then(|_| s.control.nacks.get(st.stream, *t));
            types.insert(
                t.short_name().to_owned(),
                json!({
                    "last_sent_version": status.last_sent_version,
                    "last_sent_nonce": status.last_sent_nonce,
                    "last_acked_version": status.last_acked_version,
                    "responses_sent": status.responses_sent,
                    "last_nack": nack.map(|n| serde_json::to_value(n).unwrap_or(Value::Null))
                        .or_else(|| status.last_nack.as_ref().map(|m| json!({ "message": m }))),
                }),
            );
        }
        let principal = st
            .principal
            .as_ref()
            .map(|p| json!({ "id": p.id, "source": p.source }));
        out.push(json!({
            "stream": st.stream,
            "identity": st.key.as_str(),
            "node_id": st.node_id,
            "node_cluster": st.node_cluster,
            "principal": principal,
            "remote_addr": st.remote_addr.map(|a| a.to_string()),
            "variant": format!("{:?}", st.variant),
            "connected_since": unix_seconds(st.connected_since),
            "types": types,
        }));
    }
    json!({ "proxies": out })
}

/// `/debug/reload`: the last reload's report, plus `nacked`: every proxy
/// still running an older version because it rejected the latest one, with
/// the version it keeps and the traced spec fields (until it ACKs a fix).
pub fn reload(s: &AdminState, report: &ReloadReport) -> Value {
    let mut v = serde_json::to_value(report).unwrap_or(Value::Null);
    let streams = s.server.registry().streams();
    let mut nacked = Vec::new();
    for ((stream, t), n) in s.control.nacks.all() {
        let Some(st) = streams.iter().find(|st| st.stream == stream) else {
            continue;
        };
        let status = st.types.get(&t);
        if status.is_none_or(|x| x.last_nack.is_none()) {
            continue; // ACKed since
        }
        nacked.push(json!({
            "identity": st.key.as_str(),
            "node_id": st.node_id,
            "type": t.short_name(),
            "running_version": n.version,
            "rejected_version": status.and_then(|x| x.last_sent_version.clone()),
            "message": n.message,
            "trace": n.trace.iter().map(|f| f.finding.clone()).collect::<Vec<_>>(),
        }));
    }
    if let Value::Object(m) = &mut v {
        m.insert("nacked".to_owned(), Value::Array(nacked));
    }
    v
}

/// What `meshplane render` prints for the proxy `node`.
pub fn config(control: &ControlState, node: Option<&str>) -> Result<Value, (StatusCode, String)> {
    let node = node.ok_or((
        StatusCode::BAD_REQUEST,
        "give the proxy as ?node=<ARN or mesh/<mesh>/virtualNode/<name>>".to_owned(),
    ))?;
    let id = ResourceId::parse(node, &control.arn)
        .map_err(|e| (StatusCode::BAD_REQUEST, format!("node: {e}")))?;
    let served = control.served().ok_or((
        StatusCode::SERVICE_UNAVAILABLE,
        "no valid spec set is loaded yet".to_owned(),
    ))?;
    let key = ProxyKey::new(id.arn(&control.arn));
    let proxy = served.proxies.get(&key).ok_or((
        StatusCode::NOT_FOUND,
        format!("meshplane serves no proxy {} ({})", id.short(), key),
    ))?;
    let resources = proxy.translation.resources().map_err(|e| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("decoding the served resources: {e}"),
        )
    })?;
    render::to_json(&resources).map_err(|e| {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("rendering the resources as JSON: {e}"),
        )
    })
}
