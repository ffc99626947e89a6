//! The SQLite metadata store of the development provider: WAL, the unique key enforced by the
//! database, and one writer. Every registration, batch and import goes to a single writer task
//! on its own connection, which commits whatever has queued meanwhile in one transaction (group
//! commit: one fsync for many callers, `synchronous=FULL` kept), each write in a savepoint of its
//! own so a failing write fails only its caller. Reads stay on the reader pools. `:memory:` is
//! one shared-cache database for every connection.

use std::{collections::HashMap, path::Path, str::FromStr, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};

use async_stream::try_stream;
use async_trait::async_trait;
use docstokg_catalog::{
    CatalogError, DocumentRecord, DuplicateGroup, DuplicateQuery, NewDocument, RegisterOutcome,
    Result,
};
use futures::{TryStreamExt, stream::BoxStream};
use sqlx::{
    Acquire, Sqlite, SqliteConnection,
    query::QueryAs,
    sqlite::{
        SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
        SqliteSynchronous,
    },
};

use crate::metering::PoolUsage;

use super::{
    MetadataStore,
    coalescer::{Coalescer, Job},
    lifecycle_sql::{LifecycleSql, SharedLifecycle},
    row::{COLUMNS, DocumentRow, GroupAssembler, GroupTotals, GroupedRow, now_micros},
    shared_sql::{
        Dialect, RecordReads, SharedReads, acquire, bind_document, duplicates_sql, pool_usage,
    },
    sqlite_duplicates,
    sqlx_error::{from_migrate, from_sqlx},
};

/// How long a writer waits for SQLite's single write lock before giving up with UNAVAILABLE.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections for unary calls; SQLite serialises writers, so a few suffice.
const POOL_SIZE: u32 = 8;
/// Connections reserved for long streams, so a slow stream never starves unary calls.
const STREAM_POOL_SIZE: u32 = 4;
/// Most rows one group commit carries (a larger batch runs alone).
const MAX_GROUP_ROWS: usize = 4096;
/// Rows per multi-row INSERT or key lookup: 10 bound values a row stays far below SQLite's
/// 32,766 variables, and the statement cache holds one statement per chunk length.
const ROWS_PER_STATEMENT: usize = 256;

/// Inserts a row unless its key (or, with an explicit id, its id) exists.
const INSERT: &str = "INSERT INTO documents \
    (id, artifact_id, source_url, resolver, content_type, bytes, sha256, storage_uri, created_at, updated_at, run_id) \
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING ";

/// Records in one SQLite database: a pool for unary reads, one reserved for streams, and the
/// single writer.
pub struct SqliteStore {
    pool: SqlitePool,
    reads: SharedReads<Sqlite>,
    stream_pool: SqlitePool,
    write_pool: SqlitePool,
    writer: Coalescer<Write, Vec<RegisterOutcome>>,
    lifecycle: SharedLifecycle<Sqlite>,
    /// The database file, for the duplicates scan (`None` for `:memory:`, which only this
    /// store's own connections can reach).
    file: Option<std::path::PathBuf>,
    /// Duplicates scans at once: as many as the stream pool has connections.
    scans: Arc<tokio::sync::Semaphore>,
}

/// A write the single writer runs inside a group commit.
enum Write {
    Register(NewDocument),
    Batch(Vec<NewDocument>),
    Import(Vec<DocumentRecord>, bool),
}

impl Write {
    /// The documents a registration or batch registers (none for an import).
    fn documents(&self) -> &[NewDocument] {
        match self {
            Self::Register(document) => std::slice::from_ref(document),
            Self::Batch(documents) => documents,
            Self::Import(..) => &[],
        }
    }
}

