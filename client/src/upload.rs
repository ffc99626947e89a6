//! PutContent: a client-streaming upload that the server sees fail when the caller's bytes fail.
//!
//! The generated client cannot abort a request stream with an error: a stream that ends looks
//! like a complete upload, and a tonic cancellation (RST_STREAM CANCEL) reaches a tonic server
//! as a clean end of stream too. So the upload is sent with [`UploadCodec`], whose messages are
//! `Result`s: a failed body becomes an encoding error, which resets the HTTP/2 stream with
//! INTERNAL_ERROR, and the server's request stream ends with an error instead of a clean end.

use docstokg_catalog::convert::required_record;
use docstokg_catalog::proto::{self, put_content_request::Part};
use docstokg_catalog::{
    ByteStream, CatalogError, ContentHeader, PutOutcome, RegisterOutcome, Result,
};
use futures::{Stream, StreamExt};
use tokio::sync::oneshot;
use tonic::codec::{BufferSettings, Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::{GrpcMethod, Status};
use tonic_prost::{ProstCodec, ProstDecoder, ProstEncoder};

use crate::client::CatalogClient;
use crate::errors::{chain, status_error};

/// The gRPC service and method of uploads.
const SERVICE: &str = "docstokg.catalog.v1.CatalogService";
const METHOD: &str = "PutContent";
const PATH: &str = "/docstokg.catalog.v1.CatalogService/PutContent";

/// Uploads `header` then every chunk of `body`. When `body` fails the upload is aborted (the
/// server stores nothing) and the caller gets its own error back.
pub(crate) async fn put(
    client: &CatalogClient,
    header: ContentHeader,
    body: ByteStream,
) -> Result<PutOutcome> {
    let mut grpc = tonic::client::Grpc::new(client.service());
    grpc.ready().await.map_err(|error| {
        CatalogError::unavailable(format!(
            "the catalog at {} is not ready: {}",
            client.endpoint(),
            chain(&error)
        ))
    })?;
    let (failed_tx, failed_rx) = oneshot::channel();
    let mut request = tonic::Request::new(upload_messages(header, body, failed_tx));
    request
        .extensions_mut()
        .insert(GrpcMethod::new(SERVICE, METHOD));
    let call = grpc.client_streaming(
        request,
        PathAndQuery::from_static(PATH),
        UploadCodec::default(),
    );
    let caller_failed = async move {
        match failed_rx.await {
            Ok(error) => error,
            // The body ended cleanly: only the call can finish now.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        biased;
        error = caller_failed => Err(error),
        response = call => {
            let response = response.map_err(status_error)?.into_inner();
            let registration = RegisterOutcome {
                record: required_record(response.record)?,
                created: response.created,
                differing_fields: response.differing_fields,
            };
            Ok(PutOutcome { registration, deduplicated: response.deduplicated })
        }
    }
}

/// The messages of an upload: the header, one chunk per non-empty piece of `body`, and, when
/// `body` fails, an error that aborts the stream (after handing the caller's error to `failed`).
fn upload_messages(
    header: ContentHeader,
    mut body: ByteStream,
    failed: oneshot::Sender<CatalogError>,
) -> impl Stream<Item = Result<proto::PutContentRequest, Status>> + Send + 'static {
    async_stream::stream! {
        yield Ok(proto::PutContentRequest { part: Some(Part::Header(header.into())) });
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(chunk) if chunk.is_empty() => {}
                Ok(chunk) => yield Ok(proto::PutContentRequest { part: Some(Part::Chunk(chunk)) }),
                Err(error) => {
                    let status = Status::aborted(format!("the client's upload failed: {}", error.message));
                    // The receiver is gone only when the call already finished; nothing to tell.
                    let _ = failed.send(error);
                    yield Err(status);
                    return;
                }
            }
        }
    }
}

/// The prost codec, with `Result` messages so that a failed body fails the request stream.
#[derive(Debug, Default)]
struct UploadCodec(ProstCodec<proto::PutContentRequest, proto::PutContentResponse>);

impl Codec for UploadCodec {
    type Encode = Result<proto::PutContentRequest, Status>;
    type Decode = proto::PutContentResponse;
    type Encoder = UploadEncoder;
    type Decoder = UploadDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        UploadEncoder(self.0.encoder())
    }

    fn decoder(&mut self) -> Self::Decoder {
        UploadDecoder(self.0.decoder())
    }
}

/// Encodes messages; an `Err` message fails the stream.
#[derive(Debug)]
struct UploadEncoder(ProstEncoder<proto::PutContentRequest>);

impl Encoder for UploadEncoder {
    type Item = Result<proto::PutContentRequest, Status>;
    type Error = Status;

    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        self.0.encode(item?, dst)
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.0.buffer_settings()
    }
}

/// Decodes the response.
#[derive(Debug)]
struct UploadDecoder(ProstDecoder<proto::PutContentResponse>);

impl Decoder for UploadDecoder {
    type Item = proto::PutContentResponse;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Status> {
        self.0.decode(src)
    }

    fn buffer_settings(&self) -> BufferSettings {
        self.0.buffer_settings()
    }
}
