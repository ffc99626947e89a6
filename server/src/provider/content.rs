//! Content: uploads stored before their record, and ranged downloads.

use docstokg_catalog::{
    ByteStream, CatalogError, ContentDownload, ContentHeader, ContentInfo, ContentRequest,
    ContentSelector, ErrorKind, NewDocument, Result,
};

use futures::{StreamExt, TryStreamExt};

use super::CatalogProvider;
use crate::blob::{BlobExpectation, BlobStore, ByteRange};
use crate::metering;

/// Stores the upload's bytes (content-addressed, checked against the header) and returns the
/// document to register for them, and whether the bytes were already stored.
pub async fn store_upload(
    blobs: &dyn BlobStore,
    header: ContentHeader,
    body: ByteStream,
    max_upload_bytes: u64,
) -> Result<(NewDocument, bool)> {
    let expect = BlobExpectation {
        sha256: header.expected_sha256.clone(),
        bytes: header.expected_bytes.map(|n| n as u64),
        max_bytes: max_upload_bytes,
    };
    // Counted as received, whether or not the upload is then accepted.
    let body = body
        .inspect_ok(|chunk| metering::uploaded(chunk.len()))
        .boxed();
    let stored = blobs.put(expect, body).await?;
    if stored.deduplicated {
        metering::dedup_hit();
    }
    let document = header.into_document(stored.sha256, stored.bytes as i64, stored.storage_uri);
    Ok((document, stored.deduplicated))
}

/// Opens the bytes of a record or a hash for a (ranged) download.
pub async fn open_download(
    provider: &CatalogProvider,
    blobs: &dyn BlobStore,
    request: ContentRequest,
) -> Result<ContentDownload> {
    let (storage_uri, sha256) = match &request.selector {
        ContentSelector::RecordId(id) => {
            let record = provider.record(*id).await?;
            let uri = record.storage_uri.clone().ok_or_else(|| {
                CatalogError::new(
                    ErrorKind::FailedPrecondition,
                    format!("record {id} has no stored bytes"),
                )
            })?;
            if !blobs.in_scope(&uri) {
                return Err(CatalogError::new(
                    ErrorKind::FailedPrecondition,
                    format!(
                        "the bytes of record {id} live outside this provider's storage ({uri})"
                    ),
                ));
            }
            (uri, record.sha256.unwrap_or_default())
        }
        ContentSelector::Sha256(sha256) => (blobs.uri_of(sha256), sha256.clone()),
    };
    let total = blobs
        .size(&storage_uri)
        .await?
        .ok_or_else(|| CatalogError::not_found(format!("no stored bytes at {storage_uri}")))?;
    if request.offset > total {
        return Err(CatalogError::invalid(
            "offset",
            format!(
                "{} is past the end of a {total}-byte object",
                request.offset
            ),
        ));
    }
    let range_bytes = request.length.map_or(total - request.offset, |length| {
        length.min(total - request.offset)
    });
    let body = blobs
        .read(
            &storage_uri,
            ByteRange::new(request.offset, Some(range_bytes)),
        )
        .await?
        .inspect_ok(|chunk| metering::downloaded(chunk.len()))
        .boxed();
    let info = ContentInfo {
        sha256,
        total_bytes: total as i64,
        range_bytes: range_bytes as i64,
        storage_uri,
    };
    Ok(ContentDownload { info, body })
}
