//! The SQL both databases speak, written once: reading a record by id, the lookups, counting and
//! listing with a [`RecordFilter`], Stats, the health probe, and the duplicate-groups query. What differs between SQLite
//! and PostgreSQL (how timestamps are stored and selected) is the small [`Dialect`] trait; what
//! only one database can do (the upsert shapes, UNNEST, the streamed scans) stays in its own file.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use docstokg_catalog::{
    BackendHealth, DocumentRecord, DuplicateQuery, NewDocument, RecordFilter, RecordStream, Result,
    StorageBackend,
};
use sqlx::{
    Database, Encode, Executor, FromRow, IntoArguments, Pool, Type, pool::PoolConnection,
    query::QueryAs,
};

use super::{
    Lookup, MetadataStats,
    paging::{PAGE_SIZE, paged},
    row::DocumentRow,
    sqlx_error::from_sqlx,
};
use crate::{
    health::timed_probe,
    metering::{PoolUsage, WaitingForConnection},
};

/// A connection of `pool` (named `name` in the metrics), counted as waiting until it arrives.
/// Every store takes its connections here, so `catalog_pool_waiting` sees every caller.
pub async fn acquire<DB: Database>(
    name: &'static str,
    pool: &Pool<DB>,
) -> Result<PoolConnection<DB>> {
    let _waiting = WaitingForConnection::start(name);
    pool.acquire()
        .await
        .map_err(|e| from_sqlx("waiting for a database connection", e))
}

/// The connections of `pool`, named `name` in the metrics.
pub fn pool_usage<DB: Database>(name: &'static str, pool: &Pool<DB>) -> PoolUsage {
    PoolUsage {
        pool: name,
        open: pool.size(),
        idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
        max: pool.options().get_max_connections(),
    }
}

/// Stats: counts and sizes of the whole table.
const STATS_TOTALS: &str = "SELECT COUNT(*), CAST(COALESCE(SUM(bytes), 0) AS BIGINT), \
    COUNT(DISTINCT sha256), COUNT(DISTINCT artifact_id) FROM documents";
/// Stats: hashes shared by two or more records.
const STATS_DUPLICATE_GROUPS: &str = "SELECT COUNT(*) FROM (SELECT sha256 FROM documents \
    WHERE sha256 IS NOT NULL GROUP BY sha256 HAVING COUNT(*) > 1) AS duplicate_sets";
/// Stats: bytes registered with a hash, and bytes stored once per distinct hash.
const STATS_DEDUP_BYTES: &str = "SELECT CAST(COALESCE(SUM(total), 0) AS BIGINT), \
    CAST(COALESCE(SUM(one_copy), 0) AS BIGINT) FROM (SELECT SUM(bytes) AS total, \
    MAX(bytes) AS one_copy FROM documents WHERE sha256 IS NOT NULL GROUP BY sha256) AS per_hash";
/// Stats: duplicate groups holding a record of each resolver.
const STATS_DUPLICATE_GROUPS_BY_RESOLVER: &str = "SELECT d.resolver, COUNT(DISTINCT d.sha256) \
    FROM documents d JOIN (SELECT sha256 FROM documents WHERE sha256 IS NOT NULL GROUP BY sha256 \
    HAVING COUNT(*) > 1) AS duplicate_sets ON d.sha256 = duplicate_sets.sha256 \
    GROUP BY d.resolver ORDER BY d.resolver";
/// Stats: records per resolver.
const STATS_BY_RESOLVER: &str =
    "SELECT resolver, COUNT(*) FROM documents GROUP BY resolver ORDER BY resolver";

/// A query of the shared SQL, with its bind parameters still to be bound.
type Query<'q, DB, O> = QueryAs<'q, DB, O, <DB as Database>::Arguments<'q>>;

/// What one database does differently in the shared SQL.
pub trait Dialect: Database {
    /// The columns of `documents` as [`DocumentRow`] decodes them (timestamps as microseconds
    /// since the epoch), each prefixed with `prefix` (`""` or `"d."`).
    fn columns(prefix: &str) -> String;

    /// The text of bind parameter number `n` (from 1).
    fn placeholder(n: usize) -> String;

    /// Binds `instant` in the form `created_at` is stored.
    fn bind_instant<'q, O>(query: Query<'q, Self, O>, instant: DateTime<Utc>)
    -> Query<'q, Self, O>;
}

