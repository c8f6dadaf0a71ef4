//! The App Mesh control layer of `meshplane serve`.
//!
//! It ties the pure pieces to the xDS server:
//! - [`pipeline`]: load and validate every spec file, translate every virtual
//!   node, build one [`meshplane_xds::Snapshot`] per proxy and set it in the
//!   cache. A spec set with errors is reported and the last good snapshots
//!   keep being served; a mesh whose specs did not change is not translated
//!   again, and the cache wakes only proxies whose resources changed.
//! - [`authorizer`]: the [`meshplane_xds::Authorizer`] of App Mesh proxies:
//!   `node.id` is the resource ARN (full or short), credentials are checked
//!   with [`meshplane_authz`], and the proxy quota is per virtual node.
//! - [`events`] and [`metrics`]: every NACK logged and mapped back to the App
//!   Mesh resources and spec files, counters for `/metrics`.
//! - [`admin`]: the admin HTTP server (`/healthz`, `/readyz`, `/metrics`,
//!   `/debug/*`).
//! - [`certificates`]: the ACM certificates and Private CAs meshplane holds,
//!   served as SDS secrets over ADS to the proxies that use them.
//! - [`tls`]: TLS and mutual TLS on the xDS port, certificates reloaded.
//! - [`cloud_map`]: AWS Cloud Map instances as the endpoints of the EDS
//!   clusters that name them, pushed when they change.
//! - [`watch`]: reload on file changes (debounced) and on SIGHUP;
//!   [`trigger`]: reload at once when the App Mesh API commits a write.
//! - [`serve`]: everything above started together.
//!
//! Architecture invariant: the xDS server never sees App Mesh types; this
//! crate is the only place where App Mesh identities become proxy keys.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod admin;
pub mod authorizer;
pub mod certificates;
pub mod changed_files;
mod clock;
pub mod cloud_map;
pub mod cloud_map_task;
pub mod console;
pub mod events;
pub mod metrics;
pub mod nack_trace;
pub mod nacks;
pub mod pipeline;
pub mod provenance;
pub mod reload_diff;
pub mod serve;
pub mod served;
pub mod served_translation;
pub mod settings;
pub mod state;
pub mod tls;
pub mod trigger;
pub mod watch;

pub use admin::KubeStatusFn;
pub use authorizer::AppMeshAuthorizer;
pub use cloud_map::{CloudMapFeed, CloudMapSettings};
pub use metrics::{AllocatorStats, AllocatorStatsFn};
pub use pipeline::{ModelSource, Pipeline, SourceStatus};
pub use serve::{start, start_with_cloud_map, Running, ServeConfig, ServeError};
pub use served::{Served, ServedProxy};
pub use served_translation::ServedTranslation;
pub use settings::{PipelineSettings, QuotaConfig};
pub use state::{ControlState, ReloadReport};
pub use trigger::ReloadTrigger;
pub use watch::Debounce;
