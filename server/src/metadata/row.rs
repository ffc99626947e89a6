//! The database row of a record, separate from the domain type.

use chrono::{DateTime, Utc};
use docstokg_catalog::{CatalogError, DocumentRecord, DuplicateGroup, Result};

/// Columns of `documents`, in the order every query selects them.
pub const COLUMNS: &str = "id, artifact_id, source_url, resolver, content_type, bytes, sha256, storage_uri, created_at, updated_at, run_id";

/// One row of `documents`, timestamps as microseconds since the Unix epoch. Its sqlx rows are
/// read by position, as [`COLUMNS`] orders them (see [`DocumentRow::decode`]).
#[derive(Debug)]
pub struct DocumentRow {
    pub id: i64,
    pub artifact_id: String,
    pub source_url: String,
    pub resolver: String,
    pub content_type: Option<String>,
    pub bytes: i64,
    pub sha256: Option<String>,
    pub storage_uri: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub run_id: Option<String>,
}

/// A [`DocumentRow`] from the columns of `$row` that start at `$first`, in [`COLUMNS`] order,
/// each read with `$row.$get(index)?`: the one list of the fields for rusqlite's rows and sqlx's.
macro_rules! document_row_at {
    ($row:ident, $first:ident, $get:ident) => {
        DocumentRow {
            id: $row.$get($first)?,
            artifact_id: $row.$get($first + 1)?,
            source_url: $row.$get($first + 2)?,
            resolver: $row.$get($first + 3)?,
            content_type: $row.$get($first + 4)?,
            bytes: $row.$get($first + 5)?,
            sha256: $row.$get($first + 6)?,
            storage_uri: $row.$get($first + 7)?,
            created_at: $row.$get($first + 8)?,
            updated_at: $row.$get($first + 9)?,
            run_id: $row.$get($first + 10)?,
        }
    };
}

impl DocumentRow {
    /// The row whose [`COLUMNS`] start at column `first` of a rusqlite result row.
    pub fn read(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Self> {
        Ok(document_row_at!(row, first, get))
    }

    /// The row whose [`COLUMNS`] start at column `first` of an sqlx result row, read by
    /// position: read by name, as sqlx's derived `FromRow` does, each column of each row was a
    /// lookup of its name among the statement's columns, about a fifth of the server's samples
    /// while it streamed duplicates from PostgreSQL.
    pub fn decode<'r, R: sqlx::Row>(row: &'r R, first: usize) -> sqlx::Result<Self>
    where
        usize: sqlx::ColumnIndex<R>,
        i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    {
        Ok(document_row_at!(row, first, try_get))
    }
}

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for DocumentRow
where
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Self::decode(row, 0)
    }
}

impl TryFrom<DocumentRow> for DocumentRecord {
    type Error = CatalogError;

    fn try_from(row: DocumentRow) -> Result<Self> {
        Ok(Self {
            id: row.id,
            artifact_id: row.artifact_id,
            source_url: row.source_url,
            resolver: row.resolver,
            content_type: row.content_type,
            bytes: row.bytes,
            sha256: row.sha256,
            storage_uri: row.storage_uri,
            created_at: from_micros(row.created_at)?,
            updated_at: from_micros(row.updated_at)?,
            run_id: row.run_id,
        })
    }
}

/// Microseconds since the epoch as an instant.
pub fn from_micros(micros: i64) -> Result<DateTime<Utc>> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| CatalogError::internal(format!("stored timestamp {micros} is out of range")))
}

/// The current instant, truncated to the microsecond precision both databases store.
pub fn now_micros() -> i64 {
    Utc::now().timestamp_micros()
}

/// The SHA-256 of a record's key: its three fields joined by NUL, which validation forbids inside
/// a field, so distinct keys have distinct inputs.
pub fn key_sha256(artifact_id: &str, source_url: &str, resolver: &str) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for (index, part) in [artifact_id, source_url, resolver].into_iter().enumerate() {
        if index > 0 {
            hasher.update([0u8]);
        }
        hasher.update(part.as_bytes());
    }
    hasher.finalize().to_vec()
}

/// A duplicate group's totals, without its records.
#[derive(Debug, sqlx::FromRow)]
pub struct GroupTotals {
    pub sha256: String,
    pub group_count: i64,
    pub group_bytes: i64,
}

impl From<GroupTotals> for DuplicateGroup {
    fn from(totals: GroupTotals) -> Self {
        Self {
            sha256: totals.sha256,
            count: totals.group_count,
            total_bytes: totals.group_bytes,
            records: Vec::new(),
        }
    }
}

/// A duplicate group's totals followed by one of its records: `group_count, group_bytes`, then
/// [`COLUMNS`].
#[derive(Debug)]
pub struct GroupedRow {
    pub group_count: i64,
    pub group_bytes: i64,
    pub document: DocumentRow,
}

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for GroupedRow
where
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> sqlx::Result<Self> {
        Ok(Self {
            group_count: row.try_get(0)?,
            group_bytes: row.try_get(1)?,
            document: DocumentRow::decode(row, 2)?,
        })
    }
}

/// Assembles rows ordered by group, then id, into duplicate groups.
#[derive(Debug, Default)]
pub struct GroupAssembler {
    current: Option<DuplicateGroup>,
}

impl GroupAssembler {
    /// Adds a row; returns the previous group when this row starts a new one.
    pub fn push(&mut self, row: GroupedRow) -> Result<Option<DuplicateGroup>> {
        let record = DocumentRecord::try_from(row.document)?;
        let sha256 = record.sha256.clone().unwrap_or_default();
        let finished = match &self.current {
            Some(group) if group.sha256 != sha256 => self.current.take(),
            _ => None,
        };
        self.current
            .get_or_insert_with(|| DuplicateGroup {
                sha256,
                count: row.group_count,
                total_bytes: row.group_bytes,
                records: Vec::new(),
            })
            .records
            .push(record);
        Ok(finished)
    }

    /// The last group, once every row is in.
    pub fn finish(self) -> Option<DuplicateGroup> {
        self.current
    }
}
