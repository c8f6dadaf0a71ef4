//! State-of-the-world ADS.

use std::time::Duration;

use meshplane_xds::{ProxyKey, ServerConfig, XdsEvent};

use super::resources::Mesh;
use super::support::*;

/// Connect like Envoy and ACK everything: CDS, EDS [a b], LDS, RDS [rt].
async fn synced(srv: &TestServer, id: &str, mesh: &Mesh) -> SotwClient {
    srv.set(id, mesh);
    let mut c = srv.sotw(id, CDS, &[]).await.unwrap();
    let r = c.expect(CDS, &["a", "b"]).await;
    c.ack(&r).await;
    c.subscribe(EDS, &["a", "b"]).await;
    let r = c.expect(EDS, &["a", "b"]).await;
    c.ack(&r).await;
    c.subscribe(LDS, &[]).await;
    let r = c.expect(LDS, &["ingress"]).await;
    c.ack(&r).await;
    c.subscribe(RDS, &["rt"]).await;
    let r = c.expect(RDS, &["rt"]).await;
    c.ack(&r).await;
    c
}

#[tokio::test]
async fn initial_sync_is_acked_and_visible_in_registry_and_events() {
    let srv = TestServer::start().await;
    let mut events = srv.server.subscribe_events();
    let _c = synced(&srv, "p1", &Mesh::basic()).await;
    let mut acks = Vec::new();
    let mut connected = false;
    while acks.len() < 4 {
        match events.recv().await.unwrap() {
            XdsEvent::Connected { node_id, .. } => connected |= node_id == "p1",
            XdsEvent::Ack { resource_type, .. } => acks.push(resource_type),
            _ => {}
        }
    }
    assert!(connected);
    assert_eq!(acks, [CDS, EDS, LDS, RDS]);
    let snapshot = srv.cache.get(&ProxyKey::new("p1")).unwrap();
    let streams = srv.server.registry().streams_of(&ProxyKey::new("p1"));
    assert_eq!(streams.len(), 1);
    let s = &streams[0];
    assert_eq!(
        (s.node_id.as_str(), s.node_cluster.as_str()),
        ("p1", "p1-cluster")
    );
    for t in [CDS, EDS, LDS, RDS] {
        let status = &s.types[&t];
        assert_eq!(
            status.last_acked_version.as_deref(),
            Some(&**snapshot.of_type(t).version())
        );
        assert_eq!(status.last_nack, None);
    }
}

#[tokio::test]
async fn nack_is_reported_and_not_answered_with_a_resend() {
    let srv = TestServer::start().await;
    let mut events = srv.server.subscribe_events();
    let mut mesh = Mesh::basic();
    let mut c = synced(&srv, "p1", &mesh).await;
    mesh.clusters.insert("a".into(), 2);
    srv.set("p1", &mesh);
    let cds = c.expect(CDS, &["a", "b"]).await;
    // The updated cluster warms until it gets endpoints: they are re-sent.
    let eds = c.expect(EDS, &["a"]).await;
    c.nack(&cds, "cluster a: bad timeout").await;
    c.ack(&eds).await;
    // Barrier: the next change is a route; the next response must be it.
    mesh.routes.insert("rt".into(), "b".into());
    srv.set("p1", &mesh);
    c.expect(RDS, &["rt"]).await;
    let nack = loop {
        if let XdsEvent::Nack {
            resource_type,
            names,
            message,
            version,
            ..
        } = events.recv().await.unwrap()
        {
            break (resource_type, names, message, version);
        }
    };
    let acked_cds = srv.server.registry().streams()[0].types[&CDS]
        .last_acked_version
        .clone()
        .unwrap();
    assert_eq!(
        nack,
        (
            CDS,
            vec!["a".to_string(), "b".to_string()],
            "cluster a: bad timeout".to_string(),
            acked_cds
        )
    );
    let s = &srv.server.registry().streams()[0];
    assert_eq!(
        s.types[&CDS].last_nack.as_deref(),
        Some("cluster a: bad timeout")
    );
}

#[tokio::test]
async fn request_with_stale_nonce_is_ignored() {
    let srv = TestServer::start().await;
    let mut mesh = Mesh::basic();
    mesh.routes.insert("spare".into(), "a".into());
    srv.set("p1", &mesh);
    let mut c = srv.sotw("p1", CDS, &[]).await.unwrap();
    let r = c.expect(CDS, &["a", "b"]).await;
    c.ack(&r).await;
    c.subscribe(EDS, &["a", "b"]).await;
    let first_eds = c.expect(EDS, &["a", "b"]).await;
    mesh.endpoints.insert("a".into(), 9000);
    srv.set("p1", &mesh);
    c.expect(EDS, &["a"]).await;
    // Answers the first EDS response, which is no longer the latest: ignored,
    // so b stays subscribed.
    c.send(
        envoy_types::pb::envoy::service::discovery::v3::DiscoveryRequest {
            type_url: EDS.type_url().into(),
            resource_names: vec!["a".into()],
            response_nonce: first_eds.nonce.clone(),
            version_info: first_eds.version_info.clone(),
            ..Default::default()
        },
    )
    .await;
    // Requests are handled in order: once `spare` is answered, so was the above.
    c.subscribe(RDS, &["spare"]).await;
    c.expect(RDS, &["spare"]).await;
    mesh.endpoints.insert("b".into(), 9001);
    srv.set("p1", &mesh);
    c.expect(EDS, &["b"]).await;
}

