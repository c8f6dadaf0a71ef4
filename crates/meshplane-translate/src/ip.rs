//! IP preference: which address family the proxy resolves, discovers and
//! reaches the local application with (user guide, mesh "IP version
//! preference" table).
//!
//! | preference      | DNS lookup family | local app endpoint |
//! |-----------------|-------------------|--------------------|
//! | (default)       | AUTO (v6, then v4) | 127.0.0.1         |
//! | IPv6_PREFERRED  | AUTO (v6, then v4) | ::1               |
//! | IPv4_PREFERRED  | V4_PREFERRED      | 127.0.0.1          |
//! | IPv6_ONLY       | V6_ONLY           | ::1                |
//! | IPv4_ONLY       | V4_ONLY           | 127.0.0.1          |
//!
//! Listeners bind `0.0.0.0`, except under IPv6_PREFERRED and IPv6_ONLY,
//! where they bind `::` accepting IPv4 too (`ipv4_compat`), so IPv6-only
//! pods are served. App Mesh bound both families under every explicit
//! preference; meshplane keeps IPv4-only binding under the IPv4
//! preferences, where a host without IPv6 would refuse a `::` listener.
//! The listener names keep App Mesh's `0.0.0.0` either way.

use envoy_types::pb::envoy::config::cluster::v3::cluster::DnsLookupFamily;
use meshplane_spec::common::IpPreference;
use meshplane_spec::mesh::MeshSpec;
use meshplane_spec::virtual_node::VirtualNodeSpec;

/// The node's own preference (from its service discovery), else the mesh's.
pub fn effective(node: &VirtualNodeSpec, mesh: Option<&MeshSpec>) -> Option<IpPreference> {
    let sd = node.service_discovery.as_ref();
    sd.and_then(|s| s.dns.as_ref().and_then(|d| d.ip_preference))
        .or_else(|| sd.and_then(|s| s.aws_cloud_map.as_ref().and_then(|c| c.ip_preference)))
        .or_else(|| mesh.and_then(MeshSpec::ip_preference))
}

pub fn dns_lookup_family(pref: Option<IpPreference>) -> DnsLookupFamily {
    match pref {
        None | Some(IpPreference::Ipv6Preferred) => DnsLookupFamily::Auto,
        Some(IpPreference::Ipv4Preferred) => DnsLookupFamily::V4Preferred,
        Some(IpPreference::Ipv4Only) => DnsLookupFamily::V4Only,
        Some(IpPreference::Ipv6Only) => DnsLookupFamily::V6Only,
    }
}

/// The loopback address of the application next to the proxy.
pub fn local_app_address(pref: Option<IpPreference>) -> &'static str {
    match pref {
        Some(IpPreference::Ipv6Preferred | IpPreference::Ipv6Only) => "::1",
        None | Some(IpPreference::Ipv4Preferred | IpPreference::Ipv4Only) => "127.0.0.1",
    }
}

/// The address the ingress and egress listeners bind, and whether IPv4
/// connections are accepted on an IPv6 socket.
pub fn listen_address(pref: Option<IpPreference>) -> (&'static str, bool) {
    match pref {
        Some(IpPreference::Ipv6Preferred | IpPreference::Ipv6Only) => ("::", true),
        None | Some(IpPreference::Ipv4Preferred | IpPreference::Ipv4Only) => ("0.0.0.0", false),
    }
}
