//! What the admin handlers read.

use std::sync::Arc;

use meshplane_xds::XdsServer;

use super::kubernetes::KubeStatusFn;
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
}
