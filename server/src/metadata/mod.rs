//! Metadata stores: where records live, the last hop of a record's RPC (`service.rs` ->
//! `provider/` -> here). One trait, one file per database (`sqlite.rs`, `postgres.rs`), the SQL
//! they share in `shared_sql.rs`.

mod coalescer;
mod instrumented;
pub mod lifecycle_sql;
mod paging;
pub mod postgres;
mod postgres_import;
mod postgres_sql;
mod row;
mod shared_sql;
pub mod sqlite;
mod sqlite_duplicates;
mod sqlite_writer;
mod sqlx_error;

use async_trait::async_trait;
use docstokg_catalog::{
    BackendHealth, DocumentRecord, DuplicateGroup, DuplicateQuery, NewDocument, RecordFilter,
    RecordStream, RegisterOutcome, Result, StorageBackend,
};
use futures::stream::BoxStream;

use crate::metering::PoolUsage;
pub use instrumented::InstrumentedMetadata;
pub use lifecycle_sql::{LifecycleSql, RetentionSelection};
pub use postgres::PostgresStore;
pub use shared_sql::RecordReads;
pub use sqlite::SqliteStore;

/// Which records a lookup returns.
#[derive(Debug, Clone, Copy)]
pub enum Lookup<'a> {
    /// Every record of an artifact.
    Artifact(&'a str),
    /// Every record with a content hash (lowercase).
    Sha256(&'a str),
    /// Every record of a pipeline run.
    Run(&'a str),
}

/// Counts a metadata store computes for Stats.
#[derive(Debug, Clone, Default)]
pub struct MetadataStats {
    /// Number of records.
    pub total_records: i64,
    /// Sum of record sizes.
    pub total_bytes: i64,
    /// Distinct sha256 values.
    pub unique_sha256: i64,
    /// Distinct artifact ids.
    pub unique_artifacts: i64,
    /// sha256 values shared by two or more records.
    pub duplicate_groups: i64,
    /// Records per resolver.
    pub by_resolver: Vec<(String, i64)>,
    /// Sum of the sizes of records with a sha256.
    pub hashed_bytes: i64,
    /// Sum over distinct sha256 values of one record's size.
    pub unique_bytes: i64,
    /// Duplicate groups holding a record of each resolver.
    pub duplicate_groups_by_resolver: Vec<(String, i64)>,
}

/// A database of records. Inputs arrive validated; the store enforces the unique key
/// (artifact_id, source_url, resolver) itself, so any number of processes may share it.
///
/// A repeated `register` of a key returns the stored row with `created = false`. A lookup that
/// matches nothing is an empty list; `get` of an unknown id is `Ok(None)`. An unreachable
/// database is `ErrorKind::Unavailable`.
#[async_trait]
pub trait MetadataStore: Send + Sync + 'static {
    /// What and where this store is, for Stats.
    fn describe(&self) -> StorageBackend {
        self.reads().describe()
    }

    /// Inserts the document unless its key exists; returns the stored record either way.
    async fn register(&self, document: NewDocument) -> Result<RegisterOutcome>;

    /// Registers every document in one transaction, one outcome per document, in order.
    async fn register_batch(&self, documents: Vec<NewDocument>) -> Result<Vec<RegisterOutcome>>;

    /// Imports complete records (timestamps kept) in one transaction, idempotent on the key; with
    /// `keep_ids`, a record keeps its id where that id is free.
    async fn import(
        &self,
        records: Vec<DocumentRecord>,
        keep_ids: bool,
    ) -> Result<Vec<RegisterOutcome>>;

    /// For each key (artifact_id, source_url, resolver), whether a record has it.
    async fn existing_keys(&self, keys: &[(&str, &str, &str)]) -> Result<Vec<bool>>;

    /// The shared reads of this store's database.
    fn reads(&self) -> &dyn RecordReads;

    /// The lifecycle statements of this store's database: deletes, pins and tombstones.
    fn lifecycle(&self) -> &dyn LifecycleSql;

    /// Whether the record `id`, which the provider's cache holds, still exists. A database only
    /// this process writes (SQLite) answers true without asking, since the provider evicts what
    /// it deletes; one that other servers share (PostgreSQL) asks, since another server may have
    /// deleted it.
    async fn still_exists(&self, id: i64) -> Result<bool>;

    /// The record with `id`.
    async fn get(&self, id: i64) -> Result<Option<DocumentRecord>> {
        self.reads().get(id).await
    }

    /// Records matching `lookup`, newest first (created_at DESC, id DESC).
    async fn lookup(&self, lookup: Lookup<'_>) -> Result<Vec<DocumentRecord>> {
        self.reads().lookup(lookup).await
    }

    /// Number of records matching `filter`.
    async fn count(&self, filter: &RecordFilter) -> Result<i64> {
        self.reads().count(filter).await
    }

    /// Records matching `filter` by id, streamed in pages so no connection is held between pages.
    fn list(&self, filter: RecordFilter) -> RecordStream {
        self.reads().list(filter)
    }

    /// Duplicate groups, count DESC then sha256 ASC, streamed from one query without
    /// materialising the result; the connection is released when the stream is dropped.
    fn duplicates(&self, query: DuplicateQuery) -> BoxStream<'static, Result<DuplicateGroup>>;

    /// Counts for Stats.
    async fn stats(&self) -> Result<MetadataStats> {
        self.reads().stats().await
    }

    /// A real round trip to the database.
    async fn probe(&self) -> BackendHealth {
        self.reads().probe().await
    }

    /// The connections of each pool, for the metrics endpoint.
    fn pools(&self) -> Vec<PoolUsage>;

    /// Closes the pools; later calls fail.
    async fn close(&self);
}
