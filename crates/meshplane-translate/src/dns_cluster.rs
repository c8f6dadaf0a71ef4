//! How a DNS-discovered cluster follows its name when the address behind it
//! changes (an AWS load balancer or a SaaS endpoint moving to new IPs while
//! applications keep connections open).
//!
//! App Mesh served DNS clusters with Envoy's defaults for all of this.
//! Envoy 1.40 re-resolves every 5 s and, when a LOGICAL_DNS answer
//! changes, drains the connections to the old address (measured by the
//! e2e test `external_address_change`: the App Mesh shape also moves
//! within one refresh). What the defaults leave open is an old address
//! that dies silently (a firewall, a deleted load balancer node) while a
//! request is on its way to it: that request hangs until the route timeout
//! (15 s by default) and fails with 504, since a route timeout is not
//! retried. And an idle connection to a silently dead peer is found out
//! only by the kernel's two-hour keepalive, or by the next request hanging.
//!
//! meshplane adds, on DNS clusters only (none of it is in App Mesh's API, so
//! no spec can change it):
//!
//! | setting | value | effect |
//! |---------|-------|--------|
//! | `dns_refresh_rate` | 5 s | a moved name is seen within 5 s (Envoy's default, written out) |
//! | `respect_dns_ttl` | false | the TTL cannot stretch that: load balancer names have 60 s TTLs |
//! | `dns_failure_refresh_rate` | 1 s, backing off to 5 s | a failed lookup is retried sooner than the refresh rate; the last good address stays in use meanwhile |
//! | `upstream_connection_options.tcp_keepalive` | 10 s idle, then probes 5 s apart | an idle connection to a silently dead peer is noticed, and firewall and NAT state along the path stays warm |
//! | `TCP_USER_TIMEOUT` (`upstream_bind_config.socket_options`) | 10 s | a connection whose sent bytes go unacknowledged for 10 s is aborted: a request stuck on a silently dead peer fails with a reset, which the default retry policy retries on a new connection, instead of waiting for the route timeout; with keepalive, it also bounds an idle dead connection to about 20 s |
//! | HTTP `max_connection_duration` | 30 s | every HTTP connection is drained (in-flight requests finish) and replaced at most 30 s after it opened: a backstop where a move does not drain (an address that stays in a STRICT_DNS answer but stops serving, an Envoy that does not drain on a changed answer), bounding the switch to 35 s |
//! | HTTP `idle_timeout` | 30 s | an idle connection is not reused after the name may have moved |
//!
//! The HTTP settings go in the cluster's `HttpProtocolOptions` for http,
//! http2 and grpc listeners; a tcp listener's cluster carries a TCP stream
//! Envoy cannot move, so it gets the DNS, keepalive and user-timeout
//! settings only.
//!
//! `TranslateOptions::app_mesh_dns_clusters` leaves all of this out, serving
//! the shape App Mesh served (the e2e test shows the difference).

use envoy_types::pb::envoy::config::cluster::v3::{cluster, Cluster, UpstreamConnectionOptions};
use envoy_types::pb::envoy::config::core::v3::{
    socket_option, BindConfig, HttpProtocolOptions as CommonHttpProtocolOptions, SocketOption,
    TcpKeepalive,
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
/// `TCP_USER_TIMEOUT`: how long sent data may stay unacknowledged, ms.
pub const USER_TIMEOUT_MS: i64 = 10_000;
/// Linux `IPPROTO_TCP` and `TCP_USER_TIMEOUT` (setsockopt level and name).
const IPPROTO_TCP: i64 = 6;
const TCP_USER_TIMEOUT: i64 = 18;
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
    // Without a source address Envoy binds nothing and only applies the
    // options (Envoy 1.40 accepts and applies them; measured in the e2e
    // test, where a stuck request is retried after 10 s).
    c.upstream_bind_config = Some(BindConfig {
        socket_options: vec![SocketOption {
            description: "TCP_USER_TIMEOUT".to_owned(),
            level: IPPROTO_TCP,
            name: TCP_USER_TIMEOUT,
            state: socket_option::SocketState::StatePrebind as i32,
            value: Some(socket_option::Value::IntValue(USER_TIMEOUT_MS)),
            ..Default::default()
        }],
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
