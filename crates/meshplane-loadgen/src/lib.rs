//! Load generator for `meshplane serve`.
//!
//! It simulates N Envoy proxies, each on its own ADS stream (state of the
//! world or delta) and, as far as the file-descriptor limit allows, its own
//! HTTP/2 connection, like real Envoys. Each proxy subscribes like Envoy:
//! wildcard CDS, EDS by the names of its EDS clusters, wildcard LDS, RDS by
//! the route configuration names its listeners reference, and ACKs every
//! response (SotW: version and nonce; delta: nonce).
//!
//! It measures the time until every proxy holds its initial configuration,
//! then rewrites route files in the served spec directory and measures, per
//! affected proxy, the time from the write until the proxy ACKed the
//! resulting update (the server's file-watch debounce and reload included),
//! plus the server's RSS and CPU time from `/proc/<pid>` and the client's
//! own, so that a saturated client shows.
//!
//! - [`mesh_gen`]: a generated large mesh (CLI-JSON spec files) whose
//!   affected proxies for each route change are known in advance.
//! - [`spec_edit`]: an existing spec directory: its virtual nodes and the
//!   route files whose weights can be rewritten.
//! - [`proxy`]: the simulated Envoys.
//! - [`probe`]: `/proc` readings and the server's `/metrics`.
//! - [`setup`]: the server under load and the settings; [`change`]: one
//!   change and its fan-out; [`stats`]: percentiles.
//! - [`run`]: the measurement itself; [`report`]: the printed figures;
//!   [`summary`]: all of them in one table.
//! - [`restart`]: the reconnect storm (the server restarted under the
//!   synced proxies); `stuck`: the stuck period.
//! - [`api_change`]: changes made through the App Mesh API (`UpdateRoute`,
//!   SigV4-signed) instead of file writes.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod api_change;
pub mod change;
pub mod mesh_gen;
pub mod probe;
pub mod proxy;
pub mod report;
pub mod restart;
pub mod run;
pub mod setup;
pub mod spec_edit;
pub mod stats;
mod stuck;
pub mod summary;

pub use run::{
    run, run_scenarios, run_spread, Change, ChangeSource, RouteFiles, RunConfig, RunError,
    Scenarios, Target,
};
