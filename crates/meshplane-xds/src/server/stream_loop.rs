//! The task that drives one stream: requests in, snapshots in, responses out.
//!
//! Architecture invariant: the cache never waits for a stream. A stream reads
//! the newest snapshot from its `watch` receiver when it is ready, builds a
//! response only once the bounded outgoing channel has room, and so a slow
//! proxy holds back nobody but itself (and skips snapshots it was too slow
//! to see).

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
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

/// Drive `p` until the stream ends. A graceful end (max age, `closing` set)
/// drops `tx` (status OK); an error end sends the status first.
pub(crate) async fn run<P: Protocol>(
    mut p: P,
    mut inbound: Streaming<P::Request>,
    mut watch: SnapshotWatch,
    mut closing: watch::Receiver<bool>,
    tx: responses::Sender<P::Response>,
    max_age: Option<Duration>,
    not_found_message: String,
) -> EndReason {
    let deadline = max_age.map(|a| Instant::now() + a);
    let sleep = tokio::time::sleep_until(deadline.unwrap_or_else(far_future));
    tokio::pin!(sleep);
    loop {
        // Send what is due, one response at a time, only when there is room.
        while p.has_work() {
            let permit = tokio::select! {
                biased;
                _ = &mut sleep, if deadline.is_some() => return EndReason::MaxAge,
                _ = closed(&mut closing) => return EndReason::ServerClosing,
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
        tokio::select! {
            biased;
            _ = &mut sleep, if deadline.is_some() => return EndReason::MaxAge,
            _ = closed(&mut closing) => return EndReason::ServerClosing,
            changed = watch.changed() => {
                let current = match changed {
                    Ok(()) => watch.borrow_and_update().clone(),
                    Err(_) => None,
                };
                match current {
                    Some(snapshot) => p.on_snapshot(snapshot),
                    None => {
                        let status = Status::not_found(not_found_message);
                        let _ = tokio::time::timeout(Duration::from_secs(5), tx.send(Box::new(Err(status)))).await;
                        return EndReason::KeyRemoved;
                    }
                }
            }
            msg = inbound.message() => {
                match handle(&mut p, msg, &tx).await {
                    Some(end) => return end,
                    None => {
                        // Take every request already received before answering:
                        // a newer request of a type supersedes older ones.
                        loop {
                            let next = tokio::select! {
                                biased;
                                m = inbound.message() => m,
                                _ = std::future::ready(()) => break,
                            };
                            if let Some(end) = handle(&mut p, next, &tx).await {
                                return end;
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn handle<P: Protocol>(
    p: &mut P,
    msg: Result<Option<P::Request>, Status>,
    tx: &responses::Sender<P::Response>,
) -> Option<EndReason> {
    match msg {
        Ok(Some(req)) => match p.on_request(req) {
            Ok(()) => None,
            Err(status) => {
                let _ = tokio::time::timeout(
                    Duration::from_secs(5),
                    tx.send(Box::new(Err(status.clone()))),
                )
                .await;
                Some(EndReason::Protocol(status))
            }
        },
        Ok(None) => Some(EndReason::ClientClosed),
        Err(status) => Some(EndReason::ClientError(status)),
    }
}

/// Resolves once `closing` is set (or its server is gone).
async fn closed(closing: &mut watch::Receiver<bool>) {
    let _ = closing.wait_for(|c| *c).await.is_ok();
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(60 * 60 * 24 * 365 * 30)
}
