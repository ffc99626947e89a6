//! `catalog-server migrate`: copies every record, and the bytes the source provider holds, from
//! one provider to another. Bytes are copied before their record, so a run killed half way leaves
//! at most bytes without a record; a record whose bytes could not be written to the target is
//! not imported at all (the run exits non-zero); running again skips what is present and
//! finishes the rest.

mod blob_copy;
mod progress;
mod summary;

use std::num::NonZeroUsize;

use docstokg_catalog::{DocumentRecord, RecordFilter, Result, VerificationStatus};
use futures::{StreamExt, TryStreamExt};

pub use progress::MigrationProgress;
pub use summary::{Failure, MigrationSummary};

use crate::provider::{CatalogProvider, verify::verify_record};
use blob_copy::{BlobOutcome, copy_blob};

/// How a migration runs.
#[derive(Debug, Clone)]
pub struct MigrateOptions {
    /// Records read and written per batch (at least one, by type: 0 is refused where it is
    /// parsed, not raised here).
    pub batch_size: NonZeroUsize,
    /// Blob copies in flight at once (at least one).
    pub copy_concurrency: NonZeroUsize,
    /// Re-hash every copied blob in the target.
    pub verify: bool,
    /// Report what would happen; write nothing.
    pub dry_run: bool,
}

/// Records per batch unless `--batch-size` says otherwise.
pub const DEFAULT_BATCH_SIZE: NonZeroUsize = NonZeroUsize::new(500).expect("500 is not zero");
/// Blob copies in flight unless the caller says otherwise.
const DEFAULT_COPY_CONCURRENCY: NonZeroUsize = NonZeroUsize::new(4).expect("4 is not zero");

impl Default for MigrateOptions {
    fn default() -> Self {
        Self {
            batch_size: DEFAULT_BATCH_SIZE,
            copy_concurrency: DEFAULT_COPY_CONCURRENCY,
            verify: false,
            dry_run: false,
        }
    }
}

/// One source record on its way: the record as it will be written, and what became of its bytes.
struct Planned {
    record: DocumentRecord,
    source_id: i64,
    blob: BlobOutcome,
}

/// Copies every record of `source` (by id, in batches) and its bytes into `target`, keeping ids
/// where the target has them free and rewriting storage_uri to the target's location.
pub async fn migrate(
    source: &CatalogProvider,
    target: &CatalogProvider,
    options: &MigrateOptions,
    progress: &mut MigrationProgress,
) -> Result<MigrationSummary> {
    let mut summary = MigrationSummary {
        dry_run: options.dry_run,
        ..MigrationSummary::default()
    };
    progress.start(source.metadata().count(&RecordFilter::default()).await?);
    let mut batches = source
        .metadata()
        .list(RecordFilter::default())
        .try_chunks(options.batch_size.get());
    while let Some(batch) = batches.try_next().await.map_err(|e| e.1)? {
        summary.records_read += batch.len() as u64;
        let keys: Vec<(&str, &str, &str)> = batch
            .iter()
            .map(|r| {
                (
                    r.artifact_id.as_str(),
                    r.source_url.as_str(),
                    r.resolver.as_str(),
                )
            })
            .collect();
        let present = target.metadata().existing_keys(&keys).await?;
        let mut pending = Vec::with_capacity(batch.len());
        for (record, present) in batch.into_iter().zip(present) {
            if present {
                summary.records_skipped += 1;
            } else {
                pending.push(record);
            }
        }
        let planned: Vec<Planned> = futures::stream::iter(pending)
            .map(|record| async move {
                let source_id = record.id;
                let (record, blob) = copy_blob(source, target, record, options.dry_run).await;
                Planned {
                    record,
                    source_id,
                    blob,
                }
            })
            .buffered(options.copy_concurrency.get())
            .collect()
            .await;
        for plan in &planned {
            summary.count_blob(&plan.blob, &plan.record);
        }
        // A record goes in only with its bytes in the target (or with none a run could copy):
        // the others wait for the next run, which finds their keys absent and copies them.
        let planned: Vec<Planned> = planned
            .into_iter()
            .filter(|plan| plan.blob.allows_import())
            .collect();
        if options.dry_run {
            summary.records_copied += planned.len() as u64;
        } else if !planned.is_empty() {
            write_batch(target, planned, options.verify, &mut summary).await?;
        }
        progress.advance(summary.records_read, &summary);
    }
    progress.finish(&summary);
    Ok(summary)
}

async fn write_batch(
    target: &CatalogProvider,
    planned: Vec<Planned>,
    verify: bool,
    summary: &mut MigrationSummary,
) -> Result<()> {
    let (records, origins): (Vec<DocumentRecord>, Vec<(i64, BlobOutcome)>) = planned
        .into_iter()
        .map(|plan| (plan.record, (plan.source_id, plan.blob)))
        .unzip();
    let outcomes = target.metadata().import(records, true).await?;
    for (outcome, (source_id, blob)) in outcomes.into_iter().zip(origins) {
        if !outcome.created {
            summary.records_skipped += 1;
            continue;
        }
        summary.records_copied += 1;
        if outcome.record.id != source_id {
            summary.records_renumbered += 1;
        }
        if verify && blob.stored_in_target() {
            let result = verify_record(target.blobs(), &outcome.record).await?;
            summary.blobs_verified += 1;
            if result.status != VerificationStatus::Verified {
                summary.failures.push(Failure::of(
                    &outcome.record,
                    format!("verify in the target: {}", result.message),
                ));
            }
        }
    }
    Ok(())
}
