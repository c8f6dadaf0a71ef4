//! What the admin handlers read.

use std::sync::Arc;

use meshplane_xds::XdsServer;

use crate::state::ControlState;

/// What the handlers read.
#[derive(Clone)]
pub struct AdminState {
    pub control: Arc<ControlState>,
    pub server: XdsServer,
}
