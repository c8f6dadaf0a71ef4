//! Benchmark of the App Mesh API (prints figures, asserts no time):
//! - API writes per second through boto3 (`py/bench_writes.py`) and through
//!   a Rust client (raw HTTP/1.1, one connection per request);
//! - write -> proxy ACK at 1,000 simulated proxies (meshplane-loadgen's
//!   fleet): a generated mesh imported into the store with
//!   `meshplane import`, then route updates through the API, each timed
//!   from the request until every affected proxy ACKed.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use meshplane_api_tests::server::meshplane_bin;
use meshplane_api_tests::tools::check_script;
use meshplane_api_tests::{http, run_script, unsigned, Server, ServerOptions, ACCOUNT, REGION};
use meshplane_loadgen::mesh_gen::GeneratedMesh;
use meshplane_loadgen::spec_edit::EditError;
use meshplane_loadgen::{Change, ChangeSource, RunConfig, Target};
use meshplane_spec::ArnContext;

const WRITES: usize = 200;
const PROXIES: usize = 1000;
const CHANGES: usize = 20;

fn main() -> anyhow::Result<()> {
    writes_per_second()?;
    write_to_ack()
}

fn writes_per_second() -> anyhow::Result<()> {
    let server = Server::start(ServerOptions::default())?;
    let out = run_script(
        "bench_writes.py",
        &[&WRITES.to_string()],
        &server.script_env(),
    )?;
    print!("{}", check_script("bench_writes.py", &out)?);

    let path = "/v20190125/meshes/bench/virtualRouter/r/routes/rt";
    let started = Instant::now();
    for i in 0..WRITES {
        let w = i % 101;
        let body = serde_json::json!({"spec": {"httpRoute": {
            "match": {"prefix": "/"},
            "action": {"weightedTargets": [
                {"virtualNode": "a", "weight": w},
                {"virtualNode": "b", "weight": 100 - w}]}}}});
        let answer = http::request(
            server.api,
            "PUT",
            path,
            &unsigned::headers(),
            body.to_string().as_bytes(),
        )?;
        anyhow::ensure!(answer.status == 200, "update-route: {answer:?}");
    }
    let rate = WRITES as f64 / started.elapsed().as_secs_f64();
    println!("rust client: {rate:.0} update-route/s ({WRITES}, sequential, a connection each)");
    Ok(())
}

/// Route changes of the generated mesh, sent through the API.
struct ApiRoutes {
    mesh: GeneratedMesh,
    api: std::net::SocketAddr,
}

impl ChangeSource for ApiRoutes {
    fn apply(&mut self, k: usize) -> Result<Change, EditError> {
        // The generator rewrites the route's CLI-input file; its body is
        // the UpdateRoute request.
        let (label, expected) = self.mesh.change(k)?;
        let route = label
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned();
        let file = self.mesh.dir.join(format!("{route}.json"));
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let input: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let router = input["virtualRouterName"].as_str().unwrap_or_default();
        let body = serde_json::json!({"spec": input["spec"]}).to_string();
        let path = format!("/v20190125/meshes/gen/virtualRouter/{router}/routes/{route}");
        match http::request(
            self.api,
            "PUT",
            &path,
            &unsigned::headers(),
            body.as_bytes(),
        ) {
            Ok(a) if a.status == 200 => {}
            other => eprintln!("update-route {route}: {other:?}"),
        }
        Ok(Change {
            label,
            expected_nodes: Some(expected),
        })
    }
}

fn import(dir: &Path, store: &str) -> anyhow::Result<()> {
    let out = Command::new(meshplane_bin()?)
        .arg("import")
        .arg(dir)
        .args(["--store", store, "--region", REGION, "--account", ACCOUNT])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "meshplane import failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

fn write_to_ack() -> anyhow::Result<()> {
    let mut server = Server::new(ServerOptions::default())?;
    let specs = server.dir.path().join("specs");
    std::fs::create_dir_all(&specs)?;
    let arn = ArnContext {
        partition: "aws".into(),
        region: REGION.into(),
        account: ACCOUNT.into(),
    };
    let mesh = GeneratedMesh::write(&specs, PROXIES, 3, &arn)?;
    let started = Instant::now();
    import(&specs, &server.store())?;
    println!(
        "meshplane import: {PROXIES} nodes, {PROXIES} services, routers and routes in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    server.restart()?;
    let limit = meshplane_loadgen::probe::open_files_limit().unwrap_or(1024) as usize;
    let config = RunConfig {
        proxies: PROXIES,
        delta_fraction: 0.5,
        node_arns: mesh.node_arns(),
        max_connections: limit.saturating_sub(256).max(1),
        changes: CHANGES,
        sync_timeout: Duration::from_secs(120),
        change_timeout: Duration::from_secs(60),
        settle: Duration::from_secs(2),
        stuck: 0,
    };
    let target = Target {
        xds: server.xds,
        admin: server.admin,
        pid: server.pid().unwrap_or_default(),
    };
    let mut source = ApiRoutes {
        mesh,
        api: server.api,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(meshplane_loadgen::run(&config, &target, &mut source))?;
    println!("write -> proxy ACK through the API, {PROXIES} proxies:\n{report}");
    if !report.clean() {
        println!("NOTE: the run was not clean (see above)");
    }
    Ok(())
}
