//! Scenario 10: `config/examples/external-traffic` unchanged (mesh
//! DROP_ALL; github.com and go.dev modelled as TCP virtual nodes on 443,
//! go.dev reached through the virtual router `external` on port 444). Local
//! stand-ins for github.com and go.dev (TLS servers with certificates for
//! those names) live in their own namespaces, found through the hosts file.
//! ColorTellerWhite's application reaches both through its Envoy, an
//! unmodelled destination is refused, and a caller outside the mesh reaches
//! ColorTellerWhite through its Envoy's ingress.

use std::time::Instant;

use meshplane_e2e::binaries;
use meshplane_e2e::harness::binaries::workspace_root;
use meshplane_e2e::harness::certs::write_pki;
use meshplane_e2e::harness::client::HttpLoad;
use meshplane_e2e::harness::envoy::Sidecar;
use meshplane_e2e::Topology;

const MESH: &str = "ColorApp-External-Traffic";
const COLORTELLER: &str = "colorteller.default.svc.cluster.local";

#[test]
fn external_services_through_drop_all() -> anyhow::Result<()> {
    let start = Instant::now();
    let mut t = Topology::new("external-traffic", binaries!()?)?;
    t.start_control(&[workspace_root().join("config/examples/external-traffic")])?;
    let pki = write_pki(&t.path("pki"), &["github.com", "go.dev"])?;
    for (app, host) in [
        ("colorteller", COLORTELLER),
        ("github", "github.com"),
        ("godev", "go.dev"),
        ("outside", "outside.example"),
    ] {
        let ip = t.add_app(app)?;
        t.add_host(host, ip)?;
    }
    t.add_app("frontend")?;
    t.start_tls_backend("github", "github-stand-in", 443, "github.com", &pki)?;
    t.start_tls_backend("godev", "godev-stand-in", 443, "go.dev", &pki)?;
    t.start_tcp_backend("outside", "outside", 7000)?;
    t.start_http_backend("colorteller", "colorteller-white", 80)?;
    t.start_envoy(
        "colorteller",
        &Sidecar::node(MESH, "ColorTellerWhite", &[80]),
    )?;
    t.wait_envoys_ready()?;

    let github = t.tls("colorteller", "github.com:443", "github.com", &pki.ca, 10)?;
    // The walkthrough's workaround: the application connects to go.dev:444.
    let godev = t.tls("colorteller", "go.dev:444", "go.dev", &pki.ca, 10)?;
    let outside = t.tcp("colorteller", "outside.example:7000", 5)?;
    let inbound = t.http(
        "frontend",
        &format!("http://{COLORTELLER}/"),
        10,
        &HttpLoad::default(),
    )?;
    println!(
        "scenario 10: github.com:443 {:?}; go.dev:444 {:?}; unmodelled outside.example:7000 {} of 5 refused {:?}; frontend -> colorteller {:?}",
        github.by_backend, godev.by_backend, outside.failed, outside.errors, inbound.by_backend
    );
    assert_eq!(github.count("github-stand-in"), 10, "{github:?}");
    assert_eq!(godev.count("godev-stand-in"), 10, "{godev:?}");
    assert_eq!(
        outside.failed, 5,
        "DROP_ALL lets an unmodelled destination through: {outside:?}"
    );
    assert_eq!(inbound.count("colorteller-white"), 10, "{inbound:?}");
    let stat = |c: &str| {
        t.envoy_stat(
            "colorteller",
            &format!("cluster.cds_egress_{MESH}_{c}.upstream_cx_total"),
        )
    };
    assert_eq!(stat("ExternalService_tcp_443")?, Some(10));
    assert_eq!(stat("ExternalService2_tcp_443")?, Some(10));
    let ingress = t.envoy_stat(
        "colorteller",
        &format!("cluster.cds_ingress_{MESH}_ColorTellerWhite_http_80.upstream_rq_completed"),
    )?;
    assert!(
        ingress >= Some(10),
        "inbound requests through the ingress listener: {ingress:?}"
    );
    println!(
        "scenario 10 wall time: {:.1} s",
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
