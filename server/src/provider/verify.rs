//! Verification: re-hash a record's stored bytes and compare them with the record.

use std::sync::Arc;

use async_stream::try_stream;
use docstokg_catalog::{
    DocumentRecord, ErrorKind, RecordStream, Result, VerificationResult, VerificationStatus,
    VerifyAllEvent, VerifyAllOptions, VerifySummary,
};
use futures::{TryStreamExt, future, stream::BoxStream};

use crate::blob::{BlobStore, ByteRange, hash_stream};

/// Verifies one record against `blobs`. Only URIs inside the store are opened.
pub async fn verify_record(
    blobs: &dyn BlobStore,
    record: &DocumentRecord,
) -> Result<VerificationResult> {
    let result = |status, actual: Option<(String, u64)>, message: String| VerificationResult {
        record_id: record.id,
        status,
        expected_sha256: record.sha256.clone(),
        actual_bytes: actual.as_ref().map(|(_, bytes)| *bytes as i64),
        actual_sha256: actual.map(|(sha256, _)| sha256),
        expected_bytes: record.bytes,
        storage_uri: record.storage_uri.clone(),
        message,
    };
    let Some(uri) = record.storage_uri.as_deref() else {
        return Ok(result(
            VerificationStatus::Missing,
            None,
            "the record has no storage_uri".into(),
        ));
    };
    if !blobs.in_scope(uri) {
        let message = format!("{uri} is outside this provider's storage; it was not opened");
        return Ok(result(VerificationStatus::OutOfScope, None, message));
    }
    let Some(expected) = record.sha256.as_deref() else {
        return Ok(result(
            VerificationStatus::NoHash,
            None,
            "the record has no sha256 to compare with".into(),
        ));
    };
    let body = match blobs.read(uri, ByteRange::ALL).await {
        Ok(body) => body,
        Err(error) if error.kind == ErrorKind::NotFound => {
            return Ok(result(
                VerificationStatus::Missing,
                None,
                format!("no stored object at {uri}"),
            ));
        }
        Err(error) if error.kind == ErrorKind::FailedPrecondition => {
            return Ok(result(VerificationStatus::OutOfScope, None, error.message));
        }
        Err(error) => return Err(error),
    };
    let (sha256, bytes) = hash_stream(body).await?;
    let matches = sha256 == expected && bytes as i64 == record.bytes;
    let (status, message) = if matches {
        (
            VerificationStatus::Verified,
            "stored bytes match the record".to_owned(),
        )
    } else {
        (
            VerificationStatus::Mismatch,
            format!("stored bytes hash to {sha256} ({bytes} bytes)"),
        )
    };
    Ok(result(status, Some((sha256, bytes)), message))
}

/// VerifyAll: `Started`, then a result per sampled record in id order with up to
/// `options.concurrency` verifications in flight, then the summary.
pub fn verify_stream(
    blobs: Arc<dyn BlobStore>,
    records: RecordStream,
    options: VerifyAllOptions,
    matching_records: i64,
) -> BoxStream<'static, Result<VerifyAllEvent>> {
    Box::pin(try_stream! {
        yield VerifyAllEvent::Started { matching_records };
        let mut summary = VerifySummary::default();
        let mut skipped = 0_i64;
        let sampled = records.try_filter(|record| {
            let keep = options.samples(record.id);
            if !keep {
                skipped += 1;
            }
            future::ready(keep)
        });
        let mut results = sampled
            .map_ok(|record| {
                let blobs = blobs.clone();
                async move { verify_record(blobs.as_ref(), &record).await }
            })
            .try_buffered(options.concurrency);
        while let Some(result) = results.try_next().await? {
            summary.add(result.status);
            yield VerifyAllEvent::Result(result);
        }
        drop(results);
        summary.skipped = skipped;
        yield VerifyAllEvent::Summary(summary);
    })
}
