//! Loopback ports for servers a test starts in another process.
//!
//! Picking a free port by binding `127.0.0.1:0` and closing the socket
//! before the child binds it is a race: any other process (another test
//! binary, an outgoing connection) may take the port in between. A
//! [`ReservedPort`] instead stays bound, without listening, until the child
//! has bound the port itself and the test drops the reservation:
//!
//! - the reservation sets `SO_REUSEADDR` and `SO_REUSEPORT`, so a child that
//!   sets either (Rust's std and tokio listeners, Python's `socketserver`,
//!   Envoy's listeners and admin server all do) can bind the same port while
//!   the reservation is not listening;
//! - the kernel never hands a bound port to an ephemeral bind or an
//!   outgoing connection, and refuses a plain `bind` to it;
//! - a socket that is bound but not listening receives no connections: a
//!   connection to a reserved port that no child has taken yet is refused,
//!   which also makes it the right "nothing listens here" address.
//!
//! Servers in the test process itself need none of this: bind the listener
//! on port 0 and hand the bound listener over.

use std::net::{Ipv4Addr, SocketAddr};

use socket2::{Domain, Socket, Type};

/// A loopback port held bound (not listening) until dropped.
#[derive(Debug)]
pub struct ReservedPort {
    _socket: Socket,
    port: u16,
}

impl ReservedPort {
    /// Reserves a free port on 127.0.0.1; panics if the system has none.
    pub fn new() -> Self {
        Self::try_new().unwrap_or_else(|e| panic!("cannot reserve a loopback port: {e}"))
    }

    pub fn try_new() -> std::io::Result<Self> {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        socket.set_reuse_address(true)?;
        socket.set_reuse_port(true)?;
        socket.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())?;
        let port = socket
            .local_addr()?
            .as_socket()
            .map(|a| a.port())
            .ok_or_else(|| std::io::Error::other("the bound socket has no IP address"))?;
        Ok(Self {
            _socket: socket,
            port,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.port))
    }
}

impl Default for ReservedPort {
    fn default() -> Self {
        Self::new()
    }
}
