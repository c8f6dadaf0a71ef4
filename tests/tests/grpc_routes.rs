//! gRPC routes: service name, method name and metadata pick the virtual
//! node; an unknown service gets gRPC status UNIMPLEMENTED from the Envoy;
//! the backend's message and status trailer travel over HTTP/2 end to end.

use std::time::Instant;

use meshplane_e2e::binaries;
use meshplane_e2e::fixtures::{grpc, GREETER_URL};

#[test]
fn grpc_routes_by_service_method_and_metadata() -> anyhow::Result<()> {
    let start = Instant::now();
    let t = grpc("grpc", binaries!()?)?;
    let cases: [(&str, &str, &[&str], &str); 5] = [
        ("SayHello", "/helloworld.Greeter/SayHello", &[], "g1"),
        ("other method", "/helloworld.Greeter/SayGoodbye", &[], "g2"),
        (
            "canary metadata",
            "/helloworld.Greeter/SayHello",
            &["x-canary: yes"],
            "g2",
        ),
        ("unknown service", "/other.Service/Call", &[], "grpc-12"),
        (
            "backend error",
            "/helloworld.Greeter/SayHello",
            &["x-grpc-status: 13"],
            "grpc-13",
        ),
    ];
    let mut wrong = Vec::new();
    for (what, path, meta, expected) in cases {
        let s = t.grpc("client", GREETER_URL, path, meta, 5)?;
        println!(
            "grpc: {what:16} -> {:?} {:?} {:?}",
            s.by_backend, s.by_status, s.errors
        );
        let ok = if let Some(code) = expected.strip_prefix("grpc-") {
            s.status(&format!("grpc-{code}")) == 5
        } else {
            s.count(expected) == 5 && s.status("grpc-0") == 5
        };
        if !ok {
            wrong.push(format!(
                "{what}: expected {expected}, got {:?} {:?} {:?}",
                s.by_backend, s.by_status, s.errors
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "wrong gRPC routing:\n{}",
        wrong.join("\n")
    );
    // App Mesh's default retry policy covers HTTP 503 on gRPC routes too:
    // each call's first attempt is answered with a plain HTTP 503.
    let retry_stat = "cluster.cds_egress_grpc_g1_grpc_50051.upstream_rq_retry";
    let retries_before = t.envoy_stat("client", retry_stat)?.unwrap_or(0);
    let mut saved = 0;
    for i in 0..5 {
        let key = format!("x-fail-first: http-503-{i}");
        let s = t.grpc(
            "client",
            GREETER_URL,
            "/helloworld.Greeter/SayHello",
            &[&key, "x-fail-as-http: yes"],
            1,
        )?;
        println!(
            "grpc: first attempt HTTP 503 -> {:?} {:?}",
            s.by_status, s.errors
        );
        if s.count("g1") == 1 && s.status("grpc-0") == 1 {
            saved += 1;
        }
    }
    let retries = t.envoy_stat("client", retry_stat)?.unwrap_or(0) - retries_before;
    println!("grpc: {saved} of 5 calls saved by {retries} retries of the default policy");
    assert_eq!(
        saved, 5,
        "the default retry policy retries HTTP 503 on gRPC routes"
    );
    assert_eq!(retries, 5);
    let h2 = t.envoy_stat(
        "g1",
        "cluster.cds_ingress_grpc_g1_grpc_50051.upstream_cx_http2_total",
    )?;
    assert!(
        h2 >= Some(1),
        "g1's Envoy reached its application over HTTP/2: {h2:?}"
    );
    println!("grpc wall time: {:.1} s", start.elapsed().as_secs_f64());
    Ok(())
}
