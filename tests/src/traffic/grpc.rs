//! gRPC calls over HTTP/2 cleartext (prior knowledge), as a gRPC
//! application sends them to a virtual service name. The request carries
//! one empty message; the outcome's backend is the `x-backend` header and
//! its gRPC status the `grpc-status` trailer (or header, for a
//! trailers-only answer such as Envoy's own).

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::report::{now_ms, Outcome};
use crate::backend::grpc::frame;
use crate::backend::BACKEND_HEADER;

type GrpcClient = Client<HttpConnector, Full<Bytes>>;

pub fn client() -> GrpcClient {
    Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build(HttpConnector::new())
}

/// Call `base` (`http://host:port`) + `path` (`/pkg.Service/Method`).
pub async fn call(
    client: &GrpcClient,
    base: &str,
    path: &str,
    headers: &[(String, String)],
    i: u64,
) -> Outcome {
    let t_ms = now_ms();
    let start = Instant::now();
    let mut o = Outcome {
        i,
        t_ms,
        status: None,
        grpc_status: None,
        backend: None,
        error: None,
        latency_ms: 0.0,
    };
    let result = async {
        let uri: Uri = format!("{}{path}", base.trim_end_matches('/')).parse()?;
        let mut b = Request::post(uri)
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        for (k, v) in headers {
            b = b.header(k.as_str(), v.as_str());
        }
        let req = b.body(Full::new(frame(b"")))?;
        let resp = tokio::time::timeout(Duration::from_secs(30), client.request(req)).await??;
        let status = resp.status().as_u16();
        let header = |h: &http::HeaderMap, n: &str| {
            h.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned)
        };
        let backend = header(resp.headers(), BACKEND_HEADER);
        let in_headers = header(resp.headers(), "grpc-status");
        let collected = resp.into_body().collect().await?;
        let grpc = collected
            .trailers()
            .and_then(|t| header(t, "grpc-status"))
            .or(in_headers)
            .and_then(|s| s.parse::<u32>().ok());
        anyhow::Ok((status, backend, grpc))
    }
    .await;
    o.latency_ms = start.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok((status, backend, grpc)) => {
            o.status = Some(status);
            o.backend = backend;
            o.grpc_status = grpc;
        }
        Err(e) => o.error = Some(format!("{e:#}")),
    }
    o
}
