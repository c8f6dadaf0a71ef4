//! Incremental (delta) ADS.

use std::collections::BTreeMap;

use envoy_types::pb::envoy::service::discovery::v3::DeltaDiscoveryRequest;
use meshplane_xds::XdsEvent;

use super::resources::Mesh;
use super::support::*;

/// Connect like Envoy and ACK everything; returns the client and the versions
/// it holds (name -> version) per type.
async fn synced(
    srv: &TestServer,
    id: &str,
    mesh: &Mesh,
) -> (DeltaClient, BTreeMap<String, String>) {
    srv.set(id, mesh);
    let mut held = BTreeMap::new();
    let mut c = srv.delta(id, CDS, &[], BTreeMap::new()).await.unwrap();
    let r = c.expect(CDS, &["a", "b"], &[]).await;
    held.extend(
        r.resources
            .iter()
            .map(|r| (format!("cds/{}", r.name), r.version.clone())),
    );
    c.ack(&r).await;
    c.subscribe(EDS, &["a", "b"], &[]).await;
    let r = c.expect(EDS, &["a", "b"], &[]).await;
    held.extend(
        r.resources
            .iter()
            .map(|r| (format!("eds/{}", r.name), r.version.clone())),
    );
    c.ack(&r).await;
    c.subscribe(LDS, &[], &[]).await;
    let r = c.expect(LDS, &["ingress"], &[]).await;
    c.ack(&r).await;
    c.subscribe(RDS, &["rt"], &[]).await;
    let r = c.expect(RDS, &["rt"], &[]).await;
    c.ack(&r).await;
    (c, held)
}

#[tokio::test]
async fn nack_is_reported_and_not_answered_with_a_resend() {
    let srv = TestServer::start().await;
    let mut events = srv.server.subscribe_events();
    let mut mesh = Mesh::basic();
    let (mut c, _) = synced(&srv, "p1", &mesh).await;
    mesh.clusters.insert("a".into(), 2);
    srv.set("p1", &mesh);
    let cds = c.expect(CDS, &["a"], &[]).await;
    let eds = c.expect(EDS, &["a"], &[]).await; // warming
    c.nack(&cds, "cluster a rejected").await;
    c.ack(&eds).await;
    mesh.routes.insert("rt".into(), "b".into());
    srv.set("p1", &mesh);
    c.expect(RDS, &["rt"], &[]).await;
    let nack = loop {
        if let XdsEvent::Nack {
            resource_type,
            names,
            message,
            ..
        } = events.recv().await.unwrap()
        {
            break (resource_type, names, message);
        }
    };
    assert_eq!(
        nack,
        (CDS, vec!["a".to_string()], "cluster a rejected".to_string())
    );
}

#[tokio::test]
async fn subscription_changes_apply_even_with_a_stale_nonce() {
    let srv = TestServer::start().await;
    let mut mesh = Mesh::basic();
    srv.set("p1", &mesh);
    let mut c = srv.delta("p1", CDS, &[], BTreeMap::new()).await.unwrap();
    let r = c.expect(CDS, &["a", "b"], &[]).await;
    c.ack(&r).await;
    c.subscribe(EDS, &["a"], &[]).await;
    let first_eds = c.expect(EDS, &["a"], &[]).await;
    mesh.endpoints.insert("a".into(), 9000);
    mesh.endpoints.insert("x".into(), 9100);
    srv.set("p1", &mesh);
    c.expect(EDS, &["a"], &[]).await;
    c.send(DeltaDiscoveryRequest {
        type_url: EDS.type_url().into(),
        response_nonce: first_eds.nonce.clone(),
        resource_names_subscribe: vec!["x".into()],
        ..Default::default()
    })
    .await;
    c.expect(EDS, &["x"], &[]).await;
}

#[tokio::test]
async fn reconnect_with_initial_versions_sends_only_what_changed() {
    let srv = TestServer::start().await;
    let mut mesh = Mesh::basic();
    let (c, held) = synced(&srv, "p1", &mesh).await;
    drop(c);
    mesh.clusters.insert("b".into(), 3);
    mesh.endpoints.insert("a".into(), 9000);
    srv.set("p1", &mesh);
    let initial_cds: BTreeMap<String, String> = [
        ("a".to_string(), held["cds/a"].clone()),
        ("b".to_string(), held["cds/b"].clone()),
        ("gone".to_string(), "0123".to_string()),
    ]
    .into();
    let mut c = srv.delta("p1", CDS, &["*"], initial_cds).await.unwrap();
    let r = c.expect(CDS, &["b"], &[]).await;
    c.ack(&r).await;
    // Removals come once everything sent was answered.
    let r = c.expect(CDS, &[], &["gone"]).await;
    c.ack(&r).await;
    c.send(DeltaDiscoveryRequest {
        type_url: EDS.type_url().into(),
        resource_names_subscribe: vec!["a".into(), "b".into()],
        initial_resource_versions: [
            ("a".to_string(), held["eds/a"].clone()),
            ("b".to_string(), held["eds/b"].clone()),
        ]
        .into(),
        ..Default::default()
    })
    .await;
    c.expect(EDS, &["a"], &[]).await;
}

