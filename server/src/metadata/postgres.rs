//! The PostgreSQL metadata store of the enterprise and cloud providers: a pool shared by any
//! number of server processes, uniqueness decided by the database, streams that hold no
//! connection longer than the client keeps reading. Concurrent single registrations are
//! coalesced: while one statement is in the database, the registrations that arrive meanwhile
//! gather and go in the next `UNNEST` upsert together, so the database commits many rows per
//! transaction; its unique constraint still decides, whatever number of servers share it.

use std::{
    collections::{HashMap, HashSet},
    num::NonZeroU32,
    sync::Arc,
    time::Duration,
};

use async_stream::try_stream;
use async_trait::async_trait;
use docstokg_catalog::{
    CatalogError, DocumentRecord, DuplicateGroup, DuplicateQuery, NewDocument, RegisterOutcome,
    Result,
};
use futures::{TryStreamExt, stream::BoxStream};
use sqlx::{
    Acquire, Postgres,
    pool::PoolConnection,
    postgres::{PgPool, PgPoolOptions},
};

use super::{
    MetadataStore,
    coalescer::{Coalescer, Job},
    lifecycle_sql::{LifecycleSql, SharedLifecycle},
    postgres_import::import_batch,
    postgres_sql::{CreatedRow, records_by_key},
    row::{
        DocumentRow, GroupAssembler, GroupTotals, GroupedRow, from_micros, key_sha256, now_micros,
    },
    shared_sql::{
        Dialect, RecordReads, SharedReads, acquire, bind_document, duplicates_by_group_sql,
        duplicates_sql, pool_usage,
    },
    sqlx_error::{from_migrate, from_sqlx},
};
use crate::{config::redact, metering::PoolUsage};

/// How long a call waits for a pooled connection before failing with UNAVAILABLE.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// Statements of coalesced registrations (and of confirmations) in flight at once, per server.
/// One: the next group gathers while a statement runs, so groups grow with load, and on this
/// benchmark machine one lane did 1.2-1.3x the calls of four over gRPC, for new keys and for
/// cache hits alike (docs/benchmark-notes.md). Several servers still run several statements.
const COALESCING_LANES: usize = 1;
/// Most registrations one coalesced statement carries.
const MAX_COALESCED: usize = 1000;

/// Records in a PostgreSQL database shared by any number of servers, through one pool.
pub struct PostgresStore {
    pool: PgPool,
    reads: SharedReads<Postgres>,
    singles: Coalescer<NewDocument, RegisterOutcome>,
    /// Cached record ids to confirm, gathered like registrations: one statement for many hits.
    confirmations: Coalescer<i64, bool>,
    lifecycle: SharedLifecycle<Postgres>,
}

impl Job for i64 {
    fn rows(&self) -> usize {
        1
    }
}

impl Job for NewDocument {
    fn rows(&self) -> usize {
        1
    }
}

impl PostgresStore {
    /// Connects a pool of `pool_size` idle connections growing to `pool_size + max_overflow`
    /// under load, and runs the migrations (under sqlx's advisory lock, so concurrent servers
    /// starting together migrate once). A sum past `u32::MAX` is INVALID_ARGUMENT (the
    /// configuration already refuses it, naming the keys).
    pub async fn open(
        connection_url: &str,
        pool_size: NonZeroU32,
        max_overflow: u32,
    ) -> Result<Self> {
        let max_connections = pool_size.checked_add(max_overflow).ok_or_else(|| {
            CatalogError::invalid(
                "max_overflow",
                format!("pool_size ({pool_size}) + max_overflow ({max_overflow}) overflows u32"),
            )
        })?;
        let pool = PgPoolOptions::new()
            .min_connections(pool_size.get())
            .max_connections(max_connections.get())
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(connection_url)
            .await
            .map_err(|e| from_sqlx("connecting to PostgreSQL", e))?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| from_migrate("PostgreSQL", e))?;
        let group_pool = pool.clone();
        let singles = Coalescer::new(
            "postgres",
            COALESCING_LANES,
            MAX_COALESCED,
            Arc::new(move |documents| Box::pin(register_group(group_pool.clone(), documents))),
        );
        let confirm_pool = pool.clone();
        let confirmations = Coalescer::new(
            "postgres_confirm",
            COALESCING_LANES,
            MAX_COALESCED,
            Arc::new(move |ids| Box::pin(confirm_group(confirm_pool.clone(), ids))),
        );
        Ok(Self {
            confirmations,
            reads: SharedReads::new(pool.clone(), "postgres", redact(connection_url)),
            lifecycle: SharedLifecycle::new((pool.clone(), "postgres"), (pool.clone(), "postgres")),
            pool,
            singles,
        })
    }
}

