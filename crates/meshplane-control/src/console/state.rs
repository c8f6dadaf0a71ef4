//! What the console's handlers read: the admin state and who may look (its
//! own file, so that the handlers in `console/` and the router in
//! `console.rs` both use it without importing each other).

use std::sync::Arc;

use super::auth::ConsoleAuth;
use crate::admin::AdminState;

#[derive(Clone)]
pub struct ConsoleState {
    pub admin: AdminState,
    pub auth: Arc<ConsoleAuth>,
}
