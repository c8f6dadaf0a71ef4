//! gRPC answers from the HTTP backend: a request with content type
//! `application/grpc` gets one length-prefixed message (the backend's name;
//! gRPC framing does not care what the message holds) and the
//! `grpc-status` trailer (0, or what `x-grpc-status` asks, or 14
//! UNAVAILABLE for a failed attempt).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{BufMut, Bytes, BytesMut};
use http::HeaderMap;
use hyper::body::{Body, Frame};

/// gRPC status UNAVAILABLE.
pub const UNAVAILABLE: u32 = 14;

/// A body made of given frames (data, then trailers).
#[derive(Debug)]
pub struct Frames(VecDeque<Frame<Bytes>>);

impl Body for Frames {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(Ok))
    }
}

/// One message `payload` then `grpc-status: status`.
pub fn response_body(payload: &[u8], status: u32) -> Frames {
    let mut frames = VecDeque::new();
    if status == 0 {
        frames.push_back(Frame::data(frame(payload)));
    }
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", status.into());
    frames.push_back(Frame::trailers(trailers));
    Frames(frames)
}

/// A gRPC length-prefixed message (uncompressed).
pub fn frame(payload: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(5 + payload.len());
    b.put_u8(0);
    b.put_u32(payload.len() as u32);
    b.put_slice(payload);
    b.freeze()
}
