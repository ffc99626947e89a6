//! The PostgreSQL metadata store of the enterprise and cloud providers: a pool shared by any
//! number of server processes, uniqueness decided by the database, streams that hold no
//! connection longer than the client keeps reading.

use std::{num::NonZeroU32, time::Duration};

use async_stream::try_stream;
use async_trait::async_trait;
use docstokg_catalog::{
    BackendHealth, CatalogError, DocumentRecord, DuplicateGroup, DuplicateQuery, NewDocument,
    RecordFilter, RecordStream, RegisterOutcome, Result, StorageBackend,
};
use futures::stream::BoxStream;
use sqlx::{
    Postgres, QueryBuilder, Transaction,
    postgres::{PgPool, PgPoolOptions},
};

use super::{
    Lookup, MetadataStats, MetadataStore,
    paging::{PAGE_SIZE, paged},
    postgres_import::import_batch,
    row::{DocumentRow, GroupAssembler, GroupedRow, from_micros, key_sha256, now_micros},
    sqlx_error::from_sqlx,
    stats::read_stats,
};
use crate::{config::redact, health::timed_probe};

/// Groups' rows fetched per round trip of a FindDuplicates cursor.
const CURSOR_PAGE_SIZE: i64 = 500;
/// How long a call waits for a pooled connection before failing with UNAVAILABLE.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The selected columns, with timestamps as exact microseconds since the epoch (EXTRACT returns
/// numeric), so rows decode like SQLite's.
pub(super) fn columns(prefix: &str) -> String {
    format!(
        "{p}id, {p}artifact_id, {p}source_url, {p}resolver, {p}content_type, {p}bytes, {p}sha256, {p}storage_uri, \
         (EXTRACT(EPOCH FROM {p}created_at) * 1000000)::BIGINT AS created_at, \
         (EXTRACT(EPOCH FROM {p}updated_at) * 1000000)::BIGINT AS updated_at, {p}run_id",
        p = prefix
    )
}

/// PostgreSQL metadata store.
pub struct PostgresStore {
    pool: PgPool,
    location: String,
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
            .map_err(|e| {
                CatalogError::unavailable(format!("migrating the PostgreSQL database: {e}"))
            })?;
        Ok(Self {
            pool,
            location: redact(connection_url),
        })
    }
}

fn push_filter(query: &mut QueryBuilder<'_, Postgres>, filter: &RecordFilter) {
    if let Some(run_id) = &filter.run_id {
        query.push(" AND run_id = ").push_bind(run_id.clone());
    }
    if let Some(resolver) = &filter.resolver {
        query.push(" AND resolver = ").push_bind(resolver.clone());
    }
    if let Some(content_type) = &filter.content_type {
        query
            .push(" AND content_type = ")
            .push_bind(content_type.clone());
    }
    if let Some(after) = filter.created_after {
        query.push(" AND created_at >= ").push_bind(after);
    }
    if let Some(before) = filter.created_before {
        query.push(" AND created_at < ").push_bind(before);
    }
}

/// The groups query; `min_count` is a validated integer, so it is inlined (DECLARE takes no
/// bind parameters).
fn groups_sql(min_count: i64) -> String {
    format!(
        "SELECT sha256, COUNT(*) AS group_count, SUM(bytes)::BIGINT AS group_bytes FROM documents \
         WHERE sha256 IS NOT NULL GROUP BY sha256 HAVING COUNT(*) >= {min_count}"
    )
}

#[async_trait]
impl MetadataStore for PostgresStore {
    fn describe(&self) -> StorageBackend {
        StorageBackend {
            role: "metadata".into(),
            kind: "postgres".into(),
            location: self.location.clone(),
        }
    }

