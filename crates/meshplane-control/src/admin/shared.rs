//! What the admin handlers read.

use std::sync::Arc;

use meshplane_kube::KubeStatus;
use meshplane_xds::XdsServer;

use crate::metrics::AllocatorStatsFn;
use crate::pipeline::ModelSource;
use crate::pipeline::Pipeline;
use crate::state::ControlState;

/// What the handlers read.
#[derive(Clone)]
pub struct AdminState {
    pub control: Arc<ControlState>,
    pub server: XdsServer,
    /// For `/debug/diff` (a spec set compared with the served one).
    pub pipeline: Option<Arc<Pipeline>>,
    /// The API's store, when there is one (`/debug/store`).
    pub source: Option<ModelSource>,
    /// The Kubernetes source's status, when it runs (`/debug/kubernetes`).
    pub kubernetes: Option<KubeStatusFn>,
    /// The memory allocator's statistics, when the binary can read them
    /// (`/metrics`' `meshplane_allocator_*` gauges).
    pub allocator: Option<AllocatorStatsFn>,
}

/// Reads the Kubernetes source's status (`meshplane_kube::KubeSource::status`).
#[derive(Clone)]
pub struct KubeStatusFn(pub Arc<dyn Fn() -> KubeStatus + Send + Sync>);

impl std::fmt::Debug for KubeStatusFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KubeStatusFn")
    }
}
