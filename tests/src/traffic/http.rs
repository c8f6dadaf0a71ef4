//! HTTP/1.1 requests (what an application sends to a virtual service name;
//! the Envoy's egress listener takes it from there).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::mpsc;

use super::report::{now_ms, Outcome};
use crate::backend::BACKEND_HEADER;

/// What to send.
#[derive(Debug, Clone)]
pub struct HttpRequestSpec {
    pub url: Uri,
    pub method: Method,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Add `x-fail-first: <unique key>` so the backend fails the first
    /// attempt of every request.
    pub fail_first: bool,
    /// How many attempts of each request fail (`x-fail-times`), with `fail_first`.
    pub fail_times: u32,
    /// Give up after this long (the client's own timeout, longer than any
    /// route timeout a test configures).
    pub timeout: Duration,
}

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

pub fn client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .build(connector)
}

/// Send one request; never fails (errors are in the outcome).
pub async fn send(client: &HttpClient, spec: &HttpRequestSpec, i: u64, run: &str) -> Outcome {
    let t_ms = now_ms();
    let start = Instant::now();
    let mut builder = Request::builder()
        .method(spec.method.clone())
        .uri(spec.url.clone());
    for (k, v) in &spec.headers {
        builder = builder.header(k, v);
    }
    if spec.fail_first {
        builder = builder
            .header("x-fail-first", format!("{run}-{i}"))
            .header("x-fail-times", spec.fail_times.to_string());
    }
    let mut outcome = Outcome {
        i,
        t_ms,
        status: None,
        grpc_status: None,
        backend: None,
        error: None,
        latency_ms: 0.0,
    };
    let result = match builder.body(Empty::new()) {
        Err(e) => Err(e.to_string()),
        Ok(req) => match tokio::time::timeout(spec.timeout, client.request(req)).await {
            Err(_) => Err(format!("client timeout after {:?}", spec.timeout)),
            Ok(Err(e)) => Err(error_chain(&e)),
            Ok(Ok(resp)) => {
                let status = resp.status().as_u16();
                let backend = resp
                    .headers()
                    .get(BACKEND_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                match resp.into_body().collect().await {
                    Ok(_) => Ok((status, backend)),
                    Err(e) => Err(format!("reading the body: {e}")),
                }
            }
        },
    };
    outcome.latency_ms = start.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok((status, backend)) => {
            outcome.status = Some(status);
            outcome.backend = backend;
        }
        Err(e) => outcome.error = Some(e),
    }
    outcome
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}

/// `count` requests over `concurrency` workers.
pub async fn burst(
    spec: HttpRequestSpec,
    count: u64,
    concurrency: usize,
    run: String,
) -> Vec<Outcome> {
    let client = client();
    let next = Arc::new(AtomicU64::new(0));
    let spec = Arc::new(spec);
    let run = Arc::new(run);
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, next, spec, run) = (client.clone(), next.clone(), spec.clone(), run.clone());
        workers.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return out;
                }
                out.push(send(&client, &spec, i, &run).await);
            }
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        if let Ok(mut out) = w.await {
            all.append(&mut out);
        }
    }
    all.sort_by_key(|o| o.i);
    all
}

/// Requests without end from `concurrency` workers, each outcome sent to
/// `out` as it completes, until `stop` turns true.
pub async fn continuous(
    spec: HttpRequestSpec,
    concurrency: usize,
    pause: Duration,
    run: String,
    out: mpsc::UnboundedSender<Outcome>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let client = client();
    let next = Arc::new(AtomicU64::new(0));
    let spec = Arc::new(spec);
    let run = Arc::new(run);
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, next, spec, run, out, stop) = (
            client.clone(),
            next.clone(),
            spec.clone(),
            run.clone(),
            out.clone(),
            stop.clone(),
        );
        workers.push(tokio::spawn(async move {
            while !*stop.borrow() {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let o = send(&client, &spec, i, &run).await;
                if out.send(o).is_err() {
                    return;
                }
                if !pause.is_zero() {
                    tokio::time::sleep(pause).await;
                }
            }
        }));
    }
    for w in workers {
        let _ = w.await;
    }
}
