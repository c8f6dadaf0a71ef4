//! `serve --kubernetes`: the cluster's App Mesh objects as a source of the
//! reload pipeline. Each time the objects resolve to a different model the
//! pipeline reloads at once (through the same trigger the App Mesh API uses).

use std::sync::Arc;

use anyhow::Context;
use meshplane_control::{KubeStatusFn, ModelSource};
use meshplane_kube::KubeSettings;

use super::serve_api::Late;

/// The source, and its status for the admin server.
pub async fn start(
    settings: KubeSettings,
    late: Arc<Late>,
) -> anyhow::Result<(ModelSource, KubeStatusFn)> {
    let on_change = Arc::new(move || {
        if let Some(t) = late.trigger.get() {
            t.reload();
        }
    });
    let source = meshplane_kube::start(settings, on_change)
        .await
        .context("--kubernetes")?;
    tracing::info!(source = %source.location(), "following the App Mesh objects of the Kubernetes cluster");
    let reader = source.clone();
    let model = ModelSource {
        location: source.location(),
        model: Arc::new(move || reader.model()),
        status: None,
    };
    Ok((model, KubeStatusFn(Arc::new(move || source.status()))))
}
