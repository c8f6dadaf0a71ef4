//! A real Envoy whose bootstrap lists three `meshplane serve` replicas on
//! one PostgreSQL database (`APPMESH_XDS_ENDPOINT=a,b,c`): a write through
//! a replica the Envoy is not connected to reaches it; when its replica is
//! SIGKILLed it opens its next ADS stream to another one, keeps its config
//! (same listener and cluster versions) and still receives later writes.
//! Through a database outage (writes 503) and a rolling restart of every
//! replica, the Envoy keeps its config, and writes acknowledged afterwards
//! reach it. Prints the figures (write → Envoy, reconnect after the kill).

#![allow(clippy::unwrap_used)] // helpers of the test below

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use meshplane_api_tests::cluster::{call, eventually, node_spec, ok, replicas};
use meshplane_api_tests::server::{free_port, meshplane_bin};
use meshplane_api_tests::{http, postgres, Server};
use serde_json::{json, Value};

const ARN: &str = "arn:aws:appmesh:us-west-2:111122223333:mesh/m/virtualNode/n1";
const NODE: &str = "/v20190125/meshes/m/virtualNodes/n1";
/// Guards against a hang; never a timing assertion.
const HANG: Duration = Duration::from_secs(30);

/// The outage test stops the shared PostgreSQL server: the tests of this
/// file take turns.
static DATABASE: Mutex<()> = Mutex::new(());

struct Envoy {
    child: Child,
    admin: SocketAddr,
}

