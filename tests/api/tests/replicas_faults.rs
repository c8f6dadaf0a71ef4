//! Faults of a replicated setup (`meshplane serve` replicas on the test
//! PostgreSQL): the database stopped during writes and started again, and a
//! replica SIGKILLed during writes. Every write that got a 200 is in the
//! store afterwards and served by every replica.
//!
//! This binary stops the test server, so it holds a single test (cargo runs
//! test binaries one after another; the other tests never see the outage).

#![allow(clippy::unwrap_used)] // helpers of the test below

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use meshplane_api_tests::cluster::{admin_json, call, eventually, node_spec, ok, replicas};
use meshplane_api_tests::{http, postgres, Server};
use serde_json::{json, Value};

const NODES: &str = "/v20190125/meshes/m/virtualNodes";

/// Writes nodes w<i>-<n> through `server` until `stop`; the names answered 200.
fn writer(server: Arc<Server>, i: usize, stop: Arc<AtomicBool>, acked: Arc<Mutex<Vec<String>>>) {
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let name = format!("w{i}-{n}");
        n += 1;
        let body = json!({"virtualNodeName": name, "spec": node_spec(1000 + (n % 60000) as u16, "w.m.local")});
        match call(&server, "PUT", NODES, &body) {
            Ok(a) if a.status == 200 => acked.lock().unwrap().push(name),
            Ok(a) => assert!(
                a.status == 503 && a.body.contains("CreateVirtualNode") || a.status == 409,
                "a write while the store is down answers 503 naming the operation: {} {}",
                a.status,
                a.body
            ),
            Err(_) => {} // the replica is gone (SIGKILL)
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn names(server: &Server) -> anyhow::Result<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            Some(t) => format!("{NODES}?nextToken={t}"),
            None => NODES.to_owned(),
        };
        let v = ok(server, "GET", &path, &Value::Null)?;
        for n in v["virtualNodes"].as_array().into_iter().flatten() {
            out.insert(n["virtualNodeName"].as_str().unwrap_or("").to_owned());
        }
        match v["nextToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => return Ok(out),
        }
    }
}

fn assert_all_served(servers: &[Arc<Server>], acked: &[String]) {
    for s in servers {
        eventually(
            "every acknowledged write on every replica",
            Duration::from_secs(20),
            || {
                let have = names(s)?;
                let missing: Vec<_> = acked.iter().filter(|n| !have.contains(*n)).collect();
                Ok(missing.is_empty().then_some(()))
            },
        )
        .unwrap();
    }
}

#[test]
fn database_outage_and_replica_kill_lose_nothing_acknowledged() {
    let (_url, servers) = replicas("faults", 3, &["--store-poll", "1s"]).unwrap();
    ok(
        &servers[0],
        "PUT",
        "/v20190125/meshes",
        &json!({"meshName": "m"}),
    )
    .unwrap();
    let servers: Vec<Arc<Server>> = servers.into_iter().map(Arc::new).collect();
    let acked = Arc::new(Mutex::new(Vec::new()));

    // --- The database stops during writes, and starts again.
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|i| {
            let (s, stop, acked) = (servers[i].clone(), stop.clone(), acked.clone());
            std::thread::spawn(move || writer(s, i, stop, acked))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    postgres::pg_ctl(&["-m", "fast", "-w", "stop"]).unwrap();
    let outage = (|| -> anyhow::Result<()> {
        // Writes answer 503; reads answer from the last state, marked stale.
        let a = call(
            &servers[1],
            "PUT",
            NODES,
            &json!({"virtualNodeName": "during", "spec": node_spec(7000, "d.m.local")}),
        )?;
        anyhow::ensure!(
            a.status == 503,
            "write during the outage: {} {}",
            a.status,
            a.body
        );
        anyhow::ensure!(
            a.header("x-amzn-errortype") == Some("ServiceUnavailableException"),
            "{:?}",
            a.headers
        );
        let r = call(&servers[1], "GET", "/v20190125/meshes/m", &Value::Null)?;
        anyhow::ensure!(
            r.status == 200,
            "read during the outage: {} {}",
            r.status,
            r.body
        );
        anyhow::ensure!(
            r.header("x-meshplane-stale") == Some("true"),
            "a read during the outage is marked stale: {:?}",
            r.headers
        );
        let ready = http::request(servers[1].admin, "GET", "/readyz", &[], b"")?;
        anyhow::ensure!(ready.body.contains("store down"), "/readyz: {}", ready.body);
        let metrics = http::request(servers[1].admin, "GET", "/metrics", &[], b"")?;
        anyhow::ensure!(
            metrics.body.contains("meshplane_store_up 0"),
            "metrics say the store is down"
        );
        Ok(())
    })();
    std::thread::sleep(Duration::from_secs(2));
    postgres::pg_ctl(&["-w", "start"]).unwrap();
    outage.unwrap();
    for s in &servers {
        eventually("the store up again", Duration::from_secs(30), || {
            Ok((admin_json(s, "/debug/store")?["up"] == true).then_some(()))
        })
        .unwrap();
    }
    let before = acked.lock().unwrap().len();
    eventually("writes succeed again", Duration::from_secs(30), || {
        Ok((acked.lock().unwrap().len() > before + 10).then_some(()))
    })
    .unwrap();

    // --- A replica is SIGKILLed during writes.
    let victim = servers[0].clone();
    let pid = victim.pid().unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status();
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    println!(
        "{} writes acknowledged across the outage and the kill",
        acked.len()
    );
    assert_all_served(&servers[1..], &acked);
}
