//! TLS (and mutual TLS) on the xDS port: the server certificate and key and
//! the client CA come from PEM files and are read again on every reload, so
//! a renewed certificate is served to new connections without a restart.
//!
//! A client certificate is optional at the TLS layer (a proxy may
//! authenticate with a bearer token over TLS instead); when one is sent it
//! must chain to the client CA, and its names become the stream's
//! [`meshplane_xds::TlsPeer`].

mod files;
mod incoming;
mod peer;

pub use files::{ReloadableTls, TlsError, TlsFiles};
pub use incoming::{tls_incoming, TlsConnInfo, TlsIo};
pub use peer::tls_peer_of;
