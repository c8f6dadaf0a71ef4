//! AWS Cloud Map discovery for meshplane: the instances of the services
//! App Mesh virtual nodes name in `serviceDiscovery.awsCloudMap`, served to
//! proxies as EDS endpoints, as App Mesh did.
//!
//! # Using it (the serve pipeline)
//!
//! ```no_run
//! # async fn demo(translations: Vec<meshplane_translate::Translation>) {
//! use std::collections::BTreeSet;
//! use meshplane_cloudmap::{client_from_env, endpoints_for, CloudMapConfig, CloudMapSource, QueryKey};
//!
//! // Once, at start (`--cloud-map-endpoint URL` gives Some(url)).
//! let source = CloudMapSource::spawn(CloudMapConfig::default(), client_from_env(None).await);
//! let mut states = source.subscribe();
//!
//! // After each (re)translation: every proxy's queries, merged.
//! let keys: BTreeSet<QueryKey> = translations
//!     .iter()
//!     .flat_map(|t| t.cloud_map.values().map(QueryKey::of))
//!     .collect();
//! source.set_queries(keys); // never blocks
//!
//! // Whenever `states.changed()` fires (and after each retranslation):
//! let now = states.borrow_and_update().clone();
//! for t in &translations {
//!     for (cluster, query) in &t.cloud_map {
//!         match now.get(&QueryKey::of(query)).and_then(|s| endpoints_for(query, s, cluster)) {
//!             Some(assignment) => { /* replace the cluster's ClusterLoadAssignment */ let _ = assignment; }
//!             None => { /* nothing known yet: keep the empty (or last) one */ }
//!         }
//!     }
//! }
//! // `/metrics`, `/debug`: source.metrics() (a plain struct).
//! # }
//! ```
//!
//! # What it does
//!
//! - One poller per Cloud Map service (namespace + name), shared by every
//!   query of that service and every proxy: each poll is one
//!   `DiscoverInstancesRevision` call (skipped when every query of the
//!   service is due for its full refresh); `DiscoverInstances` (with the query's
//!   attributes as `QueryParameters`, `HealthStatus=HEALTHY`,
//!   `MaxResults=1000`) is called only for queries whose revision moved,
//!   that were never read, that failed since, or whose last read is older
//!   than [`CloudMapConfig::full_refresh`] (30 s): Cloud Map's revision does
//!   not move on health status changes, so those are seen within that time.
//!   Servers without `DiscoverInstancesRevision` get `DiscoverInstances`
//!   every poll.
//! - Polls every [`CloudMapConfig::interval`] (5 s) ± 20 % jitter; after
//!   failures the wait doubles up to [`CloudMapConfig::max_backoff`].
//! - Healthy instances only: App Mesh's guide promises nothing else and an
//!   unhealthy instance is not a destination. (Instances of services
//!   without health checks count as healthy in Cloud Map.)
//! - Safety: a failed call (network, throttling, credentials, unknown
//!   service) keeps the last instances and is recorded in the query's
//!   state, the metrics and the log. A query's instances become empty only
//!   when Cloud Map answered with no healthy instance (logged as a
//!   warning). A query never answered has `instances: None`, and
//!   [`endpoints_for`] returns `None` for it.
//! - Addresses: `AWS_INSTANCE_IPV4` / `AWS_INSTANCE_IPV6` by the IP
//!   preference (see [`endpoints`]); port `AWS_INSTANCE_PORT`, else the
//!   listener port of the query.
//!
//! Layout: [`query`] the keys and states, [`source`] the source and its
//! supervisor, `poller` the per-service loop, `api` the two calls and
//! their error kinds, [`endpoints`] the EDS rendering, [`config`] timings,
//! [`client`] the SDK client, [`metrics`] the counters.

mod api;
pub mod client;
pub mod config;
pub mod endpoints;
pub mod metrics;
mod poller;
pub mod query;
mod shared;
pub mod source;

pub use api::{CallError, CallErrorKind};
pub use aws_sdk_servicediscovery::Client;
pub use client::client_from_env;
pub use config::CloudMapConfig;
pub use endpoints::{address_for, endpoints_for};
pub use metrics::{CloudMapMetrics, QueryMetrics, ServiceMetrics};
pub use query::{DiscoveredInstance, QueryKey, QueryState, QueryStates};
pub use source::CloudMapSource;
