//! Copying one record's bytes from the source's blob store to the target's.

use docstokg_catalog::{DocumentRecord, ErrorKind};

use crate::{
    blob::{BlobExpectation, ByteRange},
    provider::CatalogProvider,
};

/// What happened to a record's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobOutcome {
    /// The record has no bytes in the source's storage (no storage_uri, or one elsewhere).
    NotHeld,
    /// Copied this many bytes.
    Copied(u64),
    /// The target already had them.
    AlreadyInTarget,
    /// The source's bytes are missing or do not match the record: no run can copy them, so the
    /// record is imported as it is (keeping its source storage_uri) and reported.
    SourceUnusable(String),
    /// Reading or writing them failed (the target store is down or full, a read broke off): the
    /// record is not imported, so the next run copies it.
    Failed(String),
}

impl BlobOutcome {
    /// Whether the target now holds the record's bytes.
    pub fn stored_in_target(&self) -> bool {
        matches!(self, Self::Copied(_) | Self::AlreadyInTarget)
    }

    /// Whether the record may be imported now: its bytes are in the target, or it has none that
    /// a later run could copy. A record is never imported pointing at bytes left behind.
    pub fn allows_import(&self) -> bool {
        !matches!(self, Self::Failed(_))
    }
}

/// Copies the bytes of `record` when the source holds them, and returns the record with its
/// storage_uri pointing at the target's copy. In a dry run nothing is written.
pub async fn copy_blob(
    source: &CatalogProvider,
    target: &CatalogProvider,
    mut record: DocumentRecord,
    dry_run: bool,
) -> (DocumentRecord, BlobOutcome) {
    let Some(uri) = record
        .storage_uri
        .clone()
        .filter(|uri| source.blobs().in_scope(uri))
    else {
        return (record, BlobOutcome::NotHeld);
    };
    if let Some(sha256) = &record.sha256 {
        let target_uri = target.blobs().uri_of(sha256);
        if let Ok(Some(size)) = target.blobs().size(&target_uri).await
            && size == record.bytes as u64
        {
            record.storage_uri = Some(target_uri);
            return (record, BlobOutcome::AlreadyInTarget);
        }
    }
    match source.blobs().size(&uri).await {
        Ok(Some(_)) => {}
        Ok(None) => {
            return (
                record,
                BlobOutcome::SourceUnusable(format!("no bytes at {uri} in the source")),
            );
        }
        Err(error) => {
            return (
                record,
                BlobOutcome::Failed(format!("reading {uri} in the source: {}", error.message)),
            );
        }
    }
    if dry_run {
        let bytes = record.bytes as u64;
        return (record, BlobOutcome::Copied(bytes));
    }
    let body = match source.blobs().read(&uri, ByteRange::ALL).await {
        Ok(body) => body,
        Err(error) => {
            return (
                record,
                BlobOutcome::Failed(format!("reading {uri} in the source: {}", error.message)),
            );
        }
    };
    let expect = BlobExpectation {
        sha256: record.sha256.clone(),
        bytes: Some(record.bytes as u64),
        max_bytes: u64::MAX,
    };
    match target.blobs().put(expect, body).await {
        Ok(stored) => {
            record.storage_uri = Some(stored.storage_uri);
            let outcome = if stored.deduplicated {
                BlobOutcome::AlreadyInTarget
            } else {
                BlobOutcome::Copied(stored.bytes)
            };
            (record, outcome)
        }
        Err(error) if error.kind == ErrorKind::InvalidArgument => {
            let reason = format!(
                "the bytes at {uri} do not match the record: {}",
                error.message
            );
            (record, BlobOutcome::SourceUnusable(reason))
        }
        Err(error) => (
            record,
            BlobOutcome::Failed(format!("writing to the target: {}", error.message)),
        ),
    }
}
