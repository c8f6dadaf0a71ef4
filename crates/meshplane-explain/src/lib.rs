//! Where a request goes through a proxy's served Envoy configuration, and
//! what a change of App Mesh specs does to the configuration of every proxy.
//!
//! Both work on the proto3 JSON of the served resources (the shape of
//! `meshplane render` and of Envoy's `/config_dump`) and on the provenance
//! of each Envoy resource (the App Mesh resources and spec lines behind it).
//!
//! [`explain()`] follows a [`Request`] the way Envoy matches it: listener
//! (`listener`: filter chain match order destination port, destination IP,
//! server name, transport protocol, application protocols), HTTP route
//! configuration (`vhost`: domain matching; `route_match`: routes in order
//! with every match kind), route action (`action`: clusters, weights,
//! rewrites, timeout, retries), cluster (`cluster`: endpoints, TLS, outlier
//! detection), and a loopback cluster back into one of the proxy's own
//! listeners (a virtual gateway's self-redirect) as one more hop.
//! [`diff`] compares resources per proxy and flags risky changes (`risk`).
//!
//! Architecture invariant: no IO, no clock, no App Mesh or protobuf types:
//! the caller hands in JSON and sources, so files, stores and a running
//! server's dump are explained the same way.

pub mod action;
pub mod cluster;
pub mod diff;
pub mod explain;
pub mod listener;
pub mod request;
pub mod risk;
pub mod route_match;
pub mod served;
pub mod text;
pub mod vhost;

pub use diff::{diff_proxies, json_diff, ProxyDiff, ResourceChange};
pub use explain::{explain, Explanation, Hop};
pub use request::{Request, RequestError};
pub use served::{ServedProxy, Source};
