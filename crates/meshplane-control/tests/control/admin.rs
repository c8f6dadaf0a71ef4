//! The admin server over real HTTP: health, readiness, metrics, debug views,
//! and a NACK traced back to the spec file.

use envoy_types::pb::envoy::service::discovery::v3::DiscoveryRequest;
use envoy_types::pb::google::rpc::Status as RpcStatus;
use serde_json::Value;

use super::support::{copy_examples, http_get, node_arn, serve_config, start, Ads, HANG, LDS};

#[tokio::test]
async fn health_metrics_and_debug_views() {
    let specs = copy_examples();
    let running = start(serve_config(vec![specs.path().to_owned()])).await;
    let admin = running.admin_addr;
    assert_eq!(http_get(admin, "/healthz").await.0, 200);
    assert_eq!(http_get(admin, "/readyz").await.0, 200);

    let mut ads = Ads::open(running.xds_addr, "mesh/apps/virtualNode/serviceA", None)
        .await
        .unwrap();
    let lds = ads.next().await.unwrap();
    // NACK the listeners, as Envoy does: same type, last good version, the nonce, error_detail.
    ads.tx
        .send(DiscoveryRequest {
            type_url: LDS.into(),
            response_nonce: lds.nonce.clone(),
            error_detail: Some(RpcStatus {
                code: 3,
                message:
                    "Error adding/updating listener(s) lds_ingress_0.0.0.0_15000: test rejection"
                        .into(),
                details: vec![],
            }),
            ..Default::default()
        })
        .await
        .unwrap();

    // The NACK is handled asynchronously: poll (bounded) until it shows.
    let deadline = tokio::time::Instant::now() + HANG;
    let proxies: Value = loop {
        let (code, body) = http_get(admin, "/debug/proxies").await;
        assert_eq!(code, 200);
        let v: Value = serde_json::from_str(&body).unwrap();
        if !v["proxies"][0]["types"]["LDS"]["last_nack"]["resources"].is_null() {
            break v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "NACK never shown: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let p = &proxies["proxies"][0];
    assert_eq!(p["identity"], node_arn("serviceA"));
    assert_eq!(p["node_id"], "mesh/apps/virtualNode/serviceA");
    assert_eq!(p["node_cluster"], "test-cluster");
    assert_eq!(p["principal"]["id"], "anonymous");
    let nack = &p["types"]["LDS"]["last_nack"];
    assert!(nack["message"].as_str().unwrap().contains("test rejection"));
    let resources = nack["resources"].as_array().unwrap();
    let ingress = resources
        .iter()
        .find(|r| r["name"] == "lds_ingress_0.0.0.0_15000")
        .expect("ingress listener");
    let sources = ingress["app_mesh"].as_array().unwrap();
    assert!(
        sources.iter().any(|s| s["arn"] == node_arn("serviceA")
            && s["file"]
                .as_str()
                .unwrap()
                .ends_with("virtual-node-serviceA.json")),
        "{sources:?}"
    );

    let (code, metrics) = http_get(admin, "/metrics").await;
    assert_eq!(code, 200);
    for line in [
        "meshplane_connected_proxies{mesh=\"apps\",resource=\"mesh/apps/virtualNode/serviceA\"} 1",
        "meshplane_xds_nacks_total{type=\"LDS\"} 1",
        "meshplane_reload_errors_total 0",
        "meshplane_snapshot_build_seconds_count 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "missing {line:?} in\n{metrics}"
        );
    }
    assert!(
        metrics.contains("meshplane_xds_pushes_total{type=\"LDS\"}"),
        "{metrics}"
    );

    let (code, config) = http_get(admin, "/debug/config?node=mesh/apps/virtualNode/serviceA").await;
    assert_eq!(code, 200, "{config}");
    let config: Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["listeners"].as_array().unwrap().len(), 2);
    assert!(config["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "cds_egress_apps_serviceB_http2_80"));
    let (code, body) = http_get(admin, "/debug/config?node=mesh/apps/virtualNode/nope").await;
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("mesh/apps/virtualNode/nope"));

    let (code, reload) = http_get(admin, "/debug/reload").await;
    assert_eq!(code, 200);
    let reload: Value = serde_json::from_str(&reload).unwrap();
    assert_eq!(reload["applied"], true);
    assert_eq!(reload["changes"]["created"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn not_ready_while_no_valid_spec_set_was_loaded() {
    let specs = copy_examples();
    super::support::edit(
        &specs.path().join("route-serviceB.json"),
        "\"weight\": 75",
        "\"weight\": -3",
    );
    let running = start(serve_config(vec![specs.path().to_owned()])).await;
    let (code, body) = http_get(running.admin_addr, "/readyz").await;
    assert_eq!(code, 503);
    assert!(
        body.contains("nothing is served until the specs are fixed"),
        "{body}"
    );
    let (_, reload) = http_get(running.admin_addr, "/debug/reload").await;
    let reload: Value = serde_json::from_str(&reload).unwrap();
    assert_eq!(reload["applied"], false);
    assert!(reload["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["file"]
            .as_str()
            .unwrap_or("")
            .ends_with("route-serviceB.json")));
    let (code, _) = http_get(running.admin_addr, "/metrics").await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn stop_ends_open_streams_with_ok_and_the_server_returns() {
    let specs = copy_examples();
    let running = start(serve_config(vec![specs.path().to_owned()])).await;
    let mut ads = Ads::open(running.xds_addr, "mesh/apps/virtualNode/serviceA", None)
        .await
        .unwrap();
    ads.next().await.unwrap();
    running.stop();
    // The proxy still holds its side open: the server ends the stream.
    let end = loop {
        match tokio::time::timeout(HANG, ads.rx.message())
            .await
            .expect("stream not ended (hang guard)")
        {
            Ok(Some(_)) => continue,
            other => break other,
        }
    };
    assert!(matches!(end, Ok(None)), "status OK expected, got {end:?}");
    tokio::time::timeout(HANG, running.wait())
        .await
        .expect("server did not return after stop (hang guard)")
        .unwrap();
    drop(ads);
}

#[tokio::test]
async fn pushes_are_counted_exactly_even_for_streams_already_closed() {
    let specs = copy_examples();
    let running = start(serve_config(vec![specs.path().to_owned()])).await;
    let admin = running.admin_addr;
    let mut ads = Ads::open(running.xds_addr, "mesh/apps/virtualNode/serviceA", None)
        .await
        .unwrap();
    ads.next().await.unwrap();
    drop(ads);
    // Nothing is scraped while the stream is open.
    let deadline = tokio::time::Instant::now() + HANG;
    loop {
        let (_, body) = http_get(admin, "/debug/proxies").await;
        let v: Value = serde_json::from_str(&body).unwrap();
        if v["proxies"].as_array().unwrap().is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "stream never closed: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Events are handled asynchronously: poll (bounded) for the count.
    let expected = "meshplane_xds_pushes_total{type=\"LDS\"} 1";
    loop {
        let (_, metrics) = http_get(admin, "/metrics").await;
        if metrics.lines().any(|l| l == expected) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "missing {expected:?} in\n{metrics}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
