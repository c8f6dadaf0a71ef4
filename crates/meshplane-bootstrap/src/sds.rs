//! `APPMESH_SDS_SOCKET_PATH`: the local SDS server (e.g. a SPIRE agent) that
//! certificates for mesh mTLS come from, as the static cluster
//! `static_cluster_sds_unix_socket` that meshplane's secret configs name.

use serde_json::{Map, Value};

use crate::address::Target;
use crate::cluster::{static_cluster, Upstream};
use crate::error::BootstrapError;

pub const SDS_SOCKET_PATH: &str = "APPMESH_SDS_SOCKET_PATH";
pub const SDS_CLUSTER: &str = "static_cluster_sds_unix_socket";

pub(crate) fn sds_cluster(path: &str) -> Result<Map<String, Value>, BootstrapError> {
    if !path.starts_with('/') && !path.starts_with('@') {
        return Err(BootstrapError::invalid(
            SDS_SOCKET_PATH,
            path,
            "expected the absolute path of the SDS server's Unix socket, e.g. /run/spire/sockets/agent.sock",
        ));
    }
    let target = Target::Unix {
        path: path.to_owned(),
    };
    Ok(static_cluster(
        SDS_CLUSTER,
        &target,
        "1s",
        Upstream::Http2 { keepalive: None },
    ))
}
