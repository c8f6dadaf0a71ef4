//! What meshplane's tests share, so that each test does not grow its own
//! copy: where the external programs are ([`binaries`]), child processes
//! killed on drop ([`process`]), loopback ports held until the child binds
//! them ([`ports`]), readiness waits ([`wait`]), a real Envoy run against a
//! test's control plane ([`envoy`]) and the `envoy --mode validate` check of
//! a set of xDS resources ([`envoy_check`]).
//!
//! Dev-only: `publish = false`, and only test targets (and the unpublished
//! end-to-end crate) may depend on it; `tests/dependency_rules.rs` in the
//! `meshplane` crate checks that no production crate does. A missing
//! program fails the test with a message saying what to install; nothing
//! here skips a test.

pub mod binaries;
pub mod envoy;
pub mod envoy_check;
pub mod ports;
pub mod process;
pub mod wait;
