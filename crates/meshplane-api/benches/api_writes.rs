//! API writes per second through a Rust client (reqwest, SigV4-signed with
//! aws-sigv4 against an auth config's access key) to a real server over a
//! real SQLite store (durable commits). Not a timed test: it prints figures.
//!
//! `cargo bench -p meshplane-api --bench api_writes` (MESHPLANE_BENCH_WRITES
//! sets the number of writes, default 500).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use meshplane_api::{AccessFn, Api};
use meshplane_authz::{AccessControl, AuthConfig};
use meshplane_spec::ArnContext;
use meshplane_store::{SqliteStore, Store};

async fn put(http: &reqwest::Client, base: &str, path: &str, body: String) {
    let host = base.trim_start_matches("http://").to_owned();
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/json"),
    ];
    let identity =
        aws_credential_types::Credentials::new("AKIABENCH", "bench-secret", None, None, "bench")
            .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("appmesh")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "PUT",
        path,
        headers.into_iter(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut req = http
        .put(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(body);
    for (k, v) in instructions.headers() {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
}

fn main() {
    let writes: usize = std::env::var("MESHPLANE_BENCH_WRITES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "bench-secret").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let config = dir.path().join("auth.yaml");
    std::fs::write(&config, format!(
        "accessKeys:\n  - accessKeyId: AKIABENCH\n    principal: bench\n    secretFile: {}\nprincipals:\n  bench:\n    policies:\n      - inline: {{Version: \"2012-10-17\", Statement: {{Effect: Allow, Action: \"appmesh:*\", Resource: \"*\"}}}}\n",
        secret.display()
    )).unwrap();
    let access = Arc::new(AccessControl::new(AuthConfig::from_file(&config).unwrap()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("db")).unwrap());
        let api = Arc::new(Api::new(store, ArnContext::default()).unwrap());
        let access_fn: AccessFn = Arc::new(move || access.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, meshplane_api::router(api, access_fn)).await.unwrap() });
        let http = reqwest::Client::new();
        put(&http, &base, "/v20190125/meshes", r#"{"meshName":"bench"}"#.to_owned()).await;
        let started = Instant::now();
        for i in 0..writes {
            let body = format!(
                r#"{{"virtualNodeName":"n{i}","spec":{{"listeners":[{{"portMapping":{{"port":8080,"protocol":"http"}}}}],"serviceDiscovery":{{"dns":{{"hostname":"n{i}.local"}}}}}}}}"#
            );
            put(&http, &base, "/v20190125/meshes/bench/virtualNodes", body).await;
        }
        let sequential = started.elapsed();
        println!(
            "api_writes: {writes} CreateVirtualNode, one client, sequential: {:.0} writes/s ({:.2} ms each; SigV4-verified, validated against the whole mesh, fsynced)",
            writes as f64 / sequential.as_secs_f64(),
            sequential.as_secs_f64() * 1000.0 / writes as f64
        );
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..8 {
            let (http, base) = (http.clone(), base.clone());
            tasks.push(tokio::spawn(async move {
                for i in 0..writes / 8 {
                    let body = format!(r#"{{"spec":{{"listeners":[{{"portMapping":{{"port":{},"protocol":"http"}}}}],"serviceDiscovery":{{"dns":{{"hostname":"n{i}.local"}}}}}}}}"#, 9000 + c);
                    put(&http, &base, &format!("/v20190125/meshes/bench/virtualNodes/n{}", c * (writes / 8) + i), body).await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let concurrent = started.elapsed();
        let n = (writes / 8) * 8;
        println!(
            "api_writes: {n} UpdateVirtualNode, 8 concurrent clients: {:.0} writes/s",
            n as f64 / concurrent.as_secs_f64()
        );
    });
}