impl Job for Write {
    fn rows(&self) -> usize {
        match self {
            Self::Register(_) => 1,
            Self::Batch(documents) => documents.len(),
            Self::Import(records, _) => records.len(),
        }
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `db_path`, or a private in-memory database for
    /// `:memory:`, and runs the migrations.
    pub async fn open(db_path: &str) -> Result<Self> {
        let in_memory = db_path == ":memory:";
        let options = if in_memory {
            // A named shared-cache database, so every pooled connection sees the same data.
            SqliteConnectOptions::from_str("sqlite::memory:")
                .map_err(|e| from_sqlx("opening :memory:", e))?
        } else {
            if let Some(parent) = Path::new(db_path)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent).map_err(|e| {
                    CatalogError::unavailable(format!(
                        "cannot create directory {}: {e}",
                        parent.display()
                    ))
                })?;
            }
            SqliteConnectOptions::new()
                .filename(db_path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: a registration acknowledged to a caller survives a crash of the machine too.
                .synchronous(SqliteSynchronous::Full)
        };
        let options = options.busy_timeout(BUSY_TIMEOUT).foreign_keys(true);
        let pool = pool_options(POOL_SIZE, in_memory)
            .connect_with(options.clone())
            .await
            .map_err(|e| from_sqlx("opening the SQLite database", e))?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&pool)
            .await
            .map_err(|e| from_migrate("SQLite", e))?;
        let stream_pool = pool_options(STREAM_POOL_SIZE, in_memory)
            .connect_with(options.clone())
            .await
            .map_err(|e| from_sqlx("opening the SQLite database", e))?;
        let write_pool = pool_options(1, in_memory)
            .connect_with(options)
            .await
            .map_err(|e| from_sqlx("opening the SQLite database", e))?;
        let group_pool = write_pool.clone();
        let writer = Coalescer::new(
            "sqlite",
            1,
            MAX_GROUP_ROWS,
            Arc::new(move |writes| Box::pin(write_group(group_pool.clone(), writes))),
        );
        Ok(Self {
            reads: SharedReads::new(pool.clone(), "sqlite", db_path.to_owned()),
            lifecycle: SharedLifecycle::new(
                (pool.clone(), "sqlite"),
                (write_pool.clone(), "sqlite_writer"),
            ),
            pool,
            stream_pool,
            write_pool,
            writer,
            file: (!in_memory).then(|| std::path::PathBuf::from(db_path)),
            scans: Arc::new(tokio::sync::Semaphore::new(STREAM_POOL_SIZE as usize)),
        })
    }
}

/// A query of the shared SQL on SQLite.
type SqliteQuery<'q, O> = QueryAs<'q, Sqlite, O, SqliteArguments<'q>>;

impl Dialect for Sqlite {
    fn columns(prefix: &str) -> String {
        if prefix.is_empty() {
            return COLUMNS.to_owned();
        }
        let prefixed: Vec<String> = COLUMNS
            .split(", ")
            .map(|c| format!("{prefix}{c}"))
            .collect();
        prefixed.join(", ")
    }

    fn placeholder(n: usize) -> String {
        format!("?{n}")
    }

    /// SQLite stores instants as microseconds since the epoch.
    fn bind_instant<'q, O>(
        query: SqliteQuery<'q, O>,
        instant: DateTime<Utc>,
    ) -> SqliteQuery<'q, O> {
        query.bind(instant.timestamp_micros())
    }
}

/// Runs one group of writes in one transaction. Registrations and batches go first all together,
/// in a few multi-row statements; if any of them fails, that attempt is rolled back and the
/// group runs again with each write in a savepoint, so a write that fails is rolled back alone
/// and its caller gets its error while the others commit together. A failed commit fails the
/// whole group, and nothing of it is stored.
async fn write_group(
    pool: SqlitePool,
    writes: Vec<Write>,
) -> Result<Vec<Result<Vec<RegisterOutcome>>>> {
    let mut conn = acquire("sqlite_writer", &pool).await?;
    if writes.len() > 1 && writes.iter().all(|w| !matches!(w, Write::Import(..))) {
        let documents: Vec<&NewDocument> = writes.iter().flat_map(Write::documents).collect();
        let mut tx = conn
            .begin()
            .await
            .map_err(|e| from_sqlx("starting a group commit", e))?;
        if let Ok(mut outcomes) = register_all(&mut tx, &documents).await {
            tx.commit()
                .await
                .map_err(|e| from_sqlx("committing a group of writes", e))?;
            let mut results = Vec::with_capacity(writes.len());
            for write in writes.iter().rev() {
                let rest = outcomes.split_off(outcomes.len() - write.rows());
                results.push(Ok(rest));
            }
            results.reverse();
            return Ok(results);
        }
        tx.rollback()
            .await
            .map_err(|e| from_sqlx("rolling back a failed group commit", e))?;
    }
    let mut tx = conn
        .begin()
        .await
        .map_err(|e| from_sqlx("starting a group commit", e))?;
    let mut results = Vec::with_capacity(writes.len());
    for write in writes {
        let mut savepoint = tx
            .begin()
            .await
            .map_err(|e| from_sqlx("starting a write of a group commit", e))?;
        match run_write(&mut savepoint, write).await {
            Ok(outcomes) => {
                savepoint
                    .commit()
                    .await
                    .map_err(|e| from_sqlx("releasing a write of a group commit", e))?;
                results.push(Ok(outcomes));
            }
            Err(error) => {
                savepoint
                    .rollback()
                    .await
                    .map_err(|e| from_sqlx("rolling back a failed write of a group commit", e))?;
                results.push(Err(error));
            }
        }
    }
    tx.commit()
        .await
        .map_err(|e| from_sqlx("committing a group of writes", e))?;
    Ok(results)
}

