//! Variables the image read that have no meaning with meshplane; setting one
//! gives a warning, so a migrated task definition says what it lost.

use crate::env::Env;

/// (variable, why it is ignored)
pub const IGNORED: [(&str, &str); 10] = [
    (
        "APPMESH_DUALSTACK_ENDPOINT",
        "it chose App Mesh's dual-stack endpoint; set APPMESH_XDS_ENDPOINT to meshplane",
    ),
    (
        "APPMESH_FIPS_ENDPOINT",
        "it chose App Mesh's FIPS endpoint; set APPMESH_XDS_ENDPOINT to meshplane",
    ),
    (
        "APPMESH_PREVIEW",
        "it chose App Mesh's preview endpoint; set APPMESH_XDS_ENDPOINT to meshplane",
    ),
    (
        "APPMESH_SIGNING_NAME",
        "stock Envoy cannot sign with SigV4; use MESHPLANE_XDS_TOKEN_FILE or a client certificate",
    ),
    (
        "APPNET_ENVOY_RESTART_COUNT",
        "meshplane envoy execs Envoy; let the container runtime restart it",
    ),
    (
        "PID_POLL_INTERVAL_MS",
        "there is no agent process watching Envoy",
    ),
    (
        "LISTENER_DRAIN_WAIT_TIME_S",
        "there is no agent; pass --drain-time-s to Envoy after `--` instead",
    ),
    (
        "APPNET_AGENT_ADMIN_MODE",
        "there is no agent management interface",
    ),
    (
        "APPNET_AGENT_HTTP_PORT",
        "there is no agent management interface",
    ),
    (
        "APPNET_AGENT_ADMIN_UDS_PATH",
        "there is no agent management interface",
    ),
];

pub(crate) fn warn_ignored(env: &Env<'_>, warnings: &mut Vec<String>) {
    for (variable, why) in IGNORED {
        if env.get(variable).is_some() {
            warnings.push(format!("{variable} is ignored: {why}"));
        }
    }
}
