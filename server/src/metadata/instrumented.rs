//! [`InstrumentedMetadata`]: any metadata store, with a `catalog.metadata.<op>` span around each
//! operation and its latency in `catalog_store_operation_duration_seconds`. Providers wrap their
//! store in it, so every backend is traced and measured the same way.

use std::sync::Arc;

use async_trait::async_trait;
use docstokg_catalog::{
    BackendHealth, DocumentRecord, DuplicateGroup, DuplicateQuery, NewDocument, RecordFilter,
    RecordStream, RegisterOutcome, Result, StorageBackend,
};
use futures::stream::BoxStream;
use tracing::{Instrument, debug_span};

use super::{LifecycleSql, Lookup, MetadataStats, MetadataStore, RecordReads};
use crate::{
    metering::{PoolUsage, time_store},
    span_stream::in_span,
};

/// A metadata store whose operations run in `catalog.metadata.<op>` spans and are timed.
pub struct InstrumentedMetadata {
    inner: Arc<dyn MetadataStore>,
}

impl InstrumentedMetadata {
    /// Traces and times `inner`.
    pub fn new(inner: Arc<dyn MetadataStore>) -> Self {
        Self { inner }
    }
}

#[async_trait]
impl MetadataStore for InstrumentedMetadata {
    fn describe(&self) -> StorageBackend {
        self.inner.describe()
    }

    async fn register(&self, document: NewDocument) -> Result<RegisterOutcome> {
        let span = debug_span!("catalog.metadata.register");
        time_store(
            "metadata",
            "register",
            self.inner.register(document).instrument(span),
        )
        .await
    }

    async fn register_batch(&self, documents: Vec<NewDocument>) -> Result<Vec<RegisterOutcome>> {
        let span = debug_span!(
            "catalog.metadata.register_batch",
            documents = documents.len()
        );
        time_store(
            "metadata",
            "register_batch",
            self.inner.register_batch(documents).instrument(span),
        )
        .await
    }

    async fn import(
        &self,
        records: Vec<DocumentRecord>,
        keep_ids: bool,
    ) -> Result<Vec<RegisterOutcome>> {
        let span = debug_span!("catalog.metadata.import", records = records.len());
        time_store(
            "metadata",
            "import",
            self.inner.import(records, keep_ids).instrument(span),
        )
        .await
    }

    async fn existing_keys(&self, keys: &[(&str, &str, &str)]) -> Result<Vec<bool>> {
        let span = debug_span!("catalog.metadata.existing_keys", keys = keys.len());
        time_store(
            "metadata",
            "existing_keys",
            self.inner.existing_keys(keys).instrument(span),
        )
        .await
    }

    fn lifecycle(&self) -> &dyn LifecycleSql {
        self.inner.lifecycle()
    }

    async fn still_exists(&self, id: i64) -> Result<bool> {
        self.inner.still_exists(id).await
    }

    fn reads(&self) -> &dyn RecordReads {
        self.inner.reads()
    }

    async fn get(&self, id: i64) -> Result<Option<DocumentRecord>> {
        let span = debug_span!("catalog.metadata.get", record_id = id);
        time_store("metadata", "get", self.inner.get(id).instrument(span)).await
    }

    async fn lookup(&self, lookup: Lookup<'_>) -> Result<Vec<DocumentRecord>> {
        let span = debug_span!("catalog.metadata.lookup", ?lookup);
        time_store(
            "metadata",
            "lookup",
            self.inner.lookup(lookup).instrument(span),
        )
        .await
    }

    async fn count(&self, filter: &RecordFilter) -> Result<i64> {
        let span = debug_span!("catalog.metadata.count");
        time_store(
            "metadata",
            "count",
            self.inner.count(filter).instrument(span),
        )
        .await
    }

    fn list(&self, filter: RecordFilter) -> RecordStream {
        in_span(
            debug_span!("catalog.metadata.list"),
            self.inner.list(filter),
        )
    }

    fn duplicates(&self, query: DuplicateQuery) -> BoxStream<'static, Result<DuplicateGroup>> {
        let span = debug_span!("catalog.metadata.duplicates", min_count = query.min_count);
        in_span(span, self.inner.duplicates(query))
    }

    async fn stats(&self) -> Result<MetadataStats> {
        let span = debug_span!("catalog.metadata.stats");
        time_store("metadata", "stats", self.inner.stats().instrument(span)).await
    }

    async fn probe(&self) -> BackendHealth {
        let span = debug_span!("catalog.metadata.probe");
        time_store("metadata", "probe", self.inner.probe().instrument(span)).await
    }

    fn pools(&self) -> Vec<PoolUsage> {
        self.inner.pools()
    }

    async fn close(&self) {
        self.inner.close().await;
    }
}
