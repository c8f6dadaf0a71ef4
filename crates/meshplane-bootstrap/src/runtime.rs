//! The runtime layers and cluster manager settings the image set.

use serde_json::{json, Value};

use crate::env::Env;
use crate::error::BootstrapError;

pub const SET_TRACING_DECISION: &str = "APPMESH_SET_TRACING_DECISION";
pub const SANITIZE_ORIGINAL_PATH: &str = "ENVOY_SANITIZE_ORIGINAL_PATH";
pub const NO_EXTENSION_LOOKUP_BY_NAME: &str = "ENVOY_NO_EXTENSION_LOOKUP_BY_NAME";
pub const TCP_POOL_IDLE_TIMEOUT: &str = "ENVOY_ENABLE_TCP_POOL_IDLE_TIMEOUT";
pub const OUTLIER_EVENT_LOG: &str = "ENVOY_OUTLIER_DETECTION_EVENT_LOG_PATH";

/// Variables that set runtime guards Envoy has since removed (current Envoy
/// reports a removed guard as a bug, so they are not written).
const REMOVED_GUARDS: [&str; 4] = [
    SET_TRACING_DECISION,
    SANITIZE_ORIGINAL_PATH,
    NO_EXTENSION_LOOKUP_BY_NAME,
    TCP_POOL_IDLE_TIMEOUT,
];

/// A static layer with the image's lasting settings, then an admin layer (so
/// `/runtime_modify` works).
pub(crate) fn layered_runtime(
    env: &Env<'_>,
    warnings: &mut Vec<String>,
) -> Result<Value, BootstrapError> {
    for variable in REMOVED_GUARDS {
        // Still parsed, so a typo is reported like any other bad flag.
        env.flag(variable, true)?;
        if env.get(variable).is_some() {
            warnings.push(format!(
                "{variable} is ignored: the Envoy runtime guard it set no longer exists (the behaviour is now fixed)"
            ));
        }
    }
    Ok(json!({
        "layers": [
            {
                "name": "static_layer_0",
                "static_layer": {
                    // Accept deprecated fields in the configuration meshplane serves.
                    "envoy.features.enable_all_deprecated_features": true,
                    // Route regexes up to this RE2 program size, as App Mesh
                    // allowed (Envoy's default is 100); `meshplane validate`
                    // checks every regex against the same limit.
                    "re2.max_program_size.error_level": meshplane_re2::MAX_PROGRAM_SIZE
                }
            },
            { "name": "admin_layer", "admin_layer": {} }
        ]
    }))
}

pub(crate) fn cluster_manager(env: &Env<'_>) -> Value {
    json!({ "outlier_detection": { "event_log_path": env.get_or(OUTLIER_EVENT_LOG, "/dev/stdout") } })
}
