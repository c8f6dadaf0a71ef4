//! The proxies' state as the console shows it: `/debug/proxies` plus each
//! proxy's status (synced, pending, NACKed) and the spec fields its NACKs
//! were narrowed to (the server's NACK trace, `crate::nack_trace`). Sent
//! whole over `/ui/events` whenever it changes.

use serde_json::{json, Value};

use crate::admin::{self, AdminState};

/// Every connected proxy, sorted by identity then stream.
pub fn snapshot(s: &AdminState) -> Value {
    let mut v = admin::debug_proxies(s);
    let Some(list) = v["proxies"].as_array_mut() else {
        return v;
    };
    for p in list.iter_mut() {
        let mut status = "synced";
        let mut traced = Vec::new();
        let types = p["types"].as_object().cloned().unwrap_or_default();
        if types.is_empty() {
            status = "pending";
        }
        for t in types.values() {
            let behind = t["last_sent_version"].is_null()
                || t["last_acked_version"] != t["last_sent_version"];
            let nack = &t["last_nack"];
            if !nack.is_null() && behind {
                status = "nacked";
                traced.extend(nack["trace"].as_array().cloned().unwrap_or_default());
            } else if behind && status == "synced" {
                status = "pending";
            }
        }
        p["status"] = json!(status);
        p["nack_fields"] = json!(traced);
    }
    list.sort_by(|a, b| {
        (a["identity"].as_str(), a["stream"].as_u64())
            .cmp(&(b["identity"].as_str(), b["stream"].as_u64()))
    });
    v
}
