//! Proxy key -> current snapshot, published to that proxy's streams.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use tokio::sync::watch;

use super::intern::ResourceInterner;
use super::snapshot::{ConsistencyError, Snapshot};

/// Which snapshot a proxy is served: an opaque string chosen by the
/// [`crate::Authorizer`] (for meshplane, the App Mesh resource identity).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProxyKey(Arc<str>);

impl ProxyKey {
    pub fn new(key: impl Into<Arc<str>>) -> Self {
        ProxyKey(key.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProxyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stream's view of its proxy's snapshot. `None` means the key was removed.
pub type SnapshotWatch = watch::Receiver<Option<Snapshot>>;

/// What [`SnapshotCache::set`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetOutcome {
    /// The key had no snapshot.
    Created,
    /// The content changed; the key's streams were woken.
    Updated,
    /// Same content as before; nobody was woken.
    Unchanged,
}

/// Current snapshot per proxy key. Setting never waits for a stream: each
/// stream holds a `watch` receiver and reads the newest snapshot when it can.
#[derive(Clone, Default)]
pub struct SnapshotCache {
    interner: ResourceInterner,
    proxies: Arc<RwLock<HashMap<ProxyKey, watch::Sender<Option<Snapshot>>>>>,
}

impl fmt::Debug for SnapshotCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SnapshotCache")
            .field("keys", &self.keys().len())
            .finish()
    }
}