/// One write, on the writer's transaction.
async fn run_write(conn: &mut SqliteConnection, write: Write) -> Result<Vec<RegisterOutcome>> {
    match write {
        Write::Register(document) => register_all(conn, &[&document]).await,
        Write::Batch(documents) => {
            let documents: Vec<&NewDocument> = documents.iter().collect();
            register_all(conn, &documents).await
        }
        Write::Import(records, keep_ids) => {
            let mut outcomes = Vec::with_capacity(records.len());
            for record in records {
                outcomes.push(import_on(conn, record, keep_ids).await?);
            }
            Ok(outcomes)
        }
    }
}

fn pool_options(size: u32, in_memory: bool) -> SqlitePoolOptions {
    let options = SqlitePoolOptions::new()
        .max_connections(size)
        .acquire_timeout(Duration::from_secs(30));
    if in_memory {
        // The in-memory database lives as long as one connection to it does.
        options
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
    } else {
        options
    }
}

/// Inserts `document` with `id` (NULL: SQLite assigns one) and timestamps, unless its key or id
/// exists; returns the inserted row.
async fn insert(
    conn: &mut SqliteConnection,
    document: &NewDocument,
    id: Option<i64>,
    created_at: i64,
    updated_at: i64,
) -> Result<Option<DocumentRow>> {
    let sql = format!("{INSERT}{COLUMNS}");
    bind_document(sqlx::query_as(&sql).bind(id), document)
        .bind(created_at)
        .bind(updated_at)
        .bind(&document.run_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| from_sqlx("registering a document", e))
}

async fn by_key(
    conn: &mut SqliteConnection,
    artifact_id: &str,
    source_url: &str,
    resolver: &str,
) -> Result<Option<DocumentRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM documents WHERE artifact_id = ? AND source_url = ? AND resolver = ?"
    ))
    .bind(artifact_id)
    .bind(source_url)
    .bind(resolver)
    .fetch_optional(&mut *conn)
    .await
    .map_err(|e| from_sqlx("reading a document by key", e))
}

/// A document's unique key.
type KeyRef<'a> = (&'a str, &'a str, &'a str);

fn key_of(document: &NewDocument) -> KeyRef<'_> {
    (
        &document.artifact_id,
        &document.source_url,
        &document.resolver,
    )
}

