//! A delta (incremental) ADS proxy.

use std::collections::{BTreeMap, BTreeSet};

use envoy_types::pb::envoy::config::core::v3::Node;
use envoy_types::pb::envoy::service::discovery::v3::aggregated_discovery_service_client::AggregatedDiscoveryServiceClient;
use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::Status;

use super::{names, ByName, Fleet, CDS, EDS, LDS, RDS};

fn ack(resp: &DeltaDiscoveryResponse) -> DeltaDiscoveryRequest {
    DeltaDiscoveryRequest {
        type_url: resp.type_url.clone(),
        response_nonce: resp.nonce.clone(),
        ..Default::default()
    }
}

fn decode_error(e: prost::DecodeError) -> Status {
    Status::data_loss(format!("undecodable resource: {e}"))
}

/// The subscription change from `old` to `new` names.
fn resubscribe(type_url: &str, old: &[String], new: &[String]) -> DeltaDiscoveryRequest {
    let old: BTreeSet<&String> = old.iter().collect();
    let new_set: BTreeSet<&String> = new.iter().collect();
    DeltaDiscoveryRequest {
        type_url: type_url.to_owned(),
        resource_names_subscribe: new_set.difference(&old).map(|s| (*s).clone()).collect(),
        resource_names_unsubscribe: old.difference(&new_set).map(|s| (*s).clone()).collect(),
        ..Default::default()
    }
}

/// What a proxy holds across its streams: every resource's version by type
/// (resent as `initial_resource_versions` on a new stream, as Envoy does)
/// and the names it subscribed to.
#[derive(Default)]
pub(super) struct Held {
    /// Cluster -> EDS name, listener -> route names: delta sends changes only.
    clusters: BTreeMap<String, Option<String>>,
    listeners: BTreeMap<String, Vec<String>>,
    eds: ByName,
    rds: ByName,
    lds_requested: bool,
    /// Type URL -> resource name -> version held.
    versions: BTreeMap<String, BTreeMap<String, String>>,
    connected_before: bool,
}

