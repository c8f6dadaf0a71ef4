//! Scenario 4: a backend slower than the route's 1 s timeout gets 504 from
//! the client's Envoy, no sooner than the timeout; a faster one gets 200.

use std::time::Instant;

use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::{routing, API_URL};
use meshplane_e2e::harness::client::HttpLoad;

#[test]
fn route_timeout_gives_504() -> anyhow::Result<()> {
    let start = Instant::now();
    let t = routing("timeouts", binaries!()?)?;
    let slow = format!("{API_URL}/slow");
    let too_slow = t.http(
        "client",
        &slow,
        4,
        &HttpLoad::default()
            .header("x-delay-ms: 1500")
            .concurrency(4),
    )?;
    let fast_enough = t.http(
        "client",
        &slow,
        4,
        &HttpLoad::default().header("x-delay-ms: 200").concurrency(4),
    )?;
    let default_timeout = t.http(
        "client",
        &format!("{API_URL}/api"),
        4,
        &HttpLoad::default()
            .header("x-delay-ms: 1500")
            .concurrency(4),
    )?;
    println!(
        "scenario 4: 1.5 s backend on the 1 s route -> {:?} after {:.0}..{:.0} ms; 200 ms backend -> {:?}; 1.5 s backend on the default 15 s route -> {:?} after {:.0} ms",
        too_slow.by_status, too_slow.latency_ms_min, too_slow.latency_ms_max, fast_enough.by_status, default_timeout.by_status, default_timeout.latency_ms_min
    );
    assert_eq!(too_slow.status("504"), 4, "{too_slow:?}");
    // Envoy arms the route timer from its event loop's cached clock, which
    // can lag the moment the request arrived by a few milliseconds on a busy
    // machine (one CI run saw 997.7 ms), so "not before the timeout" allows
    // that much slack; a timeout that ignored the route would be 15 s or 0.
    assert!(
        too_slow.latency_ms_min >= 950.0,
        "504 well before the 1 s timeout: {too_slow:?}"
    );
    assert!(
        too_slow.latency_ms_max < 3000.0,
        "the 504 came only when the backend answered: {too_slow:?}"
    );
    assert_eq!(fast_enough.status("200"), 4, "{fast_enough:?}");
    assert_eq!(default_timeout.status("200"), 4, "{default_timeout:?}");
    println!(
        "scenario 4 wall time: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
