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
    /// Every type, in declaration order. The order in which a server pushes
    /// them is the server's decision (meshplane-xds's `PUSH_ORDER`).
    pub const ALL: [ResourceType; 5] = [
        ResourceType::Listener,
        ResourceType::Cluster,
        ResourceType::Route,
        ResourceType::Endpoint,
        ResourceType::Secret,
    ];

    /// The type URL carried in requests, responses and `Any` resources.
    pub const fn type_url(self) -> &'static str {
        match self {
            ResourceType::Listener => LISTENER,
            ResourceType::Cluster => CLUSTER,
            ResourceType::Route => ROUTE,
            ResourceType::Endpoint => ENDPOINT,
            ResourceType::Secret => SECRET,
        }
    }

    /// The type for a type URL, if it is one of the five served.
    pub fn from_type_url(type_url: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.type_url() == type_url)
    }

    /// Short discovery-service name used in logs, events and metrics:
    /// `LDS`, `CDS`, `RDS`, `EDS`, `SDS`.
    pub const fn short_name(self) -> &'static str {
        match self {
            ResourceType::Listener => "LDS",
            ResourceType::Cluster => "CDS",
            ResourceType::Route => "RDS",
            ResourceType::Endpoint => "EDS",
            ResourceType::Secret => "SDS",
        }
    }

    /// Whether a state-of-the-world response carries every resource of the
    /// type: listeners and clusters are sent whole (a name missing from a
    /// response is deleted); routes, endpoints and secrets are requested by name.
    pub const fn is_full_state(self) -> bool {
        matches!(self, ResourceType::Listener | ResourceType::Cluster)
    }
}

impl fmt::Display for ResourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.short_name())
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
    fn type_url_round_trips() {
        for t in ResourceType::ALL {
            assert_eq!(ResourceType::from_type_url(t.type_url()), Some(t));
        }
        let names: Vec<_> = ResourceType::ALL.iter().map(|t| t.short_name()).collect();
        assert_eq!(names, ["LDS", "CDS", "RDS", "EDS", "SDS"]);
        let full: Vec<_> = ResourceType::ALL
            .into_iter()
            .filter(|t| t.is_full_state())
            .collect();
        assert_eq!(full, [ResourceType::Listener, ResourceType::Cluster]);
        assert_eq!(ResourceType::from_type_url("type.googleapis.com/x.Y"), None);
        assert_eq!(ResourceType::from_type_url(""), None);
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
