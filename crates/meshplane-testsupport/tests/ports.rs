//! A reserved port stays out of everyone else's reach until the child binds it.

use std::net::{TcpListener, TcpStream};

use meshplane_testsupport::ports::ReservedPort;

#[test]
fn a_reserved_port_refuses_connections_and_plain_binds() {
    let reserved = ReservedPort::new();
    let err = TcpStream::connect(reserved.addr()).expect_err("nothing listens yet");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    // A socket without SO_REUSEADDR/SO_REUSEPORT cannot take it.
    let plain = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let err = plain
        .bind(&reserved.addr().into())
        .expect_err("the port is held");
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
}

#[test]
fn the_child_binds_the_reserved_port_and_keeps_it_after_the_reservation_goes() {
    let reserved = ReservedPort::new();
    // std's listener sets SO_REUSEADDR, as tokio's, Python's and Envoy's do.
    let child = TcpListener::bind(reserved.addr()).expect("the child takes the port");
    let addr = reserved.addr();
    drop(reserved);
    let _client = TcpStream::connect(addr).expect("the child accepts");
    let (_conn, _) = child.accept().unwrap();
    // While the child listens nobody else can bind it, not even with SO_REUSEADDR.
    assert!(TcpListener::bind(addr).is_err());
}

#[test]
fn ephemeral_binds_never_land_on_a_reserved_port() {
    let reserved = ReservedPort::new();
    for _ in 0..2000 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        assert_ne!(l.local_addr().unwrap().port(), reserved.port());
    }
}
