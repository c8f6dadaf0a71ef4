//! Several `meshplane serve` replicas on one PostgreSQL database (the server
//! `scripts/test.sh` starts; a fresh database per test): a write through
//! one replica reaches the others, concurrent writes through all of them
//! lose nothing and conflict where App Mesh would, clientTokens hold across
//! replicas, and lost wake-ups are made up by the catch-up.

#![allow(clippy::unwrap_used)] // helpers of the tests below

use std::sync::{Arc, Barrier};
use std::time::Duration;

use meshplane_api_tests::cluster::{admin_json, call, eventually, json, node_spec, ok, replicas};
use meshplane_api_tests::{postgres, Server};
use serde_json::{json, Value};

const NODES: &str = "/v20190125/meshes/m/virtualNodes";

fn setup(servers: &[Server]) {
    ok(
        &servers[0],
        "PUT",
        "/v20190125/meshes",
        &json!({"meshName": "m"}),
    )
    .unwrap();
}

fn describe_version(server: &Server, node: &str) -> anyhow::Result<Option<i64>> {
    let a = call(server, "GET", &format!("{NODES}/{node}"), &Value::Null)?;
    if a.status != 200 {
        return Ok(None);
    }
    Ok(json(&a)?["metadata"]["version"].as_i64())
}

#[test]
fn a_write_through_one_replica_is_served_by_the_others() {
    let (_url, servers) = replicas("propagate", 3, &[]).unwrap();
    setup(&servers);
    let body = json!({"virtualNodeName": "n1", "spec": node_spec(8080, "n1.m.local")});
    ok(&servers[0], "PUT", NODES, &body).unwrap();
    for (i, s) in servers.iter().enumerate().skip(1) {
        eventually(
            &format!("replica {i} describes n1"),
            Duration::from_secs(10),
            || describe_version(s, "n1"),
        )
        .unwrap();
        // The replica serves it to proxies too: its reload built a listener.
        eventually(
            &format!("replica {i} serves n1's configuration"),
            Duration::from_secs(10),
            || {
                let a = meshplane_api_tests::http::request(
                    s.admin,
                    "GET",
                    "/debug/config?node=mesh/m/virtualNode/n1",
                    &[],
                    b"",
                )?;
                Ok((a.status == 200 && a.body.contains("8080")).then_some(()))
            },
        )
        .unwrap();
        let status = admin_json(s, "/debug/store").unwrap();
        assert_eq!(status["up"], true, "{status}");
        assert!(status["notifications"].as_u64().unwrap() >= 1, "{status}");
        assert!(status["listening"].as_bool().unwrap(), "{status}");
    }
}

#[test]
fn concurrent_updates_through_every_replica_lose_none() {
    let (_url, servers) = replicas("updates", 3, &[]).unwrap();
    setup(&servers);
    ok(
        &servers[0],
        "PUT",
        NODES,
        &json!({"virtualNodeName": "hot", "spec": node_spec(1000, "hot.m.local")}),
    )
    .unwrap();
    for s in &servers[1..] {
        eventually("the node everywhere", Duration::from_secs(10), || {
            describe_version(s, "hot")
        })
        .unwrap();
    }
    const THREADS_PER_REPLICA: usize = 3;
    const UPDATES: usize = 8;
    let servers = Arc::new(servers);
    let barrier = Arc::new(Barrier::new(servers.len() * THREADS_PER_REPLICA));
    let mut handles = Vec::new();
    for r in 0..servers.len() {
        for t in 0..THREADS_PER_REPLICA {
            let (servers, barrier) = (servers.clone(), barrier.clone());
            handles.push(std::thread::spawn(move || {
                barrier.wait();
                let mut versions = Vec::new();
                let mut conflicts = 0;
                for u in 0..UPDATES {
                    let port = 2000 + (r * 100 + t * 10 + u) as u16;
                    let a = call(
                        &servers[r],
                        "PUT",
                        &format!("{NODES}/hot"),
                        &json!({"spec": node_spec(port, "hot.m.local")}),
                    )
                    .unwrap();
                    match a.status {
                        200 => versions
                            .push(json(&a).unwrap()["metadata"]["version"].as_i64().unwrap()),
                        409 => conflicts += 1,
                        other => panic!("update through replica {r}: {other} {}", a.body),
                    }
                }
                (versions, conflicts)
            }));
        }
    }
    let mut versions = Vec::new();
    let mut conflicts = 0;
    for h in handles {
        let (v, c) = h.join().unwrap();
        versions.extend(v);
        conflicts += c;
    }
    versions.sort_unstable();
    let expected: Vec<i64> = (2..2 + versions.len() as i64).collect();
    assert_eq!(
        versions, expected,
        "every successful update got its own consecutive version"
    );
    println!(
        "{} updates acknowledged, {conflicts} refused with ConflictException",
        versions.len()
    );
    let last = 1 + versions.len() as i64;
    for s in servers.iter() {
        eventually(
            "the last version everywhere",
            Duration::from_secs(10),
            || Ok(describe_version(s, "hot")?.filter(|v| *v == last)),
        )
        .unwrap();
    }
}

