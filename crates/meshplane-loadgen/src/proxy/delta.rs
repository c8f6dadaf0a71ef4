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

pub async fn run(fleet: &Fleet, idx: usize, node_id: &str, channel: Channel) -> Result<(), Status> {
    let (tx, rx) = mpsc::channel::<DeltaDiscoveryRequest>(16);
    let closed = || Status::cancelled("request channel closed");
    tx.send(DeltaDiscoveryRequest {
        node: Some(Node {
            id: node_id.to_owned(),
            cluster: "meshplane-loadgen".to_owned(),
            ..Default::default()
        }),
        type_url: CDS.to_owned(),
        ..Default::default()
    })
    .await
    .map_err(|_| closed())?;
    let mut client = AggregatedDiscoveryServiceClient::new(channel);
    let mut inbound = client
        .delta_aggregated_resources(ReceiverStream::new(rx))
        .await?
        .into_inner();

    let (mut cds_acked, mut lds_acked, mut lds_requested) = (false, false, false);
    // Cluster -> EDS name, listener -> route names: delta sends changes only.
    let mut clusters: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut listeners: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut eds = ByName::default();
    let mut rds = ByName::default();
    while let Some(resp) = {
        fleet.wait_while_stuck(idx).await;
        inbound.message().await?
    } {
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
                if !lds_requested {
                    lds_requested = true;
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
