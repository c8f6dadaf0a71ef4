//! The App Mesh API beside `meshplane serve`: opening the store, checking
//! it against the files, and serving the API on `--api-listen`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::{bail, Context};
use meshplane_api::{Api, FileMeshes};
use meshplane_control::{ControlState, ModelSource, ReloadTrigger, Served, SourceStatus};
use meshplane_load::{load_paths, LoadOptions};
use meshplane_spec::{MeshGraph, MeshModel};
use meshplane_store::{NoStore, Store};

/// The store a server uses: `--store`, else (without `--config`) the data
/// directory's database, else none (the files' meshes, read-only).
pub fn open_store(
    store: Option<&str>,
    data_dir: &Path,
    config: &[PathBuf],
) -> anyhow::Result<Arc<dyn Store>> {
    match store {
        Some(url) => Ok(meshplane_store::open(url)?),
        None if config.is_empty() => {
            let url = format!("sqlite:{}", data_dir.join("meshplane.db").display());
            Ok(meshplane_store::open(&url)?)
        }
        None => Ok(Arc::new(NoStore)),
    }
}

/// What the control layer fills in once it runs.
#[derive(Default)]
pub struct Late {
    pub trigger: OnceLock<ReloadTrigger>,
    pub state: OnceLock<Arc<ControlState>>,
}

/// The API over `store`; a mesh both in the store and in the `--config`
/// files is refused, naming both.
pub fn build(
    store: Arc<dyn Store>,
    config: &[PathBuf],
    load: &LoadOptions,
    late: Arc<Late>,
) -> anyhow::Result<(Arc<Api>, ModelSource)> {
    let location = store.location();
    let api = Api::new(store, load.arn.clone()).map_err(anyhow::Error::msg)?;
    if !config.is_empty() {
        let loaded = load_paths(config, load);
        let both: Vec<String> = api
            .mesh_names()
            .into_iter()
            .filter(|m| loaded.model.meshes.contains_key(m))
            .collect();
        if !both.is_empty() {
            bail!(
                "mesh(es) {} defined both in the spec files ({}) and in the store {location}; keep each mesh in one place (remove it from the files, or delete it through the API)",
                both.iter().map(|m| format!("'{m}'")).collect::<Vec<_>>().join(", "),
                paths(config)
            );
        }
    }
    let on_commit = late.clone();
    let mut api = api.with_on_commit(Arc::new(move || {
        if let Some(t) = on_commit.trigger.get() {
            t.reload();
        }
    }));
    if !config.is_empty() {
        let (all, one) = (late.clone(), late.clone());
        api = api.with_files(FileMeshes {
            paths: paths(config),
            model: Arc::new(move || {
                let mut model = MeshModel::default();
                if let Some(served) = all.state.get().and_then(|s| s.served()) {
                    for (name, graph) in &served.model.meshes {
                        if from_files(&served, graph) {
                            model.meshes.insert(name.clone(), graph.clone());
                        }
                    }
                }
                model
            }),
            mesh: Arc::new(move |name: &str| {
                let served = one.state.get().and_then(|s| s.served())?;
                let graph = served.model.mesh(name)?;
                from_files(&served, graph).then(|| graph.clone())
            }),
        });
    }
    let api = Arc::new(api);
    let reader = api.clone();
    let status = api.store_status_handle();
    let status_location = location.clone();
    let source = ModelSource {
        location,
        model: Arc::new(move || reader.model()),
        status: Some(Arc::new(move || {
            let v = status.view();
            SourceStatus {
                location: status_location.clone(),
                up: v.up,
                applied_revision: v.applied_revision,
                database_revision: v.database_revision,
                lag: v.lag,
                notifications: v.notifications,
                catch_ups: v.catch_ups,
                listen_connections: v.listen_connections,
                listening: v.listening,
                errors: v.errors,
                last_error: v.last_error,
            }
        })),
    };
    Ok((api, source))
}

/// Whether a served mesh came from the files: its resources have origins
/// (the store's have none).
fn from_files(served: &Served, graph: &MeshGraph) -> bool {
    graph
        .resource_ids()
        .iter()
        .any(|id| served.origins.get(id).is_some())
}

fn paths(config: &[PathBuf]) -> String {
    config
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Binds `--api-listen`, refusing a non-loopback address without an auth
/// config unless `--insecure-no-auth` was given.
pub async fn bind(
    addr: SocketAddr,
    has_auth_config: bool,
    insecure_no_auth: bool,
) -> anyhow::Result<tokio::net::TcpListener> {
    if !has_auth_config && !addr.ip().is_loopback() && !insecure_no_auth {
        bail!("refusing to serve the App Mesh API on {addr} without authentication: anyone who can reach it could change every mesh. Give --auth-config FILE with `accessKeys` (see docs/authentication.md), listen on loopback, or pass --insecure-no-auth to accept the risk");
    }
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (App Mesh API)"))
}

/// Serves the API (over TLS when the xDS port has a certificate).
pub async fn serve(
    listener: tokio::net::TcpListener,
    api: Arc<Api>,
    state: Arc<ControlState>,
    tls: Option<Arc<meshplane_control::tls::ReloadableTls>>,
) {
    let access: meshplane_api::AccessFn = Arc::new(move || state.access());
    let router = meshplane_api::router(api, access);
    let served = match tls {
        Some(tls) => match super::serve_api_tls::TlsListener::new(listener, tls) {
            Ok(listener) => axum::serve(listener, router).await,
            Err(e) => Err(e),
        },
        None => axum::serve(listener, router).await,
    };
    if let Err(e) = served {
        tracing::error!(error = %e, "App Mesh API server failed");
    }
}