#[tokio::test]
async fn new_names_are_answered_and_missing_names_sent_when_they_appear() {
    let srv = TestServer::start().await;
    let mut mesh = Mesh::basic();
    srv.set("p1", &mesh);
    let mut c = srv.sotw("p1", CDS, &[]).await.unwrap();
    let r = c.expect(CDS, &["a", "b"]).await;
    c.ack(&r).await;
    c.subscribe(EDS, &["a"]).await;
    let r = c.expect(EDS, &["a"]).await;
    c.ack(&r).await;
    // b is new to the subscription though unchanged; ghost does not exist yet.
    c.subscribe(EDS, &["a", "b", "ghost"]).await;
    let r = c.expect(EDS, &["b"]).await;
    c.ack(&r).await;
    mesh.add_cluster("ghost", 7000);
    srv.set("p1", &mesh);
    let r = c.expect(CDS, &["a", "b", "ghost"]).await;
    c.ack(&r).await;
    c.expect(EDS, &["ghost"]).await;
}

#[tokio::test]
async fn unsubscribed_names_are_no_longer_sent() {
    let srv = TestServer::start().await;
    let mut mesh = Mesh::basic();
    mesh.routes.insert("spare".into(), "a".into());
    mesh.routes.insert("spare2".into(), "a".into());
    let mut c = synced(&srv, "p1", &mesh).await;
    c.subscribe(EDS, &["a"]).await;
    // Requests are handled in order: once `spare` is answered, so was the above.
    c.subscribe(RDS, &["rt", "spare"]).await;
    let r = c.expect(RDS, &["spare"]).await;
    c.ack(&r).await;
    mesh.endpoints.insert("a".into(), 9000);
    mesh.endpoints.insert("b".into(), 9001);
    srv.set("p1", &mesh);
    let r = c.expect(EDS, &["a"]).await;
    c.ack(&r).await;
    // An empty list after names were sent means "nothing", not wildcard.
    c.subscribe(EDS, &[]).await;
    c.subscribe(RDS, &["rt", "spare", "spare2"]).await;
    let r = c.expect(RDS, &["spare2"]).await;
    c.ack(&r).await;
    mesh.endpoints.insert("a".into(), 9002);
    mesh.routes.insert("rt".into(), "b".into());
    srv.set("p1", &mesh);
    c.expect(RDS, &["rt"]).await;
}

#[tokio::test]
async fn changes_are_pushed_make_before_break() {
    let srv = TestServer::start().await;
    let mut mesh = Mesh::basic();
    let mut c = synced(&srv, "p1", &mesh).await;
    let old_cds_version = srv
        .cache
        .get(&ProxyKey::new("p1"))
        .unwrap()
        .of_type(CDS)
        .version()
        .clone();
    // Move traffic from a to c, drop b, add listener l2, change a's endpoints.
    mesh.remove_cluster("b");
    mesh.add_cluster("c", 7000);
    mesh.endpoints.insert("a".into(), 9000);
    mesh.routes.insert("rt".into(), "c".into());
    mesh.listeners.insert("l2".into(), "rt2".into());
    mesh.routes.insert("rt2".into(), "a".into());
    srv.set("p1", &mesh);
    // b is kept until the proxy answered everything else.
    let cds = c.expect(CDS, &["a", "b", "c"]).await;
    assert_ne!(cds.version_info, &*old_cds_version);
    let eds = c.expect(EDS, &["a"]).await;
    let lds = c.expect(LDS, &["ingress", "l2"]).await;
    c.expect(RDS, &["rt"]).await;
    c.ack(&cds).await;
    c.subscribe(EDS, &["a", "b", "c"]).await;
    let eds_c = c.expect(EDS, &["c"]).await;
    c.ack(&lds).await;
    c.subscribe(RDS, &["rt", "rt2"]).await;
    let rds2 = c.expect(RDS, &["rt2"]).await;
    c.ack(&eds_c).await;
    c.ack(&rds2).await;
    let _ = eds;
    let final_cds = c.expect(CDS, &["a", "c"]).await;
    let snapshot = srv.cache.get(&ProxyKey::new("p1")).unwrap();
    assert_eq!(final_cds.version_info, &**snapshot.of_type(CDS).version());
}

#[tokio::test]
async fn removed_listener_disappears_from_lds() {
    let srv = TestServer::start().await;
    let mut mesh = Mesh::basic();
    mesh.listeners.insert("l2".into(), "rt".into());
    srv.set("p1", &mesh);
    let mut c = srv.sotw("p1", LDS, &[]).await.unwrap();
    let r = c.expect(LDS, &["ingress", "l2"]).await;
    c.ack(&r).await;
    mesh.listeners.remove("l2");
    srv.set("p1", &mesh);
    c.expect(LDS, &["ingress"]).await;
}

