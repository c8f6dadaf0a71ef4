//! What a translation produces: Envoy resources, diagnostics, provenance and
//! the Cloud Map queries a discovery source answers.

use std::collections::BTreeMap;

use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment;
use envoy_types::pb::envoy::config::listener::v3::Listener;
use envoy_types::pb::envoy::config::route::v3::RouteConfiguration;
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::Secret;
use meshplane_envoy::ResourceType;
use meshplane_spec::common::IpPreference;
use meshplane_spec::{Diagnostic, ResourceId};

/// The Envoy resources of one proxy, each list sorted by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProxyResources {
    pub listeners: Vec<Listener>,
    pub routes: Vec<RouteConfiguration>,
    pub clusters: Vec<Cluster>,
    pub endpoints: Vec<ClusterLoadAssignment>,
    pub secrets: Vec<Secret>,
}

impl ProxyResources {
    /// Every resource name, by type (for consistency checks and provenance).
    pub fn names(&self) -> Vec<(ResourceType, &str)> {
        let mut out = Vec::new();
        out.extend(
            self.listeners
                .iter()
                .map(|l| (ResourceType::Listener, l.name.as_str())),
        );
        out.extend(
            self.routes
                .iter()
                .map(|r| (ResourceType::Route, r.name.as_str())),
        );
        out.extend(
            self.clusters
                .iter()
                .map(|c| (ResourceType::Cluster, c.name.as_str())),
        );
        out.extend(
            self.endpoints
                .iter()
                .map(|e| (ResourceType::Endpoint, e.cluster_name.as_str())),
        );
        out.extend(
            self.secrets
                .iter()
                .map(|s| (ResourceType::Secret, s.name.as_str())),
        );
        out
    }
}

/// What an EDS cluster's endpoints are discovered from: one Cloud Map
/// `DiscoverInstances` query. The translation emits the cluster with an empty
/// `ClusterLoadAssignment`; a discovery source fills it from this query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudMapQuery {
    pub namespace_name: String,
    pub service_name: String,
    /// Instance attributes every returned instance must carry, sorted by key.
    pub attributes: Vec<(String, String)>,
    /// The node's IP preference, else the mesh's; `None` is App Mesh's default.
    pub ip_preference: Option<IpPreference>,
    /// The port the endpoints serve on (the target listener's port).
    pub port: u32,
    /// The virtual node the cluster belongs to.
    pub virtual_node: ResourceId,
}

/// A secret the translation refers to over ADS and the control plane fills
/// from the PEM material it holds (App Mesh served ACM material the same way).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum NeededSecret {
    /// The chain and private key of an ACM certificate (a listener's).
    Certificate { arn: String },
    /// A validation context trusting these ACM Private CAs (sorted).
    Trust { authorities: Vec<String> },
    /// A validation context trusting the CA an ACM certificate chains up to
    /// (a client of a listener that terminates TLS with it).
    IssuerOf { arn: String },
}

/// The result of translating one virtual node (or, later, gateway).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Translation {
    pub resources: ProxyResources,
    /// Findings about pieces that could not be translated (rule ids `translate.*`).
    pub diagnostics: Vec<Diagnostic>,
    /// For each emitted Envoy resource, the App Mesh resources it was built
    /// from (sorted, without duplicates).
    pub provenance: BTreeMap<(ResourceType, String), Vec<ResourceId>>,
    /// For each EDS cluster (by name), the Cloud Map query that fills it.
    pub cloud_map: BTreeMap<String, CloudMapQuery>,
    /// The secrets (by name) this proxy's TLS contexts request over ADS.
    pub secrets_needed: BTreeMap<String, NeededSecret>,
}
