//! A proxy's translation as the served set keeps it between reloads.
//!
//! The Envoy resources are kept encoded, as the interned handles the xDS
//! snapshots hold: the prost structs of a translation take about 25 times
//! the bytes of their encoding (for a generated 1,000-node mesh, 170 of the
//! server's 200 MB of heap were translations held as structs; the encoded
//! resources are shared with the snapshots and cost nothing more). The
//! structs are decoded on demand: for the debug endpoints, the console,
//! a reload's diff of the proxies it changed, and the TLS publishing order.

use std::collections::BTreeMap;

use envoy_types::pb::envoy::config::cluster::v3::Cluster;
use envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment;
use envoy_types::pb::envoy::config::listener::v3::Listener;
use envoy_types::pb::envoy::config::route::v3::RouteConfiguration;
use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::Secret;
use meshplane_spec::{Diagnostic, ResourceId};
use meshplane_translate::{CloudMapQuery, NeededSecret, ProxyResources, Translation};
use meshplane_xds::cache::{ResourceError, SnapshotBuilder};
use meshplane_xds::{Resource, ResourceInterner, ResourceType, PUSH_ORDER};
use prost::Message;

/// A translation whose Envoy resources are held encoded.
#[derive(Debug)]
pub struct ServedTranslation {
    /// Every resource of the translation, in `ProxyResources` order (by
    /// type, then by name).
    resources: Box<[(ResourceType, Resource)]>,
    /// Findings about pieces that could not be translated.
    pub diagnostics: Vec<Diagnostic>,
    /// For each Envoy resource, the App Mesh resources it was built from.
    pub provenance: BTreeMap<(ResourceType, String), Vec<ResourceId>>,
    /// For each EDS cluster (by name), the Cloud Map query that fills it.
    pub cloud_map: BTreeMap<String, CloudMapQuery>,
    /// The secrets (by name) this proxy's TLS contexts request over ADS.
    pub secrets_needed: BTreeMap<String, NeededSecret>,
}

impl ServedTranslation {
    /// Encode and intern `t`'s resources (equal resources of other proxies
    /// and of the snapshots are one shared allocation).
    pub fn encode(t: Translation, interner: &ResourceInterner) -> Result<Self, ResourceError> {
        let r = &t.resources;
        let mut resources = Vec::with_capacity(
            r.listeners.len()
                + r.routes.len()
                + r.clusters.len()
                + r.endpoints.len()
                + r.secrets.len(),
        );
        intern_all(
            interner,
            ResourceType::Listener,
            &r.listeners,
            |l| &l.name,
            &mut resources,
        )?;
        intern_all(
            interner,
            ResourceType::Route,
            &r.routes,
            |rc| &rc.name,
            &mut resources,
        )?;
        intern_all(
            interner,
            ResourceType::Cluster,
            &r.clusters,
            |c| &c.name,
            &mut resources,
        )?;
        intern_all(
            interner,
            ResourceType::Endpoint,
            &r.endpoints,
            |e| &e.cluster_name,
            &mut resources,
        )?;
        intern_all(
            interner,
            ResourceType::Secret,
            &r.secrets,
            |s| &s.name,
            &mut resources,
        )?;
        Ok(ServedTranslation {
            resources: resources.into_boxed_slice(),
            diagnostics: t.diagnostics,
            provenance: t.provenance,
            cloud_map: t.cloud_map,
            secrets_needed: t.secrets_needed,
        })
    }

    /// The encoded resources, by type then name.
    pub fn encoded(&self) -> impl Iterator<Item = (ResourceType, &Resource)> {
        self.resources.iter().map(|(t, r)| (*t, r))
    }

    /// Whether both translations have the same Envoy resources.
    pub fn same_resources(&self, other: &ServedTranslation) -> bool {
        self.resources.len() == other.resources.len()
            && self
                .resources
                .iter()
                .zip(other.resources.iter())
                .all(|((ta, a), (tb, b))| {
                    ta == tb
                        && (a.ptr_eq(b) || (a.name() == b.name() && a.version() == b.version()))
                })
    }

    /// The Envoy resources, decoded.
    pub fn resources(&self) -> Result<ProxyResources, DecodeError> {
        self.resources_of(&PUSH_ORDER)
    }

    /// Whether the resources of `types` differ between the translations.
    pub fn differ_in(&self, other: &ServedTranslation, types: &[ResourceType]) -> bool {
        let of = |s: &'_ ServedTranslation| {
            s.resources
                .iter()
                .filter(|(t, _)| types.contains(t))
                .map(|(t, r)| (*t, r.name().clone(), r.version().clone()))
                .collect::<Vec<_>>()
        };
        of(self) != of(other)
    }

    /// The resources of `types`, decoded (the other lists stay empty).
    pub fn resources_of(&self, types: &[ResourceType]) -> Result<ProxyResources, DecodeError> {
        let mut out = ProxyResources::default();
        for (t, r) in self.resources.iter().filter(|(t, _)| types.contains(t)) {
            let bytes = r.any().value.as_slice();
            let failed = |source| DecodeError {
                resource_type: *t,
                name: r.name().to_string(),
                source,
            };
            match t {
                ResourceType::Listener => {
                    out.listeners.push(Listener::decode(bytes).map_err(failed)?)
                }
                ResourceType::Route => out
                    .routes
                    .push(RouteConfiguration::decode(bytes).map_err(failed)?),
                ResourceType::Cluster => out.clusters.push(Cluster::decode(bytes).map_err(failed)?),
                ResourceType::Endpoint => out
                    .endpoints
                    .push(ClusterLoadAssignment::decode(bytes).map_err(failed)?),
                ResourceType::Secret => out.secrets.push(Secret::decode(bytes).map_err(failed)?),
            }
        }
        Ok(out)
    }

    /// The whole translation, resources decoded.
    pub fn to_translation(&self) -> Result<Translation, DecodeError> {
        Ok(Translation {
            resources: self.resources()?,
            diagnostics: self.diagnostics.clone(),
            provenance: self.provenance.clone(),
            cloud_map: self.cloud_map.clone(),
            secrets_needed: self.secrets_needed.clone(),
        })
    }

    /// Add every resource to `b`, except the endpoints `replaced` names
    /// (the proxy is served other assignments for them).
    pub fn add_to(
        &self,
        b: &mut SnapshotBuilder,
        replaced: impl Fn(&str) -> bool,
    ) -> Result<(), ResourceError> {
        for (t, r) in self.resources.iter() {
            if *t == ResourceType::Endpoint && replaced(r.name()) {
                continue;
            }
            b.add(*t, r.clone())?;
        }
        Ok(())
    }
}

/// Encode and intern `items` (of type `ty`, named by `name`) onto `out`.
fn intern_all<M: prost::Message + prost::Name>(
    interner: &ResourceInterner,
    ty: ResourceType,
    items: &[M],
    name: fn(&M) -> &String,
    out: &mut Vec<(ResourceType, Resource)>,
) -> Result<(), ResourceError> {
    for item in items {
        out.push((ty, interner.intern_message(ty, name(item), item)?));
    }
    Ok(())
}

/// A served resource that does not decode (it was encoded from the same
/// message type, so this means a bug, reported instead of a panic).
#[derive(Debug, thiserror::Error)]
#[error("the served {resource_type} resource `{name}` does not decode: {source}")]
pub struct DecodeError {
    pub resource_type: ResourceType,
    pub name: String,
    #[source]
    pub source: prost::DecodeError,
}
