//! Events the server reports: one `Sent` per response, matching what the
//! proxy received.

use std::collections::BTreeMap;

use meshplane_xds::{ProxyKey, ResourceType, ServerConfig, XdsEvent};
use tokio::sync::broadcast;

use super::resources::Mesh;
use super::support::*;

/// The next `Sent` event, skipping others.
async fn next_sent(
    events: &mut broadcast::Receiver<XdsEvent>,
) -> (ProxyKey, ResourceType, String, String, usize) {
    loop {
        if let XdsEvent::Sent {
            key,
            resource_type,
            version,
            nonce,
            resources,
            ..
        } = events.recv().await.unwrap()
        {
            return (key, resource_type, version, nonce, resources);
        }
    }
}

#[tokio::test]
async fn every_sotw_response_is_reported_as_sent() {
    let srv = TestServer::start().await;
    let mut mesh = Mesh::basic();
    srv.set("p1", &mesh);
    let mut events = srv.server.subscribe_events();
    let mut c = srv.sotw("p1", CDS, &[]).await.unwrap();
    let first = c.expect(CDS, &["a", "b"]).await;
    assert_eq!(
        next_sent(&mut events).await,
        (
            ProxyKey::new("p1"),
            CDS,
            first.version_info.clone(),
            first.nonce.clone(),
            2
        )
    );
    c.ack(&first).await;
    mesh.add_cluster("c", 7000);
    srv.set("p1", &mesh);
    let second = c.expect(CDS, &["a", "b", "c"]).await;
    assert_eq!(
        next_sent(&mut events).await,
        (
            ProxyKey::new("p1"),
            CDS,
            second.version_info.clone(),
            second.nonce.clone(),
            3
        )
    );
    assert_ne!(first.nonce, second.nonce);
}

#[tokio::test]
async fn every_delta_response_is_reported_as_sent() {
    let srv = TestServer::start().await;
    let mut mesh = Mesh::basic();
    srv.set("p1", &mesh);
    let mut events = srv.server.subscribe_events();
    let mut c = srv.delta("p1", CDS, &[], BTreeMap::new()).await.unwrap();
    let first = c.expect(CDS, &["a", "b"], &[]).await;
    assert_eq!(
        next_sent(&mut events).await,
        (
            ProxyKey::new("p1"),
            CDS,
            first.system_version_info.clone(),
            first.nonce.clone(),
            2
        )
    );
    c.ack(&first).await;
    // Only the change is sent: one resource.
    mesh.add_cluster("c", 7000);
    srv.set("p1", &mesh);
    let second = c.expect(CDS, &["c"], &[]).await;
    assert_eq!(
        next_sent(&mut events).await,
        (
            ProxyKey::new("p1"),
            CDS,
            second.system_version_info.clone(),
            second.nonce.clone(),
            1
        )
    );
}

/// A change fanned out to every proxy makes a `Sent` and an `Ack` per
/// proxy; a consumer of the notable events (connections, NACKs) must not
/// lose a NACK to them, however small its channel.
#[tokio::test]
async fn per_response_events_do_not_push_nacks_out_of_the_notable_channel() {
    let srv = TestServer::with_config(ServerConfig {
        event_buffer: 4,
        ..ServerConfig::default()
    })
    .await;
    let mut mesh = Mesh::basic();
    srv.set("p1", &mesh);
    let mut notable = srv.server.subscribe_notable_events();
    let mut all = srv.server.subscribe_events();
    let mut c = srv.sotw("p1", CDS, &[]).await.unwrap();
    let mut last = c.expect(CDS, &["a", "b"]).await;
    for round in 0..20 {
        c.ack(&last).await;
        if round % 2 == 0 {
            mesh.add_cluster("c", 7000);
            srv.set("p1", &mesh);
            last = c.expect(CDS, &["a", "b", "c"]).await;
        } else {
            mesh.remove_cluster("c");
            srv.set("p1", &mesh);
            last = c.expect(CDS, &["a", "b"]).await;
        }
    }
    c.nack(&last, "rejected on purpose").await;

    let connected = notable.recv().await.unwrap();
    assert!(
        matches!(&connected, XdsEvent::Connected { key, .. } if key == &ProxyKey::new("p1")),
        "{connected:?}"
    );
    let nack = notable.recv().await.unwrap();
    match nack {
        XdsEvent::Nack {
            resource_type,
            nonce,
            message,
            ..
        } => {
            assert_eq!(resource_type, CDS);
            assert_eq!(nonce, last.nonce);
            assert_eq!(message, "rejected on purpose");
        }
        other => panic!("expected the NACK, got {other:?}"),
    }
    // The channel of every event, as small, lost the oldest of the 42
    // per-response events.
    assert!(matches!(
        all.recv().await,
        Err(broadcast::error::RecvError::Lagged(_))
    ));
}
