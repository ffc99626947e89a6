//! The lifecycle SQL both databases speak: finding and deleting records (DeleteRecords,
//! retention), which hashes records still reference, and the pins and tombstones through which
//! garbage collection and uploads coordinate (`lifecycle/gc.rs` explains the protocol). Reads go
//! to the read pool, writes to the write pool (on SQLite the single writer's connection, so they
//! queue behind group commits instead of contending for the write lock).

use std::collections::HashSet;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use docstokg_catalog::{RecordFilter, Result};
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Pool, Type};

use super::{
    row::now_micros,
    shared_sql::{Dialect, acquire, bind_filter, filter_sql},
    sqlx_error::from_sqlx,
};

/// Which records a retention rule deletes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionSelection {
    /// Only records of this resolver.
    pub resolver: Option<String>,
    /// Only records of this content type.
    pub content_type: Option<String>,
    /// Only records created before this instant.
    pub created_before: Option<DateTime<Utc>>,
    /// Keep this many of the newest matching records of each artifact.
    pub keep_latest: Option<u32>,
}

/// The lifecycle statements of a metadata store.
#[async_trait]
pub trait LifecycleSql: Send + Sync {
    /// Up to `limit` ids of records matching `filter` above `after_id`, ascending.
    async fn matching_ids(
        &self,
        filter: &RecordFilter,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<i64>>;

    /// Which of `ids` exist, ascending.
    async fn existing_ids(&self, ids: &[i64]) -> Result<Vec<i64>>;

    /// Deletes the records with `ids`; returns the ids this call deleted, ascending.
    async fn delete_ids(&self, ids: &[i64]) -> Result<Vec<i64>>;

    /// (id, bytes) of every record `rule` selects, ascending by id.
    async fn retention_candidates(&self, rule: &RetentionSelection) -> Result<Vec<(i64, i64)>>;

    /// Which of `hashes` some record has as its sha256.
    async fn referenced(&self, hashes: &[String]) -> Result<HashSet<String>>;

    /// Pins `sha256`: a collector will not delete its bytes while the pin exists. Returns its id.
    async fn pin(&self, sha256: &str) -> Result<i64>;

    /// Removes pin `id`.
    async fn unpin(&self, id: i64) -> Result<()>;

    /// Which of `hashes` are pinned.
    async fn pinned(&self, hashes: &[String]) -> Result<HashSet<String>>;

    /// Removes pins older than `before` (left by killed servers); returns how many.
    async fn expire_pins(&self, before: DateTime<Utc>) -> Result<u64>;

    /// Records that a collector is deleting the bytes of `hashes`.
    async fn tombstone(&self, hashes: &[String]) -> Result<()>;

    /// Whether a collector is deleting the bytes of `sha256`.
    async fn tombstoned(&self, sha256: &str) -> Result<bool>;

    /// Every tombstone (a killed collector's unfinished work), ascending.
    async fn tombstones(&self) -> Result<Vec<String>>;

    /// Removes the tombstones of `hashes`.
    async fn clear_tombstones(&self, hashes: &[String]) -> Result<()>;
}

/// [`LifecycleSql`] on a pool of either database.
pub struct SharedLifecycle<DB: Database> {
    reads: Pool<DB>,
    reads_name: &'static str,
    writes: Pool<DB>,
    writes_name: &'static str,
}

impl<DB: Database> SharedLifecycle<DB> {
    /// Reads from `reads`, writes to `writes` (named so in the metrics).
    pub fn new(reads: (Pool<DB>, &'static str), writes: (Pool<DB>, &'static str)) -> Self {
        Self {
            reads: reads.0,
            reads_name: reads.1,
            writes: writes.0,
            writes_name: writes.1,
        }
    }
}

/// `n` placeholders numbered from `first`, comma-separated.
fn placeholders<DB: Dialect>(first: usize, n: usize) -> String {
    (first..first + n)
        .map(DB::placeholder)
        .collect::<Vec<_>>()
        .join(", ")
}

#[async_trait]
impl<DB> LifecycleSql for SharedLifecycle<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
    for<'r> (i64, i64): FromRow<'r, DB::Row>,
    for<'r> (String,): FromRow<'r, DB::Row>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
{
    async fn matching_ids(
        &self,
        filter: &RecordFilter,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<i64>> {
        let (conditions, values) = filter_sql::<DB>(filter, 3);
        let sql = format!(
            "SELECT id FROM documents WHERE id > {}{conditions} ORDER BY id LIMIT {}",
            DB::placeholder(1),
            DB::placeholder(2)
        );
        let rows: Vec<(i64,)> =
            bind_filter(sqlx::query_as(&sql).bind(after_id).bind(limit), values)
                .fetch_all(&mut *acquire(self.reads_name, &self.reads).await?)
                .await
                .map_err(|e| from_sqlx("finding records to delete", e))?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn existing_ids(&self, ids: &[i64]) -> Result<Vec<i64>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id FROM documents WHERE id IN ({}) ORDER BY id",
            placeholders::<DB>(1, ids.len())
        );
        let mut query = sqlx::query_as::<_, (i64,)>(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        let rows = query
            .fetch_all(&mut *acquire(self.reads_name, &self.reads).await?)
            .await
            .map_err(|e| from_sqlx("reading record ids", e))?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn delete_ids(&self, ids: &[i64]) -> Result<Vec<i64>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "DELETE FROM documents WHERE id IN ({}) RETURNING id",
            placeholders::<DB>(1, ids.len())
        );
        let mut query = sqlx::query_as::<_, (i64,)>(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        let rows = query
            .fetch_all(&mut *acquire(self.writes_name, &self.writes).await?)
            .await
            .map_err(|e| from_sqlx("deleting records", e))?;
        let mut deleted: Vec<i64> = rows.into_iter().map(|(id,)| id).collect();
        deleted.sort_unstable();
        Ok(deleted)
    }

    async fn retention_candidates(&self, rule: &RetentionSelection) -> Result<Vec<(i64, i64)>> {
        let filter = RecordFilter {
            resolver: rule.resolver.clone(),
            content_type: rule.content_type.clone(),
            ..RecordFilter::default()
        };
        let (conditions, mut values) = filter_sql::<DB>(&filter, 1);
        let mut outer = String::new();
        if let Some(before) = rule.created_before {
            let cutoff = RecordFilter {
                created_before: Some(before),
                ..RecordFilter::default()
            };
            let (condition, cutoff_values) = filter_sql::<DB>(&cutoff, values.len() + 1);
            outer.push_str(&condition);
            values.extend(cutoff_values);
        }
        let sql = match rule.keep_latest {
            // The rank of each record among its artifact's matching records, newest first.
            Some(keep) => format!(
                "SELECT id, bytes FROM (SELECT id, bytes, created_at, ROW_NUMBER() OVER \
                 (PARTITION BY artifact_id ORDER BY created_at DESC, id DESC) AS newest_rank \
                 FROM documents WHERE 1 = 1{conditions}) ranked \
                 WHERE newest_rank > {keep}{outer} ORDER BY id"
            ),
            None => format!(
                "SELECT id, bytes FROM documents WHERE 1 = 1{conditions}{outer} ORDER BY id"
            ),
        };
        bind_filter(sqlx::query_as::<_, (i64, i64)>(&sql), values)
            .fetch_all(&mut *acquire(self.reads_name, &self.reads).await?)
            .await
            .map_err(|e| from_sqlx("finding records a retention rule selects", e))
    }

    async fn referenced(&self, hashes: &[String]) -> Result<HashSet<String>> {
        self.hashes_in(
            "SELECT DISTINCT sha256 FROM documents WHERE sha256 IN",
            hashes,
            "finding referenced hashes",
        )
        .await
    }

    async fn pin(&self, sha256: &str) -> Result<i64> {
        let sql = format!(
            "INSERT INTO blob_pins (sha256, created_at) VALUES ({}, {}) RETURNING id",
            DB::placeholder(1),
            DB::placeholder(2)
        );
        let (id,): (i64,) = sqlx::query_as(&sql)
            .bind(sha256.to_owned())
            .bind(now_micros())
            .fetch_one(&mut *acquire(self.writes_name, &self.writes).await?)
            .await
            .map_err(|e| from_sqlx("pinning stored bytes", e))?;
        Ok(id)
    }

    async fn unpin(&self, id: i64) -> Result<()> {
        let sql = format!("DELETE FROM blob_pins WHERE id = {}", DB::placeholder(1));
        sqlx::query(&sql)
            .bind(id)
            .execute(&mut *acquire(self.writes_name, &self.writes).await?)
            .await
            .map_err(|e| from_sqlx("unpinning stored bytes", e))?;
        Ok(())
    }

    async fn pinned(&self, hashes: &[String]) -> Result<HashSet<String>> {
        self.hashes_in(
            "SELECT DISTINCT sha256 FROM blob_pins WHERE sha256 IN",
            hashes,
            "reading pins",
        )
        .await
    }

    async fn expire_pins(&self, before: DateTime<Utc>) -> Result<u64> {
        let sql = format!(
            "DELETE FROM blob_pins WHERE created_at < {} RETURNING id",
            DB::placeholder(1)
        );
        let removed: Vec<(i64,)> = sqlx::query_as(&sql)
            .bind(before.timestamp_micros())
            .fetch_all(&mut *acquire(self.writes_name, &self.writes).await?)
            .await
            .map_err(|e| from_sqlx("removing stale pins", e))?;
        Ok(removed.len() as u64)
    }

    async fn tombstone(&self, hashes: &[String]) -> Result<()> {
        if hashes.is_empty() {
            return Ok(());
        }
        let rows: Vec<String> = (0..hashes.len())
            .map(|i| {
                format!(
                    "({}, {})",
                    DB::placeholder(2 * i + 1),
                    DB::placeholder(2 * i + 2)
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO blob_tombstones (sha256, created_at) VALUES {} ON CONFLICT DO NOTHING",
            rows.join(", ")
        );
        let now = now_micros();
        let mut query = sqlx::query(&sql);
        for hash in hashes {
            query = query.bind(hash.clone()).bind(now);
        }
        query
            .execute(&mut *acquire(self.writes_name, &self.writes).await?)
            .await
            .map_err(|e| from_sqlx("writing tombstones", e))?;
        Ok(())
    }

    async fn tombstoned(&self, sha256: &str) -> Result<bool> {
        let sql = format!(
            "SELECT COUNT(*) FROM blob_tombstones WHERE sha256 = {}",
            DB::placeholder(1)
        );
        let (count,): (i64,) = sqlx::query_as(&sql)
            .bind(sha256.to_owned())
            .fetch_one(&mut *acquire(self.writes_name, &self.writes).await?)
            .await
            .map_err(|e| from_sqlx("reading tombstones", e))?;
        Ok(count > 0)
    }

    async fn tombstones(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT sha256 FROM blob_tombstones ORDER BY sha256")
                .fetch_all(&mut *acquire(self.writes_name, &self.writes).await?)
                .await
                .map_err(|e| from_sqlx("reading tombstones", e))?;
        Ok(rows.into_iter().map(|(hash,)| hash).collect())
    }

    async fn clear_tombstones(&self, hashes: &[String]) -> Result<()> {
        if hashes.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "DELETE FROM blob_tombstones WHERE sha256 IN ({})",
            placeholders::<DB>(1, hashes.len())
        );
        let mut query = sqlx::query(&sql);
        for hash in hashes {
            query = query.bind(hash.clone());
        }
        query
            .execute(&mut *acquire(self.writes_name, &self.writes).await?)
            .await
            .map_err(|e| from_sqlx("removing tombstones", e))?;
        Ok(())
    }
}

impl<DB> SharedLifecycle<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> (String,): FromRow<'r, DB::Row>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
{
    /// The hashes `select ... IN` returns for `hashes`. Pins and tombstones are read from the
    /// write pool: on SQLite that orders the read after the writes queued before it.
    async fn hashes_in(
        &self,
        select_in: &str,
        hashes: &[String],
        doing: &'static str,
    ) -> Result<HashSet<String>> {
        if hashes.is_empty() {
            return Ok(HashSet::new());
        }
        let sql = format!("{select_in} ({})", placeholders::<DB>(1, hashes.len()));
        let mut query = sqlx::query_as::<_, (String,)>(&sql);
        for hash in hashes {
            query = query.bind(hash.clone());
        }
        let rows = query
            .fetch_all(&mut *acquire(self.writes_name, &self.writes).await?)
            .await
            .map_err(|e| from_sqlx(doing, e))?;
        Ok(rows.into_iter().map(|(hash,)| hash).collect())
    }
}