impl Held {
    fn versions_of<C: FromIterator<(String, String)>>(&self, type_url: &str) -> C {
        self.versions
            .get(type_url)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The first requests of a stream: CDS (with the node), then, on a
    /// reconnect, every other type already subscribed to, each with the
    /// versions held.
    fn opening(&mut self, node_id: &str) -> Vec<DeltaDiscoveryRequest> {
        let mut out = vec![DeltaDiscoveryRequest {
            node: Some(Node {
                id: node_id.to_owned(),
                cluster: "meshplane-loadgen".to_owned(),
                ..Default::default()
            }),
            type_url: CDS.to_owned(),
            initial_resource_versions: self.versions_of(CDS),
            ..Default::default()
        }];
        self.eds.answered = false;
        self.rds.answered = false;
        if !self.connected_before {
            return out;
        }
        if !self.eds.names.is_empty() {
            out.push(DeltaDiscoveryRequest {
                type_url: EDS.to_owned(),
                resource_names_subscribe: self.eds.names.clone(),
                initial_resource_versions: self.versions_of(EDS),
                ..Default::default()
            });
        }
        if self.lds_requested {
            out.push(DeltaDiscoveryRequest {
                type_url: LDS.to_owned(),
                initial_resource_versions: self.versions_of(LDS),
                ..Default::default()
            });
        }
        if !self.rds.names.is_empty() {
            out.push(DeltaDiscoveryRequest {
                type_url: RDS.to_owned(),
                resource_names_subscribe: self.rds.names.clone(),
                initial_resource_versions: self.versions_of(RDS),
                ..Default::default()
            });
        }
        out
    }

    fn record_versions(&mut self, resp: &DeltaDiscoveryResponse) {
        let held = self.versions.entry(resp.type_url.clone()).or_default();
        for r in &resp.resources {
            held.insert(r.name.clone(), r.version.clone());
        }
        for gone in &resp.removed_resources {
            held.remove(gone);
        }
    }
}

pub(super) async fn run(
    fleet: &Fleet,
    idx: usize,
    node_id: &str,
    channel: Channel,
    held: &mut Held,
) -> Result<(), Status> {
    let (tx, rx) = mpsc::channel::<DeltaDiscoveryRequest>(16);
    let closed = || Status::cancelled("request channel closed");
    for req in held.opening(node_id) {
        tx.send(req).await.map_err(|_| closed())?;
    }
    let mut client = AggregatedDiscoveryServiceClient::new(channel);
    let mut inbound = client
        .delta_aggregated_resources(ReceiverStream::new(rx))
        .await?
        .into_inner();
    // On a reconnect the server sends only what differs from the versions
    // held (nothing, if nothing changed): accepted is synced.
    fleet.stream_accepted(idx, held.connected_before);
    held.connected_before = true;

    let (mut cds_acked, mut lds_acked) = (held.lds_requested, held.lds_requested);
    while let Some(resp) = {
        fleet.wait_while_stuck(idx).await;
        inbound.message().await?
    } {
        // A response that arrived as the proxy got stuck waits too.
        fleet.wait_while_stuck(idx).await;
        held.record_versions(&resp);
        let Held {
            clusters,
            listeners,
            eds,
            rds,
            lds_requested,
            ..
        } = &mut *held;
        match resp.type_url.as_str() {
            CDS => {
                for r in &resp.resources {
                    if let Some(any) = &r.resource {
                        let (name, service) = names::cluster_eds(any).map_err(decode_error)?;
                        clusters.insert(name, service);
                    }
                }
                for gone in &resp.removed_resources {
                    clusters.remove(gone);
                }
                let old = eds.names.clone();
                if eds.want(clusters.values().flatten().cloned().collect()) {
                    tx.send(resubscribe(EDS, &old, &eds.names))
                        .await
                        .map_err(|_| closed())?;
                }
                tx.send(ack(&resp)).await.map_err(|_| closed())?;
                cds_acked = true;
                if !*lds_requested {
                    *lds_requested = true;
                    tx.send(DeltaDiscoveryRequest {
                        type_url: LDS.to_owned(),
                        ..Default::default()
                    })
                    .await
                    .map_err(|_| closed())?;
                }
            }
            LDS => {
                for r in &resp.resources {
                    if let Some(any) = &r.resource {
                        let (name, routes) = names::listener_routes(any).map_err(decode_error)?;
                        listeners.insert(name, routes);
                    }
                }
                for gone in &resp.removed_resources {
                    listeners.remove(gone);
                }
                tx.send(ack(&resp)).await.map_err(|_| closed())?;
                lds_acked = true;
                let old = rds.names.clone();
                if rds.want(listeners.values().flatten().cloned().collect()) {
                    tx.send(resubscribe(RDS, &old, &rds.names))
                        .await
                        .map_err(|_| closed())?;
                }
            }
            t => {
                if t == EDS {
                    eds.answered = true;
                } else if t == RDS {
                    rds.answered = true;
                }
                tx.send(ack(&resp)).await.map_err(|_| closed())?;
            }
        }
        let complete = cds_acked && lds_acked && eds.done() && rds.done();
        fleet.acked(idx, complete);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoy_types::pb::envoy::service::discovery::v3::Resource;

    #[test]
    fn a_reconnect_resends_the_versions_held() {
        let mut held = Held::default();
        let first = held.opening("node-a");
        assert_eq!(first.len(), 1);
        assert!(first[0].initial_resource_versions.is_empty());
        held.connected_before = true;
        held.lds_requested = true;
        held.rds.want(vec!["r1".into()]);
        held.record_versions(&DeltaDiscoveryResponse {
            type_url: CDS.into(),
            resources: vec![Resource {
                name: "c1".into(),
                version: "v1".into(),
                ..Default::default()
            }],
            ..Default::default()
        });
        held.record_versions(&DeltaDiscoveryResponse {
            type_url: RDS.into(),
            resources: vec![Resource {
                name: "r1".into(),
                version: "v9".into(),
                ..Default::default()
            }],
            ..Default::default()
        });
        let again = held.opening("node-a");
        let types: Vec<&str> = again.iter().map(|r| r.type_url.as_str()).collect();
        assert_eq!(types, vec![CDS, LDS, RDS]);
        assert_eq!(
            again[0]
                .initial_resource_versions
                .get("c1")
                .map(String::as_str),
            Some("v1")
        );
        assert!(again[1].initial_resource_versions.is_empty());
        assert_eq!(again[2].resource_names_subscribe, vec!["r1".to_owned()]);
        assert_eq!(
            again[2]
                .initial_resource_versions
                .get("r1")
                .map(String::as_str),
            Some("v9")
        );
        assert!(!held.rds.done());
    }
}