#[tokio::test]
async fn changes_are_pushed_make_before_break_with_removals_last() {
    let srv = TestServer::start().await;
    let mut mesh = Mesh::basic();
    let (mut c, _) = synced(&srv, "p1", &mesh).await;
    mesh.remove_cluster("b");
    mesh.add_cluster("c", 7000);
    mesh.endpoints.insert("a".into(), 9000);
    mesh.routes.insert("rt".into(), "c".into());
    mesh.listeners.insert("l2".into(), "rt2".into());
    mesh.routes.insert("rt2".into(), "a".into());
    srv.set("p1", &mesh);
    let cds = c.expect(CDS, &["c"], &[]).await;
    let eds = c.expect(EDS, &["a"], &[]).await;
    let lds = c.expect(LDS, &["l2"], &[]).await;
    let rds = c.expect(RDS, &["rt"], &[]).await;
    for r in [&cds, &eds, &lds, &rds] {
        c.ack(r).await;
    }
    let r = c.expect(CDS, &[], &["b"]).await;
    c.ack(&r).await;
    c.expect(EDS, &[], &["b"]).await;
}

#[tokio::test]
async fn missing_names_are_reported_then_sent_when_they_appear() {
    let srv = TestServer::start().await;
    let mut mesh = Mesh::basic();
    let (mut c, _) = synced(&srv, "p1", &mesh).await;
    c.subscribe(EDS, &["ghost"], &[]).await;
    let r = c.expect(EDS, &[], &["ghost"]).await;
    c.ack(&r).await;
    mesh.add_cluster("ghost", 7000);
    srv.set("p1", &mesh);
    let r = c.expect(CDS, &["ghost"], &[]).await;
    c.ack(&r).await;
    c.expect(EDS, &["ghost"], &[]).await;
}

#[tokio::test]
async fn unsubscribed_names_are_no_longer_sent() {
    let srv = TestServer::start().await;
    let mut mesh = Mesh::basic();
    mesh.routes.insert("spare".into(), "a".into());
    let (mut c, _) = synced(&srv, "p1", &mesh).await;
    c.subscribe(EDS, &[], &["b"]).await;
    // Requests are handled in order: once `spare` is answered, so was the above.
    c.subscribe(RDS, &["spare"], &[]).await;
    let r = c.expect(RDS, &["spare"], &[]).await;
    c.ack(&r).await;
    mesh.endpoints.insert("b".into(), 9001);
    mesh.routes.insert("rt".into(), "b".into());
    srv.set("p1", &mesh);
    c.expect(RDS, &["rt"], &[]).await;
}

#[tokio::test]
async fn dropping_an_explicit_name_under_a_wildcard_is_answered() {
    let srv = TestServer::start().await;
    let mut mesh = Mesh::basic();
    mesh.endpoints.insert("x".into(), 9100);
    srv.set("p1", &mesh);
    // Wildcard EDS plus explicit names: one present, one absent.
    let mut c = srv
        .delta("p1", EDS, &["*", "a", "nope"], BTreeMap::new())
        .await
        .unwrap();
    let r = c.expect(EDS, &["a", "b", "x"], &["nope"]).await;
    c.ack(&r).await;
    // The proxy cannot tell whether "*" still covers them: it is told.
    c.subscribe(EDS, &[], &["a", "nope"]).await;
    c.expect(EDS, &["a"], &["nope"]).await;
}

#[tokio::test]
async fn stream_closes_gracefully_at_max_age_and_unknown_identity_is_not_found() {
    let config = meshplane_xds::ServerConfig {
        max_stream_age: Some(std::time::Duration::from_millis(300)),
        ..Default::default()
    };
    let srv = TestServer::with_config(config).await;
    srv.set("p1", &Mesh::basic());
    let mut c = srv.delta("p1", CDS, &[], BTreeMap::new()).await.unwrap();
    c.expect(CDS, &["a", "b"], &[]).await;
    assert!(c.end().await.is_ok(), "status OK");
    let err = srv
        .delta("p9", CDS, &[], BTreeMap::new())
        .await
        .err()
        .unwrap();
    assert_eq!(err.code(), tonic::Code::NotFound);
    assert!(err.message().contains("`p9`"));
}