/// Registers `documents` in a few statements whatever their number: multi-row inserts that skip
/// existing keys, then one read of every key, a chunk of keys per statement, each answered as a
/// single row holding the chunk's records as a JSON array. sqlx hands every result row from its
/// SQLite worker thread to this task as a message of its own (with a `RETURNING` per insert
/// that was a wake-up and allocations per row: most of a batch's time, docs/benchmark-notes.md);
/// one row per chunk is one hand-off. A record is new when it carries this call's timestamp,
/// unique to the call, and an id the inserts may have taken. The first occurrence of a
/// new key creates it; every other document with that key finds it. Rows are matched to
/// documents by keys borrowed from the documents: nothing is allocated per key.
async fn register_all(
    conn: &mut SqliteConnection,
    documents: &[&NewDocument],
) -> Result<Vec<RegisterOutcome>> {
    let now = unique_now();
    // One slot per distinct key: the stored record, and whether this call created it.
    let mut slot_of: HashMap<KeyRef<'_>, usize> = HashMap::with_capacity(documents.len());
    for document in documents {
        let next = slot_of.len();
        slot_of.entry(key_of(document)).or_insert(next);
    }
    // The rows this call inserted: created at `now`, which no other call uses, with ids among
    // the last `documents.len()` ending at the last one inserted (a skipped row may use an id
    // up, so they need not be consecutive).
    let (mut inserted, mut last_inserted) = (0_i64, 0_i64);
    for chunk in documents.chunks(ROWS_PER_STATEMENT) {
        let values = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
        let sql = format!(
            "INSERT INTO documents (artifact_id, source_url, resolver, content_type, bytes, sha256, \
             storage_uri, created_at, updated_at, run_id) VALUES {values} ON CONFLICT DO NOTHING"
        );
        let mut query = sqlx::query(&sql);
        for document in chunk {
            query = query
                .bind(document.artifact_id.as_str())
                .bind(document.source_url.as_str())
                .bind(document.resolver.as_str())
                .bind(document.content_type.as_deref())
                .bind(document.bytes)
                .bind(document.sha256.as_deref())
                .bind(document.storage_uri.as_deref())
                .bind(now)
                .bind(now)
                .bind(document.run_id.as_deref());
        }
        let done = query
            .execute(&mut *conn)
            .await
            .map_err(|e| from_sqlx("registering documents", e))?;
        if done.rows_affected() > 0 {
            inserted += done.rows_affected() as i64;
            last_inserted = done.last_insert_rowid();
        }
    }
    let first_inserted = last_inserted - documents.len() as i64 + 1;
    let mut slots: Vec<Option<(DocumentRecord, bool)>> = vec![None; slot_of.len()];
    let keys: Vec<KeyRef<'_>> = slot_of.keys().copied().collect();
    for chunk in keys.chunks(ROWS_PER_STATEMENT) {
        let placeholders = vec!["(?, ?, ?)"; chunk.len()].join(", ");
        let sql = format!(
            "SELECT json_group_array(json_array({COLUMNS})) FROM documents \
             WHERE (artifact_id, source_url, resolver) IN (VALUES {placeholders})"
        );
        let mut query = sqlx::query_as::<_, (String,)>(&sql);
        for (artifact_id, source_url, resolver) in chunk {
            query = query.bind(*artifact_id).bind(*source_url).bind(*resolver);
        }
        let (rows,) = query
            .fetch_one(&mut *conn)
            .await
            .map_err(|e| from_sqlx("reading registered documents by key", e))?;
        let rows: Vec<JsonRow> = serde_json::from_str(&rows).map_err(|e| {
            CatalogError::internal(format!("registered documents read back as bad JSON: {e}"))
        })?;
        for row in rows {
            let row = DocumentRow::from(row);
            let created = inserted > 0 && row.id >= first_inserted && row.created_at == now;
            place(&slot_of, &mut slots, row, created)?;
        }
    }
    documents
        .iter()
        .map(|document| {
            let entry = slot_of
                .get(&key_of(document))
                .and_then(|slot| slots[*slot].as_mut())
                .ok_or_else(|| {
                    CatalogError::internal("a registered document could not be read back")
                })?;
            let created = std::mem::replace(&mut entry.1, false);
            Ok(if created {
                RegisterOutcome::created(entry.0.clone())
            } else {
                RegisterOutcome::existing(document, entry.0.clone())
            })
        })
        .collect()
}

/// The current instant in microseconds, later than any this process returned before: the
/// creation time of one registration call's records, which tells them from records that existed.
fn unique_now() -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = now_micros();
    let previous = LAST
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
            Some(now.max(last + 1))
        })
        .unwrap_or(now);
    now.max(previous + 1)
}

/// A record as `json_array(COLUMNS)` encodes it.
type JsonRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<String>,
    Option<String>,
    i64,
    i64,
    Option<String>,
);

impl From<JsonRow> for DocumentRow {
    fn from(row: JsonRow) -> Self {
        let (
            id,
            artifact_id,
            source_url,
            resolver,
            content_type,
            bytes,
            sha256,
            storage_uri,
            created_at,
            updated_at,
            run_id,
        ) = row;
        Self {
            id,
            artifact_id,
            source_url,
            resolver,
            content_type,
            bytes,
            sha256,
            storage_uri,
            created_at,
            updated_at,
            run_id,
        }
    }
}

/// Puts the record of `row` into the slot of its key.
fn place(
    slot_of: &HashMap<KeyRef<'_>, usize>,
    slots: &mut [Option<(DocumentRecord, bool)>],
    row: DocumentRow,
    created: bool,
) -> Result<()> {
    let record = DocumentRecord::try_from(row)?;
    let key = (
        record.artifact_id.as_str(),
        record.source_url.as_str(),
        record.resolver.as_str(),
    );
    if let Some(&slot) = slot_of.get(&key) {
        slots[slot] = Some((record, created));
    }
    Ok(())
}

