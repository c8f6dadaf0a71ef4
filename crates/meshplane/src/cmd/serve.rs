//! `meshplane serve`: load App Mesh specs, serve every virtual node's Envoy
//! configuration over xDS (ADS), reload on file changes and SIGHUP, and run
//! the admin server. Every flag can also be set with its `MESHPLANE_*`
//! environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use meshplane_control::tls::TlsFiles;
use meshplane_control::{CloudMapSettings, Debounce, PipelineSettings, QuotaConfig, ServeConfig};
use meshplane_translate::TranslateOptions;

use super::load_args::LoadArgs;
use super::serve_api;
use super::serve_kube;
use super::Global;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Spec files or directories (repeatable; comma-separated in the
    /// variable). Their meshes are served and readable through the App Mesh
    /// API, not writable.
    #[arg(long = "config", env = "MESHPLANE_CONFIG", value_delimiter = ',')]
    pub config: Vec<PathBuf>,
    /// Where the App Mesh API listens (rest-json, SigV4 with the auth
    /// config's `accessKeys`). Default 127.0.0.1:9080 when there is a
    /// store; with --config and no --store the API (then read-only) runs
    /// only when this is given.
    #[arg(long, env = "MESHPLANE_API_LISTEN")]
    pub api_listen: Option<SocketAddr>,
    /// Where API-managed meshes live: `sqlite:PATH`, or
    /// `postgres://USER@HOST:PORT/DB?sslmode=require` for several replicas
    /// on one database (password from the URL, PGPASSWORD, or
    /// `?passfile=FILE`; `?sslrootcert=FILE` for the server's CA). Default:
    /// without --config, `sqlite:<data-dir>/meshplane.db`; with --config,
    /// none (the API then only reads the files' meshes).
    #[arg(long, env = "MESHPLANE_STORE")]
    pub store: Option<String>,
    /// With a store other replicas write too (PostgreSQL): the longest time
    /// between two checks for their writes, besides the wake-ups the
    /// database sends (which may be lost).
    #[arg(long, env = "MESHPLANE_STORE_POLL", value_parser = parse_duration, default_value = "5s")]
    pub store_poll: Duration,
    /// After a change of a watched file, how long the files must stay
    /// unchanged before the reload starts (a tool writing several files is
    /// seen as one change).
    #[arg(long, env = "MESHPLANE_RELOAD_DEBOUNCE", value_parser = parse_duration, default_value = "50ms")]
    pub reload_debounce: Duration,
    /// The longest a reload waits after the first change, however busy the
    /// files are (at least --reload-debounce).
    #[arg(long, env = "MESHPLANE_RELOAD_DEBOUNCE_MAX", value_parser = parse_duration, default_value = "250ms")]
    pub reload_debounce_max: Duration,
    /// Directory of the default store.
    #[arg(long, env = "MESHPLANE_DATA_DIR", default_value = "./meshplane-data")]
    pub data_dir: PathBuf,
    /// Where proxies connect (gRPC ADS). The default matches the bootstrap's
    /// default APPMESH_XDS_ENDPOINT.
    #[arg(long, env = "MESHPLANE_XDS_LISTEN", default_value = "127.0.0.1:15010")]
    pub xds_listen: SocketAddr,
    /// The admin HTTP server (/healthz, /readyz, /metrics, /debug/...). It has
    /// no authentication: keep it on loopback or a private network.
    #[arg(long, env = "MESHPLANE_ADMIN_LISTEN", default_value = "127.0.0.1:9902")]
    pub admin_listen: SocketAddr,
    /// Auth config (tokens, mTLS principal rules, policies); reloaded on change.
    #[arg(long, env = "MESHPLANE_AUTH_CONFIG")]
    pub auth_config: Option<PathBuf>,
    /// Directory with `certificates.yaml` (or .json) mapping the ACM
    /// certificate and ACM Private CA ARNs of the specs to PEM files; their
    /// material is served as SDS secrets over ADS to the proxies that use
    /// them, and re-read when it changes (rotation).
    #[arg(long, env = "MESHPLANE_CERTIFICATES", value_name = "DIR")]
    pub certificates: Option<PathBuf>,
    /// PEM certificate chain of the xDS port: turns TLS on (with --tls-key).
    /// Read again when the file changes.
    #[arg(long, env = "MESHPLANE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "MESHPLANE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA bundle for client certificates (mutual TLS); proxies may then
    /// authenticate with a certificate (see the auth config's `mtls`).
    #[arg(long, env = "MESHPLANE_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Serve proxies without authentication, even beyond loopback.
    #[arg(long, env = "MESHPLANE_INSECURE_NO_AUTH")]
    pub insecure_no_auth: bool,
    /// Close each xDS stream gracefully after this long (e.g. 30m, 1h), so
    /// proxies reconnect and spread over replicas. Default: never.
    #[arg(long, env = "MESHPLANE_MAX_STREAM_AGE", value_parser = parse_duration)]
    pub max_stream_age: Option<Duration>,
    /// Proxies that may stream one virtual node's configuration at once.
    #[arg(long, env = "MESHPLANE_PROXY_QUOTA", default_value_t = 50)]
    pub proxy_quota: usize,
    /// Quota for one resource: `<ARN or mesh/<m>/virtualNode/<n>>=<N>` (repeatable).
    #[arg(long, env = "MESHPLANE_PROXY_QUOTA_FOR", value_delimiter = ',')]
    pub proxy_quota_for: Vec<String>,
    /// Leave out App Mesh's default route retry policy.
    #[arg(long, env = "MESHPLANE_NO_DEFAULT_RETRY_POLICY")]
    pub no_default_retry_policy: bool,
    /// Serve DNS-discovered clusters exactly as App Mesh did, without
    /// meshplane's re-resolution, keepalive and connection-lifetime
    /// settings (docs/migrating-from-app-mesh.md). For comparison only.
    #[arg(long, env = "MESHPLANE_APP_MESH_DNS_CLUSTERS", hide = true)]
    pub app_mesh_dns_clusters: bool,
    /// Send AWS Cloud Map calls to this AWS-API-compatible URL instead of
    /// AWS (e.g. a VPC endpoint or a local test server). Credentials and
    /// region come from the default AWS chain either way.
    #[arg(long, env = "MESHPLANE_CLOUD_MAP_ENDPOINT")]
    pub cloud_map_endpoint: Option<String>,
    /// Time between two Cloud Map polls of a service (± 20 % jitter).
    #[arg(long, env = "MESHPLANE_CLOUD_MAP_INTERVAL", value_parser = parse_duration, default_value = "5s")]
    pub cloud_map_interval: Duration,
    /// Serve the App Mesh custom resources (appmesh.k8s.aws/v1beta2) of a
    /// Kubernetes cluster, watched live, and write their status back
    /// (docs/kubernetes.md). The cluster is found with --kubeconfig, else
    /// KUBECONFIG or ~/.kube/config, else the pod's service account.
    #[arg(long, env = "MESHPLANE_KUBERNETES")]
    pub kubernetes: bool,
    /// The kubeconfig of --kubernetes.
    #[arg(long, env = "MESHPLANE_KUBECONFIG", requires = "kubernetes")]
    pub kubeconfig: Option<PathBuf>,
    /// Watch only these namespaces (comma-separated; meshes are
    /// cluster-scoped and always watched). Default: all.
    #[arg(
        long,
        env = "MESHPLANE_KUBERNETES_NAMESPACES",
        value_delimiter = ',',
        requires = "kubernetes"
    )]
    pub kubernetes_namespaces: Vec<String>,
    /// Log filter: a level, or `target=level` pairs (e.g. `info,meshplane_xds=debug`).
    #[arg(long, env = "MESHPLANE_LOG", default_value = "info")]
    pub log: String,
    /// Parameter and import values are read once, at start, and kept for
    /// every reload. With --verbose, skipped documents are logged at info.
    #[command(flatten)]
    pub load: LoadArgs,
}

