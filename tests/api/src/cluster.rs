//! Several `meshplane serve` replicas on one PostgreSQL database, and the
//! raw API calls the replica tests make (unsigned: loopback servers without
//! an auth config accept them as the anonymous principal).

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::Value;

use crate::http::{self, Answer};
use crate::{Server, ServerOptions};

/// `n` replicas on a fresh database of the test PostgreSQL.
pub fn replicas(label: &str, n: usize, args: &[&str]) -> anyhow::Result<(String, Vec<Server>)> {
    let url = crate::postgres::fresh_database(label)?;
    let servers = (0..n)
        .map(|_| {
            Server::start(ServerOptions {
                store: Some(url.clone()),
                args: args.iter().map(|a| (*a).to_owned()).collect(),
                ..ServerOptions::default()
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((url, servers))
}

/// One API call; the body is JSON.
pub fn call(server: &Server, method: &str, path: &str, body: &Value) -> anyhow::Result<Answer> {
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    http::request(
        server.api,
        method,
        path,
        &[("content-type", "application/json".to_owned())],
        &bytes,
    )
}

/// The answer's body as JSON.
pub fn json(answer: &Answer) -> anyhow::Result<Value> {
    serde_json::from_str(&answer.body).with_context(|| format!("not JSON: {}", answer.body))
}

/// A call that must answer 200.
pub fn ok(server: &Server, method: &str, path: &str, body: &Value) -> anyhow::Result<Value> {
    let a = call(server, method, path, body)?;
    if a.status != 200 {
        bail!("{method} {path} on {}: {} {}", server.api, a.status, a.body);
    }
    json(&a)
}

/// A virtual node spec listening on `port` with DNS name `host`.
pub fn node_spec(port: u16, host: &str) -> Value {
    serde_json::json!({
        "listeners": [{"portMapping": {"port": port, "protocol": "http"}}],
        "serviceDiscovery": {"dns": {"hostname": host}}
    })
}

/// The admin server's JSON at `path` (`/debug/store`).
pub fn admin_json(server: &Server, path: &str) -> anyhow::Result<Value> {
    let a = http::request(server.admin, "GET", path, &[], b"")?;
    if a.status != 200 {
        bail!(
            "GET {path} on admin {}: {} {}",
            server.admin,
            a.status,
            a.body
        );
    }
    json(&a)
}

/// Polls `check` every 20 ms until it gives a value or `timeout` passes.
pub fn eventually<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> anyhow::Result<Option<T>>,
) -> anyhow::Result<T> {
    let deadline = Instant::now() + timeout;
    let mut last = String::new();
    loop {
        match check() {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last = format!("{e:#}"),
        }
        if Instant::now() > deadline {
            bail!("{what}: not within {timeout:?} (last error: {last})");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}
