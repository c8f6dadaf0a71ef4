//! Benchmark of replicas on one PostgreSQL (prints figures, asserts no
//! time; needs the server `scripts/test.sh` starts):
//! - write -> proxy ACK across replicas: route updates through replica A,
//!   timed until every affected simulated proxy (meshplane-loadgen's fleet)
//!   connected to replica B ACKed;
//! - writes per second through three replicas at once;
//! - catch-up: replica B frozen (SIGSTOP) while writes go through A, then
//!   the time from SIGCONT until B serves the last of them.
//!
//! Sizes: `MESHPLANE_BENCH_PROXIES` (default 300), `MESHPLANE_BENCH_QUEUED`
//! (writes queued during the freeze, default 1000), `MESHPLANE_BENCH_FREEZE_SECS`
//! (default 5; the figure uses 60).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use meshplane_api_tests::cluster::{admin_json, call, node_spec, ok};
use meshplane_api_tests::server::meshplane_bin;
use meshplane_api_tests::{http, postgres, unsigned, Server, ServerOptions, ACCOUNT, REGION};
use meshplane_loadgen::mesh_gen::GeneratedMesh;
use meshplane_loadgen::spec_edit::EditError;
use meshplane_loadgen::{Change, ChangeSource, RunConfig, Target};
use meshplane_spec::ArnContext;
use serde_json::json;

const CHANGES: usize = 20;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    write_to_ack_across_replicas()?;
    writes_per_second()?;
    catch_up()
}

fn start(url: &str) -> anyhow::Result<Server> {
    Server::start(ServerOptions {
        store: Some(url.to_owned()),
        ..ServerOptions::default()
    })
}

/// Route changes of the generated mesh, sent through replica A's API.
struct ApiRoutes {
    mesh: GeneratedMesh,
    api: std::net::SocketAddr,
}

impl ChangeSource for ApiRoutes {
    fn apply(&mut self, k: usize) -> Result<Change, EditError> {
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
        let body = json!({"spec": input["spec"]}).to_string();
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

fn write_to_ack_across_replicas() -> anyhow::Result<()> {
    let proxies = env_usize("MESHPLANE_BENCH_PROXIES", 300);
    let url = postgres::fresh_database("bench_ack")?;
    let specs = tempfile::tempdir()?;
    let arn = ArnContext {
        partition: "aws".into(),
        region: REGION.into(),
        account: ACCOUNT.into(),
    };
    let mesh = GeneratedMesh::write(specs.path(), proxies, 3, &arn)?;
    import(specs.path(), &url)?;
    let a = start(&url)?;
    let b = start(&url)?;
    let _c = start(&url)?;
    let limit = meshplane_loadgen::probe::open_files_limit().unwrap_or(1024) as usize;
    let config = RunConfig {
        proxies,
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
        xds: b.xds,
        admin: b.admin,
        pid: b.pid().unwrap_or_default(),
    };
    let mut source = ApiRoutes { mesh, api: a.api };
    let runtime = tokio::runtime::Runtime::new()?;
    let report = runtime.block_on(meshplane_loadgen::run(&config, &target, &mut source))?;
    println!("write through replica A -> ACK of {proxies} proxies on replica B (3 replicas, PostgreSQL):\n{report}");
    if !report.clean() {
        println!("NOTE: the run was not clean (see above)");
    }
    Ok(())
}

fn writes_per_second() -> anyhow::Result<()> {
    const PER_REPLICA: usize = 100;
    let url = postgres::fresh_database("bench_writes")?;
    let servers: Vec<Server> = (0..3).map(|_| start(&url)).collect::<anyhow::Result<_>>()?;
    ok(
        &servers[0],
        "PUT",
        "/v20190125/meshes",
        &json!({"meshName": "m"}),
    )?;
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for (r, s) in servers.iter().enumerate() {
            scope.spawn(move || {
                for i in 0..PER_REPLICA {
                    let body = json!({"virtualNodeName": format!("n{r}-{i}"), "spec": node_spec(8080, "n.m.local")});
                    let _ = call(s, "PUT", "/v20190125/meshes/m/virtualNodes", &body);
                }
            });
        }
    });
    let rate = (3 * PER_REPLICA) as f64 / started.elapsed().as_secs_f64();
    println!("writes through 3 replicas at once (one client each, sequential): {rate:.0} create-virtual-node/s");
    Ok(())
}

fn catch_up() -> anyhow::Result<()> {
    let queued = env_usize("MESHPLANE_BENCH_QUEUED", 1000);
    let freeze = Duration::from_secs(env_usize("MESHPLANE_BENCH_FREEZE_SECS", 5) as u64);
    let url = postgres::fresh_database("bench_catchup")?;
    let a = start(&url)?;
    let b = start(&url)?;
    ok(&a, "PUT", "/v20190125/meshes", &json!({"meshName": "m"}))?;
    let pid = b.pid().unwrap_or_default().to_string();
    Command::new("kill").args(["-STOP", &pid]).status()?;
    let frozen = Instant::now();
    for i in 0..queued {
        let body =
            json!({"virtualNodeName": format!("q{i}"), "spec": node_spec(8080, "q.m.local")});
        ok(&a, "PUT", "/v20190125/meshes/m/virtualNodes", &body)?;
    }
    let target = admin_json(&a, "/debug/store")?["applied_revision"]
        .as_u64()
        .unwrap_or(0);
    if let Some(rest) = freeze.checked_sub(frozen.elapsed()) {
        std::thread::sleep(rest);
    }
    Command::new("kill").args(["-CONT", &pid]).status()?;
    let resumed = Instant::now();
    loop {
        let applied = admin_json(&b, "/debug/store")
            .ok()
            .and_then(|s| s["applied_revision"].as_u64())
            .unwrap_or(0);
        if applied >= target {
            break;
        }
        anyhow::ensure!(
            resumed.elapsed() < Duration::from_secs(120),
            "replica B did not catch up in 120 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    println!(
        "catch-up: replica B frozen {:.0} s while {queued} writes went through A; served all of them {:.0} ms after it resumed",
        frozen.elapsed().as_secs_f64() - resumed.elapsed().as_secs_f64(),
        resumed.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}
