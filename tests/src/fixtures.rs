//! Topologies several scenarios (and the demo) share.

pub mod apps_api;
pub mod tls;

use std::path::PathBuf;

use crate::harness::binaries::workspace_root;
use crate::harness::envoy::Sidecar;
use crate::harness::specs::copy_dir;
use crate::{Binaries, Topology};

/// The URL serviceA's application calls.
pub const SERVICE_B_URL: &str = "http://serviceb.apps.local/";

/// The getting-started mesh of `config/examples/apps/cli-json`: serviceA,
/// serviceB and serviceBv2, each in its namespace with its Envoy and an
/// HTTP backend on port 80; meshplane serving a copy of the specs (or, from
/// [`AppsMesh::start_api`], the same mesh written through its API).
pub struct AppsMesh {
    pub t: Topology,
    /// The spec copy meshplane serves (edit it to change the mesh); with the
    /// API, the example files the mesh was created from.
    pub specs: PathBuf,
    /// Whether meshplane holds the mesh in its store (API) or in files.
    pub api: bool,
}

impl AppsMesh {
    pub fn start(label: &str, bins: Binaries) -> anyhow::Result<AppsMesh> {
        let mut t = Topology::new(label, bins)?;
        let specs = t.path("specs");
        copy_dir(
            &workspace_root().join("config/examples/apps/cli-json"),
            &specs,
        )?;
        t.start_control(std::slice::from_ref(&specs))?;
        start_apps(&mut t)?;
        Ok(AppsMesh {
            t,
            specs,
            api: false,
        })
    }

    /// The route file of serviceB's virtual router.
    pub fn route_file(&self) -> PathBuf {
        self.specs.join("route-serviceB.json")
    }
}

/// The three applications of the getting-started mesh, their hosts-file
/// names, backends and Envoys; waits until the Envoys are ready.
pub fn start_apps(t: &mut Topology) -> anyhow::Result<()> {
    start_apps_with(t, |_| Vec::new())
}

/// [`start_apps`], each Envoy with the extra environment variables
/// `env(node)` gives (e.g. `APPMESH_XDS_ENDPOINT` listing several replicas).
pub fn start_apps_with(
    t: &mut Topology,
    env: impl Fn(&str) -> Vec<(String, String)>,
) -> anyhow::Result<()> {
    for node in ["serviceA", "serviceB", "serviceBv2"] {
        let ip = t.add_app(node)?;
        // The virtual node's DNS service discovery name.
        t.add_host(&format!("{node}.apps.local"), ip)?;
    }
    // Virtual service names only need to resolve to a routable address
    // (the Envoy intercepts the connection): App Mesh users point them
    // at any IP. Here: the provider's namespace.
    let a = t.app("serviceA")?.ip;
    let b = t.app("serviceB")?.ip;
    t.add_host("servicea.apps.local", a)?;
    t.add_host("serviceb.apps.local", b)?;
    for node in ["serviceA", "serviceB", "serviceBv2"] {
        t.start_http_backend(node, node, 80)?;
        let mut sidecar = Sidecar::node("apps", node, &[80]);
        sidecar.env = env(node);
        t.start_envoy(node, &sidecar)?;
    }
    t.wait_envoys_ready()
}

/// The URL base the routing scenarios call from `client`.
pub const API_URL: &str = "http://api.routing.local:8080";

/// `tests/specs/routing`: `client` calls `api.routing.local:8080`, whose
/// router picks v1..v4 (HTTP backends on 8080) by header, method, query,
/// path; `/explicit-retry` has its own retry policy, `/slow` a 1 s timeout.
pub fn routing(label: &str, bins: Binaries) -> anyhow::Result<Topology> {
    routing_with_env(label, bins, &[])
}

