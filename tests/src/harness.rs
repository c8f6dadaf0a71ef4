//! Building and tearing down test topologies.

pub mod a11y;
pub mod api;
pub mod api_writes;
pub mod backends;
pub mod binaries;
pub mod certs;
pub mod client;
pub mod containers;
pub mod control;
pub mod dns;
pub mod envoy;
pub mod forward;
pub mod kubernetes;
pub mod netns;
pub mod process;
pub mod redirect;
pub mod replicas;
pub mod specs;
pub mod topology;
pub mod watch;
pub mod webdriver;
