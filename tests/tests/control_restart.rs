//! Scenario 8: meshplane is SIGKILLed and restarted while serviceA's
//! application sends requests without pause. No request fails (the Envoys
//! keep their configuration), every Envoy notices, reconnects and resyncs,
//! and a change made after the restart reaches them.

use std::time::{Duration, Instant};

use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::{AppsMesh, SERVICE_B_URL};
use meshplane_e2e::harness::client::HttpLoad;
use meshplane_e2e::harness::specs::{edit_json, set_weights};
use meshplane_e2e::harness::topology::wait_for;

const APPS: [&str; 3] = ["serviceA", "serviceB", "serviceBv2"];
const CONNECTED: &str = "control_plane.connected_state";

#[test]
fn meshplane_killed_and_restarted_under_load() -> anyhow::Result<()> {
    let start = Instant::now();
    let mut mesh = AppsMesh::start("restart", binaries!()?)?;
    let specs_route = mesh.route_file();
    let t = &mut mesh.t;
    t.wait_proxies_synced(3, Duration::from_secs(10))?;
    let watch = t.watch(
        "serviceA",
        SERVICE_B_URL,
        &HttpLoad::default().concurrency(4),
        0,
    )?;
    std::thread::sleep(Duration::from_millis(500));

    t.kill_control();
    let killed = Instant::now();
    for app in APPS {
        wait_for(
            &format!("{app}'s Envoy to notice meshplane is gone"),
            Duration::from_secs(10),
            || Ok((t.envoy_stat(app, CONNECTED)? == Some(0)).then_some(())),
        )?;
    }
    let during_outage = watch.count();
    std::thread::sleep(Duration::from_millis(1000));
    let during_outage = watch.count() - during_outage;

    t.restart_control()?;
    for app in APPS {
        wait_for(
            &format!("{app}'s Envoy to reconnect"),
            Duration::from_secs(30),
            || Ok((t.envoy_stat(app, CONNECTED)? == Some(1)).then_some(())),
        )?;
    }
    t.wait_proxies_synced(3, Duration::from_secs(10))?;
    let reconnected = killed.elapsed();

    // The restarted meshplane really drives the proxies: a change reaches them.
    let mut weight_error = None;
    edit_json(&specs_route, &t.path("scratch"), |route| {
        weight_error = set_weights(route, &[("serviceB", 0), ("serviceBv2", 100)]).err();
    })?;
    if let Some(e) = weight_error {
        return Err(e);
    }
    wait_for(
        "the post-restart change to reach serviceA's Envoy",
        Duration::from_secs(10),
        || {
            let s = t.http("serviceA", SERVICE_B_URL, 50, &HttpLoad::default())?;
            Ok((s.count("serviceBv2") == 50).then_some(()))
        },
    )?;
    std::thread::sleep(Duration::from_millis(300));
    let (_, summary) = watch.stop()?;
    println!(
        "scenario 8: requests sent {}, failed {}; {} sent while meshplane was down; all 3 Envoys reconnected and acked {:.1} s after the kill; by backend {:?}",
        summary.sent, summary.failed, during_outage, reconnected.as_secs_f64(), summary.by_backend
    );
    assert_eq!(summary.failed, 0, "failed requests: {summary:?}");
    assert!(during_outage > 0, "no traffic while meshplane was down");
    println!(
        "scenario 8 wall time: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
