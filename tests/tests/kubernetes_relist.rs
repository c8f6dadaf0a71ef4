//! `meshplane serve --kubernetes` when its watches' resource versions have
//! expired (410 Gone), against the real API server of
//! scripts/k8s-apiserver.sh and real Envoys.
//!
//! meshplane is stopped (SIGSTOP: its sockets stay open, it reads nothing)
//! while the API server is restarted, which ends every watch connection;
//! a VirtualRouter weight edit is then made with kubectl, so nothing of
//! meshplane's can see it; the API server is restarted again, so its watch
//! cache starts after the edit and a watch resuming from meshplane's older
//! resource version is answered 410 "too old resource version". meshplane
//! continues: its watches must list again (`/debug/kubernetes` and
//! `/metrics` count the relists) and the edit, which only a relist can
//! deliver, must reach serviceA's real Envoy. The proxies the edit does not
//! concern get nothing new.
//!
//! First, meshplane's connections to the API server are aborted (`ss -K`
//! in its network namespace) while the API server keeps running: the
//! watches fail, resume from their versions (still in the watch cache: no
//! relist) and must count as synced again, the quiet kinds included.
//!
//! Its own test binary: the API server restarts would disturb a test
//! running beside it (cargo runs test binaries one after another).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::{start_apps, SERVICE_B_URL};
use meshplane_e2e::harness::binaries::workspace_root;
use meshplane_e2e::harness::client::HttpLoad;
use meshplane_e2e::harness::kubernetes::Cluster;
use meshplane_e2e::harness::topology::wait_for;
use meshplane_e2e::Topology;
use serde_json::Value;

const NS: &str = "apps";

/// `/debug/kubernetes`' watch of `kind`.
fn watch_of(debug: &Value, kind: &str) -> anyhow::Result<Value> {
    debug["watches"]
        .as_array()
        .and_then(|w| w.iter().find(|w| w["kind"] == kind))
        .cloned()
        .with_context(|| format!("no {kind} watch in /debug/kubernetes: {debug}"))
}

/// The value of the sample `line_start` (name and labels) in `/metrics`.
fn metric(t: &Topology, line_start: &str) -> anyhow::Result<f64> {
    let (status, text) = t.control_get("/metrics")?;
    ensure!(status == 200, "/metrics answered {status}");
    text.lines()
        .find_map(|l| l.strip_prefix(line_start)?.trim().parse().ok())
        .with_context(|| format!("no sample {line_start} in /metrics"))
}

/// Per proxy identity (of `names`), per type: (stream, version last sent,
/// responses sent on the stream).
type Pushes = BTreeMap<String, BTreeMap<String, (u64, String, u64)>>;

