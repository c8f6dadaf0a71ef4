//! Consumes the xDS server's notable events (connections, refusals, NACKs;
//! not the per-response ones, which a change to every proxy would make
//! tens of thousands of): metrics, NACK logs mapped back to the App Mesh
//! specs, and the last NACK of each stream for `/debug/proxies`. Whether a
//! NACK still stands (the proxy has not ACKed since) is the registry's.

use std::sync::Arc;

use meshplane_xds::{XdsEvent, XdsServer};
use tokio::sync::broadcast::error::RecvError;

use crate::nack_trace;
use crate::nacks::{NackDetail, TracedField};
use crate::provenance::{describe, source_ids, sources};
use crate::state::ControlState;

/// Handle events until the server is dropped.
pub fn spawn_consumer(server: &XdsServer, state: Arc<ControlState>) -> tokio::task::JoinHandle<()> {
    let mut rx = server.subscribe_notable_events();
    let registry = server.registry().clone();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(event) => handle(&state, &registry, event),
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(
                        missed = n,
                        "xDS event consumer fell behind; some events were not handled (metrics stay exact; some NACK traces or connection logs are missing)"
                    );
                    // A missed disconnection would leave its stream's NACKs
                    // behind: keep only those of streams still open.
                    let open: std::collections::BTreeSet<_> =
                        registry.streams().into_iter().map(|s| s.stream).collect();
                    state.nacks.retain_streams(|s| open.contains(&s));
                }
                Err(RecvError::Closed) => break,
            }
        }
    })
}

fn handle(state: &ControlState, registry: &meshplane_xds::ProxyRegistry, event: XdsEvent) {
    match event {
        XdsEvent::Connected {
            key,
            node_id,
            variant,
            ..
        } => {
            tracing::info!(proxy = %key, node_id, ?variant, "proxy connected");
        }
        XdsEvent::Disconnected {
            stream,
            key,
            reason,
            connected_for,
            ..
        } => {
            state.nacks.forget(stream);
            tracing::info!(proxy = %key, reason, seconds = connected_for.as_secs_f64(), "proxy disconnected");
        }
        XdsEvent::Refused {
            node_id,
            code,
            message,
        } => {
            state.metrics.refused(code);
            tracing::warn!(node_id, ?code, message, "proxy refused");
        }
        XdsEvent::Ack { .. } | XdsEvent::Sent { .. } => {}
        XdsEvent::Nack {
            stream,
            key,
            resource_type,
            names,
            version,
            nonce,
            message,
        } => {
            // Waits for a reload that is publishing (briefly blocking this
            // consumer), so the trace reads the specs of the rejected version.
            let (resources, trace) = match state.served_settled() {
                Some(served) => {
                    let ids = source_ids(&served, &key, resource_type, &names);
                    (
                        sources(&served, &state.arn, &key, resource_type, &names),
                        nack_trace::trace(&served, &state.arn, &ids, &message),
                    )
                }
                None => (Vec::new(), Vec::new()),
            };
            let traced: Vec<String> = trace.iter().map(|d| d.to_string()).collect();
            let node_id = registry
                .streams()
                .into_iter()
                .find(|s| s.stream == stream)
                .map(|s| s.node_id)
                .unwrap_or_default();
            tracing::error!(
                proxy = %key,
                node_id,
                r#type = resource_type.short_name(),
                resources = names.join(", "),
                app_mesh = describe(&resources),
                spec_field = traced.join("; "),
                envoy_message = message,
                "proxy rejected configuration (NACK); it keeps version {version}"
            );
            state.nacks.set(
                stream,
                resource_type,
                NackDetail {
                    message,
                    version,
                    nonce,
                    resources,
                    trace: trace.iter().map(TracedField::from).collect(),
                },
            );
        }
    }
}
