//! Envoy's admin interface, as the image configured it: all interfaces on
//! port 9901, its access log in a file.

use serde_json::{json, Value};

use crate::env::Env;
use crate::error::BootstrapError;

pub const ADMIN_PORT: &str = "ENVOY_ADMIN_ACCESS_PORT";
pub const ADMIN_ACCESS_LOG: &str = "ENVOY_ADMIN_ACCESS_LOG_FILE";
pub const ADMIN_IPV6: &str = "ENVOY_ADMIN_ACCESS_ENABLE_IPV6";

pub const DEFAULT_ADMIN_PORT: u16 = 9901;
pub const DEFAULT_ADMIN_ACCESS_LOG: &str = "/tmp/envoy_admin_access.log";

pub(crate) fn admin(env: &Env<'_>) -> Result<Value, BootstrapError> {
    let port = env.listen_port(ADMIN_PORT, DEFAULT_ADMIN_PORT)?;
    let log = env.get_or(ADMIN_ACCESS_LOG, DEFAULT_ADMIN_ACCESS_LOG);
    // With IPv6 enabled the admin listens on `::` and accepts IPv4 too.
    let address = if env.flag(ADMIN_IPV6, false)? {
        json!({ "socket_address": { "address": "::", "port_value": port, "ipv4_compat": true } })
    } else {
        json!({ "socket_address": { "address": "0.0.0.0", "port_value": port } })
    };
    Ok(json!({
        "access_log": [{
            "name": "envoy.access_loggers.file",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                "path": log
            }
        }],
        "address": address
    }))
}