    async fn register(&self, document: NewDocument) -> Result<RegisterOutcome> {
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
            inserted = columns("inserted."),
            existing = columns("d."),
        );
        let rows: Vec<(bool, DocumentRow)> = sqlx::query_as::<_, CreatedRow>(&sql)
            .bind(&key)
            .bind(&document.artifact_id)
            .bind(&document.source_url)
            .bind(&document.resolver)
            .bind(&document.content_type)
            .bind(document.bytes)
            .bind(&document.sha256)
            .bind(&document.storage_uri)
            .bind(now)
            .bind(&document.run_id)
            .fetch_all(&self.pool)
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
                    columns("")
                ))
                .bind(&key)
                .fetch_one(&self.pool)
                .await
                .map_err(|e| from_sqlx("reading a concurrently registered document", e))?;
                (false, row)
            }
        };
        let record = DocumentRecord::try_from(row)?;
        Ok(if created {
            RegisterOutcome::created(record)
        } else {
            RegisterOutcome::existing(&document, record)
        })
    }

    async fn register_batch(&self, documents: Vec<NewDocument>) -> Result<Vec<RegisterOutcome>> {
        let keys: Vec<Vec<u8>> = documents
            .iter()
            .map(|d| key_sha256(&d.artifact_id, &d.source_url, &d.resolver))
            .collect();
        let now = from_micros(now_micros())?;
        let column =
            |f: fn(&NewDocument) -> Option<String>| documents.iter().map(f).collect::<Vec<_>>();
        // One statement inserts every new key (the first occurrence wins within the batch) ...
        let inserted: Vec<i64> = sqlx::query_scalar(
            "INSERT INTO documents (key_sha256, artifact_id, source_url, resolver, content_type, bytes, sha256, \
                                    storage_uri, created_at, updated_at, run_id) \
             SELECT key, artifact_id, source_url, resolver, content_type, bytes, sha256, storage_uri, $10, $10, run_id \
             FROM UNNEST($1::bytea[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], \
                         $8::text[], $9::text[]) WITH ORDINALITY \
                  AS input(key, artifact_id, source_url, resolver, content_type, bytes, sha256, storage_uri, run_id, ord) \
             ORDER BY ord \
             ON CONFLICT (key_sha256) DO NOTHING RETURNING id",
        )
        .bind(&keys)
        .bind(documents.iter().map(|d| d.artifact_id.clone()).collect::<Vec<_>>())
        .bind(documents.iter().map(|d| d.source_url.clone()).collect::<Vec<_>>())
        .bind(documents.iter().map(|d| d.resolver.clone()).collect::<Vec<_>>())
        .bind(column(|d| d.content_type.clone()))
        .bind(documents.iter().map(|d| d.bytes).collect::<Vec<_>>())
        .bind(column(|d| d.sha256.clone()))
        .bind(column(|d| d.storage_uri.clone()))
        .bind(column(|d| d.run_id.clone()))
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| from_sqlx("registering a batch", e))?;
        // ... and one more reads every key's row, in a fresh snapshot that includes rows concurrent
        // registrations committed meanwhile.
        let rows: Vec<KeyedRow> = sqlx::query_as(&format!(
            "SELECT key_sha256, {} FROM documents WHERE key_sha256 = ANY($1)",
            columns("")
        ))
        .bind(&keys)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| from_sqlx("reading a batch", e))?;
        let mut by_key = std::collections::HashMap::with_capacity(rows.len());
        for row in rows {
            by_key.insert(row.key_sha256, DocumentRecord::try_from(row.document)?);
        }
        let mut newly_created: std::collections::HashSet<i64> = inserted.into_iter().collect();
        documents
            .iter()
            .zip(&keys)
            .map(|(document, key)| {
                let record = by_key.get(key).cloned().ok_or_else(|| {
                    CatalogError::internal("a registered batch row could not be read back")
                })?;
                // The first occurrence of a new key created it; later ones found it.
                Ok(if newly_created.remove(&record.id) {
                    RegisterOutcome::created(record)
                } else {
                    RegisterOutcome::existing(document, record)
                })
            })
            .collect()
    }

    async fn import(
        &self,
        records: Vec<DocumentRecord>,
        keep_ids: bool,
    ) -> Result<Vec<RegisterOutcome>> {
        let mut tx = self
            .pool
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
        let found: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT key_sha256 FROM documents WHERE key_sha256 = ANY($1)")
                .bind(&digests)
                .fetch_all(&self.pool)
                .await
                .map_err(|e| from_sqlx("looking up keys", e))?;
        let found: std::collections::HashSet<Vec<u8>> = found.into_iter().collect();
        Ok(digests
            .iter()
            .map(|digest| found.contains(digest))
            .collect())
    }

    async fn get(&self, id: i64) -> Result<Option<DocumentRecord>> {
        let row: Option<DocumentRow> = sqlx::query_as(&format!(
            "SELECT {} FROM documents WHERE id = $1",
            columns("")
        ))
        .bind(id)
        .fetch_optional(&self.pool)
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
        let rows: Vec<DocumentRow> = sqlx::query_as(&format!(
            "SELECT {} FROM documents WHERE {column} = $1 ORDER BY created_at DESC, id DESC",
            columns("")
        ))
        .bind(value)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| from_sqlx("looking up records", e))?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn count(&self, filter: &RecordFilter) -> Result<i64> {
        let mut query = QueryBuilder::new("SELECT COUNT(*) FROM documents WHERE TRUE");
        push_filter(&mut query, filter);
        query
            .build_query_scalar()
            .fetch_one(&self.pool)
            .await
            .map_err(|e| from_sqlx("counting records", e))
    }

    fn list(&self, filter: RecordFilter) -> RecordStream {
        let pool = self.pool.clone();
        paged(move |after_id| {
            let (pool, filter) = (pool.clone(), filter.clone());
            async move {
                let mut query =
                    QueryBuilder::new(format!("SELECT {} FROM documents WHERE id > ", columns("")));
                query.push_bind(after_id);
                push_filter(&mut query, &filter);
                query.push(" ORDER BY id LIMIT ").push_bind(PAGE_SIZE);
                query
                    .build_query_as()
                    .fetch_all(&pool)
                    .await
                    .map_err(|e| from_sqlx("listing records", e))
            }
        })
    }

    fn duplicates(&self, query: DuplicateQuery) -> BoxStream<'static, Result<DuplicateGroup>> {
        // A server-side cursor in a transaction: the database keeps the result, this process
        // holds one page. The provider drives this stream on a task of its own, so a consumer
        // that goes away drops it between queries; dropping the transaction then rolls it back.
        let pool = self.pool.clone();
        Box::pin(try_stream! {
            let mut tx = pool.begin().await.map_err(|e| from_sqlx("starting a duplicates scan", e))?;
            declare_duplicates_cursor(&mut tx, &query).await?;
            let mut groups = GroupAssembler::default();
            loop {
                let (page, page_len) = fetch_duplicates_page(&mut tx, &query, &mut groups).await?;
                for group in page {
                    yield group;
                }
                if page_len < CURSOR_PAGE_SIZE {
                    break;
                }
            }
            if let Some(done) = groups.finish() {
                yield done;
            }
            tx.rollback().await.map_err(|e| from_sqlx("closing a duplicates scan", e))?;
        })
    }

    async fn stats(&self) -> Result<MetadataStats> {
        read_stats(&self.pool).await
    }

    async fn probe(&self) -> BackendHealth {
        timed_probe("metadata", async {
            sqlx::query_scalar::<_, i32>("SELECT 1")
                .fetch_one(&self.pool)
                .await
                .map(|_| format!("postgres {} answers", self.location))
                .map_err(|e| from_sqlx("probing PostgreSQL", e))
        })
        .await
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// Declares the cursor of a duplicates scan in `tx`.
async fn declare_duplicates_cursor(
    tx: &mut Transaction<'static, Postgres>,
    query: &DuplicateQuery,
) -> Result<()> {
    let groups_query = groups_sql(query.min_count);
    let sql = if query.include_records {
        format!(
            "SELECT g.group_count, g.group_bytes, {} FROM ({groups_query}) g JOIN documents d ON d.sha256 = g.sha256 \
             ORDER BY g.group_count DESC, g.sha256 ASC, d.id ASC",
            columns("d.")
        )
    } else {
        format!("{groups_query} ORDER BY group_count DESC, sha256 ASC")
    };
    // Neither statement of a scan may be cached: FETCH has the same text for both result shapes,
    // and a cached statement would decode the rows of one shape with the columns of the other.
    sqlx::query(&format!("DECLARE duplicates NO SCROLL CURSOR FOR {sql}"))
        .persistent(false)
        .execute(&mut **tx)
        .await
        .map(drop)
        .map_err(|e| from_sqlx("finding duplicates", e))
}

/// Fetches one page of the cursor: the groups it completes, and how many rows it held.
async fn fetch_duplicates_page(
    tx: &mut Transaction<'static, Postgres>,
    query: &DuplicateQuery,
    groups: &mut GroupAssembler,
) -> Result<(Vec<DuplicateGroup>, i64)> {
    let fetch = format!("FETCH {CURSOR_PAGE_SIZE} FROM duplicates");
    if query.include_records {
        let rows: Vec<GroupedRow> = sqlx::query_as(&fetch)
            .persistent(false)
            .fetch_all(&mut **tx)
            .await
            .map_err(|e| from_sqlx("finding duplicates", e))?;
        let page_len = rows.len() as i64;
        let mut done = Vec::new();
        for row in rows {
            done.extend(groups.push(row)?);
        }
        Ok((done, page_len))
    } else {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(&fetch)
            .persistent(false)
            .fetch_all(&mut **tx)
            .await
            .map_err(|e| from_sqlx("finding duplicates", e))?;
        let page_len = rows.len() as i64;
        let done = rows
            .into_iter()
            .map(|(sha256, count, total_bytes)| DuplicateGroup {
                sha256,
                count,
                total_bytes,
                records: Vec::new(),
            })
            .collect();
        Ok((done, page_len))
    }
}

/// A row of the register statement: whether it was inserted, and the record.
#[derive(sqlx::FromRow)]
struct CreatedRow {
    created: bool,
    #[sqlx(flatten)]
    document: DocumentRow,
}

/// A row of a batch read-back: its key digest, and the record.
#[derive(sqlx::FromRow)]
pub(super) struct KeyedRow {
    pub(super) key_sha256: Vec<u8>,
    #[sqlx(flatten)]
    pub(super) document: DocumentRow,
}
