//! Benchmark of replicas on one PostgreSQL (prints figures, asserts no
//! time; needs the server `scripts/test.sh` starts):
//! - write -> proxy ACK across replicas: route updates through replica A,
//!   timed until every affected simulated proxy (meshplane-loadgen's fleet,
//!   spread over all the replicas) ACKed;
//! - writes per second through three replicas at once;
//! - catch-up: replica B cut off from the database (its connections go
//!   through a relay that closes them and refuses new ones) while writes
//!   go through A, then the time from the end of the cut until B serves
//!   the last of them.
//!
//! Sizes (environment variables; the defaults keep `cargo test
//! --all-targets` short):
//!
//! | variable | default | the figure |
//! | --- | --- | --- |
//! | `MESHPLANE_BENCH_REPLICAS` | 3 | 3 |
//! | `MESHPLANE_BENCH_PROXIES` (spread over the replicas) | 300 | 3000 |
//! | `MESHPLANE_BENCH_CHANGES` (route updates measured) | 20 | 20 |
//! | `MESHPLANE_BENCH_OUTAGE_SECS` (B cut off) | 5 | 60 |
//! | `MESHPLANE_BENCH_QUEUED` (writes through A meanwhile) | 200 | 1000 |

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use meshplane_api_tests::cluster::{admin_json, call, node_spec, ok};
use meshplane_api_tests::relay::Relay;
use meshplane_api_tests::server::meshplane_bin;
use meshplane_api_tests::{http, postgres, unsigned, Server, ServerOptions, ACCOUNT, REGION};
use meshplane_loadgen::mesh_gen::GeneratedMesh;
use meshplane_loadgen::spec_edit::EditError;
use meshplane_loadgen::{Change, ChangeSource, RunConfig, Target};
use meshplane_spec::ArnContext;
use serde_json::json;

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
    let replicas = env_usize("MESHPLANE_BENCH_REPLICAS", 3).max(1);
    let proxies = env_usize("MESHPLANE_BENCH_PROXIES", 300);
    let changes = env_usize("MESHPLANE_BENCH_CHANGES", 20);
    let url = postgres::fresh_database("bench_ack")?;
    let specs = tempfile::tempdir()?;
    let arn = ArnContext {
        partition: "aws".into(),
        region: REGION.into(),
        account: ACCOUNT.into(),
    };
    let mesh = GeneratedMesh::write(specs.path(), proxies, 3, &arn)?;
    import(specs.path(), &url)?;
    let servers: Vec<Server> = (0..replicas)
        .map(|_| start(&url))
        .collect::<anyhow::Result<_>>()?;
    // Writes through A; server figures from B (A when alone).
    let (a, b) = (&servers[0], &servers[1.min(replicas - 1)]);
    let others: Vec<_> = servers
        .iter()
        .filter(|s| s.xds != b.xds)
        .map(|s| s.xds)
        .collect();
    let limit = meshplane_loadgen::probe::open_files_limit().unwrap_or(1024) as usize;
    let config = RunConfig {
        proxies,
        delta_fraction: 0.5,
        node_arns: mesh.node_arns(),
        max_connections: limit.saturating_sub(256).max(1),
        changes,
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
    let report = runtime.block_on(meshplane_loadgen::run_spread(
        &config,
        &target,
        &others,
        &mut source,
    ))?;
    println!("write through replica A -> ACK of {proxies} proxies spread over {replicas} replicas (PostgreSQL; server figures of replica B):\n{report}");
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
    let queued = env_usize("MESHPLANE_BENCH_QUEUED", 200);
    let outage = Duration::from_secs(env_usize("MESHPLANE_BENCH_OUTAGE_SECS", 5) as u64);
    let url = postgres::fresh_database("bench_catchup")?;
    let (relay, through) = Relay::for_url(&url)?;
    let a = start(&url)?;
    let b = start(&through)?;
    ok(&a, "PUT", "/v20190125/meshes", &json!({"meshName": "m"}))?;
    relay.cut();
    let cut = Instant::now();
    let writing = Instant::now();
    for i in 0..queued {
        let body =
            json!({"virtualNodeName": format!("q{i}"), "spec": node_spec(8080, "q.m.local")});
        ok(&a, "PUT", "/v20190125/meshes/m/virtualNodes", &body)?;
    }
    let wrote = writing.elapsed();
    let target = admin_json(&a, "/debug/store")?["applied_revision"]
        .as_u64()
        .unwrap_or(0);
    if let Some(rest) = outage.checked_sub(cut.elapsed()) {
        std::thread::sleep(rest);
    }
    let during = admin_json(&b, "/debug/store")?;
    relay.heal();
    let healed = Instant::now();
    let mut reconnected = None;
    loop {
        let status = admin_json(&b, "/debug/store").ok();
        let field = |k: &str| status.as_ref().and_then(|s| s[k].as_u64()).unwrap_or(0);
        if reconnected.is_none() && status.as_ref().is_some_and(|s| s["up"] == true) {
            reconnected = Some(healed.elapsed());
        }
        if field("applied_revision") >= target {
            break;
        }
        anyhow::ensure!(
            healed.elapsed() < Duration::from_secs(120),
            "replica B did not catch up in 120 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let caught_up = healed.elapsed();
    println!(
        "catch-up: replica B cut off from the database for {:.0} s (store up during the cut: {}) while {queued} writes went through A ({:.1} s); after the cut B reached the store again in {:.0} ms and served all of them {:.0} ms after the cut ended",
        cut.elapsed().as_secs_f64() - caught_up.as_secs_f64(),
        during["up"],
        wrote.as_secs_f64(),
        reconnected.unwrap_or(caught_up).as_secs_f64() * 1000.0,
        caught_up.as_secs_f64() * 1000.0
    );
    Ok(())
}