/// [`routing`] with extra environment variables for `meshplane serve`.
pub fn routing_with_env(
    label: &str,
    bins: Binaries,
    control_env: &[(&str, &str)],
) -> anyhow::Result<Topology> {
    let mut t = Topology::new(label, bins)?;
    t.control_env = control_env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let specs = t.path("specs");
    copy_dir(&workspace_root().join("tests/specs/routing"), &specs)?;
    t.start_control(std::slice::from_ref(&specs))?;
    t.add_app("client")?;
    for v in ["v1", "v2", "v3", "v4"] {
        let ip = t.add_app(v)?;
        t.add_host(&format!("{v}.routing.local"), ip)?;
    }
    let v1 = t.app("v1")?.ip;
    t.add_host("api.routing.local", v1)?;
    // A name no virtual service has, on the router's port.
    t.add_host("unknown.routing.local", v1)?;
    for v in ["v1", "v2", "v3", "v4"] {
        t.start_http_backend(v, v, 8080)?;
        t.start_envoy(v, &Sidecar::node("routing", v, &[8080]))?;
    }
    t.start_envoy("client", &Sidecar::node("routing", "client", &[]))?;
    t.wait_envoys_ready()?;
    Ok(t)
}

/// `tests/specs/tcp` (mesh `tcp`, `ALLOW_ALL`): `app` has backends
/// `db.tcp.local:5432` (TCP node `db` with its own Envoy) and
/// `alpha.tls.local` / `beta.tls.local`, two TLS servers on 443 modelled as
/// TCP nodes without Envoys (like external services). `outside` runs an
/// unmodelled TCP server on `outside.tcp.local:7000`.
pub struct TcpMesh {
    pub t: Topology,
    pub specs: PathBuf,
    pub pki: crate::harness::certs::Pki,
}

impl TcpMesh {
    pub fn start(label: &str, bins: Binaries) -> anyhow::Result<TcpMesh> {
        let mut t = Topology::new(label, bins)?;
        let specs = t.path("specs");
        copy_dir(&workspace_root().join("tests/specs/tcp"), &specs)?;
        t.start_control(std::slice::from_ref(&specs))?;
        let pki = crate::harness::certs::write_pki(
            &t.path("pki"),
            &["alpha.tls.local", "beta.tls.local"],
        )?;
        t.add_app("app")?;
        for (app, host) in [
            ("db", "db.tcp.local"),
            ("alpha", "alpha.tls.local"),
            ("beta", "beta.tls.local"),
            ("outside", "outside.tcp.local"),
        ] {
            let ip = t.add_app(app)?;
            t.add_host(host, ip)?;
        }
        t.start_tcp_backend("db", "db", 5432)?;
        t.start_tcp_backend("outside", "outside", 7000)?;
        for name in ["alpha", "beta"] {
            t.start_tls_backend(name, name, 443, &format!("{name}.tls.local"), &pki)?;
        }
        t.start_envoy("db", &Sidecar::node("tcp", "db", &[5432]))?;
        t.start_envoy("app", &Sidecar::node("tcp", "app", &[]))?;
        t.wait_envoys_ready()?;
        Ok(TcpMesh { t, specs, pki })
    }
}

/// The gRPC virtual service the gRPC scenario calls from `client`.
pub const GREETER_URL: &str = "http://greeter.grpc.local:50051";

/// `tests/specs/grpc`: `client` calls `greeter.grpc.local:50051`, whose
/// router picks g1 or g2 (gRPC backends on 50051) by service, method and
/// metadata.
pub fn grpc(label: &str, bins: Binaries) -> anyhow::Result<Topology> {
    let mut t = Topology::new(label, bins)?;
    let specs = t.path("specs");
    copy_dir(&workspace_root().join("tests/specs/grpc"), &specs)?;
    t.start_control(std::slice::from_ref(&specs))?;
    t.add_app("client")?;
    for g in ["g1", "g2"] {
        let ip = t.add_app(g)?;
        t.add_host(&format!("{g}.grpc.local"), ip)?;
    }
    let g1 = t.app("g1")?.ip;
    t.add_host("greeter.grpc.local", g1)?;
    for g in ["g1", "g2"] {
        t.start_http_backend(g, g, 50051)?;
        t.start_envoy(g, &Sidecar::node("grpc", g, &[50051]))?;
    }
    t.start_envoy("client", &Sidecar::node("grpc", "client", &[]))?;
    t.wait_envoys_ready()?;
    Ok(t)
}
