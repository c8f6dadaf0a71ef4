//! A translation's Envoy resources as an xDS snapshot.

use meshplane_translate::ProxyResources;
use meshplane_xds::cache::ResourceError;
use meshplane_xds::{ResourceInterner, ResourceType, Snapshot};

/// Encode, intern and collect every resource of one proxy.
pub fn build(interner: &ResourceInterner, r: &ProxyResources) -> Result<Snapshot, ResourceError> {
    let mut b = Snapshot::builder(interner);
    for s in &r.secrets {
        b.add_message(ResourceType::Secret, &s.name, s)?;
    }
    for c in &r.clusters {
        b.add_message(ResourceType::Cluster, &c.name, c)?;
    }
    for e in &r.endpoints {
        b.add_message(ResourceType::Endpoint, &e.cluster_name, e)?;
    }
    for l in &r.listeners {
        b.add_message(ResourceType::Listener, &l.name, l)?;
    }
    for rc in &r.routes {
        b.add_message(ResourceType::Route, &rc.name, rc)?;
    }
    Ok(b.build())
}
