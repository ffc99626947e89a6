//! Queries over records: filters for listing and verification, and duplicate groups.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::DocumentRecord;

/// Optional filters over records; `None` matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordFilter {
    /// Only records of this run.
    pub run_id: Option<String>,
    /// Only records found by this resolver.
    pub resolver: Option<String>,
    /// Only records of this content type.
    pub content_type: Option<String>,
    /// Only records created at or after this instant.
    pub created_after: Option<DateTime<Utc>>,
    /// Only records created before this instant.
    pub created_before: Option<DateTime<Utc>>,
    /// Only records of this artifact.
    pub artifact_id: Option<String>,
}

impl RecordFilter {
    /// True when no field is set: the filter matches every record.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// What FindDuplicates looks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateQuery {
    /// Smallest group size to report (>= 2).
    pub min_count: i64,
    /// Whether each group carries its records.
    pub include_records: bool,
    /// At most this many groups, the largest first (`None`: every group).
    pub limit: Option<i64>,
}

impl Default for DuplicateQuery {
    fn default() -> Self {
        Self {
            min_count: 2,
            include_records: false,
            limit: None,
        }
    }
}

/// Records sharing one sha256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateGroup {
    /// The shared hash.
    pub sha256: String,
    /// Number of records.
    pub count: i64,
    /// Sum of their sizes.
    pub total_bytes: i64,
    /// The records ordered by id, when asked for.
    pub records: Vec<DocumentRecord>,
}
