//! The ADS service, routed by hand so that a stream costs as little memory
//! as possible with thousands of idle streams: requests are decoded with a
//! buffer that starts at 1 KiB (tonic's default: 8 KiB), and responses are
//! framed by [`GrpcFrames`] into buffers of their own size instead of
//! tonic's per-stream encoder buffer, which keeps the size of the largest
//! response ever sent.

use std::convert::Infallible;
use std::task::{Context, Poll};

use envoy_types::pb::envoy::service::discovery::v3::{DeltaDiscoveryRequest, DiscoveryRequest};
use tonic::codec::BufferSettings;
use tonic::codegen::{http, Body, BoxFuture, Service, StdError};
use tonic::server::NamedService;
use tonic::{Request, Response, Status, Streaming};
use tonic_prost::ProstDecoder;

use super::grpc_frames::GrpcFrames;
use super::responses::Responses;
use super::xds_server::XdsServer;

const SOTW_PATH: &str =
    "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources";
const DELTA_PATH: &str =
    "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources";

/// Initial request buffer per stream (tonic's default: 8 KiB).
const BUFFER: usize = 1024;
/// Bytes decoded before the decoder yields (tonic's default).
const YIELD_THRESHOLD: usize = 32 * 1024;
/// The largest request accepted (tonic's default).
const MAX_REQUEST: usize = 4 * 1024 * 1024;

/// The request stream of `req`, decoded as `T`; compressed requests are
/// refused (no compression is offered, as with tonic's defaults).
fn requests<T, B>(req: http::Request<B>) -> Result<Request<Streaming<T>>, Status>
where
    T: prost::Message + Default + Send + 'static,
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    if let Some(encoding) = req.headers().get("grpc-encoding") {
        if encoding != "identity" {
            return Err(Status::unimplemented(format!(
                "requests compressed with `{}` are not supported; send them uncompressed",
                String::from_utf8_lossy(encoding.as_bytes())
            )));
        }
    }
    let req = req.map(|body| {
        let decoder = ProstDecoder::<T>::new(BufferSettings::new(BUFFER, YIELD_THRESHOLD));
        Streaming::new_request(decoder, body, None, Some(MAX_REQUEST))
    });
    Ok(Request::from_http(req))
}

/// The HTTP response for an opened stream, or for the status refusing it.
fn respond<M>(opened: Result<Response<Responses<M>>, Status>) -> http::Response<tonic::body::Body>
where
    M: prost::Message + Send + 'static,
{
    match opened {
        Ok(response) => {
            let body = tonic::body::Body::new(GrpcFrames::new(response.into_inner()));
            let mut http = http::Response::new(body);
            http.headers_mut().insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/grpc"),
            );
            http
        }
        Err(status) => status.into_http(),
    }
}

/// `envoy.service.discovery.v3.AggregatedDiscoveryService`.
#[derive(Clone)]
pub(super) struct AdsService(pub(super) XdsServer);

impl NamedService for AdsService {
    const NAME: &'static str = "envoy.service.discovery.v3.AggregatedDiscoveryService";
}

impl<B> Service<http::Request<B>> for AdsService
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Infallible>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let server = self.0.clone();
        match req.uri().path() {
            SOTW_PATH => Box::pin(async move {
                let opened = match requests::<DiscoveryRequest, _>(req) {
                    Ok(request) => server.sotw(request, None).await,
                    Err(status) => Err(status),
                };
                Ok(respond(opened))
            }),
            DELTA_PATH => Box::pin(async move {
                let opened = match requests::<DeltaDiscoveryRequest, _>(req) {
                    Ok(request) => server.delta(request, None).await,
                    Err(status) => Err(status),
                };
                Ok(respond(opened))
            }),
            other => {
                let status = Status::unimplemented(format!("no method {other}"));
                Box::pin(async move { Ok(status.into_http()) })
            }
        }
    }
}
