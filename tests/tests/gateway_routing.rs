//! How a virtual gateway decides (`tests/specs/gateway-routing`): a client
//! outside the mesh sends requests with chosen `Host` headers and delays
//! to the gateway's standalone Envoy (listener 8080, health check path
//! `/ping`), which reaches plain HTTP backends (no sidecars) in one
//! namespace, one port per virtual node.
//!
//! - timeouts: a backend answering after 20 s is answered 200 through a
//!   gateway route whose target's router route allows 45 s (also when the
//!   route keeps the host name), and 504 after 15 s through one whose
//!   target has App Mesh's default, a virtual node provider included even
//!   when its listener allows 45 s (clients of a node provider keep the
//!   15 s route default); the target route's own 10 s still cuts its
//!   requests;
//! - host names: the host chooses the routes (exact, then longer suffix,
//!   then hostname-less), whole-label suffixes, any case, with a port;
//!   a host with routes of its own gets 404 for a path only a
//!   hostname-less route matches;
//! - reach: a route keeping the host name reaches its own target whatever
//!   the host, so a host naming an internal service no gateway route
//!   targets gets that target's answer or 404, never the service; the
//!   gateway has no cluster for it;
//! - the health check path: a gateway route on it wins; elsewhere the
//!   gateway answers it itself, 503 once told to fail health checks.

use std::time::Instant;

use meshplane_e2e::harness::binaries::workspace_root;
use meshplane_e2e::harness::client::HttpLoad;
use meshplane_e2e::harness::envoy::Sidecar;
use meshplane_e2e::harness::specs::copy_dir;
use meshplane_e2e::{binaries, Topology};

const GW: &str = "http://gateway.gwr.local:8080";

/// Virtual node -> backend port (`virtual-nodes.json`).
const BACKENDS: [(&str, u16); 8] = [
    ("a", 8081),
    ("b", 8082),
    ("c", 8083),
    ("d", 8084),
    ("e", 8085),
    ("internal", 8086),
    ("slow", 8087),
    ("patient", 8088),
];

fn start() -> anyhow::Result<Topology> {
    let mut t = Topology::new("gateway-routing", binaries!()?)?;
    let specs = t.path("specs");
    copy_dir(
        &workspace_root().join("tests/specs/gateway-routing"),
        &specs,
    )?;
    t.start_control(std::slice::from_ref(&specs))?;
    t.add_app("outside")?;
    let gateway = t.add_app("gateway")?;
    t.add_host("gateway.gwr.local", gateway)?;
    let backends = t.add_app("backends")?;
    t.add_host("backends.gwr.local", backends)?;
    for (name, port) in BACKENDS {
        t.start_http_backend("backends", name, port)?;
    }
    t.start_envoy("gateway", &Sidecar::gateway("gwr", "gw"))?;
    t.wait_envoys_ready()?;
    Ok(t)
}

/// One request from outside to the gateway with `host` as its `Host`
/// (`None`: the URL's) and more headers: (status, backend, milliseconds).
fn send(
    t: &Topology,
    host: Option<&str>,
    path: &str,
    headers: &[&str],
) -> anyhow::Result<(String, String, f64)> {
    let mut load = HttpLoad::default();
    if let Some(h) = host {
        load = load.header(&format!("host: {h}"));
    }
    for h in headers {
        load = load.header(h);
    }
    let s = t.http("outside", &format!("{GW}{path}"), 1, &load)?;
    let status = s.by_status.keys().next().cloned().unwrap_or_default();
    let backend = s.by_backend.keys().next().cloned().unwrap_or_default();
    Ok((status, backend, s.latency_ms_max))
}

/// Checks `(what, host, path, status, backend)` cases; returns the wrong ones.
fn check(
    t: &Topology,
    label: &str,
    cases: &[(&str, Option<&str>, &str, &str, &str)],
) -> Vec<String> {
    let mut wrong = Vec::new();
    for (what, host, path, status, backend) in cases {
        match send(t, *host, path, &[]) {
            Ok((s, b, _)) => {
                println!("{label}: {what:58} {host:?} {path} -> {s} {b}");
                if (s.as_str(), b.as_str()) != (*status, *backend) {
                    wrong.push(format!("{what}: expected {status} {backend}, got {s} {b}"));
                }
            }
            Err(e) => wrong.push(format!("{what}: {e:#}")),
        }
    }
    wrong
}

