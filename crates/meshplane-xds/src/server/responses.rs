//! The channel from a stream's task to its gRPC response body.
//!
//! tokio's bounded channel allocates its slots in blocks of 32 whatever its
//! bound, so a channel of responses costs 32 responses' size per stream
//! (about 5 KiB, over 10% of an idle stream's memory). The channel carries
//! boxed responses instead (32 pointers); [`Responses`] unboxes them.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::mpsc;
use tokio_stream::Stream;
use tonic::Status;

/// A response or the status that ends the stream.
pub(crate) type Item<T> = Box<Result<T, Status>>;

/// The sending side, owned by the stream's task.
pub(crate) type Sender<T> = mpsc::Sender<Item<T>>;

/// The response stream tonic sends from.
#[derive(Debug)]
pub struct Responses<T> {
    rx: mpsc::Receiver<Item<T>>,
}

/// A channel holding at most `bound` responses.
pub(crate) fn channel<T>(bound: usize) -> (Sender<T>, Responses<T>) {
    let (tx, rx) = mpsc::channel(bound.max(1));
    (tx, Responses { rx })
}

impl<T> Stream for Responses<T> {
    type Item = Result<T, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx).map(|item| item.map(|boxed| *boxed))
    }
}
