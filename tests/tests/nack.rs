//! Scenario 9: a spec change that Envoy rejects (a header regex with a
//! lookbehind, which RE2 does not support; meshplane's validation refuses
//! it too, so the server here runs with the test-only switch that skips
//! that rule) is NACKed by the proxy: traffic keeps the previous routes, and
//! `/debug/proxies` reports the NACK with the App Mesh route it came from.

use std::time::{Duration, Instant};

use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::{routing_with_env, API_URL};
use meshplane_e2e::harness::client::HttpLoad;
use meshplane_e2e::harness::specs::edit_json;
use meshplane_e2e::harness::topology::wait_for;

const ROUTE_ARN: &str = "mesh/routing/virtualRouter/api/route/header";

#[test]
fn nacked_change_leaves_traffic_untouched_and_is_reported() -> anyhow::Result<()> {
    nacked_change(false)
}

/// The same, but the rejected change also moves the route's target from
/// v2 to v3. The proxy rejects the routes but accepts the clusters, in which
/// v2's cluster is gone from the snapshot; the routes it keeps still point
/// at v2, so the server must keep serving v2's cluster while the NACK is
/// outstanding (else every request gets 503, Envoy `NC`, no cluster).
#[test]
fn nacked_change_moving_the_target_leaves_traffic_untouched() -> anyhow::Result<()> {
    nacked_change(true)
}

fn nacked_change(move_target: bool) -> anyhow::Result<()> {
    let start = Instant::now();
    let label = if move_target { "nack-move" } else { "nack" };
    // meshplane's validation refuses the lookbehind (rule `regex.re2`);
    // the test-only switch leaves that rule out of the server's reloads so
    // the change reaches the proxy.
    let t = routing_with_env(
        label,
        binaries!()?,
        &[("MESHPLANE_TEST_SKIP_PROXY_RULES", "1")],
    )?;
    t.wait_proxies_synced(5, Duration::from_secs(10))?;
    let canary = HttpLoad::default().header("x-canary: yes").concurrency(2);
    let watch = t.watch("client", &format!("{API_URL}/api"), &canary, 0)?;
    std::thread::sleep(Duration::from_millis(300));

    // Route `header` now matches x-canary by a regex RE2 refuses (and, with
    // `move_target`, sends to v3 instead of v2).
    edit_json(&t.path("specs/routes.json"), &t.path("scratch"), |routes| {
        let route = &mut routes[0]["spec"]["httpRoute"];
        route["match"]["headers"][0]["match"] = serde_json::json!({ "regex": "(?<=y)es" });
        if move_target {
            route["action"]["weightedTargets"][0]["virtualNode"] = "v3".into();
        }
    })?;
    let nack = wait_for(
        "the client's proxy to NACK the routes",
        Duration::from_secs(10),
        || {
            let proxies = t.control_proxies()?;
            Ok(proxies.into_iter().find_map(|p| {
                let nack = p["types"].as_object()?.values().find_map(|s| {
                    let n = &s["last_nack"];
                    (!n.is_null()).then(|| n.clone())
                })?;
                p["identity"]
                    .as_str()?
                    .ends_with("virtualNode/client")
                    .then_some(nack)
            }))
        },
    )?;
    std::thread::sleep(Duration::from_millis(700));
    let (_, summary) = watch.stop()?;
    let text = nack.to_string();
    println!(
        "scenario 9: requests sent {}, failed {}, by backend {:?}; NACK reported: {}",
        summary.sent,
        summary.failed,
        summary.by_backend,
        text.chars().take(300).collect::<String>()
    );
    assert_eq!(summary.failed, 0, "{summary:?}");
    assert_eq!(
        summary.count("v2"),
        summary.sent,
        "traffic moved although the change was rejected: {summary:?}"
    );
    assert!(
        text.contains(ROUTE_ARN),
        "the NACK does not name the App Mesh route {ROUTE_ARN}: {text}"
    );
    assert!(
        text.contains("routes.json"),
        "the NACK does not name the spec file: {text}"
    );
    let rejected = t.envoy_stat(
        "client",
        "http.egress.rds.rds_egress_http_8080.update_rejected",
    )?;
    assert!(
        rejected >= Some(1),
        "Envoy's own count of rejected route updates: {rejected:?}"
    );
    println!(
        "scenario 9 wall time: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
