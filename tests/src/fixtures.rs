//! Topologies several scenarios (and the demo) share.

use std::path::PathBuf;

use crate::harness::binaries::workspace_root;
use crate::harness::envoy::Sidecar;
use crate::harness::specs::copy_dir;
use crate::{Binaries, Topology};

/// The URL serviceA's application calls.
pub const SERVICE_B_URL: &str = "http://serviceb.apps.local/";

/// The getting-started mesh of `config/examples/apps/cli-json`: serviceA,
/// serviceB and serviceBv2, each in its namespace with its Envoy and an
/// HTTP backend on port 80; meshplane serving a copy of the specs.
pub struct AppsMesh {
    pub t: Topology,
    /// The spec copy meshplane serves (edit it to change the mesh).
    pub specs: PathBuf,
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
            t.start_envoy(node, &Sidecar::node("apps", node, &[80]))?;
        }
        t.wait_envoys_ready()?;
        Ok(AppsMesh { t, specs })
    }

    /// The route file of serviceB's virtual router.
    pub fn route_file(&self) -> PathBuf {
        self.specs.join("route-serviceB.json")
    }
}
