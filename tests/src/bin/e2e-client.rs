//! `e2e-client`: sends traffic the way an application would and prints
//! JSON (see `meshplane_e2e::traffic`).
//!
//! - `http URL -n N`: N requests, then one summary line.
//! - `watch URL`: requests without end, one outcome line each, until stdin
//!   closes; then a summary line.
//! - `tcp HOST:PORT -n N [--client-first]`, `tls HOST:PORT --sni NAME --ca FILE -n N`.
//! - `get URL`: one request, prints `{"status":..,"body":..}` (admin pages).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use http::{HeaderName, HeaderValue, Method, Uri};
use meshplane_e2e::traffic::http::{burst, continuous, HttpRequestSpec};
use meshplane_e2e::traffic::stream::{connect_once, TlsSpec};
use meshplane_e2e::traffic::Summary;
use tokio::io::AsyncReadExt;

#[derive(Debug, Parser)]
struct Cli {
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Args)]
struct HttpArgs {
    url: Uri,
    #[arg(long, default_value = "GET")]
    method: Method,
    /// `name: value`, repeatable.
    #[arg(long = "header", short = 'H')]
    headers: Vec<String>,
    /// Ask the backend to fail each request's first attempt with 503.
    #[arg(long)]
    fail_first: bool,
    /// With --fail-first: how many attempts of each request fail.
    #[arg(long, default_value_t = 1)]
    fail_times: u32,
    #[arg(long, default_value_t = 30_000)]
    timeout_ms: u64,
    #[arg(long, short = 'c', default_value_t = 8)]
    concurrency: usize,
}

#[derive(Debug, Subcommand)]
enum Mode {
    Http {
        #[command(flatten)]
        http: HttpArgs,
        #[arg(short = 'n', default_value_t = 1)]
        count: u64,
        /// Print every outcome in the summary.
        #[arg(long)]
        outcomes: bool,
    },
    Watch {
        #[command(flatten)]
        http: HttpArgs,
        /// Pause of each worker between requests.
        #[arg(long, default_value_t = 0)]
        pause_ms: u64,
    },
    Tcp {
        addr: String,
        #[arg(short = 'n', default_value_t = 1)]
        count: u64,
        /// Send a line before reading the greeting (a client-first protocol).
        #[arg(long)]
        client_first: bool,
    },
    Tls {
        addr: String,
        #[arg(long)]
        sni: String,
        #[arg(long)]
        ca: PathBuf,
        #[arg(short = 'n', default_value_t = 1)]
        count: u64,
    },
    /// gRPC calls: `grpc http://host:port /pkg.Service/Method -n N`.
    Grpc {
        base: String,
        path: String,
        /// `name: value` request metadata, repeatable.
        #[arg(long = "header", short = 'H')]
        headers: Vec<String>,
        #[arg(short = 'n', default_value_t = 1)]
        count: u64,
    },
    Get {
        url: Uri,
    },
}

fn request_spec(a: &HttpArgs) -> anyhow::Result<HttpRequestSpec> {
    let mut headers = Vec::new();
    for h in &a.headers {
        let (k, v) = h
            .split_once(':')
            .with_context(|| format!("header {h:?} is not `name: value`"))?;
        headers.push((
            HeaderName::from_bytes(k.trim().as_bytes())?,
            HeaderValue::from_str(v.trim())?,
        ));
    }
    Ok(HttpRequestSpec {
        url: a.url.clone(),
        method: a.method.clone(),
        headers,
        fail_first: a.fail_first,
        fail_times: a.fail_times,
        timeout: Duration::from_millis(a.timeout_ms),
    })
}

fn run_id() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        meshplane_e2e::traffic::report::now_ms()
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().mode {
        Mode::Http {
            http,
            count,
            outcomes,
        } => {
            let spec = request_spec(&http)?;
            let all = burst(spec, count, http.concurrency, run_id()).await;
            println!("{}", serde_json::to_string(&Summary::of(&all, outcomes))?);
        }
        Mode::Watch { http, pause_ms } => {
            let spec = request_spec(&http)?;
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                let mut stdin = tokio::io::stdin();
                let mut buf = [0u8; 64];
                while matches!(stdin.read(&mut buf).await, Ok(n) if n > 0) {}
                let _ = stop_tx.send(true);
            });
            let load = tokio::spawn(continuous(
                spec,
                http.concurrency,
                Duration::from_millis(pause_ms),
                run_id(),
                tx,
                stop_rx,
            ));
            let mut all = Vec::new();
            while let Some(o) = rx.recv().await {
                println!("{}", serde_json::to_string(&o)?);
                all.push(o);
            }
            let _ = load.await;
            println!(
                "{}",
                serde_json::json!({ "summary": Summary::of(&all, false) })
            );
        }
        Mode::Tcp {
            addr,
            count,
            client_first,
        } => {
            let mut all = Vec::new();
            for i in 0..count {
                all.push(connect_once(&addr, None, client_first, i, Duration::from_secs(10)).await);
            }
            println!("{}", serde_json::to_string(&Summary::of(&all, true))?);
        }
        Mode::Tls {
            addr,
            sni,
            ca,
            count,
        } => {
            let tls = TlsSpec::new(&ca, &sni)?;
            let mut all = Vec::new();
            for i in 0..count {
                all.push(connect_once(&addr, Some(&tls), true, i, Duration::from_secs(10)).await);
            }
            println!("{}", serde_json::to_string(&Summary::of(&all, true))?);
        }
        Mode::Grpc {
            base,
            path,
            headers,
            count,
        } => {
            let mut meta = Vec::new();
            for h in &headers {
                let (k, v) = h
                    .split_once(':')
                    .with_context(|| format!("header {h:?} is not `name: value`"))?;
                meta.push((k.trim().to_owned(), v.trim().to_owned()));
            }
            let client = meshplane_e2e::traffic::grpc::client();
            let mut all = Vec::new();
            for i in 0..count {
                all.push(meshplane_e2e::traffic::grpc::call(&client, &base, &path, &meta, i).await);
            }
            println!("{}", serde_json::to_string(&Summary::of(&all, false))?);
        }
        Mode::Get { url } => {
            use http_body_util::{BodyExt, Empty};
            let client = meshplane_e2e::traffic::http::client();
            let req = http::Request::get(url).body(Empty::<bytes::Bytes>::new())?;
            let resp = tokio::time::timeout(Duration::from_secs(10), client.request(req))
                .await
                .context("timeout")??;
            let status = resp.status().as_u16();
            let body = resp.into_body().collect().await?.to_bytes();
            println!(
                "{}",
                serde_json::json!({ "status": status, "body": String::from_utf8_lossy(&body) })
            );
        }
    }
    Ok(())
}
