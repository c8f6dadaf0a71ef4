//! The body of an ADS response: each response becomes one gRPC message in
//! a buffer of exactly its size, freed once HTTP/2 has written it.
//!
//! tonic's encoder keeps one buffer per stream that grows to the largest
//! response the stream ever sent and is never given back: with tens of
//! thousands of mostly idle streams that was about 8 KiB per proxy. Here an
//! idle stream holds no encoding buffer at all.
//!
//! The stream's end becomes the trailers: `grpc-status: 0` when the
//! responses end, the status (code, message) when they end with an error.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{BufMut, Bytes, BytesMut};
use http_body::{Body, Frame};
use tokio_stream::Stream;
use tonic::codegen::http::HeaderMap;
use tonic::Status;

/// A gRPC message's prefix: the compression flag and the length.
const PREFIX: usize = 5;

/// Responses framed as gRPC messages, then the trailers.
pub(crate) struct GrpcFrames<S> {
    responses: S,
    ended: bool,
}

impl<S> GrpcFrames<S> {
    pub(crate) fn new(responses: S) -> Self {
        GrpcFrames {
            responses,
            ended: false,
        }
    }
}

/// One uncompressed gRPC message holding `message`.
pub(crate) fn frame_message(message: &impl prost::Message) -> Bytes {
    let len = message.encoded_len();
    let mut buf = BytesMut::with_capacity(PREFIX + len);
    buf.put_u8(0);
    // A response over 4 GiB cannot be built: resources are bounded far below.
    buf.put_u32(u32::try_from(len).unwrap_or(u32::MAX));
    message
        .encode(&mut buf)
        .expect("the buffer was sized by encoded_len");
    buf.freeze()
}

/// The trailers that end a stream with `status`.
pub(crate) fn trailers(status: &Status) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(2);
    if status.add_header(&mut headers).is_err() {
        // Only a message that cannot be a header value fails; keep the code.
        let plain = Status::new(status.code(), "");
        let _ = plain.add_header(&mut headers);
    }
    headers
}

impl<S, M> Body for GrpcFrames<S>
where
    S: Stream<Item = Result<M, Status>> + Unpin,
    M: prost::Message,
{
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.ended {
            return Poll::Ready(None);
        }
        let frame = match ready!(Pin::new(&mut self.responses).poll_next(cx)) {
            Some(Ok(message)) => Frame::data(frame_message(&message)),
            Some(Err(status)) => {
                self.ended = true;
                Frame::trailers(trailers(&status))
            }
            None => {
                self.ended = true;
                Frame::trailers(trailers(&Status::ok("")))
            }
        };
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use envoy_types::pb::envoy::service::discovery::v3::DiscoveryResponse;
    use http_body_util::BodyExt;
    use prost::Message;

    fn response(version: &str) -> DiscoveryResponse {
        DiscoveryResponse {
            version_info: version.into(),
            type_url: "type.googleapis.com/envoy.config.cluster.v3.Cluster".into(),
            nonce: "1".into(),
            ..Default::default()
        }
    }

    async fn frames(
        items: Vec<Result<DiscoveryResponse, Status>>,
    ) -> (Vec<DiscoveryResponse>, HeaderMap) {
        let mut body = GrpcFrames::new(tokio_stream::iter(items));
        let mut messages = Vec::new();
        let mut trailers = None;
        while let Some(frame) = body.frame().await {
            let frame = frame.unwrap();
            if let Some(data) = frame.data_ref() {
                assert_eq!(data[0], 0, "uncompressed");
                let len = u32::from_be_bytes(data[1..5].try_into().unwrap()) as usize;
                assert_eq!(len, data.len() - PREFIX, "length prefix");
                messages.push(DiscoveryResponse::decode(&data[PREFIX..]).unwrap());
            } else {
                assert!(trailers.is_none(), "one set of trailers");
                trailers = frame.into_trailers().ok();
            }
        }
        assert!(body.is_end_stream());
        (messages, trailers.expect("trailers end the body"))
    }

    #[tokio::test]
    async fn each_response_is_one_message_and_the_end_is_status_ok() {
        let (messages, trailers) = frames(vec![Ok(response("1")), Ok(response("2"))]).await;
        assert_eq!(messages, vec![response("1"), response("2")]);
        assert_eq!(trailers["grpc-status"], "0");
    }

    #[tokio::test]
    async fn an_error_ends_the_body_with_its_status() {
        let (messages, trailers) = frames(vec![
            Ok(response("1")),
            Err(Status::not_found("no configuration for proxy x")),
            Ok(response("never sent")),
        ])
        .await;
        assert_eq!(messages, vec![response("1")]);
        assert_eq!(trailers["grpc-status"], "5");
        assert_eq!(
            trailers["grpc-message"],
            "no%20configuration%20for%20proxy%20x"
        );
    }

    #[test]
    fn the_buffer_is_exactly_the_message() {
        let framed = frame_message(&response("7"));
        assert_eq!(framed.len(), PREFIX + response("7").encoded_len());
    }
}
