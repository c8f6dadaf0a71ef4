//! The Envoy v3 bootstrap of a proxy that gets its configuration from
//! meshplane, built from the environment variables App Mesh's Envoy image
//! read, so that task definitions and pod specs written for that image run
//! stock Envoy unchanged (`meshplane envoy` as the container entrypoint, or
//! `meshplane bootstrap > envoy.yaml`).
//!
//! [`bootstrap_from_env`] is a function of the variables and of the files
//! they name (read through [`FileReader`]); it does no other IO. Its output
//! is deterministic: the same inputs render to the same YAML bytes.
//!
//! # Identity
//! `node.id` is `APPMESH_RESOURCE_ARN` (else the deprecated
//! `APPMESH_RESOURCE_NAME`, then `APPMESH_VIRTUAL_NODE_NAME`), a full ARN or
//! the short `mesh/<mesh>/virtualNode/<name>` / `virtualGateway` form, sent as
//! written. `node.cluster` is `APPMESH_RESOURCE_CLUSTER`, else
//! `APPMESH_VIRTUAL_NODE_CLUSTER`, else the node id.
//!
//! `node.metadata` is left out. The image sent `aws.appmesh.task.interfaces`
//! (the task's interface addresses, gathered at start-up) and
//! `aws.appmesh.platformInfo`; meshplane's translation needs neither, and
//! gathering interfaces is IO this crate does not do.
//!
//! # Connection to meshplane
//! LDS and CDS come over one ADS stream (`initial_fetch_timeout` from
//! `ENVOY_INITIAL_FETCH_TIMEOUT`, default `0s`: wait for meshplane forever).
//! `APPMESH_XDS_ENDPOINT` (`host:port`, `[ipv6]:port` or `unix:/path`,
//! default [`DEFAULT_XDS_ENDPOINT`] `127.0.0.1:15010`) is where meshplane
//! listens. Several replicas are listed comma-separated
//! (`10.0.0.1:15010,10.0.0.2:15010`): each is an endpoint of the xDS
//! cluster, so when the stream's replica dies Envoy opens the next stream to
//! another one and keeps its config meanwhile. A DNS name resolving to
//! several addresses does the same through STRICT_DNS.
//!
//! The stream uses Envoy's own gRPC client (`envoy_grpc`) over a static
//! cluster `meshplane_xds`, not `google_grpc` as the image did: `envoy_grpc`
//! is in every Envoy build (google_grpc is a build option), it gets TLS,
//! SNI and SAN checks from the ordinary upstream TLS transport socket, and
//! its HTTP/2 `connection_keepalive` (PING every 10 s, 20 s timeout) does
//! what the image's gRPC channel keepalive arguments did. A DNS name gives
//! a STRICT_DNS cluster, an IP a STATIC one.
//!
//! # Credentials
//! The image signed the stream with SigV4 through the `aws_iam` gRPC
//! credential, which stock Envoy no longer has (removed in 1.35). meshplane
//! takes instead, alone or together:
//! - `MESHPLANE_XDS_TOKEN_FILE`: a file holding a token, sent on the stream
//!   as `authorization: Bearer <token>` initial metadata. The token is read
//!   once and written into the bootstrap (keep the bootstrap file private; a
//!   new token needs a proxy restart).
//! - `MESHPLANE_XDS_CA`: PEM CA bundle that signed meshplane's certificate.
//!   Setting it turns TLS on (ALPN `h2`); without it the connection is
//!   plaintext, which suits loopback and Unix sockets. The server name
//!   checked (SNI and certificate SAN) is `MESHPLANE_XDS_TLS_SERVER_NAME`,
//!   else the endpoint's DNS name, else its IP (as an IP SAN).
//! - `MESHPLANE_XDS_CLIENT_CERT` + `MESHPLANE_XDS_CLIENT_KEY`: a client
//!   certificate for mutual TLS (both or neither, and only with a CA).
//! - `MESHPLANE_XDS_CLIENT_SDS_SECRET`: instead of files, the name of the
//!   client certificate secret on the SDS server at `APPMESH_SDS_SOCKET_PATH`
//!   (a SPIRE agent names the workload's SVID `default`); rotates without a
//!   restart.
//!
//! # Everything else the image honoured
//! Admin (`ENVOY_ADMIN_ACCESS_PORT` 9901, `ENVOY_ADMIN_ACCESS_LOG_FILE`
//! `/tmp/envoy_admin_access.log`, `ENVOY_ADMIN_ACCESS_ENABLE_IPV6`), tracing
//! (one of `ENABLE_ENVOY_XRAY_TRACING`, `ENABLE_ENVOY_DATADOG_TRACING`,
//! `ENABLE_ENVOY_JAEGER_TRACING` and their address, port, sampling and
//! service variables, or `ENVOY_TRACING_CFG_FILE`), stats
//! (`ENABLE_ENVOY_STATS_TAGS`, `ENVOY_STATS_FLUSH_INTERVAL`,
//! `ENABLE_ENVOY_DOG_STATSD` with `STATSD_ADDRESS`/`STATSD_PORT`/
//! `STATSD_SOCKET_PATH`, `ENVOY_STATS_CONFIG_FILE`,
//! `ENVOY_STATS_SINKS_CFG_FILE`), `ENVOY_RESOURCES_CONFIG_FILE`,
//! `APPMESH_SDS_SOCKET_PATH` (static cluster `static_cluster_sds_unix_socket`),
//! the image's runtime flags and outlier event log. See each module.
//!
//! A value that cannot be used, or variables that contradict each other,
//! give a [`BootstrapError`] naming the variable. Accepted but ignored
//! settings become [`Bootstrap::warnings`].

