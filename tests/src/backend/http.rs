//! HTTP/1.1 + h2c backend.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::BACKEND_HEADER;

/// What one backend process knows.
#[derive(Debug)]
struct State {
    name: String,
    /// Attempts seen per `x-fail-first` key.
    attempts: Mutex<BTreeMap<String, u32>>,
}

/// Serve until the process is killed.
pub async fn serve(name: String, listen: SocketAddr) -> anyhow::Result<()> {
    serve_with(name, listen, None).await
}

/// [`serve`], inside TLS when `tls` is given (HTTPS; HTTP/1.1 or h2 by ALPN-less
/// prior knowledge, as on cleartext).
pub async fn serve_with(
    name: String,
    listen: SocketAddr,
    tls: Option<TlsAcceptor>,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen).await?;
    let state = Arc::new(State {
        name,
        attempts: Mutex::new(BTreeMap::new()),
    });
    eprintln!("e2e-backend http {} listening on {listen}", state.name);
    loop {
        let (stream, _) = listener.accept().await?;
        let state = state.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(handle(&state, req).await) }
            });
            let builder = auto::Builder::new(TokioExecutor::new());
            let _ = match tls {
                None => builder.serve_connection(TokioIo::new(stream), svc).await,
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(s) => builder.serve_connection(TokioIo::new(s), svc).await,
                    Err(_) => return,
                },
            };
        });
    }
}

fn header<'a>(req: &'a Request<Incoming>, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

async fn handle(state: &State, req: Request<Incoming>) -> Response<BoxBody<Bytes, Infallible>> {
    let delay = header(&req, "x-delay-ms").and_then(|v| v.parse::<u64>().ok());
    let status = header(&req, "x-status").and_then(|v| v.parse::<u16>().ok());
    let fail_first = header(&req, "x-fail-first").map(str::to_owned);
    let fail_times = header(&req, "x-fail-times")
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(1);
    let grpc = header(&req, "content-type").is_some_and(|c| c.starts_with("application/grpc"));
    let grpc_status = header(&req, "x-grpc-status").and_then(|v| v.parse::<u32>().ok());
    // A failed attempt of a gRPC call answered as plain HTTP 503 (as a load
    // balancer or a proxy in front of a gRPC server answers), not as a gRPC
    // status.
    let fail_as_http = header(&req, "x-fail-as-http").is_some();
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let version = format!("{:?}", req.version());
    // Read the body so clients that send one are not reset.
    let _ = req.into_body().collect().await;
    if let Some(ms) = delay {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let mut code = status
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    if let Some(key) = fail_first {
        let attempt = state
            .attempts
            .lock()
            .map(|mut seen| {
                let n = seen.entry(key).or_insert(0);
                *n += 1;
                *n
            })
            .unwrap_or(u32::MAX);
        if attempt <= fail_times {
            code = StatusCode::SERVICE_UNAVAILABLE;
        }
    }
    if grpc && !(fail_as_http && code == StatusCode::SERVICE_UNAVAILABLE) {
        let status = if code == StatusCode::SERVICE_UNAVAILABLE {
            super::grpc::UNAVAILABLE
        } else {
            grpc_status.unwrap_or(0)
        };
        let mut resp =
            Response::new(super::grpc::response_body(state.name.as_bytes(), status).boxed());
        resp.headers_mut().insert(
            "content-type",
            http::HeaderValue::from_static("application/grpc"),
        );
        if let Ok(v) = http::HeaderValue::from_str(&state.name) {
            resp.headers_mut().insert(BACKEND_HEADER, v);
        }
        return resp;
    }
    let body = serde_json::json!({
        "backend": state.name,
        "method": method,
        "path": path,
        "query": query,
        "version": version,
    });
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())).boxed());
    *resp.status_mut() = code;
    if let Ok(v) = http::HeaderValue::from_str(&state.name) {
        resp.headers_mut().insert(BACKEND_HEADER, v);
    }
    resp
}
