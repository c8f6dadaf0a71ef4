//! Three `meshplane serve` replicas on one PostgreSQL database (a fresh
//! database of the server `scripts/test.sh` starts), on three addresses of
//! the bridge, serving the getting-started mesh written through replica A's
//! API with the `aws` CLI to real Envoys whose bootstraps list all three.
//! serviceA's application calls serviceB without pause, and boto3 creates
//! virtual nodes through the three replicas in turn, while:
//!
//! 1. a route weight change written through one replica reaches serviceA's
//!    Envoy, streaming from another, and the split of the traffic follows;
//! 2. the database stops (writes answer ServiceUnavailableException, the
//!    Envoys' config stays) and starts again (writes succeed and arrive);
//! 3. the replica serviceA's Envoy streams from is SIGKILLed (the Envoy
//!    moves to another with the same config);
//! 4. every replica is restarted in turn (SIGTERM, start; a rolling update);
//! 5. the listening connections are terminated while the replica is frozen,
//!    so it misses the wake-up of a write, and catch-up still delivers it.
//!
//! No request fails; after each fault every write answered 200 is listed
//! and served (`/debug/config`) by a replica, and at the end by every one,
//! so each write is read through the two replicas that did not take it.
//! Prints the figures (write → Envoy on another replica, reconnections).
//!
//! The binary stops the shared PostgreSQL server, so it holds one test
//! (cargo runs test binaries one after another).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use meshplane_api_tests::postgres;
use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::apps_api::{create_with_cli, update_route_weights};
use meshplane_e2e::fixtures::{start_apps_with, SERVICE_B_URL};
use meshplane_e2e::harness::api_writes::Writes;
use meshplane_e2e::harness::client::HttpLoad;
use meshplane_e2e::harness::replicas::Replicas;
use meshplane_e2e::harness::topology::wait_for;
use meshplane_e2e::harness::watch::Watch;
use meshplane_e2e::traffic::report::now_ms;
use meshplane_e2e::Topology;
use serde_json::Value;

const APPS: [&str; 3] = ["serviceA", "serviceB", "serviceBv2"];
/// Guards against a hang; never a timing assertion.
const HANG: Duration = Duration::from_secs(30);

/// The versions of the dynamic listeners, clusters and route
/// configurations `app`'s Envoy holds, by name.
fn versions(t: &Topology, app: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let (status, body) = t.envoy_admin(app, "/config_dump")?;
    ensure!(status == 200, "{app}'s /config_dump answered {status}");
    let dump: Value = serde_json::from_str(&body)?;
    let mut out = BTreeMap::new();
    for config in dump["configs"].as_array().into_iter().flatten() {
        let items = |key: &str| config[key].as_array().cloned().unwrap_or_default();
        for l in items("dynamic_listeners") {
            if let (Some(n), Some(v)) = (
                l["name"].as_str(),
                l["active_state"]["version_info"].as_str(),
            ) {
                out.insert(format!("listener {n}"), v.to_owned());
            }
        }
        for c in items("dynamic_active_clusters") {
            if let (Some(n), Some(v)) = (c["cluster"]["name"].as_str(), c["version_info"].as_str())
            {
                out.insert(format!("cluster {n}"), v.to_owned());
            }
        }
        for r in items("dynamic_route_configs") {
            if let (Some(n), Some(v)) = (
                r["route_config"]["name"].as_str(),
                r["version_info"].as_str(),
            ) {
                out.insert(format!("routes {n}"), v.to_owned());
            }
        }
    }
    ensure!(!out.is_empty(), "{app}'s Envoy has no dynamic resources");
    Ok(out)
}

/// [`versions`] of every Envoy.
fn all_versions(t: &Topology) -> anyhow::Result<BTreeMap<&'static str, BTreeMap<String, String>>> {
    APPS.iter()
        .map(|app| Ok((*app, versions(t, app)?)))
        .collect()
}

