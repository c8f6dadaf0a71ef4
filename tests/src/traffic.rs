//! The client side of the tests (the `e2e-client` binary runs these inside
//! an application's namespace, as a non-Envoy user, so its egress goes
//! through the Envoy like an application's would).

pub mod grpc;
pub mod http;
pub mod report;
pub mod stream;

pub use report::{Outcome, Summary};
