//! Tests of the App Mesh control layer: the pipeline against the cache, the
//! authorizer through a real tonic client over loopback against the real
//! server, the admin server, and one real Envoy.
#![allow(clippy::unwrap_used)]

mod admin;
mod authorizer;
mod certificates;
mod cloud_map;
mod envoy;
mod incremental;
mod mtls;
mod pipeline;
mod support;