/// A value a [`RecordFilter`] binds.
pub(super) enum FilterValue {
    Text(String),
    Instant(DateTime<Utc>),
}

/// `filter` as `AND ...` conditions whose parameters are numbered from `first`, and their values.
pub(super) fn filter_sql<DB: Dialect>(
    filter: &RecordFilter,
    first: usize,
) -> (String, Vec<FilterValue>) {
    let texts = [
        ("run_id =", &filter.run_id),
        ("resolver =", &filter.resolver),
        ("content_type =", &filter.content_type),
        ("artifact_id =", &filter.artifact_id),
    ];
    let instants = [
        ("created_at >=", filter.created_after),
        ("created_at <", filter.created_before),
    ];
    let conditions = texts
        .into_iter()
        .filter_map(|(condition, value)| Some((condition, FilterValue::Text(value.clone()?))))
        .chain(
            instants
                .into_iter()
                .filter_map(|(condition, value)| Some((condition, FilterValue::Instant(value?)))),
        );
    let (mut sql, mut values) = (String::new(), Vec::new());
    for (condition, value) in conditions {
        sql.push_str(&format!(
            " AND {condition} {}",
            DB::placeholder(first + values.len())
        ));
        values.push(value);
    }
    (sql, values)
}

/// The reads of the `documents` table, for a pool of either database.
pub struct SharedReads<DB: Database> {
    pool: Pool<DB>,
    /// The pool's name in the metrics.
    pool_name: &'static str,
    /// What the database is (`sqlite`, `postgres`) and where (a path, a redacted URL).
    backend: StorageBackend,
}

impl<DB: Database> Clone for SharedReads<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            pool_name: self.pool_name,
            backend: self.backend.clone(),
        }
    }
}

impl<DB: Database> SharedReads<DB> {
    /// Reads from `pool`, a database of `kind` at `location` (secrets already redacted).
    pub fn new(pool: Pool<DB>, kind: &'static str, location: String) -> Self {
        let backend = StorageBackend {
            role: "metadata".into(),
            kind: kind.into(),
            location,
        };
        Self {
            pool,
            pool_name: kind,
            backend,
        }
    }

    /// A connection of the pool, counted as waiting until it arrives.
    async fn connection(&self) -> Result<PoolConnection<DB>> {
        acquire(self.pool_name, &self.pool).await
    }

    /// Up to [`PAGE_SIZE`] rows matching `filter` with ids above `after_id`, by id.
    async fn page(&self, after_id: i64, filter: &RecordFilter) -> Result<Vec<DocumentRow>>
    where
        Self: RecordReads,
        DB: Dialect,
        for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
        for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
        for<'r> DocumentRow: FromRow<'r, DB::Row>,
        for<'q> i64: Encode<'q, DB> + Type<DB>,
        for<'q> String: Encode<'q, DB> + Type<DB>,
    {
        let (conditions, values) = filter_sql::<DB>(filter, 2);
        let sql = format!(
            "SELECT {} FROM documents WHERE id > {}{conditions} ORDER BY id LIMIT {PAGE_SIZE}",
            DB::columns(""),
            DB::placeholder(1)
        );
        bind_filter(sqlx::query_as(&sql).bind(after_id), values)
            .fetch_all(&mut *self.connection().await?)
            .await
            .map_err(|e| from_sqlx("listing records", e))
    }
}

/// The reads every metadata store answers with the shared SQL; `MetadataStore` forwards its
/// `get`, `lookup`, `count` and `list` here.
#[async_trait]
pub trait RecordReads: Send + Sync {
    /// The record with `id`, if there is one.
    async fn get(&self, id: i64) -> Result<Option<DocumentRecord>>;

