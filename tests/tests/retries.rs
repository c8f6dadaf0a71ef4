//! Scenario 3: App Mesh's default retry policy (503, reset, connect
//! failure; 2 retries) saves a request whose first attempts fail with 503;
//! a route's own retry policy (server-error, 3 retries) replaces it.

use std::time::Instant;

use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::{routing, API_URL};
use meshplane_e2e::harness::client::HttpLoad;

#[test]
fn default_and_explicit_retry_policies() -> anyhow::Result<()> {
    let start = Instant::now();
    let t = routing("retries", binaries!()?)?;
    let api = format!("{API_URL}/api/retry");
    let explicit = format!("{API_URL}/explicit-retry");
    let run =
        |url: &str, fails: u32| t.http("client", url, 20, &HttpLoad::default().fail_times(fails));
    let retries_before = t
        .envoy_stat(
            "client",
            "cluster.cds_egress_routing_v1_http_8080.upstream_rq_retry",
        )?
        .unwrap_or(0);

    let default_1 = run(&api, 1)?;
    let default_2 = run(&api, 2)?;
    let default_3 = run(&api, 3)?;
    let explicit_3 = run(&explicit, 3)?;
    let explicit_4 = run(&explicit, 4)?;
    let retries = t
        .envoy_stat(
            "client",
            "cluster.cds_egress_routing_v1_http_8080.upstream_rq_retry",
        )?
        .unwrap_or(0)
        - retries_before;
    for (what, s) in [
        ("default policy, 1 failed attempt", &default_1),
        ("default policy, 2 failed attempts", &default_2),
        ("default policy, 3 failed attempts", &default_3),
        ("explicit policy, 3 failed attempts", &explicit_3),
        ("explicit policy, 4 failed attempts", &explicit_4),
    ] {
        println!("scenario 3: {what:36} -> {:?}", s.by_status);
    }
    println!("scenario 3: the client's Envoy retried {retries} times");
    assert_eq!(default_1.status("200"), 20, "{default_1:?}");
    assert_eq!(
        default_2.status("200"),
        20,
        "2 retries save 2 failures: {default_2:?}"
    );
    assert_eq!(
        default_3.status("503"),
        20,
        "the default policy stops after 2 retries: {default_3:?}"
    );
    assert_eq!(
        explicit_3.status("200"),
        20,
        "maxRetries 3 saves 3 failures: {explicit_3:?}"
    );
    assert_eq!(
        explicit_4.status("503"),
        20,
        "maxRetries 3 stops after 3 retries: {explicit_4:?}"
    );
    // 20 * (1 + 2 + 2 + 3 + 3)
    assert_eq!(retries, 220, "retries counted by the client's Envoy");
    println!(
        "scenario 3 wall time: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
