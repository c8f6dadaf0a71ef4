//! Virtual gateways (`tests/specs/gateway`): a client outside the mesh (no
//! Envoy, no redirection) calls the gateway's standalone Envoy, which
//! routes by path prefix (rewriting it), host suffix, header and gRPC
//! service name, and through each of two listeners to the right router
//! and node ports; a listener on port 80 binds when the Envoy keeps
//! CAP_NET_BIND_SERVICE and is refused (LDS rejected) when it does not;
//! a gateway route edit under continuous traffic fails no request.
//!
//! One topology for all of it (it is the expensive part): applications
//! `web`, `api`, `shop` (HTTP on 8080), `greeter` (h2c on 50051, a gRPC
//! virtual node), `teller` (5555 and 6666 behind router listeners 3333 and
//! 4444); the gateway `gw` (listeners 80, 1111, 2222 http and 9090 grpc)
//! runs twice: `gateway` with the capability, `nocap` without.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use meshplane_e2e::harness::binaries::workspace_root;
use meshplane_e2e::harness::client::HttpLoad;
use meshplane_e2e::harness::envoy::Sidecar;
use meshplane_e2e::harness::specs::{copy_dir, edit_json};
use meshplane_e2e::traffic::report::now_ms;
use meshplane_e2e::{binaries, Topology};
use serde_json::Value;

const GW: &str = "http://gateway.gw.local";

fn start(label: &str) -> anyhow::Result<(Topology, PathBuf)> {
    let mut t = Topology::new(label, binaries!()?)?;
    let specs = t.path("specs");
    copy_dir(&workspace_root().join("tests/specs/gateway"), &specs)?;
    t.start_control(std::slice::from_ref(&specs))?;
    t.add_app("outside")?;
    let gateway = t.add_app("gateway")?;
    t.add_host("gateway.gw.local", gateway)?;
    t.add_host("shop.example.org", gateway)?;
    let nocap = t.add_app("nocap")?;
    t.add_host("nocap.gw.local", nocap)?;
    for app in ["web", "api", "shop", "greeter", "teller"] {
        let ip = t.add_app(app)?;
        t.add_host(&format!("{app}.gw.local"), ip)?;
    }
    for app in ["web", "api", "shop"] {
        t.start_http_backend(app, app, 8080)?;
    }
    t.start_http_backend("greeter", "greeter", 50051)?;
    t.start_http_backend("teller", "teller-5555", 5555)?;
    t.start_http_backend("teller", "teller-6666", 6666)?;
    t.start_envoy(
        "gateway",
        &Sidecar::gateway("gw", "gw").with_capability("net_bind_service"),
    )?;
    t.start_envoy("nocap", &Sidecar::gateway("gw", "gw"))?;
    t.wait_envoys_ready()?;
    Ok((t, specs))
}

/// One GET from outside: (status, backend, path and HTTP version the backend saw).
fn get(t: &Topology, url: &str) -> anyhow::Result<(u16, String, String, String)> {
    let (status, body) = t.get("outside", url)?;
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("-").to_owned();
    Ok((status, s("backend"), s("path"), s("version")))
}

