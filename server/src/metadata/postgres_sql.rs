//! PostgreSQL's side of the SQL: its [`Dialect`] for the shared reads, the row shapes only its
//! statements return, and the read-back by key digest that batches and imports share.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use docstokg_catalog::{DocumentRecord, Result};
use sqlx::{
    PgConnection, Postgres, Row,
    postgres::{PgArguments, PgRow},
    query::QueryAs,
};

use super::{row::DocumentRow, shared_sql::Dialect, sqlx_error::from_sqlx};

/// A query of the shared SQL on PostgreSQL.
type PgQuery<'q, O> = QueryAs<'q, Postgres, O, PgArguments>;

impl Dialect for Postgres {
    /// Timestamps as exact microseconds since the epoch (EXTRACT returns numeric), so rows
    /// decode like SQLite's.
    fn columns(prefix: &str) -> String {
        format!(
            "{p}id, {p}artifact_id, {p}source_url, {p}resolver, {p}content_type, {p}bytes, {p}sha256, {p}storage_uri, \
             (EXTRACT(EPOCH FROM {p}created_at) * 1000000)::BIGINT AS created_at, \
             (EXTRACT(EPOCH FROM {p}updated_at) * 1000000)::BIGINT AS updated_at, {p}run_id",
            p = prefix
        )
    }

    fn placeholder(n: usize) -> String {
        format!("${n}")
    }

    fn bind_instant<'q, O>(query: PgQuery<'q, O>, instant: DateTime<Utc>) -> PgQuery<'q, O> {
        query.bind(instant)
    }
}

/// A row of the register statement: whether it was inserted, then the record's columns.
pub struct CreatedRow {
    pub created: bool,
    pub document: DocumentRow,
}

impl sqlx::FromRow<'_, PgRow> for CreatedRow {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        Ok(Self {
            created: row.try_get(0)?,
            document: DocumentRow::decode(row, 1)?,
        })
    }
}

/// A row read back with its key digest, then the record's columns.
struct KeyedRow {
    key_sha256: Vec<u8>,
    document: DocumentRow,
}

impl sqlx::FromRow<'_, PgRow> for KeyedRow {
    fn from_row(row: &PgRow) -> sqlx::Result<Self> {
        Ok(Self {
            key_sha256: row.try_get(0)?,
            document: DocumentRow::decode(row, 1)?,
        })
    }
}

/// The stored records of `keys` (key digests), by digest; keys without a row are absent. A join
/// on the unnested keys, not `= ANY($1)`: once sqlx's prepared statement gets PostgreSQL's
/// generic plan, `ANY` of a parameter array became a sequential scan comparing every row with
/// every key (1.8 s for 1,000 keys in 170,000 rows), where the join keeps the index.
pub async fn records_by_key(
    conn: &mut PgConnection,
    keys: &[Vec<u8>],
) -> Result<HashMap<Vec<u8>, DocumentRecord>> {
    let rows: Vec<KeyedRow> = sqlx::query_as(&format!(
        "SELECT d.key_sha256, {} FROM UNNEST($1::bytea[]) AS k(key) \
         JOIN documents d ON d.key_sha256 = k.key",
        Postgres::columns("d.")
    ))
    .bind(keys)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| from_sqlx("reading records back by key", e))?;
    rows.into_iter()
        .map(|row| Ok((row.key_sha256, DocumentRecord::try_from(row.document)?)))
        .collect()
}
