//! DeleteRecords: by ids, or by filter in batches, each batch its own statement, so a delete of
//! millions of records holds no lock for long and a repeated call finishes an interrupted one.

use docstokg_catalog::{DeleteReport, DeleteRequest, DeleteSelection, Result};

use crate::{cache::RecordCache, metadata::MetadataStore};

/// Records deleted per statement.
pub const DELETE_BATCH: usize = 1000;

/// Deletes `ids` and evicts them from `cache`; returns the ids this call deleted.
pub async fn delete_ids(
    metadata: &dyn MetadataStore,
    cache: &RecordCache,
    ids: &[i64],
) -> Result<Vec<i64>> {
    let deleted = metadata.lifecycle().delete_ids(ids).await?;
    for id in &deleted {
        cache.evict(*id);
    }
    Ok(deleted)
}

/// Runs a validated DeleteRecords request.
pub async fn delete_records(
    metadata: &dyn MetadataStore,
    cache: &RecordCache,
    request: DeleteRequest,
) -> Result<DeleteReport> {
    let mut report = DeleteReport::default();
    let lifecycle = metadata.lifecycle();
    match request.selection {
        DeleteSelection::Ids(ids) => {
            let existing = lifecycle.existing_ids(&ids).await?;
            if request.dry_run {
                report.add(existing.len(), &existing, true);
            } else {
                let deleted = delete_ids(metadata, cache, &existing).await?;
                report.add(existing.len(), &deleted, false);
            }
        }
        DeleteSelection::Filter(filter) => {
            let mut after_id = 0;
            loop {
                let ids = lifecycle
                    .matching_ids(&filter, after_id, DELETE_BATCH as i64)
                    .await?;
                let Some(&last) = ids.last() else { break };
                after_id = last;
                if request.dry_run {
                    report.add(ids.len(), &ids, true);
                } else {
                    let deleted = delete_ids(metadata, cache, &ids).await?;
                    report.add(ids.len(), &deleted, false);
                }
                if ids.len() < DELETE_BATCH {
                    break;
                }
            }
        }
    }
    Ok(report)
}
