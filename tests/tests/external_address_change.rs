//! An external service changes address under a keep-alive connection
//! (issue 19; docs/migrating-from-app-mesh.md, "External services that
//! change address"). `tests/specs/external-address-change` models two
//! services outside the mesh as the App Mesh external-traffic walkthrough
//! does (a virtual node with DNS service discovery, `IPv4_ONLY`, behind a
//! virtual service, listed as a backend): `api.moving.test` (HTTP on 80)
//! and `secure.moving.test` (HTTPS on 443; the Envoy originates the TLS
//! under the backend's client policy, trusting the test CA).
//!
//! The application sends requests continuously, one at a time on one
//! keep-alive connection to its Envoy, to both. Both names first point at
//! namespace `old`; then the DNS server answers with `new` (both serve at
//! once, as a load balancer's old and new addresses do), and the old
//! address is retired either by stopping its servers (connections reset)
//! or by an iptables DROP rule in `old` (nothing answers any more): after
//! [`AFTER_REFRESH`] (more than the 5 s DNS refresh), or at the moment of
//! the move. Each run prints requests sent, failed, and the longest time
//! without a response.
//!
//! Names move through a real DNS server (`e2e-backend dns`, UDP on
//! 127.0.0.1:53 of the application's namespace): Envoy's c-ares resolver
//! reads the hosts file only once.
//!
//! Retired after the refresh, nothing fails either way: Envoy drains the
//! connections to a LOGICAL_DNS cluster's old address when the answer
//! changes (App Mesh's shape does too; measured). Dropped silently at the
//! moment of the move, the request on its way to the old address is
//! stuck: with meshplane's `TCP_USER_TIMEOUT` the connection is aborted
//! after 10 s and the default retry policy's `reset` retries it on a new
//! connection to the new address; with the shape App Mesh served
//! (`serve --app-mesh-dns-clusters`) it waits for the 15 s route timeout
//! and fails with 504.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use meshplane_e2e::fixtures::tls::copy_specs;
use meshplane_e2e::harness::binaries::workspace_root;
use meshplane_e2e::harness::certs::write_pki;
use meshplane_e2e::harness::client::HttpLoad;
use meshplane_e2e::harness::envoy::Sidecar;
use meshplane_e2e::harness::topology::wait_for;
use meshplane_e2e::harness::watch::Watch;
use meshplane_e2e::traffic::report::now_ms;
use meshplane_e2e::{binaries, Outcome, Topology};

const MESH: &str = "moving";
const API: &str = "api.moving.test";
const SECURE: &str = "secure.moving.test";
/// Between two requests of the application.
const PAUSE_MS: u64 = 20;
/// From the move to the old address's retirement, when it comes after
/// the DNS refresh.
const AFTER_REFRESH: Duration = Duration::from_secs(10);
/// Traffic after the retirement: longer than the 15 s route timeout, so a
/// request stuck on a dead connection shows up as a failure.
const AFTER_RETIREMENT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// What meshplane serves.
    Meshplane,
    /// `serve --app-mesh-dns-clusters`: Envoy's defaults, as App Mesh.
    AppMesh,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retire {
    /// Stop the old servers: their connections are reset.
    Reset,
    /// Drop every packet to the old address: nothing answers.
    Drop,
}

/// What one service saw in one run.
#[derive(Debug)]
struct Report {
    service: &'static str,
    sent: usize,
    failed: usize,
    failures: Vec<String>,
    /// The longest time between two responses, ms.
    longest_gap_ms: u64,
    /// From the move to the first response of `new`, ms.
    switched_after_ms: Option<u64>,
    /// Responses of `old` after its retirement began.
    old_after_retirement: usize,
    /// Connections the application opened to its Envoy (both services).
    app_connections: u64,
}

fn done_ms(o: &Outcome) -> u64 {
    o.t_ms + o.latency_ms as u64
}

fn report(
    service: &'static str,
    outcomes: &[Outcome],
    moved: u64,
    retired: u64,
    app_connections: u64,
) -> Report {
    let mut ok: Vec<u64> = outcomes.iter().filter(|o| o.ok()).map(done_ms).collect();
    ok.sort_unstable();
    let failures: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.ok())
        .map(|o| {
            format!(
                "request {} at +{} ms after the retirement: {} after {:.0} ms",
                o.i,
                o.t_ms as i64 - retired as i64,
                o.status
                    .map_or_else(|| o.error.clone().unwrap_or_default(), |s| s.to_string()),
                o.latency_ms
            )
        })
        .collect();
    let is_new = |o: &&Outcome| o.ok() && o.backend.as_deref().is_some_and(|b| b.ends_with("-new"));
    Report {
        service,
        sent: outcomes.len(),
        failed: failures.len(),
        failures,
        longest_gap_ms: ok.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0),
        switched_after_ms: outcomes
            .iter()
            .filter(is_new)
            .map(|o| done_ms(o).saturating_sub(moved))
            .min(),
        old_after_retirement: outcomes
            .iter()
            .filter(|o| o.ok() && o.t_ms >= retired)
            .filter(|o| o.backend.as_deref().is_some_and(|b| b.ends_with("-old")))
            .count(),
        app_connections,
    }
}

