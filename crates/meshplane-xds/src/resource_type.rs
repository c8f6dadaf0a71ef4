//! The five xDS resource types this server serves, their type URLs, and the
//! order in which a change is pushed to a proxy.

use std::fmt;

/// An xDS resource type. The derived order is the make-before-break push order
/// (see [`ResourceType::PUSH_ORDER`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceType {
    /// `envoy.extensions.transport_sockets.tls.v3.Secret` (SDS).
    Secret,
    /// `envoy.config.cluster.v3.Cluster` (CDS).
    Cluster,
    /// `envoy.config.endpoint.v3.ClusterLoadAssignment` (EDS).
    Endpoint,
    /// `envoy.config.listener.v3.Listener` (LDS).
    Listener,
    /// `envoy.config.route.v3.RouteConfiguration` (RDS).
    Route,
}

impl ResourceType {
    /// Order in which additions and updates are sent after a change.
    ///
    /// Secrets come first because clusters (upstream TLS) and listeners
    /// (downstream TLS) reference them and warm until they arrive; then the
    /// spec's make-before-break order CDS, EDS, LDS, RDS.
    pub const PUSH_ORDER: [ResourceType; 5] = [
        ResourceType::Secret,
        ResourceType::Cluster,
        ResourceType::Endpoint,
        ResourceType::Listener,
        ResourceType::Route,
    ];

    /// Order in which removals are sent, after every addition was answered:
    /// users of a resource disappear before the resource they use.
    pub const REMOVAL_ORDER: [ResourceType; 5] = [
        ResourceType::Listener,
        ResourceType::Route,
        ResourceType::Cluster,
        ResourceType::Endpoint,
        ResourceType::Secret,
    ];

    /// The type URL carried in requests, responses and `Any` resources.
    pub const fn type_url(self) -> &'static str {
        match self {
            ResourceType::Secret => {
                "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret"
            }
            ResourceType::Cluster => "type.googleapis.com/envoy.config.cluster.v3.Cluster",
            ResourceType::Endpoint => {
                "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"
            }
            ResourceType::Listener => "type.googleapis.com/envoy.config.listener.v3.Listener",
            ResourceType::Route => "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
        }
    }

    /// The type for a type URL, if it is one of the five served here.
    pub fn from_type_url(url: &str) -> Option<ResourceType> {
        Self::PUSH_ORDER.into_iter().find(|t| t.type_url() == url)
    }

    /// Whether a state-of-the-world response carries every resource of the
    /// type (LDS and CDS: a resource missing from a response is deleted).
    pub const fn is_full_state(self) -> bool {
        matches!(self, ResourceType::Cluster | ResourceType::Listener)
    }

    /// The short discovery-service name used in logs and events.
    pub const fn short_name(self) -> &'static str {
        match self {
            ResourceType::Secret => "SDS",
            ResourceType::Cluster => "CDS",
            ResourceType::Endpoint => "EDS",
            ResourceType::Listener => "LDS",
            ResourceType::Route => "RDS",
        }
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
    use envoy_types::pb::envoy::config::{
        cluster::v3::Cluster, endpoint::v3::ClusterLoadAssignment, listener::v3::Listener,
        route::v3::RouteConfiguration,
    };
    use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::Secret;
    use prost::Name;

    #[test]
    fn type_urls_match_the_generated_messages() {
        assert_eq!(ResourceType::Cluster.type_url(), Cluster::type_url());
        assert_eq!(
            ResourceType::Endpoint.type_url(),
            ClusterLoadAssignment::type_url()
        );
        assert_eq!(ResourceType::Listener.type_url(), Listener::type_url());
        assert_eq!(
            ResourceType::Route.type_url(),
            RouteConfiguration::type_url()
        );
        assert_eq!(ResourceType::Secret.type_url(), Secret::type_url());
        for t in ResourceType::PUSH_ORDER {
            assert_eq!(ResourceType::from_type_url(t.type_url()), Some(t));
        }
        assert_eq!(ResourceType::from_type_url("type.googleapis.com/x"), None);
    }
}
