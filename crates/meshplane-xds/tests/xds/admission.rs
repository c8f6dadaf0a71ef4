//! Who may open a stream, how many, and what happens when the identity goes.

use envoy_types::pb::envoy::config::core::v3::Node;
use envoy_types::pb::envoy::service::cluster::v3::cluster_discovery_service_client::ClusterDiscoveryServiceClient;
use envoy_types::pb::envoy::service::discovery::v3::DiscoveryRequest;
use meshplane_xds::{
    Admission, Authorizer, PeerInfo, ProxyKey, ServerConfig, StreamPrincipal, XdsEvent,
};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status};

use super::resources::Mesh;
use super::support::*;

#[tokio::test]
async fn unknown_identity_is_not_found_naming_it() {
    let srv = TestServer::start().await;
    let mut events = srv.server.subscribe_events();
    let err = srv
        .sotw("mesh/m/virtualNode/ghost", CDS, &[])
        .await
        .err()
        .unwrap();
    assert_eq!(err.code(), Code::NotFound);
    assert!(
        err.message().contains("`mesh/m/virtualNode/ghost`"),
        "{}",
        err.message()
    );
    let refused = events.recv().await.unwrap();
    assert!(
        matches!(
            refused,
            XdsEvent::Refused {
                code: Code::NotFound,
                ..
            }
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn first_request_without_node_id_is_refused() {
    let srv = TestServer::start().await;
    let err = srv.sotw("", CDS, &[]).await.err().unwrap();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("node.id"));
}

#[tokio::test]
async fn streams_per_key_are_limited() {
    let config = ServerConfig {
        max_streams_per_key: 2,
        ..Default::default()
    };
    let srv = TestServer::with_config(config).await;
    srv.set("p1", &Mesh::basic());
    srv.set("p2", &Mesh::basic());
    let mut a = srv.sotw("p1", CDS, &[]).await.unwrap();
    a.expect(CDS, &["a", "b"]).await;
    let _b = srv.sotw("p1", CDS, &[]).await.unwrap();
    let err = srv.sotw("p1", CDS, &[]).await.err().unwrap();
    assert_eq!(err.code(), Code::ResourceExhausted);
    assert!(
        err.message().contains("`p1`") && err.message().contains("limit 2"),
        "{}",
        err.message()
    );
    // Other keys have their own quota.
    srv.sotw("p2", CDS, &[]).await.unwrap();
    // A place is given back when a stream ends.
    drop(a);
    let mut events = srv.server.subscribe_events();
    while srv.server.registry().streams_of(&ProxyKey::new("p1")).len() > 1 {
        events.recv().await.unwrap();
    }
    srv.sotw("p1", CDS, &[]).await.unwrap();
}

#[tokio::test]
async fn removing_the_identity_ends_its_streams_with_not_found() {
    let srv = TestServer::start().await;
    srv.set("p1", &Mesh::basic());
    let mut c = srv.sotw("p1", CDS, &[]).await.unwrap();
    c.expect(CDS, &["a", "b"]).await;
    assert!(srv.cache.remove(&ProxyKey::new("p1")));
    let err = c.end().await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(err.message().contains("`p1`"));
}

#[tokio::test]
async fn per_type_service_serves_its_type_only() {
    let srv = TestServer::start().await;
    srv.set("p1", &Mesh::basic());
    let mut client = ClusterDiscoveryServiceClient::new(srv.channel().await);
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tx.send(DiscoveryRequest {
        node: Some(envoy_types::pb::envoy::config::core::v3::Node {
            id: "p1".into(),
            ..Default::default()
        }),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut responses = client
        .stream_clusters(ReceiverStream::new(rx))
        .await
        .unwrap()
        .into_inner();
    let first = responses.message().await.unwrap().unwrap();
    assert_eq!(
        (type_of(&first.type_url), names(&first)),
        (CDS, vec!["a".to_string(), "b".to_string()])
    );
    tx.send(DiscoveryRequest {
        type_url: LDS.type_url().into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let err = responses.message().await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn a_stuck_proxy_does_not_hold_back_others() {
    let srv = TestServer::start().await;
    let mut big = Mesh::basic();
    for i in 0..200 {
        big.add_cluster(&format!("padding-{i:03}"), 10_000 + i);
    }
    srv.set("stuck", &big);
    srv.set("p1", &Mesh::basic());
    // Never reads: its HTTP/2 window, then its response buffer, fill up.
    let _stuck = srv.sotw("stuck", CDS, &[]).await.unwrap();
    let mut c = srv.sotw("p1", CDS, &[]).await.unwrap();
    let r = c.expect(CDS, &["a", "b"]).await;
    c.ack(&r).await;
    for timeout in 2..200 {
        big.clusters.insert("a".into(), timeout);
        srv.set("stuck", &big);
    }
    let mut mesh = Mesh::basic();
    mesh.clusters.insert("a".into(), 5);
    srv.set("p1", &mesh);
    c.expect(CDS, &["a", "b"]).await;
}

/// Admits `node.id`, authenticated as the node's cluster name.
struct ClusterIsPrincipal;

impl Authorizer for ClusterIsPrincipal {
    fn authorize(&self, node: &Node, _peer: &PeerInfo) -> Result<Admission, Status> {
        Ok(Admission::key(ProxyKey::new(node.id.as_str()))
            .with_principal(&node.cluster, "node cluster"))
    }
}

#[tokio::test]
async fn the_authorizers_principal_is_in_the_registry_and_the_connected_event() {
    let srv = TestServer::with_authorizer(ClusterIsPrincipal, ServerConfig::default()).await;
    srv.set("p1", &Mesh::basic());
    let mut events = srv.server.subscribe_events();
    let mut c = srv.sotw("p1", CDS, &[]).await.unwrap();
    c.expect(CDS, &["a", "b"]).await;
    let expected = Some(StreamPrincipal {
        id: "p1-cluster".into(),
        source: "node cluster".into(),
    });
    let streams = srv.server.registry().streams_of(&ProxyKey::new("p1"));
    assert_eq!(streams.len(), 1);
    assert_eq!(streams[0].principal, expected);
    match events.recv().await.unwrap() {
        XdsEvent::Connected { key, principal, .. } => {
            assert_eq!(key, ProxyKey::new("p1"));
            assert_eq!(principal, expected);
        }
        other => panic!("expected Connected, got {other:?}"),
    }
}

#[tokio::test]
async fn node_id_authorizer_has_no_principal_without_a_certificate() {
    let srv = TestServer::start().await;
    srv.set("p1", &Mesh::basic());
    let mut c = srv.sotw("p1", CDS, &[]).await.unwrap();
    c.expect(CDS, &["a", "b"]).await;
    let streams = srv.server.registry().streams_of(&ProxyKey::new("p1"));
    assert_eq!(streams[0].principal, None);
}

#[tokio::test]
async fn close_all_ends_every_stream_with_ok_and_refuses_new_ones() {
    let srv = TestServer::start().await;
    srv.set("p1", &Mesh::basic());
    srv.set("p2", &Mesh::basic());
    let mut sotw = srv.sotw("p1", CDS, &[]).await.unwrap();
    sotw.expect(CDS, &["a", "b"]).await;
    let mut delta = srv
        .delta("p2", CDS, &[], std::collections::BTreeMap::new())
        .await
        .unwrap();
    delta.expect(CDS, &["a", "b"], &[]).await;
    let mut events = srv.server.subscribe_events();
    assert!(!srv.server.is_closing());

    srv.server.close_all();
    assert!(srv.server.is_closing());
    assert!(sotw.end().await.is_ok(), "SotW: status OK");
    assert!(delta.end().await.is_ok(), "delta: status OK");
    let mut closed = Vec::new();
    while closed.len() < 2 {
        if let XdsEvent::Disconnected { key, reason, .. } = events.recv().await.unwrap() {
            closed.push((key.to_string(), reason));
        }
    }
    closed.sort();
    assert_eq!(
        closed,
        [
            ("p1".to_owned(), "server closing".to_owned()),
            ("p2".to_owned(), "server closing".to_owned())
        ]
    );
    assert!(srv.server.registry().streams().is_empty());

    let err = srv.sotw("p1", CDS, &[]).await.err().unwrap();
    assert_eq!(err.code(), Code::Unavailable);
    assert!(err.message().contains("shutting down"), "{}", err.message());
}