#[async_trait]
impl MetadataStore for PostgresStore {
    fn reads(&self) -> &dyn RecordReads {
        &self.reads
    }

    fn lifecycle(&self) -> &dyn LifecycleSql {
        &self.lifecycle
    }

    async fn still_exists(&self, id: i64) -> Result<bool> {
        self.confirmations.submit(id).await
    }

    async fn register(&self, document: NewDocument) -> Result<RegisterOutcome> {
        self.singles.submit(document).await
    }

    async fn register_batch(&self, documents: Vec<NewDocument>) -> Result<Vec<RegisterOutcome>> {
        upsert_batch(&self.pool, &documents).await
    }

    async fn import(
        &self,
        records: Vec<DocumentRecord>,
        keep_ids: bool,
    ) -> Result<Vec<RegisterOutcome>> {
        let mut conn = acquire("postgres", &self.pool).await?;
        let mut tx = conn
            .begin()
            .await
            .map_err(|e| from_sqlx("starting an import", e))?;
        let outcomes = import_batch(&mut tx, records, keep_ids).await?;
        if keep_ids {
            // Explicit ids bypass the identity sequence: move it past them.
            sqlx::query(
                "SELECT setval(pg_get_serial_sequence('documents', 'id'), GREATEST((SELECT MAX(id) FROM documents), 1))",
            )
            .execute(&mut *tx)
            .await
            .map_err(|e| from_sqlx("advancing the id sequence", e))?;
        }
        tx.commit()
            .await
            .map_err(|e| from_sqlx("committing an import", e))?;
        Ok(outcomes)
    }

