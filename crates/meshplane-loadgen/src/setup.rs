//! What a run is given: the server under load and the run's settings.

use std::net::SocketAddr;
use std::time::Duration;

/// The server under load.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub xds: SocketAddr,
    pub admin: SocketAddr,
    /// Its process, for RSS and CPU time.
    pub pid: u32,
}

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub proxies: usize,
    /// Share of proxies speaking delta ADS (interleaved with SotW ones).
    pub delta_fraction: f64,
    /// Proxy `i` presents `node_arns[i % len]`.
    pub node_arns: Vec<String>,
    /// HTTP/2 connections at most; proxies share them round-robin beyond.
    pub max_connections: usize,
    pub changes: usize,
    pub sync_timeout: Duration,
    pub change_timeout: Duration,
    /// Pause between the sync and the first change.
    pub settle: Duration,
    /// Proxies that stop reading their stream from the sync until the last
    /// change reached the others (stuck Envoys); chosen among the proxies
    /// of one node that every wide change affects.
    pub stuck: usize,
}
