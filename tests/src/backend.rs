//! The toy services that stand behind the Envoys: each answers with its own
//! name so a test can tell which virtual node served a request.
//!
//! - [`http`]: HTTP/1.1 and HTTP/2 cleartext (prior knowledge) on one port.
//!   Request headers steer it: `x-delay-ms: N` answers after N ms,
//!   `x-status: N` answers with that status, `x-fail-first: KEY` answers
//!   503 to the first request carrying KEY and 200 to the later ones (a
//!   retry of the same request carries the same key); with
//!   `x-fail-times: N`, to the first N.
//!   `e2e-backend https` serves the same inside TLS.
//! - [`grpc`]: on the same port, requests with content type
//!   `application/grpc` get a gRPC answer (message = the name, `grpc-status`
//!   trailer; `x-grpc-status: N` asks for a status).
//! - [`dns`]: a DNS server answering `A` queries from a zone file that a
//!   test rewrites to move a name.
//! - [`tcp`]: sends `<name>\n` on connect, then echoes.
//! - [`tls`]: the same over TLS, with a certificate for its server name.

pub mod dns;
pub mod grpc;
pub mod http;
pub mod tcp;
pub mod tls;

/// The response header that names the backend.
pub const BACKEND_HEADER: &str = "x-backend";
