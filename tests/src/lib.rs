//! meshplane's end-to-end test harness.
//!
//! Every test builds an App Mesh-like [`Topology`]: each application in its
//! own network namespace, joined by veth pairs to a bridge in a "switch"
//! namespace where `meshplane serve` listens. Each application namespace
//! gets App Mesh's iptables redirection (egress to the Envoy's 15001,
//! ingress on the application ports to 15000, Envoy's own UID left alone)
//! and an Envoy sidecar started with `meshplane envoy` as UID 1337, exactly
//! like the App Mesh Envoy image. Names resolve through a per-namespace
//! hosts file (`/etc/netns/<ns>/hosts`, bind-mounted by `ip netns exec`).
//!
//! The namespaces, processes and files are removed when the topology is
//! dropped (also on panic), and leftovers of killed runs are swept when the
//! next topology is created. Nothing is changed in the root namespace.
//!
//! The toy services are in [`backend`] (binary `e2e-backend`); the traffic
//! generator is in [`traffic`] (binary `e2e-client`).

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod backend;
pub mod fixtures;
pub mod harness;
pub mod traffic;

pub use harness::binaries::Binaries;
pub use harness::topology::{App, Topology};
pub use traffic::{Outcome, Summary};

/// The [`Binaries`] of this crate's test binaries plus meshplane and Envoy.
/// A macro because `CARGO_BIN_EXE_*` is only set for integration tests.
#[macro_export]
macro_rules! binaries {
    () => {
        $crate::Binaries::locate(
            env!("CARGO_BIN_EXE_e2e-backend"),
            env!("CARGO_BIN_EXE_e2e-client"),
        )
    };
}