impl Drop for Envoy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_envoy(dir: &std::path::Path, servers: &[Server]) -> Envoy {
    let envoy = std::env::var("MESHPLANE_ENVOY").unwrap_or_else(|_| {
        panic!(
            "MESHPLANE_ENVOY is not set: run the tests through scripts/test.sh (it installs Envoy)"
        )
    });
    let admin = free_port().unwrap();
    let endpoints: Vec<String> = servers.iter().map(|s| s.xds.to_string()).collect();
    let out = Command::new(meshplane_bin().unwrap())
        .arg("bootstrap")
        .env_clear()
        .env("APPMESH_RESOURCE_ARN", ARN)
        .env("APPMESH_XDS_ENDPOINT", endpoints.join(","))
        .env("ENVOY_ADMIN_ACCESS_PORT", admin.port().to_string())
        .env("ENVOY_ADMIN_ACCESS_LOG_FILE", dir.join("admin.log"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "meshplane bootstrap: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = dir.join("bootstrap.yaml");
    std::fs::write(&file, &out.stdout).unwrap();
    let child = Command::new(envoy)
        .args(["--disable-hot-restart", "--log-level", "warn", "-c"])
        .arg(&file)
        .arg("--base-id")
        .arg(admin.port().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    Envoy { child, admin }
}

/// Versions of the dynamic listeners and clusters Envoy holds, by name.
fn versions(envoy: &Envoy) -> anyhow::Result<Option<Vec<(String, String)>>> {
    let a = http::request(envoy.admin, "GET", "/config_dump", &[], b"")?;
    if a.status != 200 {
        return Ok(None);
    }
    let dump: Value = serde_json::from_str(&a.body)?;
    let mut out = Vec::new();
    for config in dump["configs"].as_array().into_iter().flatten() {
        for key in ["dynamic_listeners", "dynamic_active_clusters"] {
            for item in config[key].as_array().into_iter().flatten() {
                let (name, version) = match key {
                    "dynamic_listeners" => (
                        item["name"].as_str(),
                        item["active_state"]["version_info"].as_str(),
                    ),
                    _ => (
                        item["cluster"]["name"].as_str(),
                        item["version_info"].as_str(),
                    ),
                };
                if let (Some(n), Some(v)) = (name, version) {
                    out.push((n.to_owned(), v.to_owned()));
                }
            }
        }
    }
    out.sort();
    Ok((!out.is_empty()).then_some(out))
}

/// Envoy's versions once two reads 300 ms apart agree (every resource of
/// the last write applied).
fn settled(envoy: &Envoy) -> Vec<(String, String)> {
    let mut last = None;
    eventually("Envoy's config settles", HANG, || {
        let now = versions(envoy)?;
        if now.is_some() && now == last {
            return Ok(now);
        }
        last = now;
        std::thread::sleep(Duration::from_millis(300));
        Ok(None)
    })
    .unwrap()
}

/// The replica (index into `servers`) the ADS stream is on: the
/// `meshplane_xds` host with an active connection.
fn connected_to(envoy: &Envoy, servers: &[Server]) -> anyhow::Result<Option<usize>> {
    let a = http::request(envoy.admin, "GET", "/clusters", &[], b"")?;
    for line in a.body.lines() {
        if let Some(rest) = line.strip_prefix("meshplane_xds::") {
            if let Some(host) = rest.strip_suffix("::cx_active::1") {
                return Ok(servers.iter().position(|s| s.xds.to_string() == host));
            }
        }
    }
    Ok(None)
}

/// Envoy's inbound listener has a filter chain for the virtual node's
/// listener `port`.
fn has_listener_port(envoy: &Envoy, port: u16) -> anyhow::Result<Option<()>> {
    let a = http::request(
        envoy.admin,
        "GET",
        "/config_dump?resource=dynamic_listeners",
        &[],
        b"",
    )?;
    Ok(a.body
        .contains(&format!("\"destination_port\": {port}"))
        .then_some(()))
}

fn update_port(server: &Server, port: u16) {
    ok(
        server,
        "PUT",
        NODE,
        &json!({"spec": node_spec(port, "n1.m.local")}),
    )
    .unwrap();
}

/// The mesh, node n1 on port 8080, and an Envoy for n1 with its config
/// settled; its listener and cluster versions.
fn mesh_and_envoy(servers: &[Server], dir: &std::path::Path) -> (Envoy, Vec<(String, String)>) {
    ok(
        &servers[0],
        "PUT",
        "/v20190125/meshes",
        &json!({"meshName": "m"}),
    )
    .unwrap();
    ok(
        &servers[0],
        "PUT",
        "/v20190125/meshes/m/virtualNodes",
        &json!({"virtualNodeName": "n1", "spec": node_spec(8080, "n1.m.local")}),
    )
    .unwrap();
    let envoy = start_envoy(dir, servers);
    eventually("Envoy gets n1's listener", HANG, || {
        has_listener_port(&envoy, 8080)
    })
    .unwrap();
    let versions = settled(&envoy);
    (envoy, versions)
}

#[test]
fn envoy_keeps_its_config_through_a_database_outage_and_a_rolling_restart() {
    let _turn = DATABASE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (_url, mut servers) = replicas("envoy_roll", 3, &[]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (envoy, before) = mesh_and_envoy(&servers, dir.path());

    // Database down: writes answer 503 and change nothing; Envoy keeps its config.
    postgres::pg_ctl(&["-m", "fast", "-w", "stop"]).unwrap();
    let body = json!({"spec": node_spec(8081, "n1.m.local")});
    let refused = eventually(
        "a write answers 503 while the database is down",
        HANG,
        || {
            let a = call(&servers[1], "PUT", NODE, &body)?;
            Ok((a.status == 503).then_some(()))
        },
    );
    let restarted = postgres::pg_ctl(&["-w", "start"]);
    refused.unwrap();
    restarted.unwrap();
    assert_eq!(versions(&envoy).unwrap().unwrap_or_default(), before);
    // Back up: the write succeeds and reaches Envoy.
    let start = Instant::now();
    eventually("a write succeeds after the database is back", HANG, || {
        let a = call(&servers[1], "PUT", NODE, &body)?;
        Ok((a.status == 200).then_some(()))
    })
    .unwrap();
    eventually("the write after the outage reaches Envoy", HANG, || {
        has_listener_port(&envoy, 8081)
    })
    .unwrap();
    println!(
        "figure: database back → write acknowledged and on Envoy: {:?}",
        start.elapsed()
    );
    eventually("Envoy drops the 8080 cluster", HANG, || {
        Ok(versions(&envoy)?.filter(|v| !v.iter().any(|(name, _)| name.ends_with("_8080"))))
    })
    .unwrap();
    let before = settled(&envoy);

    // Rolling restart: each replica SIGKILLed and started again in turn.
    for i in 0..servers.len() {
        servers[i].kill();
        servers[i].restart().unwrap();
        eventually(
            &format!("Envoy is on a replica after restarting {i}"),
            HANG,
            || connected_to(&envoy, &servers),
        )
        .unwrap();
        assert_eq!(
            versions(&envoy).unwrap().unwrap_or_default(),
            before,
            "after replica {i}"
        );
    }
    update_port(&servers[0], 8082);
    eventually(
        "a write after the rolling restart reaches Envoy",
        HANG,
        || has_listener_port(&envoy, 8082),
    )
    .unwrap();
}

#[test]
fn envoy_follows_writes_across_replicas_and_survives_a_replica_kill() {
    let _turn = DATABASE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let (_url, mut servers) = replicas("envoy", 3, &[]).unwrap();
    ok(
        &servers[0],
        "PUT",
        "/v20190125/meshes",
        &json!({"meshName": "m"}),
    )
    .unwrap();
    ok(
        &servers[0],
        "PUT",
        "/v20190125/meshes/m/virtualNodes",
        &json!({"virtualNodeName": "n1", "spec": node_spec(8080, "n1.m.local")}),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let envoy = start_envoy(dir.path(), &servers);
    eventually("Envoy gets n1's listener", HANG, || {
        has_listener_port(&envoy, 8080)
    })
    .unwrap();
    let on = eventually("Envoy's ADS stream is up", HANG, || {
        connected_to(&envoy, &servers)
    })
    .unwrap();

    // A write through another replica reaches this Envoy.
    let other = (on + 1) % servers.len();
    let start = Instant::now();
    update_port(&servers[other], 8081);
    eventually(
        "a write through another replica reaches Envoy",
        HANG,
        || has_listener_port(&envoy, 8081),
    )
    .unwrap();
    println!(
        "figure: write through replica {other} → Envoy on replica {on}: {:?}",
        start.elapsed()
    );

    // SIGKILL its replica: it reconnects to another, config unchanged.
    // Once the cluster of the old port is gone, the config is settled.
    let before = eventually("Envoy drops the 8080 cluster", HANG, || {
        Ok(versions(&envoy)?.filter(|v| !v.iter().any(|(name, _)| name.ends_with("_8080"))))
    })
    .unwrap();
    let start = Instant::now();
    servers[on].kill();
    let now_on = eventually("Envoy reconnects to another replica", HANG, || {
        Ok(connected_to(&envoy, &servers)?.filter(|i| *i != on))
    })
    .unwrap();
    println!(
        "figure: replica {on} SIGKILLed → ADS stream on replica {now_on}: {:?}",
        start.elapsed()
    );
    // Give the new stream time to answer; nothing it sends may change the config.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(versions(&envoy).unwrap().unwrap_or_default(), before);

    // A write through the replica it is not on (or the one it is, if only two
    // remain) still reaches it.
    let writer = (0..servers.len())
        .find(|i| *i != on && *i != now_on)
        .unwrap_or(now_on);
    update_port(&servers[writer], 8082);
    eventually("a write after the kill reaches Envoy", HANG, || {
        has_listener_port(&envoy, 8082)
    })
    .unwrap();
}
