//! End-to-end tests of the xDS server: a real tonic client over loopback TCP
//! against the server spawned in-process.
#![allow(clippy::unwrap_used)]

mod admission;
mod delta;
mod envoy;
mod events;
mod resources;
mod sotw;
mod support;