mod address;
mod admin;
mod bootstrap;
mod cluster;
mod credentials;
mod custom_config;
mod duration;
mod env;
mod envoy_args;
mod error;
mod files;
mod ignored;
mod node;
mod runtime;
mod sds;
mod stats;
mod tracing;
mod xds;
mod xds_endpoints;

pub use bootstrap::{bootstrap_from_env, Bootstrap};
pub use envoy_args::{envoy_args, envoy_binary};
pub use error::BootstrapError;
pub use files::{FileReader, LocalFiles, MemoryFiles};
pub use node::ProxyIdentity;
pub use xds::{DEFAULT_XDS_ENDPOINT, XDS_CLUSTER};

/// The environment variables read, by concern.
pub mod vars {
    pub use crate::admin::{ADMIN_ACCESS_LOG, ADMIN_IPV6, ADMIN_PORT};
    pub use crate::credentials::{
        CA, CLIENT_CERT, CLIENT_KEY, CLIENT_SDS_SECRET, TLS_SERVER_NAME, TOKEN_FILE,
    };
    pub use crate::custom_config::{
        RESOURCES_CONFIG_FILE, STATS_CONFIG_FILE, STATS_SINKS_CFG_FILE, TRACING_CFG_FILE,
    };
    pub use crate::envoy_args::{CONCURRENCY, ENVOY_BINARY, LOG_LEVEL};
    pub use crate::ignored::IGNORED;
    pub use crate::node::{
        RESOURCE_ARN, RESOURCE_CLUSTER, RESOURCE_NAME, VIRTUAL_NODE_CLUSTER, VIRTUAL_NODE_NAME,
    };
    pub use crate::runtime::{
        NO_EXTENSION_LOOKUP_BY_NAME, OUTLIER_EVENT_LOG, SANITIZE_ORIGINAL_PATH,
        SET_TRACING_DECISION, TCP_POOL_IDLE_TIMEOUT,
    };
    pub use crate::sds::SDS_SOCKET_PATH;
    pub use crate::stats::{
        ENABLE_DOG_STATSD, ENABLE_STATS_TAGS, METRIC_EXTENSION_VERSION, STATSD_ADDRESS,
        STATSD_PORT, STATSD_SOCKET_PATH, STATS_FLUSH_INTERVAL,
    };
    pub use crate::tracing::{
        DATADOG_ADDRESS, DATADOG_PORT, DD_SERVICE, ENABLE_DATADOG, ENABLE_JAEGER, ENABLE_XRAY,
        JAEGER_ADDRESS, JAEGER_PORT, JAEGER_VERSION, XRAY_DAEMON_ADDRESS, XRAY_DAEMON_PORT,
        XRAY_SAMPLING_RATE, XRAY_SAMPLING_RULE_MANIFEST, XRAY_SEGMENT_NAME,
    };
    pub use crate::xds::{INITIAL_FETCH_TIMEOUT, XDS_ENDPOINT};
}
