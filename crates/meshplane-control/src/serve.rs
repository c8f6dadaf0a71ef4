//! Everything `meshplane serve` runs: the first reload, the xDS server, the
//! admin server, the event consumer and the reload triggers.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use meshplane_authz::{AccessControl, AuthConfig, ConfigError};
use meshplane_xds::{ServerConfig, SnapshotCache, XdsServer};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;

use crate::admin::{self, AdminState, KubeStatusFn};
use crate::authorizer::AppMeshAuthorizer;
use crate::changed_files::ChangedFiles;
use crate::cloud_map::{CloudMapFeed, CloudMapSettings};
use crate::console::{self, ConsoleAuth};
use crate::events;
use crate::metrics::AllocatorStatsFn;
use crate::pipeline::{ModelSource, Pipeline};
use crate::settings::{PipelineSettings, QuotaConfig};
use crate::state::ControlState;
use crate::tls::{tls_incoming, ReloadableTls, TlsConnInfo, TlsError, TlsFiles};
use crate::trigger::{self, ReloadTrigger};
use crate::watch::{reload_loop, sighup, watch_paths, Debounce, FileWatch};

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub pipeline: PipelineSettings,
    pub xds_listen: SocketAddr,
    pub admin_listen: SocketAddr,
    pub auth_config: Option<PathBuf>,
    /// ACM certificates and Private CAs held for the proxies
    /// ([`crate::certificates`]); watched like the specs.
    pub certificates: Option<PathBuf>,
    /// TLS on the xDS port (mutual TLS when a client CA is given).
    pub tls: Option<TlsFiles>,
    pub insecure_no_auth: bool,
    pub max_stream_age: Option<Duration>,
    pub quota: QuotaConfig,
    /// How long a file change waits for more before the reload.
    pub debounce: Debounce,
    /// Reload on SIGHUP (off in tests that run several servers in one process).
    pub reload_on_sighup: bool,
    /// Meshes of the App Mesh API's store, served beside the files'.
    pub source: Option<ModelSource>,
    /// Meshes of further sources (a Kubernetes cluster's App Mesh objects),
    /// served beside the files' and the store's.
    pub more_sources: Vec<ModelSource>,
    /// The Kubernetes source's status, for `/debug/kubernetes` and `/metrics`.
    pub kubernetes: Option<KubeStatusFn>,
    /// Reads the memory allocator's statistics for `/metrics` (the binary
    /// that chose the allocator gives it; none: no allocator gauges).
    pub allocator: Option<AllocatorStatsFn>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("refusing to serve xDS on {addr} without authentication: anyone who can reach it could read every proxy's configuration. Give --auth-config FILE (see docs/authentication.md), listen on loopback, or pass --insecure-no-auth to accept the risk")]
    Unauthenticated { addr: SocketAddr },
    #[error("--auth-config and --insecure-no-auth contradict each other; give one")]
    AuthContradiction,
    #[error("auth config: {0}")]
    AuthConfig(#[from] ConfigError),
    #[error("cannot listen on {addr} ({what}): {source}")]
    Bind {
        addr: SocketAddr,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("xDS TLS: {0}")]
    Tls(#[from] TlsError),
    #[error("cannot watch the spec paths: {0}")]
    Watch(#[from] notify::Error),
    #[error("the xDS server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// A started server. Dropping it stops every task.
#[derive(Debug)]
pub struct Running {
    pub xds_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub state: Arc<ControlState>,
    pub server: XdsServer,
    pub pipeline: Arc<Pipeline>,
    /// Reloads at once (the App Mesh API calls it after each commit).
    pub trigger: ReloadTrigger,
    /// The xDS port's certificate, reloaded when its files change (the App
    /// Mesh API serves the same one).
    pub tls: Option<Arc<ReloadableTls>>,
    shutdown: watch::Sender<bool>,
    xds_task: Option<JoinHandle<Result<(), tonic::transport::Error>>>,
    tasks: Vec<JoinHandle<()>>,
    _files: FileWatch,
}

impl Running {
    /// Wait until the xDS server stops (after [`Running::stop`] or a failure).
    pub async fn wait(mut self) -> Result<(), ServeError> {
        match self.xds_task.take() {
            Some(t) => match t.await {
                Ok(r) => r.map_err(ServeError::from),
                Err(_) => Ok(()),
            },
            None => Ok(()),
        }
    }

    /// End every open xDS stream with status OK (proxies reconnect at once,
    /// to another replica), refuse new ones, and close the listeners.
    /// [`Running::wait`] then returns without waiting for proxies to hang up.
    pub fn stop(&self) {
        self.server.close_all();
        let _ = self.shutdown.send(true);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.server.close_all();
        let _ = self.shutdown.send(true);
        for t in &self.tasks {
            t.abort();
        }
    }
}

fn access_control(config: &ServeConfig) -> Result<AccessControl, ServeError> {
    match (&config.auth_config, config.insecure_no_auth) {
        (Some(_), true) => Err(ServeError::AuthContradiction),
        (Some(path), false) => Ok(AccessControl::new(AuthConfig::from_file(path)?)),
        (None, true) => {
            tracing::warn!(
                addr = %config.xds_listen,
                "--insecure-no-auth: proxies are not authenticated; anyone who can reach the xDS port can read every proxy's configuration"
            );
            Ok(AccessControl::insecure_no_auth())
        }
        (None, false) if config.xds_listen.ip().is_loopback() => {
            tracing::info!(addr = %config.xds_listen, "no --auth-config: proxies on loopback are not authenticated");
            Ok(AccessControl::insecure_no_auth())
        }
        (None, false) => Err(ServeError::Unauthenticated {
            addr: config.xds_listen,
        }),
    }
}

/// Backlog of the listening sockets: thousands of Envoys reconnect at once
/// after a restart, and a full accept queue makes each refused one wait a
/// second before retrying (the kernel caps it at `net.core.somaxconn`).
const LISTEN_BACKLOG: u32 = 4096;

async fn bind(addr: SocketAddr, what: &'static str) -> Result<TcpListener, ServeError> {
    let bind = || {
        let socket = if addr.is_ipv4() {
            tokio::net::TcpSocket::new_v4()
        } else {
            tokio::net::TcpSocket::new_v6()
        }?;
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(LISTEN_BACKLOG)
    };
    bind().map_err(|source| ServeError::Bind { addr, what, source })
}

/// Start serving. The first reload has finished when this returns (the
/// server is ready if it succeeded; otherwise `/readyz` says why not).
/// Cloud Map, if a node uses it, is reached with the default settings.
pub async fn start(config: ServeConfig) -> Result<Running, ServeError> {
    start_with_cloud_map(config, CloudMapSettings::default()).await
}

/// [`start`], with these Cloud Map settings (endpoint, interval).
pub async fn start_with_cloud_map(
    config: ServeConfig,
    cloud_map: CloudMapSettings,
) -> Result<Running, ServeError> {
    let access = access_control(&config)?;
    let tls = match &config.tls {
        Some(files) => Some(Arc::new(ReloadableTls::load(files.clone())?)),
        None => None,
    };
    let tls_peer: Option<meshplane_xds::server::TlsPeerFn> = tls.as_ref().map(|_| {
        Arc::new(|ext: &tonic::Extensions| ext.get::<TlsConnInfo>().and_then(|c| c.peer.clone()))
            as meshplane_xds::server::TlsPeerFn
    });
    let state = ControlState::new(config.pipeline.load.arn.clone(), access);
    let feed = CloudMapFeed::new(cloud_map);
    state.set_cloud_map(feed.clone());
    let cache = SnapshotCache::new();
    let authorizer = AppMeshAuthorizer::new(state.clone(), config.quota.clone());
    let server = XdsServer::new(
        cache.clone(),
        authorizer,
        ServerConfig {
            max_streams_per_key: config.quota.default,
            max_stream_age: config.max_stream_age,
            tls_peer,
            ..ServerConfig::default()
        },
    );
    let mut pipeline = Pipeline::new(config.pipeline.clone(), cache, state.clone())
        .with_streams(server.registry().clone());
    if let Some(path) = &config.auth_config {
        pipeline = pipeline.with_auth_config(path.clone());
    }
    if let Some(dir) = &config.certificates {
        pipeline = pipeline.with_certificates(dir.clone());
    }
    if let Some(source) = &config.source {
        pipeline = pipeline.with_source(source.clone());
    }
    for source in &config.more_sources {
        pipeline = pipeline.with_source(source.clone());
    }
    // What the file watch saw change, so a reload reads those files alone.
    let changed_files = Arc::new(ChangedFiles::new());
    let pipeline = Arc::new(pipeline.with_changed_files(changed_files.clone()));

    let xds_listener = bind(config.xds_listen, "xDS").await?;
    let admin_listener = bind(config.admin_listen, "admin").await?;
    let xds_addr = xds_listener
        .local_addr()
        .map_err(|source| ServeError::Bind {
            addr: config.xds_listen,
            what: "xDS",
            source,
        })?;
    let admin_addr = admin_listener
        .local_addr()
        .map_err(|source| ServeError::Bind {
            addr: config.admin_listen,
            what: "admin",
            source,
        })?;
    if !admin_addr.ip().is_loopback() {
        tracing::warn!(addr = %admin_addr, "the admin server has no authentication and shows every proxy's configuration; keep it off untrusted networks");
    }

    // Watch before the first load so that no change slips between them.
    let mut watched = config.pipeline.paths.clone();
    watched.extend(config.auth_config.iter().cloned());
    watched.extend(config.certificates.iter().cloned());
    watched.extend(config.tls.iter().flat_map(TlsFiles::paths));
    let (tx, rx) = mpsc::unbounded_channel();
    let files = watch_paths(&watched, changed_files, tx.clone())?;

    let first = pipeline.clone();
    let _ = tokio::task::spawn_blocking(move || first.reload()).await;

    let mut tasks = vec![
        events::spawn_consumer(&server, state.clone()),
        tokio::spawn(crate::cloud_map_task::run(feed, pipeline.clone())),
        tokio::spawn(reload_loop(
            pipeline.clone(),
            tls.clone(),
            rx,
            config.debounce,
        )),
    ];
    if config.reload_on_sighup {
        tasks.push(tokio::spawn(sighup(tx)));
    }
    let (trigger, trigger_task) = trigger::spawn(pipeline.clone());
    tasks.push(trigger_task);

    let (shutdown, shutdown_rx) = watch::channel(false);
    let admin_state = AdminState {
        control: state.clone(),
        server: server.clone(),
        pipeline: Some(pipeline.clone()),
        source: config.source.clone(),
        kubernetes: config.kubernetes.clone(),
        allocator: config.allocator.clone(),
    };
    // The web console reads the admin state; it is served beside /debug.
    let admin_router = admin::router(admin_state.clone()).merge(console::router(
        admin_state,
        ConsoleAuth::new(admin_addr.ip().is_loopback()),
    ));
    let mut admin_stop = shutdown_rx.clone();
    tasks.push(tokio::spawn(async move {
        let stopped = async move {
            let _ = admin_stop.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(admin_listener, admin_router)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::error!(error = %e, "admin server failed");
        }
    }));
    let routes = server.routes();
    let mut xds_stop = shutdown_rx;
    let stopped = async move {
        let _ = xds_stop.wait_for(|s| *s).await;
    };
    let builder = tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .add_routes(routes);
    let api_tls = tls.clone();
    let xds_task = match tls {
        Some(tls) => {
            let incoming = tls_incoming(xds_listener, tls);
            tokio::spawn(async move {
                builder
                    .serve_with_incoming_shutdown(incoming, stopped)
                    .await
            })
        }
        None => {
            let incoming = TcpListenerStream::new(xds_listener);
            tokio::spawn(async move {
                builder
                    .serve_with_incoming_shutdown(incoming, stopped)
                    .await
            })
        }
    };
    tracing::info!(xds = %xds_addr, admin = %admin_addr, "meshplane serving");
    Ok(Running {
        xds_addr,
        admin_addr,
        state,
        server,
        pipeline,
        trigger,
        tls: api_tls,
        shutdown,
        xds_task: Some(xds_task),
        tasks,
        _files: files,
    })
}