    /// Records matching `lookup`, newest first (created_at DESC, id DESC).
    async fn lookup(&self, lookup: Lookup<'_>) -> Result<Vec<DocumentRecord>>;

    /// Number of records matching `filter`.
    async fn count(&self, filter: &RecordFilter) -> Result<i64>;

    /// Records matching `filter` by id, in pages that hold no connection between them.
    fn list(&self, filter: RecordFilter) -> RecordStream;

    /// What and where the database is, for Stats.
    fn describe(&self) -> StorageBackend;

    /// Counts for Stats.
    async fn stats(&self) -> Result<MetadataStats>;

    /// A real round trip to the database.
    async fn probe(&self) -> BackendHealth;
}

#[async_trait]
impl<DB> RecordReads for SharedReads<DB>
where
    DB: Dialect,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    for<'q> DB::Arguments<'q>: IntoArguments<'q, DB>,
    for<'r> DocumentRow: FromRow<'r, DB::Row>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
    for<'r> (i64, i64): FromRow<'r, DB::Row>,
    for<'r> (i64, i64, i64, i64): FromRow<'r, DB::Row>,
    for<'r> (String, i64): FromRow<'r, DB::Row>,
    for<'q> i64: Encode<'q, DB> + Type<DB>,
    for<'q> String: Encode<'q, DB> + Type<DB>,
{
    async fn get(&self, id: i64) -> Result<Option<DocumentRecord>> {
        let sql = format!(
            "SELECT {} FROM documents WHERE id = {}",
            DB::columns(""),
            DB::placeholder(1)
        );
        let row: Option<DocumentRow> = sqlx::query_as(&sql)
            .bind(id)
            .fetch_optional(&mut *self.connection().await?)
            .await
            .map_err(|e| from_sqlx("reading a record", e))?;
        row.map(TryInto::try_into).transpose()
    }

    async fn lookup(&self, lookup: Lookup<'_>) -> Result<Vec<DocumentRecord>> {
        let (column, value) = match lookup {
            Lookup::Artifact(v) => ("artifact_id", v),
            Lookup::Sha256(v) => ("sha256", v),
            Lookup::Run(v) => ("run_id", v),
        };
        let sql = format!(
            "SELECT {} FROM documents WHERE {column} = {} ORDER BY created_at DESC, id DESC",
            DB::columns(""),
            DB::placeholder(1)
        );
        let rows: Vec<DocumentRow> = sqlx::query_as(&sql)
            .bind(value.to_owned())
            .fetch_all(&mut *self.connection().await?)
            .await
            .map_err(|e| from_sqlx("looking up records", e))?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn count(&self, filter: &RecordFilter) -> Result<i64> {
        let (conditions, values) = filter_sql::<DB>(filter, 1);
        let sql = format!("SELECT COUNT(*) FROM documents WHERE 1 = 1{conditions}");
        let (count,): (i64,) = bind_filter(sqlx::query_as(&sql), values)
            .fetch_one(&mut *self.connection().await?)
            .await
            .map_err(|e| from_sqlx("counting records", e))?;
        Ok(count)
    }

    fn list(&self, filter: RecordFilter) -> RecordStream {
        let reads = self.clone();
        paged(move |after_id| {
            let (reads, filter) = (reads.clone(), filter.clone());
            async move { reads.page(after_id, &filter).await }
        })
    }

    fn describe(&self) -> StorageBackend {
        self.backend.clone()
    }

    async fn stats(&self) -> Result<MetadataStats> {
        let failed = |e| from_sqlx("computing stats", e);
        let (total_records, total_bytes, unique_sha256, unique_artifacts): (i64, i64, i64, i64) =
            sqlx::query_as(STATS_TOTALS)
                .fetch_one(&mut *self.connection().await?)
                .await
                .map_err(failed)?;
        let (duplicate_groups,): (i64,) = sqlx::query_as(STATS_DUPLICATE_GROUPS)
            .fetch_one(&mut *self.connection().await?)
            .await
            .map_err(failed)?;
        let by_resolver: Vec<(String, i64)> = sqlx::query_as(STATS_BY_RESOLVER)
            .fetch_all(&mut *self.connection().await?)
            .await
            .map_err(failed)?;
        let (hashed_bytes, unique_bytes): (i64, i64) = sqlx::query_as(STATS_DEDUP_BYTES)
            .fetch_one(&mut *self.connection().await?)
            .await
            .map_err(failed)?;
        let duplicate_groups_by_resolver: Vec<(String, i64)> =
            sqlx::query_as(STATS_DUPLICATE_GROUPS_BY_RESOLVER)
                .fetch_all(&mut *self.connection().await?)
                .await
                .map_err(failed)?;
        Ok(MetadataStats {
            hashed_bytes,
            unique_bytes,
            duplicate_groups_by_resolver,
            total_records,
            total_bytes,
            unique_sha256,
            unique_artifacts,
            duplicate_groups,
            by_resolver,
        })
    }

    async fn probe(&self) -> BackendHealth {
        timed_probe("metadata", async {
            let _: (i64,) = sqlx::query_as("SELECT CAST(1 AS BIGINT)")
                .fetch_one(&mut *self.connection().await?)
                .await
                .map_err(|e| from_sqlx("probing the database", e))?;
            Ok(format!(
                "{} {} answers",
                self.backend.kind, self.backend.location
            ))
        })
        .await
    }
}

/// Binds the fields of `document` that every insert lists after its key or id, in this order:
/// artifact_id, source_url, resolver, content_type, bytes, sha256, storage_uri.
pub fn bind_document<'q, DB, O>(
    query: Query<'q, DB, O>,
    document: &'q NewDocument,
) -> Query<'q, DB, O>
where
    DB: Database,
    &'q str: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    query
        .bind(document.artifact_id.as_str())
        .bind(document.source_url.as_str())
        .bind(document.resolver.as_str())
        .bind(document.content_type.as_deref())
        .bind(document.bytes)
        .bind(document.sha256.as_deref())
        .bind(document.storage_uri.as_deref())
}

