//! How a DNS-discovered cluster follows its name when the address behind it
//! changes (an AWS load balancer or a SaaS endpoint moving to new IPs while
//! applications keep connections open).
//!
//! App Mesh served DNS clusters with Envoy's defaults for all of this. The
//! defaults re-resolve every 5 s but keep an upstream connection for as long
//! as it carries requests (and an idle one for an hour), with the kernel's
//! two-hour TCP keepalive: a keep-alive connection opened before the move
//! stays on the old address until that address fails it. When the old
//! address is retired with a reset, the default route retry policy (`reset`,
//! `connect-failure`) hides that; when it is retired silently (a firewall, a
//! deleted load balancer node), the request on the old connection hangs
//! until the route timeout (15 s by default) and fails with 504.
//!
//! meshplane adds, on DNS clusters only (none of it is in App Mesh's API, so
//! no spec can change it):
//!
//! | setting | value | effect |
//! |---------|-------|--------|
//! | `dns_refresh_rate` | 5 s | a moved name is seen within 5 s (Envoy's default, written out) |
//! | `respect_dns_ttl` | false | the TTL cannot stretch that: load balancer names have 60 s TTLs |
//! | `dns_failure_refresh_rate` | 1 s, backing off to 5 s | a failed lookup is retried sooner than the refresh rate; the last good address stays in use meanwhile |
//! | `upstream_connection_options.tcp_keepalive` | 10 s idle, then 3 probes 5 s apart | an idle connection to a silently dead peer is closed within 25 s |
//! | HTTP `max_connection_duration` | 30 s | every HTTP connection is drained (in-flight requests finish) and replaced at most 30 s after it opened, so traffic reaches a moved name's new address within 35 s |
//! | HTTP `idle_timeout` | 30 s | an idle connection is not reused after the name may have moved |
//!
//! The HTTP settings go in the cluster's `HttpProtocolOptions` for http,
//! http2 and grpc listeners; a tcp listener's cluster carries a TCP stream
//! Envoy cannot move, so it gets the DNS and keepalive settings only.
//!
//! `TranslateOptions::app_mesh_dns_clusters` leaves all of this out, serving
//! the shape App Mesh served (the e2e test shows the difference).

use envoy_types::pb::envoy::config::cluster::v3::{cluster, Cluster, UpstreamConnectionOptions};
use envoy_types::pb::envoy::config::core::v3::{
    HttpProtocolOptions as CommonHttpProtocolOptions, TcpKeepalive,
};

use crate::proto::{millis, u32_value};

/// How often a DNS cluster re-resolves its name.
pub const DNS_REFRESH_MS: i64 = 5_000;
/// First retry after a failed lookup; doubles up to [`DNS_FAILURE_MAX_MS`].
pub const DNS_FAILURE_BASE_MS: i64 = 1_000;
pub const DNS_FAILURE_MAX_MS: i64 = 5_000;
/// Idle seconds before the first TCP keepalive probe.
pub const KEEPALIVE_TIME_S: u32 = 10;
/// Seconds between unanswered probes.
pub const KEEPALIVE_INTERVAL_S: u32 = 5;
/// Unanswered probes before the connection is closed.
pub const KEEPALIVE_PROBES: u32 = 3;
/// The longest an upstream HTTP connection of a DNS cluster lives.
pub const MAX_CONNECTION_DURATION_MS: i64 = 30_000;
/// The longest an upstream HTTP connection of a DNS cluster stays idle.
pub const IDLE_TIMEOUT_MS: i64 = 30_000;

/// Sets the re-resolution and keepalive settings on a DNS cluster
/// (`respect_dns_ttl` stays at its default, false).
///
/// The refresh fields are deprecated in favour of the `envoy.clusters.dns`
/// extension, which Envoy 1.40 does not require; they sit beside `type`
/// and `dns_lookup_family`, kept as App Mesh served them.
#[allow(deprecated)]
pub fn follow_name_changes(c: &mut Cluster) {
    c.dns_refresh_rate = Some(millis(DNS_REFRESH_MS));
    c.dns_failure_refresh_rate = Some(cluster::RefreshRate {
        base_interval: Some(millis(DNS_FAILURE_BASE_MS)),
        max_interval: Some(millis(DNS_FAILURE_MAX_MS)),
    });
    c.upstream_connection_options = Some(UpstreamConnectionOptions {
        tcp_keepalive: Some(TcpKeepalive {
            keepalive_probes: Some(u32_value(KEEPALIVE_PROBES)),
            keepalive_time: Some(u32_value(KEEPALIVE_TIME_S)),
            keepalive_interval: Some(u32_value(KEEPALIVE_INTERVAL_S)),
        }),
        ..Default::default()
    });
}

/// The connection lifetime and idle limits of an HTTP DNS cluster.
pub fn connection_lifetime() -> CommonHttpProtocolOptions {
    CommonHttpProtocolOptions {
        idle_timeout: Some(millis(IDLE_TIMEOUT_MS)),
        max_connection_duration: Some(millis(MAX_CONNECTION_DURATION_MS)),
        ..Default::default()
    }
}
