//! A TCP relay in front of the test PostgreSQL that can be cut: one
//! replica reaches the database through it, so that replica alone can be
//! partitioned from the database (its connections closed, new ones
//! refused at once) while the others keep writing.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use anyhow::Context;

/// See the module documentation. Stops listening when dropped.
#[derive(Debug)]
pub struct Relay {
    /// Where it listens (on loopback).
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    cut: AtomicBool,
    stop: AtomicBool,
    /// The relayed sockets (closed by a cut).
    open: Mutex<Vec<TcpStream>>,
}

impl Relay {
    /// A relay to the server of PostgreSQL URL `url` (`...@IP:PORT/...`),
    /// and `url` through it.
    pub fn for_url(url: &str) -> anyhow::Result<(Relay, String)> {
        let at = url.find('@').context("the PostgreSQL URL has no user@")?;
        let rest = &url[at + 1..];
        let end = rest.find('/').unwrap_or(rest.len());
        let target: SocketAddr = rest[..end].parse().with_context(|| {
            format!(
                "the PostgreSQL URL's host {:?} is not IP:PORT",
                &rest[..end]
            )
        })?;
        let relay = Relay::start(target)?;
        let through = format!("{}{}{}", &url[..=at], relay.addr, &rest[end..]);
        Ok((relay, through))
    }

    /// Relay `127.0.0.1:<free port>` to `target`.
    pub fn start(target: SocketAddr) -> anyhow::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding the relay")?;
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let shared = Arc::new(Shared::default());
        let s = shared.clone();
        thread::spawn(move || {
            while !s.stop.load(Ordering::Relaxed) {
                let Ok((client, _)) = listener.accept() else {
                    thread::sleep(Duration::from_millis(5));
                    continue;
                };
                if s.cut.load(Ordering::Relaxed) {
                    continue; // dropped: the connection closes at once
                }
                let s = s.clone();
                thread::spawn(move || relay(&s, client, target));
            }
        });
        Ok(Relay { addr, shared })
    }

    /// Close every relayed connection and refuse new ones until [`Relay::heal`].
    pub fn cut(&self) {
        self.shared.cut.store(true, Ordering::Relaxed);
        let open = std::mem::take(&mut *self.shared.open.lock().unwrap_or_else(|p| p.into_inner()));
        for c in open {
            let _ = c.shutdown(Shutdown::Both);
        }
    }

    /// Relay again.
    pub fn heal(&self) {
        self.shared.cut.store(false, Ordering::Relaxed);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.cut();
    }
}

fn relay(s: &Shared, client: TcpStream, target: SocketAddr) {
    let _ = client.set_nonblocking(false);
    let Ok(server) = TcpStream::connect(target) else {
        return;
    };
    {
        let mut open = s.open.lock().unwrap_or_else(|p| p.into_inner());
        if s.cut.load(Ordering::Relaxed) {
            return; // cut while connecting
        }
        for c in [&client, &server] {
            if let Ok(c) = c.try_clone() {
                open.push(c);
            }
        }
    }
    let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up = thread::spawn(move || copy(c2, server));
    copy(s2, client);
    let _ = up.join();
}

fn copy(mut from: TcpStream, mut to: TcpStream) {
    let _: io::Result<u64> = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Both);
}
