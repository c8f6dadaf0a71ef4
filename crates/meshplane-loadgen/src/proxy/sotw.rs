//! A state-of-the-world ADS proxy.

use envoy_types::pb::envoy::config::core::v3::Node;
use envoy_types::pb::envoy::service::discovery::v3::aggregated_discovery_service_client::AggregatedDiscoveryServiceClient;
use envoy_types::pb::envoy::service::discovery::v3::{DiscoveryRequest, DiscoveryResponse};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Channel;
use tonic::Status;

use super::{names, ByName, Fleet, CDS, EDS, LDS, RDS};

#[derive(Default)]
struct Named {
    names: ByName,
    version: String,
    nonce: String,
}

impl Named {
    fn request(&self, type_url: &str) -> DiscoveryRequest {
        DiscoveryRequest {
            type_url: type_url.to_owned(),
            version_info: self.version.clone(),
            response_nonce: self.nonce.clone(),
            resource_names: self.names.names.clone(),
            ..Default::default()
        }
    }
}

fn ack(resp: &DiscoveryResponse) -> DiscoveryRequest {
    DiscoveryRequest {
        type_url: resp.type_url.clone(),
        version_info: resp.version_info.clone(),
        response_nonce: resp.nonce.clone(),
        ..Default::default()
    }
}

fn decode_error(e: prost::DecodeError) -> Status {
    Status::data_loss(format!("undecodable resource: {e}"))
}

/// What a proxy holds across its streams, resent on a new stream as Envoy
/// does: the last ACKed version of each type and the names asked for.
#[derive(Default)]
pub(super) struct Held {
    cds_version: String,
    lds_version: String,
    lds_requested: bool,
    eds: Named,
    rds: Named,
    /// A stream was accepted before: the next one is a reconnect.
    connected_before: bool,
}

impl Held {
    /// The first requests of a stream: CDS (with the node), then, on a
    /// reconnect, every other type already asked for, with the versions
    /// held and no nonce.
    fn opening(&mut self, node_id: &str) -> Vec<DiscoveryRequest> {
        let mut out = vec![DiscoveryRequest {
            node: Some(Node {
                id: node_id.to_owned(),
                cluster: "meshplane-loadgen".to_owned(),
                ..Default::default()
            }),
            type_url: CDS.to_owned(),
            version_info: self.cds_version.clone(),
            ..Default::default()
        }];
        for named in [&mut self.eds, &mut self.rds] {
            named.nonce.clear();
            named.names.answered = false;
        }
        if !self.connected_before {
            return out;
        }
        if !self.eds.names.names.is_empty() {
            out.push(self.eds.request(EDS));
        }
        if self.lds_requested {
            out.push(DiscoveryRequest {
                type_url: LDS.to_owned(),
                version_info: self.lds_version.clone(),
                ..Default::default()
            });
        }
        if !self.rds.names.names.is_empty() {
            out.push(self.rds.request(RDS));
        }
        out
    }
}

pub(super) async fn run(
    fleet: &Fleet,
    idx: usize,
    node_id: &str,
    channel: Channel,
    held: &mut Held,
) -> Result<(), Status> {
    let (tx, rx) = mpsc::channel::<DiscoveryRequest>(16);
    let closed = || Status::cancelled("request channel closed");
    for req in held.opening(node_id) {
        tx.send(req).await.map_err(|_| closed())?;
    }
    let mut client = AggregatedDiscoveryServiceClient::new(channel);
    let mut inbound = client
        .stream_aggregated_resources(ReceiverStream::new(rx))
        .await?
        .into_inner();
    // SotW answers every type in full on a new stream: the proxy counts as
    // synced again once each type was answered and ACKed on this stream.
    fleet.stream_accepted(idx, false);
    held.connected_before = true;

    let (mut cds_acked, mut lds_acked) = (false, false);
    while let Some(resp) = {
        fleet.wait_while_stuck(idx).await;
        inbound.message().await?
    } {
        // A response that arrived as the proxy got stuck waits too.
        fleet.wait_while_stuck(idx).await;
        let Held {
            cds_version,
            lds_version,
            lds_requested,
            eds,
            rds,
            ..
        } = &mut *held;
        match resp.type_url.as_str() {
            CDS => {
                let mut wanted = Vec::new();
                for r in &resp.resources {
                    wanted.extend(names::cluster_eds(r).map_err(decode_error)?.1);
                }
                // Like Envoy: the new EDS clusters ask for their endpoints,
                // then CDS is ACKed, then (once) listeners are requested.
                if eds.names.want(wanted) {
                    tx.send(eds.request(EDS)).await.map_err(|_| closed())?;
                }
                tx.send(ack(&resp)).await.map_err(|_| closed())?;
                *cds_version = resp.version_info.clone();
                cds_acked = true;
                if !*lds_requested {
                    *lds_requested = true;
                    tx.send(DiscoveryRequest {
                        type_url: LDS.to_owned(),
                        ..Default::default()
                    })
                    .await
                    .map_err(|_| closed())?;
                }
            }
            EDS => {
                eds.version = resp.version_info.clone();
                eds.nonce = resp.nonce.clone();
                eds.names.answered = true;
                tx.send(eds.request(EDS)).await.map_err(|_| closed())?;
            }
            LDS => {
                let mut wanted = Vec::new();
                for r in &resp.resources {
                    wanted.extend(names::listener_routes(r).map_err(decode_error)?.1);
                }
                tx.send(ack(&resp)).await.map_err(|_| closed())?;
                *lds_version = resp.version_info.clone();
                lds_acked = true;
                if rds.names.want(wanted) {
                    tx.send(rds.request(RDS)).await.map_err(|_| closed())?;
                }
            }
            RDS => {
                rds.version = resp.version_info.clone();
                rds.nonce = resp.nonce.clone();
                rds.names.answered = true;
                tx.send(rds.request(RDS)).await.map_err(|_| closed())?;
            }
            _ => tx.send(ack(&resp)).await.map_err(|_| closed())?,
        }
        let complete = cds_acked && lds_acked && eds.names.done() && rds.names.done();
        fleet.acked(idx, complete);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reconnect_resends_versions_and_names_without_nonces() {
        let mut held = Held::default();
        let first = held.opening("node-a");
        assert_eq!(first.len(), 1);
        assert_eq!(
            first[0].node.as_ref().map(|n| n.id.as_str()),
            Some("node-a")
        );
        assert_eq!(first[0].version_info, "");
        held.connected_before = true;
        held.cds_version = "c1".into();
        held.lds_version = "l1".into();
        held.lds_requested = true;
        held.rds.names.want(vec!["r".into()]);
        held.rds.version = "r1".into();
        held.rds.nonce = "n7".into();
        held.rds.names.answered = true;
        let again = held.opening("node-a");
        let summary: Vec<(&str, &str, &str, Vec<String>)> = again
            .iter()
            .map(|r| {
                (
                    r.type_url.as_str(),
                    r.version_info.as_str(),
                    r.response_nonce.as_str(),
                    r.resource_names.clone(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                (CDS, "c1", "", vec![]),
                (LDS, "l1", "", vec![]),
                (RDS, "r1", "", vec!["r".to_owned()]),
            ]
        );
        assert!(again[0].node.is_some() && again[1].node.is_none());
        assert!(!held.rds.names.done());
    }
}