fn pushes(t: &Topology, names: &[&str]) -> anyhow::Result<Pushes> {
    let mut out = Pushes::new();
    for p in t.control_proxies()? {
        let identity = p["identity"].as_str().unwrap_or_default().to_owned();
        if !names.iter().any(|n| identity.ends_with(&format!("/{n}"))) {
            continue;
        }
        let stream = p["stream"].as_u64().unwrap_or_default();
        let types = out.entry(identity).or_default();
        for (t, s) in p["types"].as_object().into_iter().flatten() {
            types.insert(
                t.clone(),
                (
                    stream,
                    s["last_sent_version"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    s["responses_sent"].as_u64().unwrap_or_default(),
                ),
            );
        }
    }
    ensure!(out.len() == names.len(), "proxies of {names:?}: {out:?}");
    Ok(out)
}

#[test]
fn an_expired_watch_lists_again_and_serves_the_edit_it_missed() -> anyhow::Result<()> {
    let start = Instant::now();
    let k = Cluster::from_env()?;
    k.delete_mesh(NS, "apps")?;
    let apps = workspace_root().join("config/examples/apps/kubernetes/apps.yaml");
    k.kubectl(&["apply", "-f", &apps.display().to_string()])?;
    let mut t = Topology::new("kubernetes-relist", binaries!()?)?;
    let _reach = k.serve(&mut t, NS)?;
    start_apps(&mut t)?;
    t.wait_proxies_synced(3, Duration::from_secs(30))?;
    let s = t.http("serviceA", SERVICE_B_URL, 200, &HttpLoad::default())?;
    ensure!(
        s.failed == 0 && s.count("serviceB") > 0 && s.count("serviceBv2") > 0,
        "the 75/25 split before the edit: {s:?}"
    );

    // Synced, and the router's status written (no write in flight).
    let synced = wait_for(
        "the source synced, every status written",
        Duration::from_secs(15),
        || {
            let d = t.control_json("/debug/kubernetes")?;
            let router = k.get_json(&["virtualrouter", "-n", NS, "service-b"])?;
            let written =
                router["status"]["observedGeneration"] == router["metadata"]["generation"];
            Ok((d["up"] == true && written).then_some(d))
        },
    )?;
    for w in synced["watches"].as_array().into_iter().flatten() {
        ensure!(
            w["listed"] == true && w["synced"] == true && w["relists"] == 0,
            "a watch before the restarts: {w}"
        );
    }
    ensure!(
        synced["objects"] == 7 && synced["rejected"] == 0,
        "/debug/kubernetes: {synced}"
    );
    let relists_metric =
        format!("meshplane_kubernetes_relists_total{{kind=\"VirtualRouter\",namespace=\"{NS}\"}}");
    ensure!(
        metric(&t, &relists_metric)? == 0.0,
        "{relists_metric} before"
    );

    // Connections aborted, the API server up: the watches resume.
    let port = format!("dport = :{}", k.addr.port());
    let mut kill = vec!["-t", "-K", "dst", "127.0.0.1"];
    kill.extend(port.split(' '));
    t.switch.exec("ss", &kill)?;
    wait_for(
        "the watches failed and synced again",
        Duration::from_secs(30),
        || {
            let d = t.control_json("/debug/kubernetes")?;
            Ok((d["up"] == true && d["errors"].as_u64() >= Some(1)).then_some(()))
        },
    )?;
    // A failure seen late would show now.
    std::thread::sleep(Duration::from_secs(3));
    let resumed = t.control_json("/debug/kubernetes")?;
    for w in resumed["watches"].as_array().into_iter().flatten() {
        println!(
            "kubernetes relist: after the aborted connections: {} watch: synced {}, {} relists, {} errors",
            w["kind"], w["synced"], w["relists"], w["errors"]
        );
        ensure!(
            w["synced"] == true && w["relists"] == 0,
            "a watch after the aborted connections: {w}"
        );
    }
    let aborted = resumed["watches"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|w| w["errors"].as_u64() >= Some(1))
        .count();
    ensure!(
        aborted >= 1,
        "no watch saw its connection aborted: {resumed}"
    );

    let untouched = ["serviceB", "serviceBv2"];
    let before = pushes(&t, &untouched)?;

    let stopped = Instant::now();
    t.signal_control("STOP")?;
    let outage = (|| -> anyhow::Result<()> {
        k.api_server("stop")?;
        k.api_server("start")?;
        k.set_weights(NS, 0, 100)?;
        k.api_server("stop")?;
        k.api_server("start")
    })();
    t.signal_control("CONT")?;
    outage?;
    println!(
        "kubernetes relist: meshplane stopped {:?} (two API server restarts and the edit)",
        stopped.elapsed()
    );

    let continued = Instant::now();
    wait_for(
        "the edit made unseen served (all of serviceA's calls on serviceBv2)",
        Duration::from_secs(30),
        || {
            let s = t.http("serviceA", SERVICE_B_URL, 50, &HttpLoad::default())?;
            ensure!(s.failed == 0, "{s:?}");
            Ok((s.count("serviceBv2") == 50).then_some(()))
        },
    )?;
    println!(
        "kubernetes relist: the edit served {:?} after meshplane continued",
        continued.elapsed()
    );
    let after = wait_for("the source synced again", Duration::from_secs(30), || {
        let d = t.control_json("/debug/kubernetes")?;
        Ok((d["up"] == true).then_some(d))
    })?;
    println!("kubernetes relist: /debug/kubernetes after: {after}");
    let router = watch_of(&after, "VirtualRouter")?;
    ensure!(
        router["relists"].as_u64().is_some_and(|n| n >= 1),
        "the VirtualRouter watch did not list again: {router}"
    );
    let expired = router["last_error"]["message"].as_str().unwrap_or_default();
    ensure!(
        expired.contains("410") || expired.contains("too old resource version"),
        "the VirtualRouter watch's last error is not 410 Gone: {router}"
    );
    let counted = metric(&t, &relists_metric)?;
    ensure!(counted >= 1.0, "{relists_metric} {counted}");
    ensure!(
        after["objects"] == 7 && after["rejected"] == 0,
        "/debug/kubernetes after: {after}"
    );

    // The relists changed nothing the other proxies use: nothing new was
    // sent to them (same versions, and no response on a stream that stayed).
    let later = pushes(&t, &untouched)?;
    for (identity, types) in &before {
        for (ty, (stream, version, sent)) in types {
            let now = later
                .get(identity)
                .and_then(|l| l.get(ty))
                .with_context(|| format!("{identity} {ty} gone after the relist"))?;
            ensure!(
                now.1 == *version,
                "{identity} {ty}: version {version} became {} after the relist",
                now.1
            );
            if now.0 == *stream {
                ensure!(
                    now.2 == *sent,
                    "{identity} {ty}: {} responses after the relist, {sent} before",
                    now.2
                );
            } else {
                println!(
                    "kubernetes relist: {identity} reconnected (stream {stream} -> {})",
                    now.0
                );
            }
        }
    }
    k.delete_mesh(NS, "apps")?;
    println!(
        "kubernetes relist: wall time {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
