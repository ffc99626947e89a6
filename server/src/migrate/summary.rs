//! What a migration did.

use docstokg_catalog::DocumentRecord;
use serde::Serialize;

use super::blob_copy::BlobOutcome;

/// A record whose migration went wrong, and why. The record itself is still copied (with its
/// source storage_uri) so that no record is lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// Source record id.
    pub record_id: i64,
    /// Its artifact.
    pub artifact_id: String,
    /// What went wrong.
    pub reason: String,
}

impl Failure {
    /// A failure of `record`.
    pub fn of(record: &DocumentRecord, reason: String) -> Self {
        Self {
            record_id: record.id,
            artifact_id: record.artifact_id.clone(),
            reason,
        }
    }
}

/// Counts of a migration run (or of what a dry run would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MigrationSummary {
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// Source records read.
    pub records_read: u64,
    /// Records written to the target.
    pub records_copied: u64,
    /// Records already present in the target (same key), left as they are.
    pub records_skipped: u64,
    /// Copied records whose id was taken in the target and that got a new one.
    pub records_renumbered: u64,
    /// Records not imported because their bytes could not be written to the target; the next
    /// run copies them.
    pub records_deferred: u64,
    /// Blobs copied.
    pub blobs_copied: u64,
    /// Bytes copied.
    pub bytes_copied: u64,
    /// Blobs the target already held (same sha256), not copied again.
    pub blobs_deduplicated: u64,
    /// Copied blobs re-hashed in the target (`--verify`).
    pub blobs_verified: u64,
    /// Records whose bytes could not be copied or verified.
    pub failures: Vec<Failure>,
}

impl MigrationSummary {
    /// Counts what happened to one record's bytes.
    pub(super) fn count_blob(&mut self, outcome: &BlobOutcome, record: &DocumentRecord) {
        match outcome {
            BlobOutcome::NotHeld => {}
            BlobOutcome::Copied(bytes) => {
                self.blobs_copied += 1;
                self.bytes_copied += bytes;
            }
            BlobOutcome::AlreadyInTarget => self.blobs_deduplicated += 1,
            BlobOutcome::SourceUnusable(reason) => {
                self.failures.push(Failure::of(record, reason.clone()))
            }
            BlobOutcome::Failed(reason) => {
                self.records_deferred += 1;
                let reason = format!("{reason}; not imported, run the migration again");
                self.failures.push(Failure::of(record, reason));
            }
        }
    }

    /// The summary as lines of text.
    pub fn render(&self) -> String {
        let verb = if self.dry_run { "would copy" } else { "copied" };
        let mut out = format!(
            "{} records read: {verb} {}, skipped {} (already present), renumbered {}, \
             deferred {} (bytes not written; run again)\n\
             blobs: {verb} {} ({} bytes), deduplicated {}, verified {}\n\
             failures: {}\n",
            self.records_read,
            self.records_copied,
            self.records_skipped,
            self.records_renumbered,
            self.records_deferred,
            self.blobs_copied,
            self.bytes_copied,
            self.blobs_deduplicated,
            self.blobs_verified,
            self.failures.len(),
        );
        for failure in &self.failures {
            out.push_str(&format!(
                "  record {} ({}): {}\n",
                failure.record_id, failure.artifact_id, failure.reason
            ));
        }
        out
    }
}
