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

pub async fn run(fleet: &Fleet, idx: usize, node_id: &str, channel: Channel) -> Result<(), Status> {
    let (tx, rx) = mpsc::channel::<DiscoveryRequest>(16);
    let closed = || Status::cancelled("request channel closed");
    tx.send(DiscoveryRequest {
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
        .stream_aggregated_resources(ReceiverStream::new(rx))
        .await?
        .into_inner();

    let (mut cds_acked, mut lds_acked, mut lds_requested) = (false, false, false);
    let mut eds = Named::default();
    let mut rds = Named::default();
    while let Some(resp) = {
        fleet.wait_while_stuck(idx).await;
        inbound.message().await?
    } {
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
                cds_acked = true;
                if !lds_requested {
                    lds_requested = true;
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
