//! TCP forwarders between this (the root) network namespace and another.
//! Into a namespace: a browser on the host reaches meshplane's admin server
//! on the topology's bridge (the demo's console, the browser tests). Out of
//! one: replicas in the switch namespace reach the test PostgreSQL on the
//! host's loopback. A socket belongs to the namespace of the thread that
//! created it, so one side is made in a thread that joined the other
//! namespace (`setns`).

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

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

/// Listens on `listen` inside network namespace `netns` and forwards each
/// connection to `target` in this namespace, until the returned
/// [`Forward`] is dropped (connections already open stay open).
pub fn forward_out_of(
    netns: &str,
    listen: SocketAddr,
    target: SocketAddr,
) -> anyhow::Result<Forward> {
    let ns_path = format!("/var/run/netns/{netns}");
    let ns = std::fs::File::open(&ns_path).with_context(|| format!("opening {ns_path}"))?;
    let listener = thread::spawn(move || -> io::Result<TcpListener> {
        rustix::thread::move_into_link_name_space(
            std::os::fd::AsFd::as_fd(&ns),
            Some(rustix::thread::LinkNameSpaceType::Network),
        )?;
        TcpListener::bind(listen)
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the listening thread for {netns} panicked"))?
    .with_context(|| format!("listening on {listen} in network namespace {netns}"))?;
    listener.set_nonblocking(true)?;
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    // This thread, and the connecting threads it spawns, stay in this namespace.
    thread::spawn(move || {
        while !stopped.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((client, _)) => {
                    thread::spawn(move || {
                        let _ = client.set_nonblocking(false);
                        if let Ok(server) = TcpStream::connect(target) {
                            pipe(client, server);
                        }
                    });
                }
                Err(_) => thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    Ok(Forward { stop })
}

/// A running [`forward_out_of`]; stops listening when dropped.
#[derive(Debug)]
pub struct Forward {
    stop: Arc<AtomicBool>,
}

impl Drop for Forward {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
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
