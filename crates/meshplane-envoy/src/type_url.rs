//! xDS type URLs of the five resource types meshplane serves.

use std::fmt;

const PREFIX: &str = "type.googleapis.com/";

/// `envoy.config.listener.v3.Listener` (LDS).
pub const LISTENER: &str = "type.googleapis.com/envoy.config.listener.v3.Listener";
/// `envoy.config.cluster.v3.Cluster` (CDS).
pub const CLUSTER: &str = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
/// `envoy.config.route.v3.RouteConfiguration` (RDS).
pub const ROUTE: &str = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
/// `envoy.config.endpoint.v3.ClusterLoadAssignment` (EDS).
pub const ENDPOINT: &str = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
/// `envoy.extensions.transport_sockets.tls.v3.Secret` (SDS).
pub const SECRET: &str = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

/// The fully qualified protobuf message name in a type URL
/// (`type.googleapis.com/a.b.C` -> `a.b.C`); `None` when there is no `/`.
pub fn message_name(type_url: &str) -> Option<&str> {
    type_url
        .rsplit_once('/')
        .map(|(_, name)| name)
        .filter(|name| !name.is_empty())
}

/// The type URL for a fully qualified message name.
pub fn for_message(full_name: &str) -> String {
    format!("{PREFIX}{full_name}")
}

/// One of the xDS resource types meshplane serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceType {
    Listener,
    Cluster,
    Route,
    Endpoint,
    Secret,
}

impl ResourceType {
    /// Every type, in the make-before-break order a server pushes updates:
    /// clusters before their endpoints, both before the listeners and routes
    /// that point at them, secrets last (CDS, EDS, LDS, RDS, SDS).
    pub const PUSH_ORDER: [ResourceType; 5] = [
        ResourceType::Cluster,
        ResourceType::Endpoint,
        ResourceType::Listener,
        ResourceType::Route,
        ResourceType::Secret,
    ];

    pub const fn type_url(self) -> &'static str {
        match self {
            ResourceType::Listener => LISTENER,
            ResourceType::Cluster => CLUSTER,
            ResourceType::Route => ROUTE,
            ResourceType::Endpoint => ENDPOINT,
            ResourceType::Secret => SECRET,
        }
    }

    pub fn from_type_url(type_url: &str) -> Option<Self> {
        Self::PUSH_ORDER
            .into_iter()
            .find(|t| t.type_url() == type_url)
    }

    /// Short xDS name: `LDS`, `CDS`, `RDS`, `EDS`, `SDS`.
    pub const fn xds_name(self) -> &'static str {
        match self {
            ResourceType::Listener => "LDS",
            ResourceType::Cluster => "CDS",
            ResourceType::Route => "RDS",
            ResourceType::Endpoint => "EDS",
            ResourceType::Secret => "SDS",
        }
    }

    /// Position in [`ResourceType::PUSH_ORDER`] (0 is pushed first).
    pub const fn push_rank(self) -> usize {
        match self {
            ResourceType::Cluster => 0,
            ResourceType::Endpoint => 1,
            ResourceType::Listener => 2,
            ResourceType::Route => 3,
            ResourceType::Secret => 4,
        }
    }

    /// Listeners and clusters are sent whole (state of the world: a missing
    /// name means deleted); routes, endpoints and secrets are requested by name.
    pub const fn is_wildcard_by_default(self) -> bool {
        matches!(self, ResourceType::Listener | ResourceType::Cluster)
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.xds_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoy_types::pb::envoy::config::{cluster, endpoint, listener, route};
    use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::Secret;
    use prost::Name;

    #[test]
    fn constants_match_the_generated_types() {
        assert_eq!(LISTENER, listener::v3::Listener::type_url());
        assert_eq!(CLUSTER, cluster::v3::Cluster::type_url());
        assert_eq!(ROUTE, route::v3::RouteConfiguration::type_url());
        assert_eq!(ENDPOINT, endpoint::v3::ClusterLoadAssignment::type_url());
        assert_eq!(SECRET, Secret::type_url());
    }

    #[test]
    fn type_url_round_trips_and_order_is_make_before_break() {
        for t in ResourceType::PUSH_ORDER {
            assert_eq!(ResourceType::from_type_url(t.type_url()), Some(t));
            assert_eq!(ResourceType::PUSH_ORDER[t.push_rank()], t);
        }
        let names: Vec<_> = ResourceType::PUSH_ORDER
            .iter()
            .map(|t| t.xds_name())
            .collect();
        assert_eq!(names, ["CDS", "EDS", "LDS", "RDS", "SDS"]);
        assert_eq!(ResourceType::from_type_url("type.googleapis.com/x.Y"), None);
    }

    #[test]
    fn message_name_strips_the_prefix() {
        assert_eq!(
            message_name(CLUSTER),
            Some("envoy.config.cluster.v3.Cluster")
        );
        assert_eq!(message_name("no-slash"), None);
        assert_eq!(message_name("type.googleapis.com/"), None);
        assert_eq!(for_message("a.B"), "type.googleapis.com/a.B");
    }
}