#[tokio::test]
async fn per_type_delta_service_serves_its_type() {
    use envoy_types::pb::envoy::service::endpoint::v3::endpoint_discovery_service_client::EndpointDiscoveryServiceClient;
    let srv = TestServer::start().await;
    srv.set("p1", &Mesh::basic());
    let mut client = EndpointDiscoveryServiceClient::new(srv.channel().await);
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tx.send(DeltaDiscoveryRequest {
        node: Some(envoy_types::pb::envoy::config::core::v3::Node {
            id: "p1".into(),
            ..Default::default()
        }),
        resource_names_subscribe: vec!["b".into()],
        ..Default::default()
    })
    .await
    .unwrap();
    let mut responses = client
        .delta_endpoints(tokio_stream::wrappers::ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    let r = responses.message().await.unwrap().unwrap();
    assert_eq!(
        (type_of(&r.type_url), delta_names(&r)),
        (EDS, vec!["b".to_string()])
    );
}

/// A change that moves route `rt` from cluster a to a new cluster c and drops
/// a, with the routes NACKed: the proxy still routes to a, so neither a nor
/// its endpoints are reported removed (and the NACKed routes are not re-sent),
/// even after other routes are ACKed, until a later version of rt is ACKed.
#[tokio::test]
async fn removals_wait_while_a_nack_is_outstanding() {
    let srv = TestServer::start().await;
    let mut events = srv.server.subscribe_events();
    let mut mesh = Mesh::basic();
    let (mut c, _) = synced(&srv, "p1", &mesh).await;
    mesh.remove_cluster("a");
    mesh.add_cluster("c", 7000);
    mesh.routes.insert("rt".into(), "c".into());
    srv.set("p1", &mesh);
    let cds = c.expect(CDS, &["c"], &[]).await;
    let rds = c.expect(RDS, &["rt"], &[]).await;
    c.ack(&cds).await;
    c.subscribe(EDS, &["c"], &[]).await;
    let eds = c.expect(EDS, &["c"], &[]).await;
    c.ack(&eds).await;
    c.nack(&rds, "route rt: invalid regex").await;
    processed(&mut events, &rds.nonce).await;
    // A new listener and its routes, ACKed: the proxy still runs the old rt,
    // so this partial ACK of RDS does not settle it.
    mesh.listeners.insert("l2".into(), "rt2".into());
    mesh.routes.insert("rt2".into(), "b".into());
    srv.set("p1", &mesh);
    let lds = c.expect(LDS, &["l2"], &[]).await;
    c.ack(&lds).await;
    c.subscribe(RDS, &["rt2"], &[]).await;
    let rds2 = c.expect(RDS, &["rt2"], &[]).await;
    c.ack(&rds2).await;
    processed(&mut events, &rds2.nonce).await;
    // Barrier: an unrelated change. The next responses are its upserts with
    // nothing removed, and the rejected routes are not re-sent.
    mesh.clusters.insert("b".into(), 2);
    srv.set("p1", &mesh);
    let cds = c.expect(CDS, &["b"], &[]).await;
    let eds = c.expect(EDS, &["b"], &[]).await;
    c.ack(&cds).await;
    c.ack(&eds).await;
    processed(&mut events, &eds.nonce).await;
    // A good change of the routes, ACKed: now everything is in sync and a goes.
    mesh.routes.insert("rt".into(), "b".into());
    srv.set("p1", &mesh);
    let rds = c.expect(RDS, &["rt"], &[]).await;
    c.ack(&rds).await;
    let r = c.expect(CDS, &[], &["a"]).await;
    c.ack(&r).await;
    c.expect(EDS, &[], &["a"]).await;
}

/// A NACKed route that then leaves the snapshot (with the listener using it)
/// no longer holds removals back: no later version of it can be ACKed.
#[tokio::test]
async fn a_rejected_name_that_leaves_the_snapshot_no_longer_holds_removals() {
    let srv = TestServer::start().await;
    let mut events = srv.server.subscribe_events();
    let mut mesh = Mesh::basic();
    let (mut c, _) = synced(&srv, "p1", &mesh).await;
    mesh.remove_cluster("a");
    mesh.routes.insert("rt".into(), "b".into());
    srv.set("p1", &mesh);
    let rds = c.expect(RDS, &["rt"], &[]).await;
    c.nack(&rds, "route rt: invalid regex").await;
    processed(&mut events, &rds.nonce).await;
    mesh.listeners.remove("ingress");
    mesh.routes.remove("rt");
    srv.set("p1", &mesh);
    for (t, gone) in [(LDS, "ingress"), (RDS, "rt"), (CDS, "a"), (EDS, "a")] {
        let r = c.expect(t, &[], &[gone]).await;
        c.ack(&r).await;
    }
}

/// Wait until the server processed the proxy's answer to the response with
/// `nonce` (a barrier: no timing involved).
async fn processed(events: &mut tokio::sync::broadcast::Receiver<XdsEvent>, nonce: &str) {
    loop {
        match events.recv().await.unwrap() {
            XdsEvent::Ack { nonce: n, .. } | XdsEvent::Nack { nonce: n, .. } if n == nonce => {
                return
            }
            _ => {}
        }
    }
}
