//! The gRPC side: [`XdsServer`] serves the snapshot cache over ADS and the
//! per-type discovery services, state of the world and delta.
//!
//! Files, in the order they depend on each other (each uses only files
//! listed before it): `request_type`, `stream_state`, `stream_loop`,
//! `schedule`, `xds_server` (the shared handle and its settings),
//! `sotw` and `delta` (the two protocols), `session` (admission),
//! `open` (a stream of either protocol), `grpc_frames` (a response body
//! that frames each response in a buffer of its own size), `ads_service`
//! (ADS with small per-stream buffers), `services` (the per-type services and the routes).
//! `fuzzing` (feature `fuzzing`) drives one stream without gRPC.

mod ads_service;
mod delta;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod grpc_frames;
mod open;
mod request_type;
mod responses;
mod schedule;
mod services;
mod session;
mod sotw;
mod stream_loop;
mod stream_state;
mod xds_server;

pub use xds_server::{ServerConfig, TlsPeerFn, XdsServer};
