//! PutContent: a client-streaming upload of a header, the chunks, then `finish`.
//!
//! The server stores nothing unless `finish` arrives, so when the caller's byte stream fails the
//! request stream simply ends without it: the upload is abandoned on the server, and the caller
//! gets its own error back.

use docstokg_catalog::convert::required_record;
use docstokg_catalog::proto::{self, put_content_request::Part};
use docstokg_catalog::{
    ByteStream, CatalogError, ContentHeader, PutOutcome, RegisterOutcome, Result,
};
use futures::{Stream, StreamExt};
use tokio::sync::oneshot;

use crate::client::CatalogClient;
use crate::errors::status_error;

/// Uploads `header` then every chunk of `body`, then `finish`. When `body` fails the upload is
/// abandoned (the server stores nothing) and the caller gets its own error back.
pub(crate) async fn put(
    client: &CatalogClient,
    header: ContentHeader,
    body: ByteStream,
) -> Result<PutOutcome> {
    let (failed_tx, failed_rx) = oneshot::channel();
    let mut rpc = client.rpc();
    let call = rpc.put_content(upload_messages(header, body, failed_tx));
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

/// The messages of an upload: the header, one chunk per non-empty piece of `body`, and `finish`
/// once `body` ended cleanly. When `body` fails, the caller's error goes to `failed` and the
/// stream ends without `finish`.
fn upload_messages(
    header: ContentHeader,
    mut body: ByteStream,
    failed: oneshot::Sender<CatalogError>,
) -> impl Stream<Item = proto::PutContentRequest> + Send + 'static {
    async_stream::stream! {
        yield proto::PutContentRequest { part: Some(Part::Header(header.into())) };
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(chunk) if chunk.is_empty() => {}
                Ok(chunk) => yield proto::PutContentRequest { part: Some(Part::Chunk(chunk)) },
                Err(error) => {
                    // The receiver is gone only when the call already finished; nothing to tell.
                    let _ = failed.send(error);
                    return;
                }
            }
        }
        yield proto::PutContentRequest { part: Some(Part::Finish(proto::PutContentFinish {})) };
    }
}
