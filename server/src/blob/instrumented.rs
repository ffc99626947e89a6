//! [`InstrumentedBlobs`]: any blob store, with a `catalog.blob.<op>` span around each operation
//! and its latency in `catalog_store_operation_duration_seconds`. Providers wrap their store in
//! it, so every backend is traced and measured the same way.

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use docstokg_catalog::{BackendHealth, ByteStream, Result, StorageBackend};
use tracing::{Instrument, debug_span};

use super::{BlobExpectation, BlobStore, ByteRange, LeftoverReport, StoredBlob, StoredObject};
use crate::{
    metering::{FilesystemUsage, time_store},
    span_stream::in_span,
};

/// A blob store whose operations run in `catalog.blob.<op>` spans and are timed.
pub struct InstrumentedBlobs {
    inner: Arc<dyn BlobStore>,
}

impl InstrumentedBlobs {
    /// Traces and times `inner`.
    pub fn new(inner: Arc<dyn BlobStore>) -> Self {
        Self { inner }
    }
}

#[async_trait]
impl BlobStore for InstrumentedBlobs {
    fn describe(&self) -> StorageBackend {
        self.inner.describe()
    }

    fn details(&self) -> BTreeMap<String, String> {
        self.inner.details()
    }

    async fn put(&self, expect: BlobExpectation, body: ByteStream) -> Result<StoredBlob> {
        let span = debug_span!("catalog.blob.put", sha256 = expect.sha256.as_deref());
        time_store("blob", "put", self.inner.put(expect, body).instrument(span)).await
    }

    fn uri_of(&self, sha256: &str) -> String {
        self.inner.uri_of(sha256)
    }

    fn in_scope(&self, storage_uri: &str) -> bool {
        self.inner.in_scope(storage_uri)
    }

    async fn size(&self, storage_uri: &str) -> Result<Option<u64>> {
        let span = debug_span!("catalog.blob.size", storage_uri);
        time_store(
            "blob",
            "size",
            self.inner.size(storage_uri).instrument(span),
        )
        .await
    }

    async fn read(&self, storage_uri: &str, range: ByteRange) -> Result<ByteStream> {
        let ByteRange { offset, length } = range;
        let span = debug_span!("catalog.blob.read", storage_uri, offset, length);
        let opened = self.inner.read(storage_uri, range).instrument(span.clone());
        let body = time_store("blob", "read", opened).await?;
        Ok(in_span(span, body))
    }

    async fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<StoredObject>> {
        let span = debug_span!("catalog.blob.list", after, limit);
        time_store(
            "blob",
            "list",
            self.inner.list(after, limit).instrument(span),
        )
        .await
    }

    async fn remove(&self, sha256: &str) -> Result<bool> {
        let span = debug_span!("catalog.blob.remove", sha256);
        time_store("blob", "remove", self.inner.remove(sha256).instrument(span)).await
    }

    async fn sweep_leftovers(
        &self,
        before: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<LeftoverReport> {
        let span = debug_span!("catalog.blob.sweep_leftovers", %before, dry_run);
        let sweep = self.inner.sweep_leftovers(before, dry_run).instrument(span);
        time_store("blob", "sweep_leftovers", sweep).await
    }

    fn filesystem(&self) -> Option<FilesystemUsage> {
        self.inner.filesystem()
    }

    async fn probe(&self) -> BackendHealth {
        let span = debug_span!("catalog.blob.probe");
        time_store("blob", "probe", self.inner.probe().instrument(span)).await
    }
}
