//! The lifecycle of records and bytes: deleting records, retention, and the storage audit.

use serde::{Deserialize, Serialize};

use crate::RecordFilter;

/// Most ids a DeleteRecords answer lists; the counts are always complete.
pub const MAX_REPORTED_IDS: usize = 10_000;

/// Which records DeleteRecords deletes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeleteSelection {
    /// These ids (ids that are gone are ignored).
    Ids(Vec<i64>),
    /// Every record matching the filter; at least one field must be set.
    Filter(RecordFilter),
}

/// A DeleteRecords request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteRequest {
    /// What to delete.
    pub selection: DeleteSelection,
    /// Count and list what would be deleted; delete nothing.
    pub dry_run: bool,
}

/// What DeleteRecords matched and deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteReport {
    /// Records that matched.
    pub matched: i64,
    /// Records this call deleted (0 on a dry run).
    pub deleted: i64,
    /// The ids deleted (or, on a dry run, that would be), ascending, at most
    /// [`MAX_REPORTED_IDS`].
    pub ids: Vec<i64>,
    /// True when more ids were deleted than `ids` lists.
    pub ids_truncated: bool,
}

impl DeleteReport {
    /// Adds one batch of `matched` records of which `deleted` (ascending) were deleted or, on a
    /// dry run, would be.
    pub fn add(&mut self, matched: usize, deleted: &[i64], dry_run: bool) {
        self.matched += matched as i64;
        if !dry_run {
            self.deleted += deleted.len() as i64;
        }
        let room = MAX_REPORTED_IDS.saturating_sub(self.ids.len());
        self.ids_truncated |= deleted.len() > room;
        self.ids.extend(deleted.iter().take(room));
    }
}

/// What one retention rule matched and deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionRuleReport {
    /// The rule's name in the configuration.
    pub rule: String,
    /// Records the rule selected.
    pub matched: i64,
    /// Records deleted (0 on a dry run).
    pub deleted: i64,
    /// Sum of the sizes of the selected records.
    pub matched_bytes: i64,
}

/// What ApplyRetention did, rule by rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionReport {
    /// One report per configured rule, in configuration order.
    pub rules: Vec<RetentionRuleReport>,
    /// True when nothing was deleted because it was a dry run.
    pub dry_run: bool,
}

/// What AuditStorage re-hashes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditOptions {
    /// Fraction of records whose bytes are re-hashed, in [0, 1]; deterministic per id.
    pub rehash_rate: f64,
}

impl AuditOptions {
    /// Whether record `id` is re-hashed: the same deterministic sample as VerifyAll's.
    pub fn rehashes(&self, id: i64) -> bool {
        self.rehash_rate > 0.0
            && crate::VerifyAllOptions {
                sample_rate: self.rehash_rate,
                ..crate::VerifyAllOptions::default()
            }
            .samples(id)
    }
}

/// What kind of problem an audit found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuditFindingKind {
    /// A stored object no record references.
    Orphan,
    /// A record whose bytes are not where its storage_uri points.
    Missing,
    /// A record whose stored bytes differ from its size or sha256.
    Mismatch,
    /// A record whose storage_uri points outside the provider's storage.
    OutOfScope,
}

/// One problem an audit found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFinding {
    /// What kind of problem.
    pub kind: AuditFindingKind,
    /// The record (`None` for an orphan).
    pub record_id: Option<i64>,
    /// The record's or the object's sha256.
    pub sha256: Option<String>,
    /// The record's storage_uri, or the orphan's URI.
    pub storage_uri: Option<String>,
    /// The record's size, or the orphan's.
    pub bytes: i64,
    /// Human-readable detail.
    pub message: String,
}

/// Totals of an audit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditSummary {
    /// Records checked.
    pub records_checked: i64,
    /// Stored objects listed.
    pub objects_checked: i64,
    /// Records whose bytes were re-hashed.
    pub rehashed: i64,
    /// Orphan findings.
    pub orphans: i64,
    /// Sum of the orphans' sizes.
    pub orphan_bytes: i64,
    /// Missing findings.
    pub missing: i64,
    /// Mismatch findings.
    pub mismatched: i64,
    /// Out-of-scope findings.
    pub out_of_scope: i64,
}

impl AuditSummary {
    /// Counts `finding`.
    pub fn count(&mut self, finding: &AuditFinding) {
        match finding.kind {
            AuditFindingKind::Orphan => {
                self.orphans += 1;
                self.orphan_bytes += finding.bytes;
            }
            AuditFindingKind::Missing => self.missing += 1,
            AuditFindingKind::Mismatch => self.mismatched += 1,
            AuditFindingKind::OutOfScope => self.out_of_scope += 1,
        }
    }
}

/// One message of an audit: started, progress and findings as they come, then the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuditEvent {
    /// First: the number of records to check.
    Started {
        /// Records to check.
        records: i64,
    },
    /// Every 1,000 records or objects.
    Progress {
        /// Records checked so far.
        records_checked: i64,
        /// Stored objects checked so far.
        objects_checked: i64,
    },
    /// One per problem.
    Finding(AuditFinding),
    /// Last.
    Summary(AuditSummary),
}
