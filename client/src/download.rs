//! GetContent: a server-streaming download, an info message then the chunks.

use docstokg_catalog::convert::DownloadPart;
use docstokg_catalog::proto;
use docstokg_catalog::{ByteStream, CatalogError, ContentDownload, Result};

use crate::client::RpcClient;
use crate::errors::status_error;

/// Starts a download: reads the leading info message, then streams the chunks that follow,
/// checking that exactly `range_bytes` arrive.
pub(crate) async fn get(
    mut rpc: RpcClient,
    request: proto::GetContentRequest,
) -> Result<ContentDownload> {
    let mut stream = rpc
        .get_content(request)
        .await
        .map_err(status_error)?
        .into_inner();
    let first = stream.message().await.map_err(status_error)?;
    let info = match first.map(DownloadPart::try_from).transpose()? {
        Some(DownloadPart::Info(info)) => info,
        Some(DownloadPart::Chunk(_)) => {
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
        while let Some(message) = stream.message().await.map_err(status_error)? {
            let DownloadPart::Chunk(chunk) = DownloadPart::try_from(message)? else {
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