/// Imports `record` with its timestamps, and its id when `keep_id` and the id is free.
async fn import_on(
    conn: &mut SqliteConnection,
    record: DocumentRecord,
    keep_id: bool,
) -> Result<RegisterOutcome> {
    let document = NewDocument::from(&record);
    let (created, updated) = (
        record.created_at.timestamp_micros(),
        record.updated_at.timestamp_micros(),
    );
    if let Some(existing) = by_key(
        conn,
        &record.artifact_id,
        &record.source_url,
        &record.resolver,
    )
    .await?
    {
        return Ok(RegisterOutcome::existing(&document, existing.try_into()?));
    }
    let id = (keep_id && record.id > 0).then_some(record.id);
    let inserted = match insert(conn, &document, id, created, updated).await? {
        Some(row) => row,
        // The id is taken by another record: let SQLite assign one.
        None => insert(conn, &document, None, created, updated)
            .await?
            .ok_or_else(|| CatalogError::internal("an imported record could not be inserted"))?,
    };
    Ok(RegisterOutcome::created(inserted.try_into()?))
}

#[async_trait]
impl MetadataStore for SqliteStore {
    fn reads(&self) -> &dyn RecordReads {
        &self.reads
    }

    fn lifecycle(&self) -> &dyn LifecycleSql {
        &self.lifecycle
    }

    async fn still_exists(&self, _id: i64) -> Result<bool> {
        Ok(true)
    }

    async fn register(&self, document: NewDocument) -> Result<RegisterOutcome> {
        let mut outcomes = self.writer.submit(Write::Register(document)).await?;
        outcomes
            .pop()
            .ok_or_else(|| CatalogError::internal("a registration returned no outcome"))
    }

    async fn register_batch(&self, documents: Vec<NewDocument>) -> Result<Vec<RegisterOutcome>> {
        self.writer.submit(Write::Batch(documents)).await
    }

    async fn import(
        &self,
        records: Vec<DocumentRecord>,
        keep_ids: bool,
    ) -> Result<Vec<RegisterOutcome>> {
        self.writer.submit(Write::Import(records, keep_ids)).await
    }

    async fn existing_keys(&self, keys: &[(&str, &str, &str)]) -> Result<Vec<bool>> {
        let mut conn = acquire("sqlite", &self.pool).await?;
        let mut found = Vec::with_capacity(keys.len());
        for (artifact_id, source_url, resolver) in keys {
            found.push(
                by_key(&mut conn, artifact_id, source_url, resolver)
                    .await?
                    .is_some(),
            );
        }
        Ok(found)
    }

    fn duplicates(&self, query: DuplicateQuery) -> BoxStream<'static, Result<DuplicateGroup>> {
        if let Some(file) = &self.file {
            return sqlite_duplicates::duplicates(
                file.clone(),
                query,
                self.scans.clone(),
                BUSY_TIMEOUT,
            );
        }
        // `:memory:`: one statement, read row by row from a connection of the stream pool.
        let pool = self.stream_pool.clone();
        Box::pin(try_stream! {
            let mut conn = acquire("sqlite_streams", &pool).await?;
            let sql = duplicates_sql::<Sqlite>(&query);
            if !query.include_records {
                let mut rows = sqlx::query_as::<_, GroupTotals>(&sql).fetch(&mut *conn);
                while let Some(totals) = rows.try_next().await.map_err(|e| from_sqlx("finding duplicates", e))? {
                    yield DuplicateGroup::from(totals);
                }
                return;
            }
            let mut rows = sqlx::query_as::<_, GroupedRow>(&sql).fetch(&mut *conn);
            let mut groups = GroupAssembler::default();
            while let Some(row) = rows.try_next().await.map_err(|e| from_sqlx("finding duplicates", e))? {
                if let Some(done) = groups.push(row)? {
                    yield done;
                }
            }
            if let Some(done) = groups.finish() {
                yield done;
            }
        })
    }

    fn pools(&self) -> Vec<PoolUsage> {
        vec![
            pool_usage("sqlite", &self.pool),
            pool_usage("sqlite_streams", &self.stream_pool),
            pool_usage("sqlite_writer", &self.write_pool),
        ]
    }

    async fn close(&self) {
        self.stream_pool.close().await;
        self.write_pool.close().await;
        self.pool.close().await;
    }
}