#[test]
fn gateway_routes_outside_traffic_into_the_mesh() -> anyhow::Result<()> {
    let start_at = Instant::now();
    let (t, specs) = start("gateway")?;
    println!(
        "gateway: topology ready in {:.1} s",
        start_at.elapsed().as_secs_f64()
    );

    // (what, url, expected status, backend, path the backend sees)
    let cases = [
        (
            "prefix /web/ rewritten to /",
            format!("{GW}:1111/web/hello?x=1"),
            200,
            "web",
            "/hello",
        ),
        (
            "host suffix .example.org",
            "http://shop.example.org:1111/cart".to_owned(),
            200,
            "shop",
            "/cart",
        ),
        (
            "catch-all of listener 1111",
            format!("{GW}:1111/other"),
            200,
            "web",
            "/other",
        ),
        (
            "listener 1111 -> router 3333 -> node 5555",
            format!("{GW}:1111/teller/balance"),
            200,
            "teller-5555",
            "/balance",
        ),
        (
            "listener 2222 -> router 4444 -> node 6666",
            format!("{GW}:2222/balance"),
            200,
            "teller-6666",
            "/balance",
        ),
        (
            "listener on port 80",
            format!("{GW}/index"),
            200,
            "web",
            "/index",
        ),
        (
            "gRPC service helloworld.Greeter",
            format!("{GW}:9090/helloworld.Greeter/SayHello"),
            200,
            "greeter",
            "/helloworld.Greeter/SayHello",
        ),
        (
            "gRPC service without a route",
            format!("{GW}:9090/other.Service/Call"),
            404,
            "-",
            "-",
        ),
    ];
    let mut wrong = Vec::new();
    for (what, url, status, backend, path) in &cases {
        let got = get(&t, url)?;
        println!("gateway: {what:44} -> {got:?}");
        if (got.0, got.1.as_str(), got.2.as_str()) != (*status, *backend, *path) {
            wrong.push(format!(
                "{what}: expected {status} {backend} {path}, got {got:?}"
            ));
        }
    }
    // The gRPC virtual node is reached over HTTP/2 (the gateway's clusters
    // speak it to grpc listeners).
    let (_, _, _, version) = get(&t, &format!("{GW}:9090/helloworld.Greeter/SayHello"))?;
    if version != "HTTP/2.0" {
        wrong.push(format!("gRPC backend saw {version}, expected HTTP/2.0"));
    }
    // Header route: x-target: api goes to api, without it to web.
    let load = HttpLoad::default().header("x-target: api");
    let with = t.http("outside", &format!("{GW}:1111/x"), 10, &load)?;
    let without = t.http("outside", &format!("{GW}:1111/x"), 10, &HttpLoad::default())?;
    println!(
        "gateway: header x-target: api -> {:?}; without -> {:?}",
        with.by_backend, without.by_backend
    );
    if with.count("api") != 10 || without.count("web") != 10 {
        wrong.push(format!(
            "header route: with {:?}, without {:?}",
            with.by_backend, without.by_backend
        ));
    }

    // App Mesh's names: per-listener stat prefixes and self-redirect clusters.
    for stat in [
        "http.ingress.http.1111.downstream_rq_total",
        "http.ingress.grpc.9090.downstream_rq_total",
        "cluster.cds_ingress_gw_gw_self_redirect_2222_http_15001.upstream_rq_total",
        "http.egress.downstream_rq_total",
        // The egress listener is bound on loopback; its stats keep App Mesh's name.
        "listener.0.0.0.0_15001.downstream_cx_total",
    ] {
        let n = t.envoy_stat("gateway", stat)?.unwrap_or(0);
        println!("gateway: {stat} = {n}");
        if n == 0 {
            wrong.push(format!("{stat} is 0 or missing"));
        }
    }
    // Dashboards read per-listener RDS stats by route configuration, as App
    // Mesh's image tagged them (`envoy_rds_route_config`).
    let (_, prometheus) = t.envoy_admin("gateway", "/stats/prometheus")?;
    let tagged = "envoy_http_rds_update_success{appmesh_listener_protocol=\"http\",appmesh_listener_port=\"1111\",envoy_http_conn_manager_prefix=\"ingress\",envoy_rds_route_config=\"rds_ingress_http_1111\"}";
    if !prometheus.lines().any(|l| l.starts_with(tagged)) {
        wrong.push(format!(
            "no {tagged} in /stats/prometheus: {:?}",
            prometheus
                .lines()
                .filter(|l| l.contains("rds_update_success"))
                .collect::<Vec<_>>()
        ));
    }

    // Without CAP_NET_BIND_SERVICE, port 80 is refused by the kernel: the
    // update is rejected (the troubleshooting entry), the other listeners serve.
    let rejected = t
        .envoy_stat("nocap", "listener_manager.lds.update_rejected")?
        .unwrap_or(0);
    let nocap_1111 = get(&t, "http://nocap.gw.local:1111/web/a")?;
    let nocap_80 = t
        .get("outside", "http://nocap.gw.local/")
        .map_err(|e| format!("{e}").lines().next().unwrap_or_default().to_owned());
    println!(
        "gateway: without the capability: lds.update_rejected {rejected}, :1111 -> {nocap_1111:?}, :80 -> {:?}",
        nocap_80.as_ref().map(|(s, _)| *s)
    );
    if rejected == 0 || nocap_1111.1 != "web" || nocap_80.as_ref().is_ok_and(|(s, _)| *s == 200) {
        wrong.push(format!(
            "without CAP_NET_BIND_SERVICE: rejected {rejected}, 1111 {nocap_1111:?}, 80 {:?}",
            nocap_80.map(|(s, _)| s)
        ));
    }
    assert!(
        wrong.is_empty(),
        "wrong gateway behaviour:\n{}",
        wrong.join("\n")
    );

    // A gateway route edit under continuous traffic: /web/ moves to shop.
    let url = format!("{GW}:1111/web/item");
    let watch = t.watch("outside", &url, &HttpLoad::default().concurrency(4), 0)?;
    std::thread::sleep(Duration::from_millis(1000));
    let changed_at = now_ms();
    edit_json(
        &specs.join("gateway-routes.json"),
        &t.path("scratch"),
        |routes| {
            if let Some(list) = routes.as_array_mut() {
                for r in list {
                    if r["gatewayRouteName"] == "web-prefix" {
                        r["spec"]["httpRoute"]["action"]["target"]["virtualService"]
                            ["virtualServiceName"] = Value::from("shop.gw.local");
                    }
                }
            }
        },
    )?;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        std::thread::sleep(Duration::from_millis(250));
        let now = now_ms();
        let outcomes = watch.outcomes();
        let recent: Vec<_> = outcomes
            .iter()
            .filter(|o| o.t_ms >= changed_at && o.t_ms + 1000 >= now)
            .collect();
        let settled = now >= changed_at + 2000
            && !recent.is_empty()
            && recent.iter().all(|o| o.backend.as_deref() == Some("shop"));
        if settled || Instant::now() > deadline {
            break;
        }
    }
    let (outcomes, summary) = watch.stop()?;
    let last_web = outcomes
        .iter()
        .filter(|o| o.backend.as_deref() == Some("web"))
        .map(|o| o.t_ms)
        .max()
        .unwrap_or(0);
    let after = outcomes.iter().filter(|o| o.t_ms > last_web).count();
    println!(
        "gateway: route edit under load: sent {}, failed {}, by backend {:?}; last web answer {} ms after the edit; {after} requests after it",
        summary.sent,
        summary.failed,
        summary.by_backend,
        last_web.saturating_sub(changed_at)
    );
    assert_eq!(
        summary.failed, 0,
        "failed requests during the edit: {summary:?}"
    );
    assert!(
        summary.count("web") > 0,
        "web never answered before the edit: {summary:?}"
    );
    assert!(after >= 50, "too few requests after the switch: {after}");
    assert!(outcomes
        .iter()
        .filter(|o| o.t_ms > last_web)
        .all(|o| o.backend.as_deref() == Some("shop")));
    println!(
        "gateway wall time: {:.1} s",
        start_at.elapsed().as_secs_f64()
    );
    Ok(())
}