    async fn existing_keys(&self, keys: &[(&str, &str, &str)]) -> Result<Vec<bool>> {
        let digests: Vec<Vec<u8>> = keys.iter().map(|(a, u, r)| key_sha256(a, u, r)).collect();
        let found: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT d.key_sha256 FROM UNNEST($1::bytea[]) AS k(key) \
                 JOIN documents d ON d.key_sha256 = k.key",
        )
        .bind(&digests)
        .fetch_all(&mut *acquire("postgres", &self.pool).await?)
        .await
        .map_err(|e| from_sqlx("looking up keys", e))?;
        let found: HashSet<Vec<u8>> = found.into_iter().collect();
        Ok(digests
            .iter()
            .map(|digest| found.contains(digest))
            .collect())
    }

    fn duplicates(&self, query: DuplicateQuery) -> BoxStream<'static, Result<DuplicateGroup>> {
        // One query streamed in a transaction of its own: rows are decoded as they arrive and
        // the socket holds back the database when the consumer is slow, so this process holds
        // a few rows, not the result. Not a cursor: PostgreSQL plans a cursor (or an Execute
        // with a row limit) without parallel workers, and with the hash join the report is
        // sorted whole before its first row. The provider drives this stream on a task of its
        // own, so a consumer that goes away drops it, and a scan dropped midway closes its
        // connection.
        let pool = self.pool.clone();
        Box::pin(try_stream! {
            let mut scan = ScanConnection { conn: acquire("postgres", &pool).await?, finished: false };
            let mut tx = scan.conn.begin().await.map_err(|e| from_sqlx("starting a duplicates scan", e))?;
            let (_, _, fits): (String, String, bool) = sqlx::query_as(SCAN_SETUP)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| from_sqlx("finding duplicates", e))?;
            let sql = duplicates_statement(&query, fits);
            if query.include_records {
                let mut groups = GroupAssembler::default();
                let mut rows = sqlx::query_as::<_, GroupedRow>(&sql).persistent(false).fetch(&mut *tx);
                while let Some(row) = rows.try_next().await.map_err(|e| from_sqlx("finding duplicates", e))? {
                    if let Some(done) = groups.push(row)? {
                        yield done;
                    }
                }
                if let Some(done) = groups.finish() {
                    yield done;
                }
            } else {
                let mut rows = sqlx::query_as::<_, GroupTotals>(&sql).persistent(false).fetch(&mut *tx);
                while let Some(row) = rows.try_next().await.map_err(|e| from_sqlx("finding duplicates", e))? {
                    yield row.into();
                }
            }
            tx.rollback().await.map_err(|e| from_sqlx("closing a duplicates scan", e))?;
            scan.finished = true;
        })
    }

    fn pools(&self) -> Vec<PoolUsage> {
        vec![pool_usage("postgres", &self.pool)]
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// The settings of a duplicates scan, for its transaction only, and whether the table fits in
/// half of the shared buffers (see [`duplicates_statement`]), in one round trip:
///
/// - `work_mem` 64 MB: with the default 4 MB the sort of the joined records spilled to disk in
///   many runs; 64 MB took the first row of 1,000,000 records from 4.7 s to 3.6 s here.
/// - `jit` off: PostgreSQL compiles the scan's expressions once its cost passes
///   `jit_above_cost`, and the first compilation in a connection loads LLVM. For 100,000 records
///   that put the first row at 152 ms instead of 48 ms in a new session (55 ms in a warm one)
///   and the whole sorted join at 557 ms instead of 413 ms; the compilation alone took 63 ms at
///   1,000,000 records.
/// - The fit: the documents table and its indexes take at most half of PostgreSQL's shared
///   buffers. Then reading each duplicate group's records through the sha256 index finds their
///   pages in memory, and is as fast in all as one hash join and a sort of every record
///   (100,000 records: 0.52-0.59 s against 0.54-0.63 s through psql) while the first group
///   comes after the ranking alone (70 ms against 420 ms). A larger table makes those reads miss
///   the buffers (1,000,000 records, a 406 MB table in 128 MB: 418,000 reads, 6.8-7.1 s against
///   4.3-4.7 s), so it gets the hash join.
const SCAN_SETUP: &str = "SELECT set_config('work_mem', '64MB', true), \
     set_config('jit', 'off', true), \
     pg_total_relation_size('documents') * 2 <= pg_size_bytes(current_setting('shared_buffers'))";

/// The statement of a duplicates scan: with records and a table that `fits` in the shared
/// buffers ([`SCAN_SETUP`] finds out), groups ranked first and their records read group by
/// group; otherwise one join sorted whole. Both return the same rows in the same order.
pub fn duplicates_statement(query: &DuplicateQuery, fits: bool) -> String {
    if fits && query.include_records {
        duplicates_by_group_sql::<Postgres>(query)
    } else {
        duplicates_sql::<Postgres>(query)
    }
}

/// The connection of a streamed scan, closed instead of returned to the pool unless the scan
/// read its result to the end. The pool would drain the unread rows of a scan dropped midway
/// before lending the connection again, holding it while the database sends the rest; closing
/// the socket makes PostgreSQL abandon the query at its next row.
struct ScanConnection {
    conn: PoolConnection<Postgres>,
    finished: bool,
}

impl Drop for ScanConnection {
    fn drop(&mut self) {
        if !self.finished {
            self.conn.close_on_drop();
        }
    }
}

/// Runs one group of coalesced registrations: alone, in the one-statement upsert; together, in
/// one batch upsert. When the batch statement fails for a reason a retry cannot cure, each
/// document is registered alone, so only the callers whose rows fail get an error; an outage
/// fails the whole group with UNAVAILABLE.
async fn register_group(
    pool: PgPool,
    documents: Vec<NewDocument>,
) -> Result<Vec<Result<RegisterOutcome>>> {
    if let [document] = documents.as_slice() {
        return Ok(vec![upsert_one(&pool, document).await]);
    }
    match upsert_batch(&pool, &documents).await {
        Ok(outcomes) => Ok(outcomes.into_iter().map(Ok).collect()),
        Err(error) if error.kind == docstokg_catalog::ErrorKind::Unavailable => Err(error),
        Err(_) => {
            let mut results = Vec::with_capacity(documents.len());
            for document in &documents {
                results.push(upsert_one(&pool, document).await);
            }
            Ok(results)
        }
    }
}

/// Which of `ids` still exist, in one statement (a join with the ids as an array, so the plan
/// is an index lookup per id whatever plan PostgreSQL caches).
async fn confirm_group(pool: PgPool, ids: Vec<i64>) -> Result<Vec<Result<bool>>> {
    let found: Vec<(i64,)> = sqlx::query_as(
        "SELECT d.id FROM UNNEST($1::BIGINT[]) AS k(id) JOIN documents d ON d.id = k.id",
    )
    .bind(&ids)
    .fetch_all(&mut *acquire("postgres", &pool).await?)
    .await
    .map_err(|e| from_sqlx("confirming cached records", e))?;
    let found: HashSet<i64> = found.into_iter().map(|(id,)| id).collect();
    Ok(ids.iter().map(|id| Ok(found.contains(id))).collect())
}

/// Registers one document in one round trip: insert, or read the existing row in the same
/// statement.
async fn upsert_one(pool: &PgPool, document: &NewDocument) -> Result<RegisterOutcome> {
    let key = key_sha256(
        &document.artifact_id,
        &document.source_url,
        &document.resolver,
    );
    let now = from_micros(now_micros())?;
    // One round trip: insert, or read the existing row in the same statement.
    let sql = format!(
        "WITH inserted AS ( \
           INSERT INTO documents (key_sha256, artifact_id, source_url, resolver, content_type, bytes, sha256, \
                                  storage_uri, created_at, updated_at, run_id) \
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10) \
           ON CONFLICT (key_sha256) DO NOTHING RETURNING * \
         ) \
         SELECT TRUE AS created, {inserted} FROM inserted \
         UNION ALL \
         SELECT FALSE AS created, {existing} FROM documents d WHERE d.key_sha256 = $1",
        inserted = Postgres::columns("inserted."),
        existing = Postgres::columns("d."),
    );
    let query = sqlx::query_as::<_, CreatedRow>(&sql).bind(&key);
    let rows: Vec<(bool, DocumentRow)> = bind_document(query, document)
        .bind(now)
        .bind(&document.run_id)
        .fetch_all(&mut *acquire("postgres", pool).await?)
        .await
        .map_err(|e| from_sqlx("registering a document", e))?
        .into_iter()
        .map(|row| (row.created, row.document))
        .collect();
    // The existing-row branch reads the statement's snapshot: a row committed by a concurrent
    // registration after the statement began is not in it, so read it again in a new one.
    let (created, row) = match rows.into_iter().next() {
        Some(found) => found,
        None => {
            let row = sqlx::query_as::<_, DocumentRow>(&format!(
                "SELECT {} FROM documents WHERE key_sha256 = $1",
                Postgres::columns("")
            ))
            .bind(&key)
            .fetch_one(&mut *acquire("postgres", pool).await?)
            .await
            .map_err(|e| from_sqlx("reading a concurrently registered document", e))?;
            (false, row)
        }
    };
    let record = DocumentRecord::try_from(row)?;
    Ok(if created {
        RegisterOutcome::created(record)
    } else {
        RegisterOutcome::existing(document, record)
    })
}

/// Registers a batch: one `UNNEST` upsert that returns the rows it inserted, and, only for the
/// keys that already existed, one read-back (a batch of new keys is one statement).
async fn upsert_batch(pool: &PgPool, documents: &[NewDocument]) -> Result<Vec<RegisterOutcome>> {
    let keys: Vec<Vec<u8>> = documents
        .iter()
        .map(|d| key_sha256(&d.artifact_id, &d.source_url, &d.resolver))
        .collect();
    let now = from_micros(now_micros())?;
    let text = |f: fn(&NewDocument) -> &str| documents.iter().map(f).collect::<Vec<_>>();
    let optional =
        |f: fn(&NewDocument) -> Option<&str>| documents.iter().map(f).collect::<Vec<_>>();
    let mut conn = acquire("postgres", pool).await?;
    // One statement inserts every new key (the first occurrence wins within the batch) and
    // returns only the key and id of each row it inserted: the rest of the record is what was
    // sent, so PostgreSQL formats and the server decodes no column it already holds ...
    let inserted: Vec<(Vec<u8>, i64)> = sqlx::query_as(
        "INSERT INTO documents (key_sha256, artifact_id, source_url, resolver, content_type, bytes, sha256, \
                                storage_uri, created_at, updated_at, run_id) \
         SELECT key, artifact_id, source_url, resolver, content_type, bytes, sha256, storage_uri, $10, $10, run_id \
         FROM UNNEST($1::bytea[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], \
                     $8::text[], $9::text[]) WITH ORDINALITY \
              AS input(key, artifact_id, source_url, resolver, content_type, bytes, sha256, storage_uri, run_id, ord) \
         ORDER BY ord \
         ON CONFLICT (key_sha256) DO NOTHING RETURNING key_sha256, id",
    )
    .bind(&keys)
    .bind(text(|d| d.artifact_id.as_str()))
    .bind(text(|d| d.source_url.as_str()))
    .bind(text(|d| d.resolver.as_str()))
    .bind(optional(|d| d.content_type.as_deref()))
    .bind(documents.iter().map(|d| d.bytes).collect::<Vec<_>>())
    .bind(optional(|d| d.sha256.as_deref()))
    .bind(optional(|d| d.storage_uri.as_deref()))
    .bind(optional(|d| d.run_id.as_deref()))
    .bind(now)
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| from_sqlx("registering a batch", e))?;
    // foldhash, as the SQLite writer's map of a statement's rows (`sqlite_writer.rs`).
    let mut ids: foldhash::HashMap<Vec<u8>, i64> = inserted.into_iter().collect();
    // ... and the keys it did not insert are read in a fresh snapshot, which includes the rows
    // concurrent registrations committed meanwhile.
    let existing_keys: Vec<Vec<u8>> = keys
        .iter()
        .filter(|key| !ids.contains_key(*key))
        .cloned()
        .collect();
    let existing = if existing_keys.is_empty() {
        HashMap::new()
    } else {
        records_by_key(&mut conn, &existing_keys).await?
    };
    // The first occurrence of a new key created it; later ones found its record.
    let mut first_outcome: foldhash::HashMap<&[u8], usize> =
        foldhash::HashMap::with_capacity_and_hasher(ids.len(), Default::default());
    let mut outcomes: Vec<RegisterOutcome> = Vec::with_capacity(documents.len());
    for (document, key) in documents.iter().zip(&keys) {
        let outcome = if let Some(id) = ids.remove(key) {
            first_outcome.insert(key, outcomes.len());
            let record = DocumentRecord::from_document(id, document.clone(), now, now);
            RegisterOutcome::created(record)
        } else if let Some(&first) = first_outcome.get(key.as_slice()) {
            RegisterOutcome::existing(document, outcomes[first].record.clone())
        } else {
            let record = existing.get(key).cloned().ok_or_else(|| {
                CatalogError::internal("a registered batch row could not be read back")
            })?;
            RegisterOutcome::existing(document, record)
        };
        outcomes.push(outcome);
    }
    Ok(outcomes)
}