fn run(shape: Shape, retire: Retire, retire_after: Duration) -> anyhow::Result<Vec<Report>> {
    let start = Instant::now();
    let label = format!("moving-{shape:?}-{retire:?}-{}s", retire_after.as_secs()).to_lowercase();
    let mut t = Topology::new(&label, binaries!()?)?;
    let pki_dir = t.path("pki");
    let pki = write_pki(&pki_dir, &[SECURE])?;
    let specs = t.path("specs");
    copy_specs(
        &workspace_root().join("tests/specs/external-address-change"),
        &specs,
        &pki_dir,
    )?;
    if shape == Shape::AppMesh {
        t.control_args.push("--app-mesh-dns-clusters".to_owned());
    }
    t.start_control(std::slice::from_ref(&specs))?;
    t.add_app("app")?;
    let old: Ipv4Addr = t.add_app("old")?;
    let new: Ipv4Addr = t.add_app("new")?;
    t.start_dns("app")?;
    t.set_dns_record(API, old)?;
    t.set_dns_record(SECURE, old)?;
    for side in ["old", "new"] {
        t.start_http_backend(side, &format!("api-{side}"), 80)?;
        t.start_https_backend(side, &format!("secure-{side}"), 443, SECURE, &pki)?;
    }
    t.start_envoy("app", &Sidecar::node(MESH, "app", &[]))?;
    t.wait_envoys_ready()?;

    // One worker: one request at a time on one keep-alive connection.
    let load = HttpLoad::default().concurrency(1);
    let api = t.watch("app", &format!("http://{API}/"), &load, PAUSE_MS)?;
    let secure = t.watch("app", &format!("http://{SECURE}:443/"), &load, PAUSE_MS)?;
    let answered_by_old = |w: &Watch| {
        w.outcomes()
            .iter()
            .any(|o| o.ok() && o.backend.as_deref().is_some_and(|b| b.ends_with("-old")))
    };
    wait_for(
        "traffic to the old address",
        Duration::from_secs(15),
        || {
            t.check_alive()?;
            Ok((answered_by_old(&api) && answered_by_old(&secure)).then_some(()))
        },
    )?;

    let moved = now_ms();
    t.set_dns_record(API, new)?;
    t.set_dns_record(SECURE, new)?;
    std::thread::sleep(retire_after);
    let retired = now_ms();
    match retire {
        Retire::Reset => {
            t.kill("backend-api-old-80")?;
            t.kill("backend-secure-old-443")?;
        }
        Retire::Drop => {
            t.app("old")?
                .ns
                .exec("iptables", &["-I", "INPUT", "-p", "tcp", "-j", "DROP"])?;
        }
    }
    std::thread::sleep(AFTER_RETIREMENT);
    let (api, _) = api.stop()?;
    let (secure, _) = secure.stop()?;
    let stat = |name: &str| -> anyhow::Result<u64> { Ok(t.envoy_stat("app", name)?.unwrap_or(0)) };
    let app_connections = stat("http.egress.downstream_cx_total")?;
    println!(
        "{label}: the application opened {app_connections} connections to its Envoy; the Envoy opened {} upstream connections to {API}, {} to {SECURE}",
        stat(&format!("cluster.cds_egress_{MESH}_api_http_80.upstream_cx_total"))?,
        stat(&format!("cluster.cds_egress_{MESH}_secure_http_443.upstream_cx_total"))?,
    );
    let reports = vec![
        report(API, &api, moved, retired, app_connections),
        report(SECURE, &secure, moved, retired, app_connections),
    ];
    for r in &reports {
        println!(
            "{shape:?} shape, old address retired by {retire:?} {} s after the move: {}: {} sent, {} failed, longest gap {} ms, first answer from the new address {} after the move, {} answers from the old address after the retirement began{}",
            retire_after.as_secs(),
            r.service,
            r.sent,
            r.failed,
            r.longest_gap_ms,
            r.switched_after_ms
                .map_or_else(|| "never".to_owned(), |ms| format!("{ms} ms")),
            r.old_after_retirement,
            if r.failures.is_empty() {
                String::new()
            } else {
                format!("; failures: {:?}", r.failures)
            }
        );
    }
    println!("{label} wall time: {:.1} s", start.elapsed().as_secs_f64());
    Ok(reports)
}

/// Nothing failed, nothing reached the old address once it was retired,
/// and the application's connections lasted.
fn assert_unharmed(reports: &[Report]) {
    for r in reports {
        assert_eq!(r.failed, 0, "{r:?}");
        assert!(
            r.switched_after_ms.is_some(),
            "never reached the new address: {r:?}"
        );
        assert_eq!(
            r.old_after_retirement, 0,
            "answers from the old address after it was retired: {r:?}"
        );
        assert_eq!(
            r.app_connections, 2,
            "the application's keep-alive connections did not last: {r:?}"
        );
    }
}

#[test]
fn moved_then_reset_with_meshplanes_settings() -> anyhow::Result<()> {
    assert_unharmed(&run(Shape::Meshplane, Retire::Reset, AFTER_REFRESH)?);
    Ok(())
}

#[test]
fn moved_then_silent_drop_with_meshplanes_settings() -> anyhow::Result<()> {
    assert_unharmed(&run(Shape::Meshplane, Retire::Drop, AFTER_REFRESH)?);
    Ok(())
}

/// The stuck request is aborted by `TCP_USER_TIMEOUT` and retried on the
/// new address: slow (the gap is printed), but not failed.
#[test]
fn silent_drop_at_the_move_with_meshplanes_settings() -> anyhow::Result<()> {
    assert_unharmed(&run(Shape::Meshplane, Retire::Drop, Duration::ZERO)?);
    Ok(())
}

/// The same scenario with the shape App Mesh served: the stuck request
/// waits for the route timeout and fails.
#[test]
fn silent_drop_at_the_move_with_app_meshs_shape() -> anyhow::Result<()> {
    for r in run(Shape::AppMesh, Retire::Drop, Duration::ZERO)? {
        assert!(r.failed > 0, "App Mesh's shape survived: {r:?}");
    }
    Ok(())
}
