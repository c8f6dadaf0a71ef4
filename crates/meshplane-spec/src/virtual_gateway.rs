//! `VirtualGatewaySpec`.

use serde::{Deserialize, Serialize};

use crate::common::{ConnectionPool, HealthCheckPolicy, Logging, PortMapping};
use crate::tls::{BackendDefaults, ListenerTls};

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VirtualGatewaySpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_defaults: Option<BackendDefaults>,
    /// Required by the API; `None` is reported by validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listeners: Option<Vec<VirtualGatewayListener>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
}

impl VirtualGatewaySpec {
    pub fn listeners(&self) -> &[VirtualGatewayListener] {
        self.listeners.as_deref().unwrap_or(&[])
    }
}

/// `VirtualGatewayListener`. Its protocol may only be http, http2 or grpc and
/// its connection pool may not be tcp (checked by validation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VirtualGatewayListener {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_pool: Option<ConnectionPool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<HealthCheckPolicy>,
    pub port_mapping: PortMapping,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ListenerTls>,
}
