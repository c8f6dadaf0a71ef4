//! The task that drives one stream: requests in, snapshots in, responses out.
//!
//! Architecture invariant: the cache never waits for a stream. A stream reads
//! the newest snapshot from its `watch` receiver when it is ready, builds a
//! response only once the bounded outgoing channel has room, and so a slow
//! proxy holds back nobody but itself (and skips snapshots it was too slow
//! to see).

use std::pin::Pin;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{Instant, Sleep};
use tonic::{Status, Streaming};

use super::responses;
use crate::cache::{Snapshot, SnapshotWatch};

/// A protocol variant's per-stream state machine.
pub(crate) trait Protocol: Send + 'static {
    type Request: Send + 'static;
    type Response: Send + 'static;

    /// Apply a request. An error ends the stream with that status.
    fn on_request(&mut self, req: Self::Request) -> Result<(), Status>;
    /// Take a new snapshot into account.
    fn on_snapshot(&mut self, snapshot: Snapshot);
    /// Whether [`Protocol::next_response`] might return something.
    fn has_work(&self) -> bool;
    /// The next response to send, in make-before-break order.
    fn next_response(&mut self) -> Option<Self::Response>;
}

/// Why a stream ended.
#[derive(Debug)]
pub(crate) enum EndReason {
    ClientClosed,
    ClientError(Status),
    MaxAge,
    ServerClosing,
    KeyRemoved,
    Protocol(Status),
}

impl EndReason {
    pub(crate) fn describe(&self) -> String {
        match self {
            EndReason::ClientClosed => "client closed the stream".into(),
            EndReason::ClientError(s) => format!("client stream error: {}", s.message()),
            EndReason::MaxAge => "maximum stream age reached".into(),
            EndReason::ServerClosing => "server closing".into(),
            EndReason::KeyRemoved => "proxy identity removed".into(),
            EndReason::Protocol(s) => format!("protocol error: {}", s.message()),
        }
    }
}

/// What a stream's task owns. [`run`] takes it boxed: the task's future
/// then holds a pointer instead of a second copy of every field (an async
/// block keeps its captures beside the future it awaits), which with tens
/// of thousands of streams is most of a stream's memory.
pub(crate) struct StreamParts<P: Protocol> {
    pub(crate) protocol: P,
    pub(crate) inbound: Streaming<P::Request>,
    pub(crate) watch: SnapshotWatch,
    pub(crate) closing: watch::Receiver<bool>,
    pub(crate) tx: responses::Sender<P::Response>,
    pub(crate) max_age: Option<Duration>,
    pub(crate) not_found_message: String,
}

/// Drive the stream until it ends. A graceful end (max age, `closing` set)
/// drops `tx` (status OK); an error end sends the status first.
pub(crate) async fn run<P: Protocol>(mut parts: Box<StreamParts<P>>) -> EndReason {
    let StreamParts {
        protocol: p,
        inbound,
        watch,
        closing,
        tx,
        max_age,
        not_found_message,
    } = &mut *parts;
    let deadline = max_age.map(|a| Instant::now() + a);
    // Boxed, and only with a maximum age: a timer is large and most
    // deployments set none.
    let mut sleep = deadline.map(|d| Box::pin(tokio::time::sleep_until(d)));
    loop {
        // Send what is due, one response at a time, only when there is room.
        while p.has_work() {
            let permit = tokio::select! {
                biased;
                _ = expired(&mut sleep) => return EndReason::MaxAge,
                _ = closed(closing) => return EndReason::ServerClosing,
                permit = tx.reserve() => match permit {
                    Ok(permit) => permit,
                    Err(_) => return EndReason::ClientClosed,
                },
            };
            match p.next_response() {
                Some(r) => permit.send(Box::new(Ok(r))),
                None => break,
            }
        }
        let received = tokio::select! {
            biased;
            _ = expired(&mut sleep) => return EndReason::MaxAge,
            _ = closed(closing) => return EndReason::ServerClosing,
            changed = watch.changed() => {
                let current = match changed {
                    Ok(()) => watch.borrow_and_update().clone(),
                    Err(_) => None,
                };
                match current {
                    Some(snapshot) => {
                        p.on_snapshot(snapshot);
                        continue;
                    }
                    None => {
                        let status = Status::not_found(std::mem::take(not_found_message));
                        Box::pin(send_status(tx, status)).await;
                        return EndReason::KeyRemoved;
                    }
                }
            }
            msg = inbound.message() => msg,
        };
        if let Some(end) = handle(p, received) {
            return end.finish(tx).await;
        }
        // Take every request already received before answering: a newer
        // request of a type supersedes older ones.
        loop {
            let next = tokio::select! {
                biased;
                m = inbound.message() => m,
                _ = std::future::ready(()) => break,
            };
            if let Some(end) = handle(p, next) {
                return end.finish(tx).await;
            }
        }
    }
}

/// Apply a received message; `Some` ends the stream. Not async: a
/// request held across an await would take its size in every stream's
/// future.
fn handle<P: Protocol>(p: &mut P, msg: Result<Option<P::Request>, Status>) -> Option<Ending> {
    match msg {
        Ok(Some(req)) => match p.on_request(req) {
            Ok(()) => None,
            Err(status) => Some(Ending::Refused(status)),
        },
        Ok(None) => Some(Ending::Now(EndReason::ClientClosed)),
        Err(status) => Some(Ending::Now(EndReason::ClientError(status))),
    }
}

/// How a stream ends after a message.
enum Ending {
    Now(EndReason),
    /// The request was invalid: the proxy is told why.
    Refused(Status),
}

impl Ending {
    async fn finish<T>(self, tx: &responses::Sender<T>) -> EndReason {
        match self {
            Ending::Now(end) => end,
            Ending::Refused(status) => {
                // Boxed: the task's future keeps no room for this rare send.
                Box::pin(send_status(tx, status.clone())).await;
                EndReason::Protocol(status)
            }
        }
    }
}

/// Resolves when the stream's maximum age is reached; never without one.
async fn expired(sleep: &mut Option<Pin<Box<Sleep>>>) {
    match sleep {
        Some(sleep) => sleep.as_mut().await,
        None => std::future::pending().await,
    }
}

/// Send the status that ends the stream, giving up after 5 s (a proxy
/// that does not read gets its stream closed without it).
async fn send_status<T>(tx: &responses::Sender<T>, status: Status) {
    let _ = tokio::time::timeout(Duration::from_secs(5), tx.send(Box::new(Err(status)))).await;
}

/// Resolves once `closing` is set (or its server is gone).
async fn closed(closing: &mut watch::Receiver<bool>) {
    let _ = closing.wait_for(|c| *c).await.is_ok();
}
