//! The connection to meshplane: `dynamic_resources` (LDS and CDS over ADS)
//! and the static cluster `meshplane_xds` the ADS stream runs on.

use serde_json::{json, Map, Value};

use crate::cluster::{static_cluster_of, Upstream};
use crate::credentials::XdsCredentials;
use crate::env::Env;
use crate::error::BootstrapError;
use crate::files::FileReader;
use crate::xds_endpoints::XdsEndpoints;

pub use crate::xds_endpoints::XDS_ENDPOINT;
pub const INITIAL_FETCH_TIMEOUT: &str = "ENVOY_INITIAL_FETCH_TIMEOUT";

/// Where stock Envoy looks for meshplane when `APPMESH_XDS_ENDPOINT` is unset:
/// meshplane's gRPC port on the loopback interface (a meshplane next to the
/// proxy, or a local relay).
pub const DEFAULT_XDS_ENDPOINT: &str = "127.0.0.1:15010";

/// The name of the static cluster that carries the ADS stream.
pub const XDS_CLUSTER: &str = "meshplane_xds";

/// HTTP/2 keepalive on the ADS connection, as the App Mesh image configured
/// its gRPC channel: a PING every 10 s, the connection dropped after 20 s
/// without an answer.
pub const KEEPALIVE_INTERVAL_S: u32 = 10;
pub const KEEPALIVE_TIMEOUT_S: u32 = 20;

/// The parts of the bootstrap that connect Envoy to meshplane.
pub(crate) struct XdsConnection {
    pub dynamic_resources: Value,
    pub cluster: Map<String, Value>,
}

pub(crate) fn xds_connection(
    env: &Env<'_>,
    files: &dyn FileReader,
    warnings: &mut Vec<String>,
) -> Result<XdsConnection, BootstrapError> {
    let endpoint = env.get_or(XDS_ENDPOINT, DEFAULT_XDS_ENDPOINT);
    let endpoints = XdsEndpoints::parse(XDS_ENDPOINT, endpoint)?;
    let credentials = XdsCredentials::from_env(env, files, &endpoints, warnings)?;

    let mut cluster = static_cluster_of(
        XDS_CLUSTER,
        endpoints.targets(),
        "1s",
        Upstream::Http2 {
            keepalive: Some((KEEPALIVE_INTERVAL_S, KEEPALIVE_TIMEOUT_S)),
        },
    );
    if let Some(tls) = credentials.transport_socket() {
        cluster.insert("transport_socket".into(), tls);
    }

    let mut envoy_grpc = Map::new();
    envoy_grpc.insert("cluster_name".into(), json!(XDS_CLUSTER));
    if let Some(authority) = credentials.server_name().or(endpoints.common_dns_name()) {
        envoy_grpc.insert("authority".into(), json!(authority));
    }
    let mut grpc_service = Map::new();
    grpc_service.insert("envoy_grpc".into(), Value::Object(envoy_grpc));
    if let Some(metadata) = credentials.initial_metadata() {
        grpc_service.insert("initial_metadata".into(), metadata);
    }

    let config_source = json!({
        "ads": {},
        "initial_fetch_timeout": initial_fetch_timeout(env)?,
        "resource_api_version": "V3"
    });
    let dynamic_resources = json!({
        "ads_config": {
            "api_type": "GRPC",
            "transport_api_version": "V3",
            "grpc_services": [Value::Object(grpc_service)]
        },
        "lds_config": config_source,
        "cds_config": config_source
    });
    Ok(XdsConnection {
        dynamic_resources,
        cluster,
    })
}

/// Whole seconds (the image's format, `30`) or seconds with an `s` suffix
/// (`30s`); `0` waits for the first response forever.
fn initial_fetch_timeout(env: &Env<'_>) -> Result<String, BootstrapError> {
    let Some(value) = env.get(INITIAL_FETCH_TIMEOUT) else {
        return Ok("0s".to_owned());
    };
    let digits = value.strip_suffix('s').unwrap_or(value);
    match digits.parse::<u32>() {
        Ok(seconds) if digits.bytes().all(|b| b.is_ascii_digit()) => Ok(format!("{seconds}s")),
        _ => Err(BootstrapError::invalid(
            INITIAL_FETCH_TIMEOUT,
            value,
            "expected a whole number of seconds (0 waits forever), e.g. 0, 30 or 30s",
        )),
    }
}
