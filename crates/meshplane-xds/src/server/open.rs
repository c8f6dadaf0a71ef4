//! Opening a stream of either protocol: admission (`session`) then the
//! state-of-the-world or delta machinery, answering on a response stream.

use envoy_types::pb::envoy::service::discovery::v3::{
    DeltaDiscoveryRequest, DeltaDiscoveryResponse, DiscoveryRequest, DiscoveryResponse,
};
use tonic::{Request, Response, Status, Streaming};

use super::delta::DeltaStream;
use super::responses::Responses;
use super::session::serve;
use super::sotw::SotwStream;
use super::xds_server::XdsServer;
use crate::events::Variant;
use crate::ResourceType;

pub(super) type SotwOut = Responses<DiscoveryResponse>;
pub(super) type DeltaOut = Responses<DeltaDiscoveryResponse>;

impl XdsServer {
    pub(super) async fn sotw(
        &self,
        request: Request<Streaming<DiscoveryRequest>>,
        only: Option<ResourceType>,
    ) -> Result<Response<SotwOut>, Status> {
        let out = serve(self, request, Variant::Sotw, |ctx, snap| {
            SotwStream::new(ctx, snap, only)
        })
        .await?;
        Ok(Response::new(out))
    }

    pub(super) async fn delta(
        &self,
        request: Request<Streaming<DeltaDiscoveryRequest>>,
        only: Option<ResourceType>,
    ) -> Result<Response<DeltaOut>, Status> {
        let out = serve(self, request, Variant::Delta, |ctx, snap| {
            DeltaStream::new(ctx, snap, only)
        })
        .await?;
        Ok(Response::new(out))
    }
}