/// Binds the values of [`filter_sql`], in order.
pub(super) fn bind_filter<'q, DB, O>(
    mut query: Query<'q, DB, O>,
    values: Vec<FilterValue>,
) -> Query<'q, DB, O>
where
    DB: Dialect,
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    for value in values {
        query = match value {
            FilterValue::Text(text) => query.bind(text),
            FilterValue::Instant(instant) => DB::bind_instant(query, instant),
        };
    }
    query
}

/// The duplicate groups of `query`, ordered by count DESC then sha256 ASC (and, with records, by
/// id within a group), at most `limit` groups. `min_count` and `limit` are validated integers
/// and are inlined, so the statement takes no bind parameters.
pub fn duplicates_sql<DB: Dialect>(query: &DuplicateQuery) -> String {
    let groups = groups_sql(query, ", CAST(SUM(bytes) AS BIGINT) AS group_bytes");
    if !query.include_records {
        return largest_first(query, &groups);
    }
    // Ordered inside only to cut at the limit: an inner ORDER BY without one makes SQLite sort
    // the groups before the join as well as after it (twice as slow).
    let groups = match query.limit {
        Some(_) => largest_first(query, &groups),
        None => groups,
    };
    format!(
        "SELECT g.group_count, g.group_bytes, {} FROM ({groups}) g \
         JOIN documents d ON d.sha256 = g.sha256 \
         ORDER BY g.group_count DESC, g.sha256 ASC, d.id ASC",
        DB::columns("d.")
    )
}

/// The rows of [`duplicates_sql`] with records, read group by group: the groups are ranked
/// first by their hashes alone (an index-only scan of the sha256 index and a small sort), then
/// each group's records are read through that index and its bytes summed over them, so the
/// first group streams once the ranking is done, not after a sort of every record. The inner
/// `ORDER BY` keeps PostgreSQL from flattening the lateral read into one hash join; the outer
/// one is an incremental sort of groups that arrive sorted.
pub fn duplicates_by_group_sql<DB: Dialect>(query: &DuplicateQuery) -> String {
    format!(
        "SELECT g.group_count, d.group_bytes, {} FROM ({}) g \
         CROSS JOIN LATERAL (SELECT *, CAST(SUM(bytes) OVER () AS BIGINT) AS group_bytes \
         FROM documents d WHERE d.sha256 = g.sha256 ORDER BY d.id) d \
         ORDER BY g.group_count DESC, g.sha256 ASC, d.id ASC",
        DB::columns("d."),
        ranked_hashes_sql(query)
    )
}

/// The hashes of `query`'s groups with their counts (`sha256, group_count`), ordered and cut as
/// [`duplicates_sql`] orders them. Without the bytes, an index on sha256 alone answers it.
pub fn ranked_hashes_sql(query: &DuplicateQuery) -> String {
    largest_first(query, &groups_sql(query, ""))
}

/// `sha256, group_count` and the `totals` columns of every group of at least `min_count`.
fn groups_sql(query: &DuplicateQuery, totals: &str) -> String {
    format!(
        "SELECT sha256, COUNT(*) AS group_count{totals} FROM documents WHERE sha256 IS NOT NULL \
         GROUP BY sha256 HAVING COUNT(*) >= {}",
        query.min_count
    )
}

/// `groups` ordered by count DESC then sha256 ASC, at most `limit` of them.
fn largest_first(query: &DuplicateQuery, groups: &str) -> String {
    format!(
        "{groups} ORDER BY group_count DESC, sha256 ASC{}",
        query
            .limit
            .map(|limit| format!(" LIMIT {limit}"))
            .unwrap_or_default()
    )
}
