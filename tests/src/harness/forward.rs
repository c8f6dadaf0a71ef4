//! A TCP forwarder from a loopback port of this (the root) network
//! namespace into another namespace, so that a browser on the host reaches
//! meshplane's admin server on the topology's bridge (the demo's console,
//! the browser tests). The listening socket is made here; the connecting
//! side runs in threads that joined the target namespace (`setns`), and a
//! socket belongs to the namespace of the thread that created it.

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;

use anyhow::{bail, Context};

/// Listens on `127.0.0.1:<port>` (0: any free port) and forwards each
/// connection to `target` inside network namespace `netns`. Runs until
/// the process ends. Returns the local address.
pub fn forward_into(netns: &str, port: u16, target: SocketAddr) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .with_context(|| format!("listening on 127.0.0.1:{port}"))?;
    let local = listener.local_addr()?;
    let ns_path = format!("/var/run/netns/{netns}");
    let ns = std::fs::File::open(&ns_path).with_context(|| format!("opening {ns_path}"))?;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        // setns(2): affects this thread (and the threads it spawns) only.
        let joined = rustix::thread::move_into_link_name_space(
            std::os::fd::AsFd::as_fd(&ns),
            Some(rustix::thread::LinkNameSpaceType::Network),
        )
        .map_err(io::Error::from);
        let ok = joined.is_ok();
        let _ = ready_tx.send(joined);
        if !ok {
            return;
        }
        for conn in listener.incoming() {
            let Ok(client) = conn else { continue };
            // Threads spawned here inherit this thread's namespace.
            thread::spawn(move || {
                if let Ok(server) = TcpStream::connect(target) {
                    pipe(client, server);
                }
            });
        }
    });
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(local),
        Ok(Err(e)) => bail!("joining network namespace {netns}: {e}"),
        Err(_) => bail!("the forwarder thread for {netns} ended early"),
    }
}

/// Listens on `127.0.0.1:<port>` inside network namespace `netns` and
/// forwards each connection to `target` in this (the root) namespace: a
/// process in the topology reaches a server the test suite started on the
/// host's loopback (the Kubernetes API server) at the same address, so
/// the server's certificate (for 127.0.0.1) still matches. Runs until the
/// process ends.
pub fn forward_out_of(netns: &str, port: u16, target: SocketAddr) -> anyhow::Result<()> {
    let ns_path = format!("/var/run/netns/{netns}");
    let ns = std::fs::File::open(&ns_path).with_context(|| format!("opening {ns_path}"))?;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (conn_tx, conn_rx) = std::sync::mpsc::channel::<TcpStream>();
    thread::spawn(move || {
        let listening = rustix::thread::move_into_link_name_space(
            std::os::fd::AsFd::as_fd(&ns),
            Some(rustix::thread::LinkNameSpaceType::Network),
        )
        .map_err(io::Error::from)
        .and_then(|()| TcpListener::bind(("127.0.0.1", port)));
        let listener = match listening {
            Ok(l) => {
                let _ = ready_tx.send(Ok(()));
                l
            }
            Err(e) => {
                let _ = ready_tx.send(Err(e));
                return;
            }
        };
        for conn in listener.incoming() {
            let Ok(client) = conn else { continue };
            if conn_tx.send(client).is_err() {
                return;
            }
        }
    });
    // This thread is in the root namespace: connections made here reach
    // the host's loopback.
    thread::spawn(move || {
        for client in conn_rx {
            thread::spawn(move || {
                if let Ok(server) = TcpStream::connect(target) {
                    pipe(client, server);
                }
            });
        }
    });
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => bail!("listening on 127.0.0.1:{port} in network namespace {netns}: {e}"),
        Err(_) => bail!("the forwarder thread for {netns} ended early"),
    }
}

fn pipe(a: TcpStream, b: TcpStream) {
    let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) else {
        return;
    };
    let up = thread::spawn(move || copy_then_close(a, b2));
    copy_then_close(b, a2);
    let _ = up.join();
}

fn copy_then_close(mut from: TcpStream, mut to: TcpStream) {
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(std::net::Shutdown::Write);
}