#[test]
fn gateway_routes_decide_by_host_carry_target_timeouts_and_reach_only_targets() -> anyhow::Result<()>
{
    let start_at = Instant::now();
    let t = start()?;
    println!(
        "gateway-routing: topology ready in {:.1} s",
        start_at.elapsed().as_secs_f64()
    );
    let mut wrong = Vec::new();

    // Timeouts: every slow request at once (one 20 s wait for all).
    let delay = "x-delay-ms: 20000";
    let slow_cases = [
        ("router route allows 45 s", "/slow/x", delay, "200"),
        (
            "node provider, listener 45 s: 15 s",
            "/patient/x",
            delay,
            "504",
        ),
        (
            "host kept, router route allows 45 s",
            "/keep-slow/x",
            delay,
            "200",
        ),
        ("default 15 s", "/plain/x", delay, "504"),
        (
            "target route's own 10 s",
            "/slow/quick",
            "x-delay-ms: 12000",
            "504",
        ),
    ];
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = slow_cases
            .iter()
            .map(|(_, path, header, _)| {
                let t = &t;
                s.spawn(move || send(t, None, path, &[header]))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("request thread"))
            .collect()
    });
    for ((what, path, header, status), got) in slow_cases.iter().zip(results) {
        let (s, b, ms) = got?;
        println!("timeouts: {what:38} {path} ({header}) -> {s} {b} after {ms:.0} ms");
        // Envoy's timers have millisecond granularity and may fire a little
        // before the client's clock says the full timeout has passed.
        let (min_ms, max_ms) = match (*status, *path) {
            ("200", _) => (19_900.0, 30_000.0),
            (_, "/slow/quick") => (9_900.0, 11_900.0),
            _ => (14_900.0, 19_500.0),
        };
        if s != *status || ms < min_ms || ms > max_ms {
            wrong.push(format!(
                "{what}: expected {status} within {min_ms}..{max_ms} ms, got {s} after {ms:.0} ms"
            ));
        }
    }

    // Host names: (what, Host, path, status, backend).
    wrong.extend(check(
        &t,
        "hosts",
        &[
            (
                "exact host beats a longer hostname-less prefix",
                Some("api.example.com"),
                "/api/v1/x",
                "200",
                "a",
            ),
            (
                "routes of one host ordered by path",
                Some("api.example.com"),
                "/v2/x",
                "200",
                "b",
            ),
            (
                "host in another case, with a port",
                Some("API.Example.COM:8080"),
                "/x",
                "200",
                "a",
            ),
            (
                "suffix .example.com",
                Some("www.example.com"),
                "/x",
                "200",
                "c",
            ),
            (
                "longer suffix eu.example.com wins",
                Some("shop.eu.example.com"),
                "/x",
                "200",
                "d",
            ),
            (
                "suffix matches whole labels only",
                Some("meu.example.com"),
                "/x",
                "200",
                "c",
            ),
            (
                "suffix shop.test (no dot) matches a subdomain",
                Some("www.shop.test"),
                "/x",
                "200",
                "d",
            ),
            (
                "suffix shop.test does not match myshop.test",
                Some("myshop.test"),
                "/x",
                "200",
                "a",
            ),
            (
                "a suffix does not match the bare domain",
                Some("example.com"),
                "/x",
                "200",
                "a",
            ),
            (
                "no host route: hostname-less routes",
                Some("other.test"),
                "/api/v1/x",
                "200",
                "e",
            ),
            (
                "host with routes: hostname-less routes do not apply",
                Some("only.example.com"),
                "/api/v1/x",
                "404",
                "-",
            ),
            (
                "host with routes: its own route",
                Some("only.example.com"),
                "/only/x",
                "200",
                "b",
            ),
        ],
    ));

    // Reach: `/keep/` keeps the host and targets picky.gwr.local, whose
    // router only routes /keep/ok (to a).
    wrong.extend(check(
        &t,
        "reach",
        &[
            (
                "kept host naming an internal service: the target answers",
                Some("internal.gwr.local"),
                "/keep/ok",
                "200",
                "a",
            ),
            (
                "kept host naming an internal service: the target's 404",
                Some("internal.gwr.local"),
                "/keep/other",
                "404",
                "-",
            ),
        ],
    ));
    let (_, clusters) = t.envoy_admin("gateway", "/clusters")?;
    let mut names: Vec<&str> = clusters
        .lines()
        .filter_map(|l| l.split("::").next())
        .filter(|n| n.starts_with("cds_"))
        .collect();
    names.sort_unstable();
    names.dedup();
    println!("reach: gateway clusters {names:?}");
    let expected = [
        "cds_egress_gwr_a_http_8081",
        "cds_egress_gwr_b_http_8082",
        "cds_egress_gwr_c_http_8083",
        "cds_egress_gwr_d_http_8084",
        "cds_egress_gwr_e_http_8085",
        "cds_egress_gwr_patient_http_8088",
        "cds_egress_gwr_slow_http_8087",
        "cds_ingress_gwr_gw_self_redirect_http_15001",
    ];
    if names != expected {
        wrong.push(format!("gateway clusters {names:?}, expected {expected:?}"));
    }

    // The health check path.
    wrong.extend(check(
        &t,
        "health",
        &[
            (
                "a gateway route on the path wins",
                None,
                "/ping",
                "200",
                "b",
            ),
            (
                "no route on the path: the gateway answers",
                Some("only.example.com"),
                "/ping",
                "200",
                "-",
            ),
        ],
    ));
    let admin = t
        .app("gateway")?
        .envoy_admin
        .expect("the gateway has an Envoy");
    let post = |path: &str| -> anyhow::Result<()> {
        let s = t.http(
            "gateway",
            &format!("http://127.0.0.1:{admin}{path}"),
            1,
            &HttpLoad::default().method("POST"),
        )?;
        anyhow::ensure!(s.status("200") == 1, "POST {path}: {s:?}");
        Ok(())
    };
    post("/healthcheck/fail")?;
    wrong.extend(check(
        &t,
        "health (failing)",
        &[
            (
                "the gateway fails its own answer",
                Some("only.example.com"),
                "/ping",
                "503",
                "-",
            ),
            (
                "a gateway route on the path still wins",
                None,
                "/ping",
                "200",
                "b",
            ),
        ],
    ));
    post("/healthcheck/ok")?;

    assert!(
        wrong.is_empty(),
        "wrong gateway behaviour:\n{}",
        wrong.join("\n")
    );
    println!(
        "gateway-routing wall time: {:.1} s",
        start_at.elapsed().as_secs_f64()
    );
    Ok(())
}
