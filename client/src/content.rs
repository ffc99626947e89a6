//! PutContent and GetContent: the client- and server-streaming byte transfers.

use docstokg_catalog::convert::required_record;
use docstokg_catalog::proto::{self, get_content_response, put_content_request};
use docstokg_catalog::{
    ByteStream, CatalogError, ContentDownload, ContentHeader, ContentInfo, PutOutcome,
    RegisterOutcome, Result,
};
use futures::{Stream, StreamExt};
use tokio::sync::oneshot;
use tonic::CancellationHandle;

use crate::client::RpcClient;

/// Uploads `header` then every chunk of `body`. When `body` fails, the request stream is
/// cancelled (HTTP/2 RST_STREAM) instead of ended, so the server sees an aborted upload and
/// stores nothing; the caller gets its own error back.
pub(crate) async fn put(
    mut rpc: RpcClient,
    header: ContentHeader,
    body: ByteStream,
) -> Result<PutOutcome> {
    let (failed_tx, failed_rx) = oneshot::channel();
    let mut request = tonic::Request::new(());
    let cancel = request.cancellation_handle();
    let request = request.map(|()| upload_messages(header, body, cancel, failed_tx));
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
        response = rpc.put_content(request) => {
            let response = response.map_err(CatalogError::from)?.into_inner();
            let registration = RegisterOutcome {
                record: required_record(response.record)?,
                created: response.created,
                differing_fields: response.differing_fields,
            };
            Ok(PutOutcome { registration, deduplicated: response.deduplicated })
        }
    }
}

/// The request messages of an upload: the header, then one chunk per non-empty piece of `body`.
fn upload_messages(
    header: ContentHeader,
    mut body: ByteStream,
    cancel: CancellationHandle,
    failed: oneshot::Sender<CatalogError>,
) -> impl Stream<Item = proto::PutContentRequest> + Send + 'static {
    use put_content_request::Part;
    async_stream::stream! {
        yield proto::PutContentRequest { part: Some(Part::Header(header.into())) };
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(chunk) if chunk.is_empty() => {}
                Ok(chunk) => yield proto::PutContentRequest { part: Some(Part::Chunk(chunk)) },
                Err(error) => {
                    // The receiver is gone only when the call already finished; nothing to tell.
                    let _ = failed.send(error);
                    cancel.cancel();
                    // Never end cleanly: a clean end would tell the server the upload is complete.
                    std::future::pending::<()>().await;
                    return;
                }
            }
        }
    }
}

/// Starts a download: reads the leading info message, then streams the chunks that follow,
/// checking that exactly `range_bytes` arrive.
pub(crate) async fn get(
    mut rpc: RpcClient,
    request: proto::GetContentRequest,
) -> Result<ContentDownload> {
    use get_content_response::Part;
    let mut stream = rpc
        .get_content(request)
        .await
        .map_err(CatalogError::from)?
        .into_inner();
    let info: ContentInfo = match stream.message().await.map_err(CatalogError::from)? {
        Some(proto::GetContentResponse {
            part: Some(Part::Info(info)),
        }) => info.into(),
        Some(_) => {
            return Err(CatalogError::internal(
                "the server sent content bytes before the content info",
            ));
        }
        None => {
            return Err(CatalogError::internal(
                "the server ended the download without sending content info",
            ));
        }
    };
    let expected = info.range_bytes;
    let body: ByteStream = Box::pin(async_stream::try_stream! {
        let mut received: i64 = 0;
        while let Some(message) = stream.message().await.map_err(CatalogError::from)? {
            let Some(Part::Chunk(chunk)) = message.part else {
                Err(CatalogError::internal("the server sent a download message that is not a chunk"))?;
                return;
            };
            received = received.saturating_add(i64::try_from(chunk.len()).unwrap_or(i64::MAX));
            yield chunk;
        }
        if received != expected {
            Err(CatalogError::internal(format!(
                "the download ended after {received} of {expected} bytes"
            )))?;
        }
    });
    Ok(ContentDownload { info, body })
}
