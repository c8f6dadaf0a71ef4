//! Scenario 1: the getting-started mesh (`config/examples/apps`). serviceA's
//! application calls `serviceb.apps.local`; the route sends 75 % to
//! serviceB and 25 % to serviceBv2.

use std::time::Instant;

use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::{AppsMesh, SERVICE_B_URL};
use meshplane_e2e::harness::client::HttpLoad;

#[test]
fn weighted_split_75_25_through_real_envoys() -> anyhow::Result<()> {
    let start = Instant::now();
    let mesh = AppsMesh::start("getting-started", binaries!()?)?;
    let t = &mesh.t;
    let setup = start.elapsed();
    let s = t.http("serviceA", SERVICE_B_URL, 1000, &HttpLoad::default())?;
    println!(
        "scenario 1: 1000 requests from serviceA: {:?} (statuses {:?}, errors {:?}); p50 {:.1} ms",
        s.by_backend, s.by_status, s.errors, s.latency_ms_p50
    );
    assert_eq!(s.failed, 0, "failed requests: {s:?}");
    let b = s.count("serviceB");
    let b2 = s.count("serviceBv2");
    assert_eq!(b + b2, 1000, "answers from elsewhere: {:?}", s.by_backend);
    assert!(
        (700..=800).contains(&b),
        "serviceB got {b} of 1000 (expected 750 ± 50)"
    );
    // The answer really came through the Envoys: serviceA's egress cluster
    // and serviceB's ingress listener counted the requests.
    let egress = t.envoy_stat(
        "serviceA",
        "cluster.cds_egress_apps_serviceB_http2_80.upstream_rq_completed",
    )?;
    assert_eq!(egress, Some(b), "serviceA's Envoy egress counter");
    println!(
        "scenario 1 wall time: {:.1} s (setup {:.1} s)",
        start.elapsed().as_secs_f64(),
        setup.as_secs_f64()
    );
    Ok(())
}
