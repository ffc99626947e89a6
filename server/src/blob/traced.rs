//! [`TracedBlobs`]: any blob store, with a `catalog.blob.<op>` span around each operation.
//! Providers wrap their store in it, so every backend is traced the same way.

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use docstokg_catalog::{BackendHealth, ByteStream, Result, StorageBackend};
use tracing::{Instrument, debug_span};

use super::{BlobExpectation, BlobStore, ByteRange, StoredBlob};
use crate::span_stream::in_span;

/// A blob store whose operations run in `catalog.blob.<op>` spans.
pub struct TracedBlobs {
    inner: Arc<dyn BlobStore>,
}

impl TracedBlobs {
    /// Traces `inner`.
    pub fn new(inner: Arc<dyn BlobStore>) -> Self {
        Self { inner }
    }
}

#[async_trait]
impl BlobStore for TracedBlobs {
    fn describe(&self) -> StorageBackend {
        self.inner.describe()
    }

    fn details(&self) -> BTreeMap<String, String> {
        self.inner.details()
    }

    async fn put(&self, expect: BlobExpectation, body: ByteStream) -> Result<StoredBlob> {
        let span = debug_span!("catalog.blob.put", sha256 = expect.sha256.as_deref());
        self.inner.put(expect, body).instrument(span).await
    }

    fn uri_of(&self, sha256: &str) -> String {
        self.inner.uri_of(sha256)
    }

    fn in_scope(&self, storage_uri: &str) -> bool {
        self.inner.in_scope(storage_uri)
    }

    async fn size(&self, storage_uri: &str) -> Result<Option<u64>> {
        let span = debug_span!("catalog.blob.size", storage_uri);
        self.inner.size(storage_uri).instrument(span).await
    }

    async fn read(&self, storage_uri: &str, range: ByteRange) -> Result<ByteStream> {
        let ByteRange { offset, length } = range;
        let span = debug_span!("catalog.blob.read", storage_uri, offset, length);
        let body = self
            .inner
            .read(storage_uri, range)
            .instrument(span.clone())
            .await?;
        Ok(in_span(span, body))
    }

    async fn probe(&self) -> BackendHealth {
        let span = debug_span!("catalog.blob.probe");
        self.inner.probe().instrument(span).await
    }
}
