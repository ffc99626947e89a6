//! The SQLite metadata store of the development provider: WAL, the unique key enforced by the
//! database, and one writer. Every registration, batch and import goes to a single writer task
//! on its own connection (`sqlite_writer.rs`, rusqlite), which commits whatever has queued
//! meanwhile in one transaction (group commit: one fsync for many callers, `synchronous=FULL`
//! kept); a write the database refuses fails only its caller (the group runs again with a
//! savepoint per write). Reads stay on the reader pools (sqlx); lifecycle writes go through a
//! one-connection sqlx pool and wait for the writer's lock like any second writer. `:memory:`
//! is one named shared-cache database for every connection.

use std::{path::Path, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};

use async_stream::try_stream;
use async_trait::async_trait;
use docstokg_catalog::{
    CatalogError, DocumentRecord, DuplicateGroup, DuplicateQuery, NewDocument, RegisterOutcome,
    Result,
};
use futures::{TryStreamExt, stream::BoxStream};
use sqlx::{
    Sqlite, SqliteConnection,
    query::QueryAs,
    sqlite::{
        SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
        SqliteSynchronous,
    },
};

use crate::metering::PoolUsage;

use super::{
    MetadataStore,
    coalescer::Coalescer,
    lifecycle_sql::{LifecycleSql, SharedLifecycle},
    row::{COLUMNS, DocumentRow, GroupAssembler, GroupTotals, GroupedRow},
    shared_sql::{Dialect, RecordReads, SharedReads, acquire, duplicates_sql, pool_usage},
    sqlite_duplicates,
    sqlite_writer::{SqliteWriter, Write},
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
/// Records in one SQLite database: a pool for unary reads, one reserved for streams, one
/// connection for lifecycle writes, and the single writer of registrations and imports.
pub struct SqliteStore {
    pool: SqlitePool,
    reads: SharedReads<Sqlite>,
    stream_pool: SqlitePool,
    lifecycle_pool: SqlitePool,
    writer: Coalescer<Write, Vec<RegisterOutcome>>,
    lifecycle: SharedLifecycle<Sqlite>,
    /// The database file, for the duplicates scan (`None` for `:memory:`, which only this
    /// store's own connections can reach).
    file: Option<std::path::PathBuf>,
    /// Duplicates scans at once: as many as the stream pool has connections.
    scans: Arc<tokio::sync::Semaphore>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `db_path`, or a private in-memory database for
    /// `:memory:`, and runs the migrations.
    pub async fn open(db_path: &str) -> Result<Self> {
        let in_memory = db_path == ":memory:";
        // An in-memory database gets a name of its own, shared by every pooled connection and
        // the writer's.
        let file = if in_memory {
            memory_database_name()
        } else {
            std::path::PathBuf::from(db_path)
        };
        let options = if in_memory {
            SqliteConnectOptions::new()
                .filename(&file)
                .in_memory(true)
                .shared_cache(true)
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
        let lifecycle_pool = pool_options(1, in_memory)
            .connect_with(options)
            .await
            .map_err(|e| from_sqlx("opening the SQLite database", e))?;
        let group_writer = SqliteWriter::open(&file, in_memory, BUSY_TIMEOUT)?;
        let writer = Coalescer::new(
            "sqlite",
            1,
            MAX_GROUP_ROWS,
            Arc::new(move |writes| {
                let group_writer = group_writer.clone();
                Box::pin(async move { group_writer.write_group(writes).await })
            }),
        );
        Ok(Self {
            reads: SharedReads::new(pool.clone(), "sqlite", db_path.to_owned()),
            lifecycle: SharedLifecycle::new(
                (pool.clone(), "sqlite"),
                (lifecycle_pool.clone(), "sqlite_lifecycle"),
            ),
            pool,
            stream_pool,
            lifecycle_pool,
            writer,
            file: (!in_memory).then_some(file),
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

/// A name for a new in-memory database, unique in this process.
fn memory_database_name() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("file:docstokg-memory-{}-{n}", std::process::id()).into()
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
            pool_usage("sqlite_lifecycle", &self.lifecycle_pool),
        ]
    }

    async fn close(&self) {
        self.stream_pool.close().await;
        self.lifecycle_pool.close().await;
        self.pool.close().await;
    }
}
