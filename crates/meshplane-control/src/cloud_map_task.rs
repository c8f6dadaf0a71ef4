//! The Cloud Map feed task: starts the source once a query is asked for,
//! passes the query set on, and has the pipeline rebuild the affected
//! snapshots whenever the states change.

use std::sync::Arc;

use meshplane_cloudmap::{client_from_env, CloudMapSource, QueryStates};
use tokio::sync::watch;

use crate::cloud_map::CloudMapFeed;
use crate::pipeline::Pipeline;

/// The feed task: start the source once a query is asked for, pass the
/// query set on, and rebuild the affected snapshots whenever the states
/// change. Runs until aborted.
pub async fn run(feed: Arc<CloudMapFeed>, pipeline: Arc<Pipeline>) {
    let mut desired = feed.desired.subscribe();
    // Wait for the first query (nodes without Cloud Map never get here).
    let mut states = loop {
        if !desired.borrow_and_update().is_empty() {
            break start_source(&feed).await;
        }
        if desired.changed().await.is_err() {
            return;
        }
    };
    let source = match feed.source.get() {
        Some(s) => s,
        None => return,
    };
    source.set_queries((**desired.borrow_and_update()).clone());
    loop {
        tokio::select! {
            changed = desired.changed() => {
                if changed.is_err() {
                    return;
                }
                source.set_queries((**desired.borrow_and_update()).clone());
            }
            changed = states.changed() => {
                if changed.is_err() {
                    return;
                }
                states.borrow_and_update();
                let p = pipeline.clone();
                // Snapshot building is CPU work under the pipeline's lock.
                let _ = tokio::task::spawn_blocking(move || p.refresh_cloud_map()).await;
            }
        }
    }
}

async fn start_source(feed: &CloudMapFeed) -> watch::Receiver<Arc<QueryStates>> {
    tracing::info!(
        endpoint = feed.settings.endpoint.as_deref().unwrap_or("AWS"),
        interval = ?feed.settings.config.interval,
        "a virtual node uses AWS Cloud Map: starting discovery"
    );
    let client = client_from_env(feed.settings.endpoint.clone()).await;
    let source = feed
        .source
        .get_or_init(|| CloudMapSource::spawn(feed.settings.config.clone(), client));
    source.subscribe()
}