/// Starts `per_replica` threads per replica at once, each sending `body`
/// with PUT to `path`; their answers (status, body).
fn race(servers: Vec<Server>, per_replica: usize, path: &str, body: Value) -> Vec<(u16, String)> {
    let servers = Arc::new(servers);
    let barrier = Arc::new(Barrier::new(servers.len() * per_replica));
    let handles: Vec<_> = (0..servers.len() * per_replica)
        .map(|i| {
            let (servers, barrier, path, body) = (
                servers.clone(),
                barrier.clone(),
                path.to_owned(),
                body.clone(),
            );
            std::thread::spawn(move || {
                let s = &servers[i % servers.len()];
                barrier.wait();
                let a = call(s, "PUT", &path, &body).unwrap();
                (a.status, a.body)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn same_name_creates_through_every_replica_one_wins() {
    let (_url, servers) = replicas("creates", 3, &[]).unwrap();
    setup(&servers);
    for s in &servers[1..] {
        eventually("the mesh everywhere", Duration::from_secs(10), || {
            let a = call(s, "GET", "/v20190125/meshes/m", &Value::Null)?;
            Ok((a.status == 200).then_some(()))
        })
        .unwrap();
    }
    let answers = race(
        servers,
        3,
        NODES,
        json!({"virtualNodeName": "same", "spec": node_spec(9000, "same.m.local")}),
    );
    let won = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(won, 1, "exactly one create wins: {answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != 200) {
        assert_eq!(*status, 409, "{body}");
        assert!(body.contains("already exists"), "{body}");
    }
}

#[test]
fn a_client_token_holds_across_replicas() {
    let (_url, servers) = replicas("tokens", 3, &[]).unwrap();
    setup(&servers);
    for s in &servers[1..] {
        eventually("the mesh everywhere", Duration::from_secs(10), || {
            let a = call(s, "GET", "/v20190125/meshes/m", &Value::Null)?;
            Ok((a.status == 200).then_some(()))
        })
        .unwrap();
    }
    let answers = race(
        servers,
        2,
        NODES,
        json!({"virtualNodeName": "tok", "clientToken": "token-1", "spec": node_spec(9001, "tok.m.local")}),
    );
    let uids: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|(status, body)| {
            assert_eq!(
                *status, 200,
                "a retry with the same clientToken gets the first answer: {body}"
            );
            let v: Value = serde_json::from_str(body).unwrap();
            v["metadata"]["uid"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(uids.len(), 1, "one resource, one answer: {uids:?}");
}

#[test]
fn lost_wake_ups_are_made_up_by_the_catch_up() {
    let (url, servers) = replicas("wakeups", 2, &["--store-poll", "1s"]).unwrap();
    setup(&servers);
    eventually("the listeners", Duration::from_secs(10), || {
        Ok(admin_json(&servers[1], "/debug/store")?["listening"]
            .as_bool()
            .filter(|l| *l))
    })
    .unwrap();
    // Cut every LISTEN connection of this database: wake-ups sent before
    // the replicas listen again are lost.
    postgres::execute(
        &url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE application_name = 'meshplane-listen' AND datname = current_database()",
    )
    .unwrap();
    ok(
        &servers[0],
        "PUT",
        NODES,
        &json!({"virtualNodeName": "late", "spec": node_spec(8081, "late.m.local")}),
    )
    .unwrap();
    eventually(
        "replica 1 describes the write",
        Duration::from_secs(10),
        || describe_version(&servers[1], "late"),
    )
    .unwrap();
    let status = eventually("replica 1 listens again", Duration::from_secs(10), || {
        let s = admin_json(&servers[1], "/debug/store")?;
        Ok((s["listen_connections"].as_u64() >= Some(2) && s["listening"] == true).then_some(s))
    })
    .unwrap();
    assert_eq!(status["lag"], 0, "{status}");
}

#[test]
fn a_rolling_restart_loses_nothing_acknowledged() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Mutex;

    let (_url, mut servers) = replicas("rolling", 3, &[]).unwrap();
    setup(&servers);
    let addrs: Vec<_> = servers.iter().map(|s| s.api).collect();
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let writer = {
        let (stop, acked) = (stop.clone(), acked.clone());
        std::thread::spawn(move || {
            let mut n = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let name = format!("r{n}");
                let body = json!({"virtualNodeName": name, "spec": node_spec(8080, "r.m.local")});
                let answer = meshplane_api_tests::http::request(
                    addrs[n % addrs.len()],
                    "PUT",
                    NODES,
                    &[("content-type", "application/json".to_owned())],
                    body.to_string().as_bytes(),
                );
                n += 1;
                if let Ok(a) = answer {
                    if a.status == 200 {
                        acked.lock().unwrap().push(name);
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    // Replace the replicas one at a time, as a rolling update does.
    for s in servers.iter_mut() {
        std::thread::sleep(Duration::from_millis(300));
        s.kill();
        s.restart().unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty());
    for s in &servers {
        for name in &acked {
            eventually(
                &format!("{name} on {}", s.api),
                Duration::from_secs(10),
                || describe_version(s, name),
            )
            .unwrap();
        }
    }
    println!(
        "{} writes acknowledged during the rolling restart",
        acked.len()
    );
}