#[tokio::test]
async fn stream_closes_gracefully_at_max_age() {
    let config = ServerConfig {
        max_stream_age: Some(Duration::from_millis(300)),
        max_stream_age_jitter: 0.0,
        ..Default::default()
    };
    let srv = TestServer::with_config(config).await;
    let mut events = srv.server.subscribe_events();
    srv.set("p1", &Mesh::basic());
    let mut c = srv.sotw("p1", CDS, &[]).await.unwrap();
    c.expect(CDS, &["a", "b"]).await;
    assert!(c.end().await.is_ok(), "status OK");
    let reason = loop {
        if let XdsEvent::Disconnected { reason, .. } = events.recv().await.unwrap() {
            break reason;
        }
    };
    assert_eq!(reason, "maximum stream age reached");
}

#[tokio::test]
async fn first_request_of_a_type_is_answered_whatever_its_nonce() {
    let srv = TestServer::start().await;
    srv.set("p1", &Mesh::basic());
    let mut c = srv.sotw("p1", CDS, &[]).await.unwrap();
    let r = c.expect(CDS, &["a", "b"]).await;
    c.ack(&r).await;
    // A nonce from an earlier stream: nothing of this type was sent here yet.
    c.send(
        envoy_types::pb::envoy::service::discovery::v3::DiscoveryRequest {
            type_url: LDS.type_url().into(),
            response_nonce: "from-another-stream".into(),
            ..Default::default()
        },
    )
    .await;
    c.expect(LDS, &["ingress"]).await;
}

#[tokio::test]
async fn secrets_are_pushed_before_the_clusters_that_use_them() {
    let srv = TestServer::start().await;
    let mut mesh = Mesh::basic();
    mesh.secrets.insert("cert".into());
    srv.set("p1", &mesh);
    let mut c = srv.sotw("p1", SDS, &["cert", "cert2"]).await.unwrap();
    let r = c.expect(SDS, &["cert"]).await;
    c.ack(&r).await;
    c.subscribe(CDS, &[]).await;
    let r = c.expect(CDS, &["a", "b"]).await;
    c.ack(&r).await;
    mesh.secrets.insert("cert2".into());
    mesh.clusters.insert("a".into(), 2);
    srv.set("p1", &mesh);
    c.expect(SDS, &["cert2"]).await;
    c.expect(CDS, &["a", "b"]).await;
}

/// A change that moves route `rt` from cluster a to a new cluster c and drops
/// a, with the routes NACKed: the proxy still routes to a, so a stays in CDS
/// (and the NACKed routes are not re-sent), even after other routes are
/// ACKed, until a later version of rt is ACKed.
#[tokio::test]
async fn removals_wait_while_a_nack_is_outstanding() {
    let srv = TestServer::start().await;
    let mut events = srv.server.subscribe_events();
    let mut mesh = Mesh::basic();
    let mut c = synced(&srv, "p1", &mesh).await;
    mesh.remove_cluster("a");
    mesh.add_cluster("c", 7000);
    mesh.routes.insert("rt".into(), "c".into());
    srv.set("p1", &mesh);
    let cds = c.expect(CDS, &["a", "b", "c"]).await;
    let rds = c.expect(RDS, &["rt"]).await;
    c.ack(&cds).await;
    c.subscribe(EDS, &["a", "b", "c"]).await;
    let eds = c.expect(EDS, &["c"]).await;
    c.ack(&eds).await;
    c.nack(&rds, "route rt: invalid regex").await;
    processed(&mut events, &rds.nonce).await;
    // A new listener and its routes, ACKed: the proxy still runs the old rt,
    // so this partial ACK of RDS does not settle it.
    mesh.listeners.insert("l2".into(), "rt2".into());
    mesh.routes.insert("rt2".into(), "b".into());
    srv.set("p1", &mesh);
    let lds = c.expect(LDS, &["ingress", "l2"]).await;
    c.ack(&lds).await;
    c.subscribe(RDS, &["rt", "rt2"]).await;
    let rds2 = c.expect(RDS, &["rt2"]).await;
    c.ack(&rds2).await;
    processed(&mut events, &rds2.nonce).await;
    // Barrier: an unrelated change. The next response is its CDS, still
    // holding a: neither a removal nor a re-send of the rejected routes.
    mesh.clusters.insert("b".into(), 2);
    srv.set("p1", &mesh);
    let cds = c.expect(CDS, &["a", "b", "c"]).await;
    let eds = c.expect(EDS, &["b"]).await;
    c.ack(&cds).await;
    c.ack(&eds).await;
    processed(&mut events, &eds.nonce).await;
    // A good change of the routes, ACKed: now everything is in sync and a goes.
    mesh.routes.insert("rt".into(), "b".into());
    srv.set("p1", &mesh);
    let rds = c.expect(RDS, &["rt"]).await;
    c.ack(&rds).await;
    let final_cds = c.expect(CDS, &["b", "c"]).await;
    let snapshot = srv.cache.get(&ProxyKey::new("p1")).unwrap();
    assert_eq!(final_cds.version_info, &**snapshot.of_type(CDS).version());
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
