//! Scenario 7: the route's weights move from 75/25 to 0/100 (the spec file
//! is replaced, as an operator would) while serviceA's application sends
//! requests without pause. No request fails, and the new split shows.

use std::time::{Duration, Instant};

use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::{AppsMesh, SERVICE_B_URL};
use meshplane_e2e::harness::client::HttpLoad;
use meshplane_e2e::harness::specs::{edit_json, set_weights};
use meshplane_e2e::traffic::report::now_ms;

#[test]
fn weights_move_under_load_without_a_failed_request() -> anyhow::Result<()> {
    let start = Instant::now();
    let mesh = AppsMesh::start("live-change", binaries!()?)?;
    let t = &mesh.t;
    let watch = t.watch(
        "serviceA",
        SERVICE_B_URL,
        &HttpLoad::default().concurrency(4),
        0,
    )?;
    std::thread::sleep(Duration::from_millis(1000));
    let before = watch.count();
    let changed_at = now_ms();
    let mut weight_error = None;
    edit_json(&mesh.route_file(), &t.path("scratch"), |route| {
        weight_error = set_weights(route, &[("serviceB", 0), ("serviceBv2", 100)]).err();
    })?;
    if let Some(e) = weight_error {
        return Err(e);
    }
    // Let the change land, then keep sending for a while.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        std::thread::sleep(Duration::from_millis(250));
        let outcomes = watch.outcomes();
        let now = now_ms();
        let recent: Vec<_> = outcomes
            .iter()
            .filter(|o| o.t_ms + 1000 >= now && o.t_ms >= changed_at)
            .collect();
        let settled = now >= changed_at + 2500
            && !recent.is_empty()
            && recent
                .iter()
                .all(|o| o.backend.as_deref() == Some("serviceBv2"));
        if settled || Instant::now() > deadline {
            break;
        }
    }
    let (outcomes, summary) = watch.stop()?;
    let last_b = outcomes
        .iter()
        .filter(|o| o.backend.as_deref() == Some("serviceB"))
        .map(|o| o.t_ms)
        .max()
        .unwrap_or(0);
    let switched_after_ms = last_b.saturating_sub(changed_at);
    let after: Vec<_> = outcomes.iter().filter(|o| o.t_ms > last_b).collect();
    println!(
        "scenario 7: requests sent {}, failed {}; {} before the change; by backend {:?}; last serviceB answer {} ms after the change; {} requests after it, all serviceBv2",
        summary.sent, summary.failed, before, summary.by_backend, switched_after_ms, after.len()
    );
    assert_eq!(
        summary.failed, 0,
        "failed requests during the change: {summary:?}"
    );
    assert!(
        before > 0 && summary.count("serviceB") > 0,
        "the 75/25 split was never observed: {summary:?}"
    );
    assert!(
        after.len() >= 100,
        "too few requests after the switch to see the new split: {}",
        after.len()
    );
    assert!(after
        .iter()
        .all(|o| o.backend.as_deref() == Some("serviceBv2")));
    assert!(
        switched_after_ms <= 2000,
        "serviceB still answered {switched_after_ms} ms after the change (expected within 2 s)"
    );
    println!(
        "scenario 7 wall time: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