impl SnapshotCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The interner snapshots for this cache should be built with.
    pub fn interner(&self) -> &ResourceInterner {
        &self.interner
    }

    /// Publish `snapshot` for `key` if it is consistent and differs from the
    /// current one. An inconsistent snapshot is not published.
    pub fn set(&self, key: ProxyKey, snapshot: Snapshot) -> Result<SetOutcome, ConsistencyError> {
        snapshot.check_consistency()?;
        let mut proxies = self.proxies.write().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = proxies.get(&key) {
            let changed = tx.send_if_modified(|current| match current {
                Some(old) if old.same_content(&snapshot) => false,
                _ => {
                    *current = Some(snapshot);
                    true
                }
            });
            return Ok(if changed {
                SetOutcome::Updated
            } else {
                SetOutcome::Unchanged
            });
        }
        proxies.insert(key, watch::Sender::new(Some(snapshot)));
        Ok(SetOutcome::Created)
    }

    /// Forget `key`: its open streams end with NOT_FOUND (the proxies keep
    /// their last configuration). Returns whether the key existed.
    pub fn remove(&self, key: &ProxyKey) -> bool {
        let removed = self
            .proxies
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
        match removed {
            Some(tx) => {
                tx.send_replace(None);
                true
            }
            None => false,
        }
    }

    pub fn get(&self, key: &ProxyKey) -> Option<Snapshot> {
        let proxies = self.proxies.read().unwrap_or_else(|p| p.into_inner());
        proxies.get(key).and_then(|tx| tx.borrow().clone())
    }

    /// A receiver that sees every later snapshot of `key` (None if unknown).
    pub fn watch(&self, key: &ProxyKey) -> Option<SnapshotWatch> {
        let proxies = self.proxies.read().unwrap_or_else(|p| p.into_inner());
        proxies.get(key).map(|tx| tx.subscribe())
    }

    /// Keys with a snapshot, sorted.
    pub fn keys(&self) -> Vec<ProxyKey> {
        let proxies = self.proxies.read().unwrap_or_else(|p| p.into_inner());
        let mut keys: Vec<ProxyKey> = proxies.keys().cloned().collect();
        keys.sort();
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ResourceType;
    use envoy_types::pb::envoy::config::cluster::v3::{cluster, Cluster};
    use envoy_types::pb::envoy::config::endpoint::v3::ClusterLoadAssignment;

    fn eds_cluster(name: &str) -> Cluster {
        Cluster {
            name: name.into(),
            cluster_discovery_type: Some(cluster::ClusterDiscoveryType::Type(
                cluster::DiscoveryType::Eds as i32,
            )),
            ..Default::default()
        }
    }

    fn snapshot(cache: &SnapshotCache, clusters: &[&str], endpoints: &[&str]) -> Snapshot {
        let mut b = Snapshot::builder(cache.interner());
        for c in clusters {
            b.add_message(ResourceType::Cluster, c, &eds_cluster(c))
                .unwrap();
        }
        for e in endpoints {
            let cla = ClusterLoadAssignment {
                cluster_name: (*e).into(),
                ..Default::default()
            };
            b.add_message(ResourceType::Endpoint, e, &cla).unwrap();
        }
        b.build()
    }

    #[test]
    fn inconsistent_snapshot_is_refused_naming_what_is_missing() {
        let cache = SnapshotCache::new();
        let key = ProxyKey::new("p");
        let err = cache
            .set(key.clone(), snapshot(&cache, &["a", "b"], &["a"]))
            .unwrap_err();
        assert_eq!(err.missing.len(), 1);
        assert_eq!(
            err.to_string(),
            "inconsistent snapshot: CDS `b` references EDS `b`, which the snapshot does not contain"
        );
        assert!(cache.get(&key).is_none(), "not published");
    }

    #[tokio::test]
    async fn unchanged_content_wakes_nobody_and_removal_publishes_none() {
        let cache = SnapshotCache::new();
        let key = ProxyKey::new("p");
        assert_eq!(
            cache
                .set(key.clone(), snapshot(&cache, &["a"], &["a"]))
                .unwrap(),
            SetOutcome::Created
        );
        let mut watch = cache.watch(&key).unwrap();
        watch.borrow_and_update();
        assert_eq!(
            cache
                .set(key.clone(), snapshot(&cache, &["a"], &["a"]))
                .unwrap(),
            SetOutcome::Unchanged
        );
        assert!(!watch.has_changed().unwrap());
        assert_eq!(
            cache
                .set(key.clone(), snapshot(&cache, &[], &["a"]))
                .unwrap(),
            SetOutcome::Updated
        );
        assert!(watch.has_changed().unwrap());
        watch.borrow_and_update();
        assert!(cache.remove(&key));
        watch.changed().await.ok();
        assert!(watch.borrow().is_none());
        assert!(cache.watch(&key).is_none());
    }

    #[test]
    fn snapshots_of_many_proxies_share_resource_bytes() {
        let cache = SnapshotCache::new();
        let a = snapshot(&cache, &["x"], &["x"]);
        let b = snapshot(&cache, &["x"], &["x"]);
        let ra = a.of_type(ResourceType::Cluster).get("x").unwrap();
        let rb = b.of_type(ResourceType::Cluster).get("x").unwrap();
        assert!(ra.ptr_eq(rb));
        assert_eq!(
            ra.references().iter().map(|r| &**r).collect::<Vec<_>>(),
            ["x"]
        );
    }

    /// A cluster whose TLS asks for secrets over ADS, and one secret fetched
    /// from a local SDS server (not the snapshot's to hold).
    fn tls_cluster(name: &str, ads_secret: &str) -> Cluster {
        use envoy_types::pb::envoy::config::core::v3::{
            config_source, transport_socket, AggregatedConfigSource, ApiConfigSource, ConfigSource,
            TransportSocket,
        };
        use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::{
            common_tls_context, CommonTlsContext, SdsSecretConfig, UpstreamTlsContext,
        };
        use prost::Name;
        let over = |specifier| ConfigSource {
            config_source_specifier: Some(specifier),
            ..Default::default()
        };
        let tls = UpstreamTlsContext {
            common_tls_context: Some(CommonTlsContext {
                tls_certificate_sds_secret_configs: vec![SdsSecretConfig {
                    name: "local-socket-cert".into(),
                    sds_config: Some(over(config_source::ConfigSourceSpecifier::ApiConfigSource(
                        ApiConfigSource::default(),
                    ))),
                }],
                validation_context_type: Some(
                    common_tls_context::ValidationContextType::ValidationContextSdsSecretConfig(
                        SdsSecretConfig {
                            name: ads_secret.into(),
                            sds_config: Some(over(config_source::ConfigSourceSpecifier::Ads(
                                AggregatedConfigSource::default(),
                            ))),
                        },
                    ),
                ),
                ..Default::default()
            }),
            ..Default::default()
        };
        Cluster {
            name: name.into(),
            transport_socket: Some(TransportSocket {
                name: "envoy.transport_sockets.tls".into(),
                config_type: Some(transport_socket::ConfigType::TypedConfig(
                    envoy_types::pb::google::protobuf::Any {
                        type_url: UpstreamTlsContext::type_url(),
                        value: prost::Message::encode_to_vec(&tls),
                    },
                )),
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_secret_requested_over_ads_must_be_in_the_snapshot() {
        use envoy_types::pb::envoy::extensions::transport_sockets::tls::v3::Secret;
        let cache = SnapshotCache::new();
        let key = ProxyKey::new("p");
        let mut b = Snapshot::builder(cache.interner());
        b.add_message(ResourceType::Cluster, "c", &tls_cluster("c", "trust:ca"))
            .unwrap();
        let err = cache.set(key.clone(), b.build()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "inconsistent snapshot: CDS `c` references SDS `trust:ca`, which the snapshot does not contain"
        );
        let mut b = Snapshot::builder(cache.interner());
        b.add_message(ResourceType::Cluster, "c", &tls_cluster("c", "trust:ca"))
            .unwrap();
        let secret = Secret {
            name: "trust:ca".into(),
            ..Default::default()
        };
        b.add_message(ResourceType::Secret, "trust:ca", &secret)
            .unwrap();
        assert_eq!(cache.set(key, b.build()).unwrap(), SetOutcome::Created);
    }
}
