//! The runtime layers and cluster manager settings the image always set.

use serde_json::{json, Value};

use crate::env::Env;
use crate::error::BootstrapError;

pub const SET_TRACING_DECISION: &str = "APPMESH_SET_TRACING_DECISION";
pub const SANITIZE_ORIGINAL_PATH: &str = "ENVOY_SANITIZE_ORIGINAL_PATH";
pub const OUTLIER_EVENT_LOG: &str = "ENVOY_OUTLIER_DETECTION_EVENT_LOG_PATH";

/// A static layer with the image's settings, then an admin layer (so
/// `/runtime_modify` works). Flags an Envoy build no longer knows are
/// ignored by it.
pub(crate) fn layered_runtime(env: &Env<'_>) -> Result<Value, BootstrapError> {
    let tracing_decision = env.flag(SET_TRACING_DECISION, true)?;
    let sanitize_original_path = env.flag(SANITIZE_ORIGINAL_PATH, true)?;
    Ok(json!({
        "layers": [
            {
                "name": "static_layer_0",
                "static_layer": {
                    // Accept deprecated fields in the configuration meshplane serves.
                    "envoy.features.enable_all_deprecated_features": true,
                    // Allow route regexes of any complexity, as App Mesh did.
                    "re2.max_program_size.error_level": 1000,
                    "envoy.reloadable_features.http_set_tracing_decision_in_request_id": tracing_decision,
                    "envoy.reloadable_features.sanitize_original_path": sanitize_original_path
                }
            },
            { "name": "admin_layer", "admin_layer": {} }
        ]
    }))
}

pub(crate) fn cluster_manager(env: &Env<'_>) -> Value {
    json!({ "outlier_detection": { "event_log_path": env.get_or(OUTLIER_EVENT_LOG, "/dev/stdout") } })
}
