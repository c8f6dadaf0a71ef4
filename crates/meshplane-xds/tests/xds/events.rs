//! Events the server reports: one `Sent` per response, matching what the
//! proxy received.

use std::collections::BTreeMap;

use meshplane_xds::{ProxyKey, ResourceType, XdsEvent};
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
