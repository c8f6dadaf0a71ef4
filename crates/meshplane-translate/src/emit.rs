//! The collector one translation writes into: resources keyed by name (so
//! output is sorted and a resource reached twice is emitted once),
//! diagnostics, provenance and Cloud Map queries.

use std::collections::{BTreeMap, BTreeSet};

use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment;
use envoy_types::pb::envoy::config::listener::v3::Listener;
use envoy_types::pb::envoy::config::route::v3::RouteConfiguration;
use meshplane_envoy::ResourceType;
use meshplane_spec::identity::ResourceKind;
use meshplane_spec::{Diagnostic, MeshGraph, ResourceId};

use crate::options::TranslateOptions;
use crate::output::{CloudMapQuery, NeededSecret, ProxyResources, Translation};

pub struct Emit<'a> {
    pub mesh: &'a MeshGraph,
    pub opts: &'a TranslateOptions,
    /// The proxy being translated.
    pub client: ResourceId,
    listeners: BTreeMap<String, Listener>,
    routes: BTreeMap<String, RouteConfiguration>,
    clusters: BTreeMap<String, Cluster>,
    endpoints: BTreeMap<String, ClusterLoadAssignment>,
    diagnostics: Vec<Diagnostic>,
    provenance: BTreeMap<(ResourceType, String), BTreeSet<ResourceId>>,
    cloud_map: BTreeMap<String, CloudMapQuery>,
    secrets_needed: BTreeMap<String, NeededSecret>,
    /// Which client policy (described) each egress cluster's TLS came from.
    cluster_tls: BTreeMap<String, String>,
}

impl<'a> Emit<'a> {
    pub fn new(mesh: &'a MeshGraph, opts: &'a TranslateOptions, client: ResourceId) -> Self {
        Emit {
            mesh,
            opts,
            client,
            listeners: BTreeMap::new(),
            routes: BTreeMap::new(),
            clusters: BTreeMap::new(),
            endpoints: BTreeMap::new(),
            diagnostics: Vec::new(),
            provenance: BTreeMap::new(),
            cloud_map: BTreeMap::new(),
            secrets_needed: BTreeMap::new(),
            cluster_tls: BTreeMap::new(),
        }
    }

    pub fn id(&self, kind: ResourceKind, name: &str) -> ResourceId {
        self.mesh.id(kind, name)
    }

    pub fn route_id(&self, router: &str, route: &str) -> ResourceId {
        self.mesh.child_id(ResourceKind::Route, router, route)
    }

    /// Records a finding about `resource`; `path` is the field inside the
    /// resource's document (`spec.backends[0]...`).
    pub fn diagnose(&mut self, diagnostic: Diagnostic, resource: &ResourceId) {
        let d = diagnostic.with_resource(resource.arn(&self.opts.arn));
        if !self.diagnostics.contains(&d) {
            self.diagnostics.push(d);
        }
    }

    pub fn warn(&mut self, rule: &'static str, resource: &ResourceId, path: &str, message: String) {
        self.diagnose(Diagnostic::warning(rule, path, message), resource);
    }

    pub fn error(
        &mut self,
        rule: &'static str,
        resource: &ResourceId,
        path: &str,
        message: String,
    ) {
        self.diagnose(Diagnostic::error(rule, path, message), resource);
    }

    fn note(
        &mut self,
        ty: ResourceType,
        name: &str,
        sources: impl IntoIterator<Item = ResourceId>,
    ) {
        self.provenance
            .entry((ty, name.to_owned()))
            .or_default()
            .extend(sources);
    }

    /// A listener; like every listener App Mesh served, it carries the
    /// (empty) aggregate-stats metadata.
    pub fn listener(&mut self, mut l: Listener, sources: impl IntoIterator<Item = ResourceId>) {
        l.metadata = Some(crate::stats_metadata::aggregate_stats(&[]));
        self.note(ResourceType::Listener, &l.name, sources);
        self.listeners.entry(l.name.clone()).or_insert(l);
    }

    pub fn route_config(
        &mut self,
        r: RouteConfiguration,
        sources: impl IntoIterator<Item = ResourceId>,
    ) {
        self.note(ResourceType::Route, &r.name, sources);
        self.routes.entry(r.name.clone()).or_insert(r);
    }

    /// An emitted cluster's transport socket and the client policy it came
    /// from (as [`Emit::note_cluster_tls`] described it).
    pub fn cluster_tls(
        &self,
        name: &str,
    ) -> Option<(
        Option<&envoy_types::pb::envoy::config::core::v3::TransportSocket>,
        &str,
    )> {
        let origin = self.cluster_tls.get(name)?;
        let cluster = self.clusters.get(name)?;
        Some((cluster.transport_socket.as_ref(), origin))
    }

    pub fn note_cluster_tls(&mut self, name: &str, origin: String) {
        self.cluster_tls.entry(name.to_owned()).or_insert(origin);
    }

    pub fn has_cluster(&self, name: &str) -> bool {
        self.clusters.contains_key(name)
    }

    pub fn cluster(&mut self, c: Cluster, sources: impl IntoIterator<Item = ResourceId>) {
        self.note(ResourceType::Cluster, &c.name, sources);
        self.clusters.entry(c.name.clone()).or_insert(c);
    }

    /// An EDS cluster's (empty) endpoints and the query that fills them.
    pub fn eds_endpoints(&mut self, query: CloudMapQuery, cluster: &str) {
        self.note(
            ResourceType::Endpoint,
            cluster,
            [query.virtual_node.clone()],
        );
        self.endpoints
            .entry(cluster.to_owned())
            .or_insert_with(|| ClusterLoadAssignment {
                cluster_name: cluster.to_owned(),
                ..Default::default()
            });
        self.cloud_map.entry(cluster.to_owned()).or_insert(query);
    }

    /// A secret the proxy requests over ADS, filled by the control plane.
    pub fn need_secret(&mut self, name: &str, secret: NeededSecret) {
        self.secrets_needed.entry(name.to_owned()).or_insert(secret);
    }

    pub fn finish(self) -> Translation {
        Translation {
            resources: ProxyResources {
                listeners: self.listeners.into_values().collect(),
                routes: self.routes.into_values().collect(),
                clusters: self.clusters.into_values().collect(),
                endpoints: self.endpoints.into_values().collect(),
                secrets: Vec::new(),
            },
            diagnostics: self.diagnostics,
            provenance: self
                .provenance
                .into_iter()
                .map(|(k, v)| (k, v.into_iter().collect()))
                .collect(),
            cloud_map: self.cloud_map,
            secrets_needed: self.secrets_needed,
        }
    }
}