/// The weights serviceA's Envoy gives serviceB and serviceBv2 (a target
/// left out weighs 0).
fn served_weights(t: &Topology) -> anyhow::Result<(u64, u64)> {
    let (status, body) =
        t.envoy_admin("serviceA", "/config_dump?resource=dynamic_route_configs")?;
    ensure!(status == 200, "serviceA's /config_dump answered {status}");
    let dump: Value = serde_json::from_str(&body)?;
    let mut weights = (0, 0);
    let mut found = false;
    for config in dump["configs"].as_array().into_iter().flatten() {
        for vh in config["route_config"]["virtual_hosts"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for route in vh["routes"].as_array().into_iter().flatten() {
                let clusters = &route["route"]["weighted_clusters"]["clusters"];
                for c in clusters.as_array().into_iter().flatten() {
                    let name = c["name"].as_str().unwrap_or_default();
                    let w = c["weight"].as_u64().unwrap_or(0);
                    if name.contains("_serviceBv2_") {
                        weights.1 = w;
                        found = true;
                    } else if name.contains("_serviceB_") {
                        weights.0 = w;
                        found = true;
                    }
                }
            }
        }
    }
    ensure!(found, "serviceA's Envoy has no weighted route to serviceB");
    Ok(weights)
}

/// Wait until serviceA's Envoy routes `weights`; the time it took.
fn wait_weights(t: &Topology, weights: (u64, u64)) -> anyhow::Result<Duration> {
    let start = Instant::now();
    wait_for(
        &format!("serviceA's Envoy to route {weights:?}"),
        HANG,
        || Ok((served_weights(t)? == weights).then_some(())),
    )?;
    Ok(start.elapsed())
}

/// serviceBv2's share of the next `n` requests of `watch` that started
/// after `since_ms`.
fn split_after(watch: &Watch, since_ms: u64, n: usize) -> anyhow::Result<f64> {
    let outcomes = wait_for(&format!("{n} requests after the change"), HANG, || {
        let after: Vec<_> = watch
            .outcomes()
            .into_iter()
            .filter(|o| o.t_ms > since_ms)
            .collect();
        Ok((after.len() >= n).then_some(after))
    })?;
    let v2 = outcomes[..n]
        .iter()
        .filter(|o| o.backend.as_deref() == Some("serviceBv2"))
        .count();
    Ok(v2 as f64 / n as f64)
}

/// The replica serviceA's Envoy streams from.
fn replica_of_a(t: &Topology, r: &Replicas) -> anyhow::Result<usize> {
    wait_for("serviceA's Envoy on a replica", HANG, || {
        t.xds_replica_of(r, "serviceA")
    })
}

/// Every write `writes` got a 200 for is listed and served by replica `i`.
fn check_acked(
    t: &Topology,
    r: &Replicas,
    writes: &Writes,
    i: usize,
    after: &str,
) -> anyhow::Result<()> {
    let acked = writes.acked();
    let check = wait_for(
        &format!("replica {i} to list and serve the writes acknowledged before {after}"),
        HANG,
        || {
            let c = t.check_writes("apps", &r.api_url(i), &r.admin_url(i), &acked)?;
            Ok((c.missing.is_empty() && c.unserved.is_empty()).then_some(c))
        },
    )?;
    println!(
        "replicas: after {after}: all {} acknowledged writes listed and served by {} ({} virtual nodes listed)",
        acked.len(),
        Replicas::name(i),
        check.listed
    );
    Ok(())
}

/// Refusals the writer got, by status and error code.
fn refusals(writes: &Writes) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for w in writes.writes().into_iter().filter(|w| w.status != 200) {
        let key = format!("{} {}", w.status, w.error.unwrap_or_default());
        *out.entry(key).or_default() += 1;
    }
    out
}

