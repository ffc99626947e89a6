//! PutContent: a client-streaming upload of a header, the chunks, then `finish`.
//!
//! The server stores nothing unless `finish` arrives, so when the caller's byte stream fails the
//! request stream simply ends without it: the upload is abandoned on the server, and the caller
//! gets its own error back.

use docstokg_catalog::convert::UploadPart;
use docstokg_catalog::proto;
use docstokg_catalog::{ByteStream, CatalogError, ContentHeader, PutOutcome, Result};
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
        response = call => PutOutcome::try_from(response.map_err(status_error)?.into_inner()),
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
        yield UploadPart::Header(header).into();
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(chunk) if chunk.is_empty() => {}
                Ok(chunk) => yield UploadPart::Chunk(chunk).into(),
                Err(error) => {
                    // The receiver is gone only when the call already finished; nothing to tell.
                    let _ = failed.send(error);
                    return;
                }
            }
        }
        yield UploadPart::Finish.into();
    }
}
