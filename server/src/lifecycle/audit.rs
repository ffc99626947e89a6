//! AuditStorage: every record checked against the store (outside the provider's storage, bytes
//! missing, size differing, and for a sample the hash re-computed), then every stored object
//! checked for a record that references it (orphans).

use std::sync::Arc;

use async_stream::try_stream;
use docstokg_catalog::{
    AuditEvent, AuditFinding, AuditFindingKind, AuditOptions, AuditSummary, DocumentRecord,
    RecordStream, Result, VerificationStatus,
};
use futures::{TryStreamExt, stream::BoxStream};

use super::gc::GC_BATCH;
use crate::{blob::BlobStore, metadata::MetadataStore, provider::verify::verify_record};

/// Records checked at once (each a size probe, or a re-hash).
const AUDIT_CONCURRENCY: usize = 8;
/// Records or objects between two progress messages.
const PROGRESS_EVERY: i64 = 1000;

/// The audit: `Started`, then findings and progress, then the summary.
pub fn audit_stream(
    metadata: Arc<dyn MetadataStore>,
    blobs: Arc<dyn BlobStore>,
    records: RecordStream,
    total_records: i64,
    options: AuditOptions,
) -> BoxStream<'static, Result<AuditEvent>> {
    Box::pin(try_stream! {
        yield AuditEvent::Started { records: total_records };
        let mut summary = AuditSummary::default();
        let mut checks = records
            .map_ok(|record| {
                let blobs = blobs.clone();
                async move { check_record(blobs.as_ref(), record, options).await }
            })
            .try_buffered(AUDIT_CONCURRENCY);
        while let Some((finding, rehashed)) = checks.try_next().await? {
            summary.records_checked += 1;
            summary.rehashed += i64::from(rehashed);
            if let Some(finding) = finding {
                summary.count(&finding);
                yield AuditEvent::Finding(finding);
            }
            if summary.records_checked % PROGRESS_EVERY == 0 {
                yield progress(&summary);
            }
        }
        drop(checks);
        let mut after: Option<String> = None;
        loop {
            let page = blobs.list(after.as_deref(), GC_BATCH).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.sha256.clone());
            let full_page = page.len() == GC_BATCH;
            let hashes: Vec<String> = page.iter().map(|o| o.sha256.clone()).collect();
            let referenced = metadata.lifecycle().referenced(&hashes).await?;
            for object in page {
                summary.objects_checked += 1;
                if !referenced.contains(&object.sha256) {
                    let finding = AuditFinding {
                        kind: AuditFindingKind::Orphan,
                        record_id: None,
                        storage_uri: Some(blobs.uri_of(&object.sha256)),
                        sha256: Some(object.sha256),
                        bytes: object.bytes as i64,
                        message: format!(
                            "no record references these bytes (stored {}); garbage collection \
                             removes them after the grace period",
                            object.modified.to_rfc3339()
                        ),
                    };
                    summary.count(&finding);
                    yield AuditEvent::Finding(finding);
                }
                if summary.objects_checked % PROGRESS_EVERY == 0 {
                    yield progress(&summary);
                }
            }
            if !full_page {
                break;
            }
        }
        yield AuditEvent::Summary(summary);
    })
}

fn progress(summary: &AuditSummary) -> AuditEvent {
    AuditEvent::Progress {
        records_checked: summary.records_checked,
        objects_checked: summary.objects_checked,
    }
}

/// The finding for `record`, if any, and whether its bytes were re-hashed.
async fn check_record(
    blobs: &dyn BlobStore,
    record: DocumentRecord,
    options: AuditOptions,
) -> Result<(Option<AuditFinding>, bool)> {
    let Some(uri) = record.storage_uri.clone() else {
        return Ok((None, false));
    };
    let finding = |kind, message: String| AuditFinding {
        kind,
        record_id: Some(record.id),
        sha256: record.sha256.clone(),
        storage_uri: Some(uri.clone()),
        bytes: record.bytes,
        message,
    };
    if !blobs.in_scope(&uri) {
        return Ok((
            Some(finding(
                AuditFindingKind::OutOfScope,
                "storage_uri points outside this provider's storage; it was not opened".into(),
            )),
            false,
        ));
    }
    let size = match blobs.size(&uri).await? {
        None => {
            return Ok((
                Some(finding(
                    AuditFindingKind::Missing,
                    "no bytes at storage_uri".into(),
                )),
                false,
            ));
        }
        Some(size) => size,
    };
    if size != record.bytes as u64 {
        return Ok((
            Some(finding(
                AuditFindingKind::Mismatch,
                format!("{size} bytes stored, {} recorded", record.bytes),
            )),
            false,
        ));
    }
    if record.sha256.is_none() || !options.rehashes(record.id) {
        return Ok((None, false));
    }
    let result = verify_record(blobs, &record).await?;
    let found = match result.status {
        VerificationStatus::Mismatch => Some(finding(AuditFindingKind::Mismatch, result.message)),
        VerificationStatus::Missing => Some(finding(AuditFindingKind::Missing, result.message)),
        VerificationStatus::OutOfScope => {
            Some(finding(AuditFindingKind::OutOfScope, result.message))
        }
        VerificationStatus::Verified | VerificationStatus::NoHash => None,
    };
    Ok((found, true))
}