/// Where the App Mesh API listens when there is a store and no --api-listen.
const DEFAULT_API_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9080);

pub fn run(global: &Global, args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut filter = tracing_subscriber::filter::Targets::from_str(&args.log).context("--log")?;
    if args.load.verbose {
        // The skipped documents are logged by the reload pipeline at debug.
        filter = filter.with_target("meshplane_control::pipeline", tracing::Level::DEBUG);
    }
    {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        tracing_subscriber::registry()
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())),
            )
            .with(filter)
            .try_init()
            .ok();
    }
    let arn = global.arn_context();
    if args.proxy_quota == 0 {
        bail!("--proxy-quota must be at least 1");
    }
    let mut quota = QuotaConfig {
        default: args.proxy_quota,
        ..QuotaConfig::default()
    };
    for entry in &args.proxy_quota_for {
        let (resource, n) = entry
            .rsplit_once('=')
            .with_context(|| format!("--proxy-quota-for '{entry}': expected <ARN>=<N>"))?;
        let id = meshplane_spec::ResourceId::parse(resource.trim(), &arn)
            .with_context(|| format!("--proxy-quota-for '{entry}'"))?;
        let n: usize = n.trim().parse().ok().filter(|n| *n > 0).with_context(|| {
            format!("--proxy-quota-for '{entry}': the quota must be a positive integer")
        })?;
        quota.per_resource.insert(id.arn(&arn), n);
    }
    let load = args.load.options(arn.clone())?;
    let store = serve_api::open_store(args.store.as_deref(), &args.data_dir, &args.config)?;
    let late = std::sync::Arc::new(serve_api::Late::default());
    let (api, source) = serve_api::build(store, &args.config, &load, late.clone())?;
    // A file-only server keeps its old footprint unless the API is asked for.
    let api_listen = match args.api_listen {
        Some(addr) => Some(addr),
        None if args.config.is_empty() || args.store.is_some() => Some(DEFAULT_API_LISTEN),
        None => None,
    };
    let has_auth_config = args.auth_config.is_some();
    let kubernetes = args.kubernetes.then(|| meshplane_kube::KubeSettings {
        kubeconfig: args.kubeconfig.clone(),
        namespaces: args.kubernetes_namespaces.clone(),
        load: load.clone(),
    });
    let mut config = ServeConfig {
        pipeline: PipelineSettings {
            paths: args.config,
            load,
            translate: TranslateOptions {
                default_retry_policy: !args.no_default_retry_policy,
                app_mesh_dns_clusters: args.app_mesh_dns_clusters,
                arn,
                held_certificates: Default::default(),
            },
        },
        xds_listen: args.xds_listen,
        admin_listen: args.admin_listen,
        auth_config: args.auth_config,
        certificates: args.certificates,
        tls: match (args.tls_cert, args.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert,
                key,
                client_ca: args.tls_client_ca,
            }),
            _ => None,
        },
        insecure_no_auth: args.insecure_no_auth,
        max_stream_age: args.max_stream_age,
        quota,
        debounce: Debounce {
            quiet: args.reload_debounce,
            max: args.reload_debounce_max.max(args.reload_debounce),
        },
        reload_on_sighup: true,
        source: Some(source),
        more_sources: Vec::new(),
        kubernetes: None,
        allocator: crate::allocator::stats_reader(),
    };
    if let Some(url) = &args.cloud_map_endpoint {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            bail!("--cloud-map-endpoint '{url}': expected an http:// or https:// URL");
        }
    }
    let cloud_map = CloudMapSettings {
        endpoint: args.cloud_map_endpoint,
        ..CloudMapSettings::default()
    }
    .with_interval(args.cloud_map_interval);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let insecure_no_auth = config.insecure_no_auth;
    let store_poll = args.store_poll;
    runtime.block_on(async move {
        if let Some(settings) = kubernetes {
            let (source, status) = serve_kube::start(settings, late.clone()).await?;
            config.more_sources.push(source);
            config.kubernetes = Some(status);
        }
        // xDS first: its refusals (no authentication beyond loopback, bad
        // TLS files) are reported before the API port is even bound.
        let running = meshplane_control::start_with_cloud_map(config, cloud_map).await?;
        let listener = match api_listen {
            Some(addr) => Some(serve_api::bind(addr, has_auth_config, insecure_no_auth).await?),
            None => None,
        };
        let _ = late.trigger.set(running.trigger.clone());
        let _ = late.state.set(running.state.clone());
        // Other replicas' writes: followed once reloads can be asked for.
        meshplane_api::spawn_follower(&api, store_poll).context("starting the store follower")?;
        let api_task = listener.map(|listener| {
            if let Ok(addr) = listener.local_addr() {
                let tls = running.tls.is_some();
                tracing::info!(api = %addr, tls, "App Mesh API serving");
            }
            tokio::spawn(serve_api::serve(
                listener,
                api,
                running.state.clone(),
                running.tls.clone(),
            ))
        });
        stopped().await;
        if let Some(task) = api_task {
            task.abort();
        }
        tracing::info!("shutting down");
        // Streams end with status OK at once; the bound only covers a
        // connection that never acknowledges the close.
        running.stop();
        let _ = tokio::time::timeout(Duration::from_secs(10), running.wait()).await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Ctrl-C or SIGTERM.
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// `90s`, `30m`, `1h`, `500ms` (a bare number is seconds).
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n
        .parse()
        .map_err(|_| format!("'{s}' is not a duration (e.g. 90s, 30m, 1h)"))?;
    let d = match unit {
        "" | "s" => Duration::from_secs(n),
        "ms" => Duration::from_millis(n),
        "m" => Duration::from_secs(n * 60),
        "h" => Duration::from_secs(n * 3600),
        _ => return Err(format!("'{s}': unknown unit '{unit}' (use ms, s, m or h)")),
    };
    if d.is_zero() {
        return Err("the duration must be positive".to_owned());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("15"), Ok(Duration::from_secs(15)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5d").is_err());
        assert!(parse_duration("x").is_err());
    }
}