#[test]
fn replicas_carry_traffic_through_database_and_replica_faults() -> anyhow::Result<()> {
    let start = Instant::now();
    let bins = binaries!()?;
    postgres::server_url()?;
    postgres::pg_ctl(&["status"]).context("the test PostgreSQL's pg_ctl")?;
    let mut t = Topology::new("replicas-traffic", bins)?;
    let r = t.start_replicas("traffic", 3, &["--store-poll", "1s"])?;
    create_with_cli(&t, &r.api(0)).context("the mesh through replica A's API")?;
    // Each Envoy's list starts with a different replica (Envoy's round
    // robin still picks; the faults below follow serviceA's Envoy).
    start_apps_with(&mut t, |node| {
        let first = APPS.iter().position(|a| *a == node).unwrap_or(0);
        vec![("APPMESH_XDS_ENDPOINT".to_owned(), r.xds_endpoints(first))]
    })?;
    let mut on = BTreeMap::new();
    for app in APPS {
        let i = wait_for(&format!("{app}'s Envoy on a replica"), HANG, || {
            t.xds_replica_of(&r, app)
        })?;
        on.insert(app, Replicas::name(i));
    }
    println!("replicas: Envoys stream from {on:?}");
    let endpoints: Vec<String> = (0..r.len()).map(|i| r.api_url(i)).collect();
    let writes = t.api_writes("apps", "w", 200, &endpoints)?;
    let watch = t.watch(
        "serviceA",
        SERVICE_B_URL,
        &HttpLoad::default().concurrency(2),
        5,
    )?;
    let setup = start.elapsed();

    // 1. A weight change through another replica than serviceA's Envoy's.
    let a_on = replica_of_a(&t, &r)?;
    let via = (a_on + 1) % r.len();
    let sent = Instant::now();
    update_route_weights(&t, &r.api(via), &[("serviceB", 25), ("serviceBv2", 75)])?;
    let answered = sent.elapsed();
    wait_weights(&t, (25, 75))?;
    let arrived = sent.elapsed();
    let share = split_after(&watch, now_ms(), 400)?;
    println!(
        "replicas: update-route through {} answered in {answered:?}, on serviceA's Envoy (streaming from {}) {arrived:?} after it was sent; serviceBv2 then took {:.0} % of 400 requests",
        Replicas::name(via),
        Replicas::name(a_on),
        share * 100.0
    );
    ensure!(
        (0.65..=0.85).contains(&share),
        "serviceBv2 took {share} of the requests after 25/75 arrived"
    );
    check_acked(&t, &r, &writes, (via + 1) % r.len(), "the weight change")?;

    // 2. The database stops during writes, and starts again.
    let before = all_versions(&t)?;
    let acked_before = writes.acked().len();
    postgres::pg_ctl(&["-m", "fast", "-w", "stop"])?;
    let outage = (|| -> anyhow::Result<()> {
        let refused =
            update_route_weights(&t, &r.api(a_on), &[("serviceB", 50), ("serviceBv2", 50)]);
        let err = format!(
            "{:#}",
            refused
                .err()
                .context("update-route succeeded with the database down")?
        );
        ensure!(
            err.contains("ServiceUnavailableException"),
            "update-route with the database down: {err}"
        );
        wait_for("a write refused with 503 by the writer", HANG, || {
            Ok(refusals(&writes)
                .keys()
                .any(|k| k.starts_with("503 ServiceUnavailableException"))
                .then_some(()))
        })?;
        let s = t.replica_json(&r, via, "/debug/store")?;
        ensure!(s["up"] == false, "/debug/store during the outage: {s}");
        Ok(())
    })();
    std::thread::sleep(Duration::from_secs(1));
    let restarted = Instant::now();
    postgres::pg_ctl(&["-w", "start"])?;
    outage?;
    ensure!(
        all_versions(&t)? == before,
        "an Envoy's config changed during the outage"
    );
    let acked_during = writes.acked().len();
    wait_for("writes acknowledged again", HANG, || {
        Ok((writes.acked().len() > acked_during).then_some(()))
    })?;
    update_route_weights(&t, &r.api(a_on), &[("serviceB", 50), ("serviceBv2", 50)])?;
    wait_weights(&t, (50, 50))?;
    println!(
        "replicas: database outage: {} writes acknowledged before it, refusals so far {:?}; database started → a write acknowledged and on serviceA's Envoy in {:?}",
        acked_before,
        refusals(&writes),
        restarted.elapsed()
    );
    check_acked(&t, &r, &writes, via, "the database outage")?;

    // 3. SIGKILL the replica serviceA's Envoy streams from.
    let a_on = replica_of_a(&t, &r)?;
    let before = all_versions(&t)?;
    let killed = Instant::now();
    t.kill_replica(a_on)?;
    let now_on = wait_for("serviceA's Envoy on another replica", HANG, || {
        Ok(t.xds_replica_of(&r, "serviceA")?.filter(|i| *i != a_on))
    })?;
    let moved = killed.elapsed();
    std::thread::sleep(Duration::from_millis(500));
    ensure!(
        all_versions(&t)? == before,
        "an Envoy's config changed when serviceA's moved to {}",
        Replicas::name(now_on)
    );
    println!(
        "replicas: {} SIGKILLed → serviceA's Envoy on {} after {moved:?}, config unchanged",
        Replicas::name(a_on),
        Replicas::name(now_on)
    );
    check_acked(&t, &r, &writes, now_on, "the SIGKILL")?;
    t.start_replica(&r, a_on)?;

    // 4. Rolling update: each replica stopped and started in turn.
    let before = all_versions(&t)?;
    for i in 0..r.len() {
        t.stop_replica(i)?;
        t.start_replica(&r, i)?;
        for app in APPS {
            wait_for(&format!("{app}'s Envoy on a replica"), HANG, || {
                t.xds_replica_of(&r, app)
            })?;
        }
        ensure!(
            all_versions(&t)? == before,
            "an Envoy's config changed after restarting {}",
            Replicas::name(i)
        );
    }
    check_acked(&t, &r, &writes, 1, "the rolling update")?;

    // 5. Lost wake-ups: serviceA's replica is frozen while every listening
    // connection is terminated and a write commits through another one.
    let a_on = replica_of_a(&t, &r)?;
    let via = (a_on + 1) % r.len();
    let status = t.replica_json(&r, a_on, "/debug/store")?;
    t.signal_replica(a_on, "STOP")?;
    let frozen = (|| -> anyhow::Result<()> {
        postgres::execute(
            &r.host_url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE application_name = 'meshplane-listen' AND datname = current_database()",
        )?;
        update_route_weights(&t, &r.api(via), &[("serviceB", 0), ("serviceBv2", 100)])?;
        Ok(())
    })();
    t.signal_replica(a_on, "CONT")?;
    frozen?;
    let resumed = Instant::now();
    wait_weights(&t, (0, 100))?;
    let caught_up = resumed.elapsed();
    let after = wait_for("the frozen replica to listen again", HANG, || {
        let s = t.replica_json(&r, a_on, "/debug/store")?;
        let reconnected = s["listen_connections"].as_u64() > status["listen_connections"].as_u64();
        Ok((s["listening"] == true && reconnected).then_some(s))
    })?;
    ensure!(
        after["catch_ups"].as_u64() > status["catch_ups"].as_u64(),
        "the frozen replica caught up: before {status}, after {after}"
    );
    let share = split_after(&watch, now_ms(), 200)?;
    ensure!(
        share == 1.0,
        "serviceBv2 took {share} of the requests after 0/100"
    );
    println!(
        "replicas: wake-up lost on {} (frozen); resumed → write on serviceA's Envoy in {caught_up:?}; /debug/store before {status} after {after}",
        Replicas::name(a_on)
    );
    check_acked(&t, &r, &writes, via, "the lost wake-ups")?;

    // Nothing failed; every acknowledged write is on every replica.
    let writes = {
        let acked = writes.acked();
        let all = writes.stop()?;
        for i in 0..r.len() {
            let c = t.check_writes("apps", &r.api_url(i), &r.admin_url(i), &acked)?;
            ensure!(
                c.missing.is_empty() && c.unserved.is_empty(),
                "{}: {c:?}",
                Replicas::name(i)
            );
        }
        all
    };
    let (_, summary) = watch.stop()?;
    println!(
        "replicas: {} requests, {} failed, by backend {:?}; {} writes, {} acknowledged",
        summary.sent,
        summary.failed,
        summary.by_backend,
        writes.len(),
        writes.iter().filter(|w| w.status == 200).count()
    );
    ensure!(summary.failed == 0, "failed requests: {summary:?}");
    println!(
        "replicas traffic wall time: {:.1} s (setup {:.1} s)",
        start.elapsed().as_secs_f64(),
        setup.as_secs_f64()
    );
    Ok(())
}
