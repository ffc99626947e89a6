//! Read-only roots: directories outside the provider's own storage whose files Verify and
//! GetContent may read, such as the download pipeline's own directory
//! (`catalog.verify_roots`). Writes always go to the provider's blob store.

use std::{collections::BTreeMap, sync::Arc};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use docstokg_catalog::{BackendHealth, ByteStream, Result, StorageBackend};

use crate::metering::FilesystemUsage;

use super::{
    BlobExpectation, BlobStore, ByteRange, LeftoverReport, StoredBlob, StoredObject,
    local_reader::{LocalReader, out_of_scope},
};

/// A blob store that may also read under a few local directories.
pub struct WithReadOnlyRoots {
    primary: Arc<dyn BlobStore>,
    roots: Vec<LocalReader>,
}

impl WithReadOnlyRoots {
    /// `primary`, plus reads under `roots`.
    pub fn new(primary: Arc<dyn BlobStore>, roots: Vec<LocalReader>) -> Self {
        Self { primary, roots }
    }

    fn root_for(&self, storage_uri: &str) -> Option<&LocalReader> {
        self.roots.iter().find(|root| root.in_scope(storage_uri))
    }
}

#[async_trait]
impl BlobStore for WithReadOnlyRoots {
    fn describe(&self) -> StorageBackend {
        self.primary.describe()
    }

    fn details(&self) -> BTreeMap<String, String> {
        let mut details = self.primary.details();
        let roots: Vec<String> = self
            .roots
            .iter()
            .map(|root| root.root().display().to_string())
            .collect();
        details.insert("verify_roots".to_owned(), roots.join(":"));
        details
    }

    async fn put(&self, expect: BlobExpectation, body: ByteStream) -> Result<StoredBlob> {
        self.primary.put(expect, body).await
    }

    fn uri_of(&self, sha256: &str) -> String {
        self.primary.uri_of(sha256)
    }

    fn in_scope(&self, storage_uri: &str) -> bool {
        self.primary.in_scope(storage_uri) || self.root_for(storage_uri).is_some()
    }

    async fn size(&self, storage_uri: &str) -> Result<Option<u64>> {
        if self.primary.in_scope(storage_uri) {
            return self.primary.size(storage_uri).await;
        }
        self.root_for(storage_uri)
            .ok_or_else(|| out_of_scope(storage_uri))?
            .size(storage_uri)
            .await
    }

    async fn read(&self, storage_uri: &str, range: ByteRange) -> Result<ByteStream> {
        if self.primary.in_scope(storage_uri) {
            return self.primary.read(storage_uri, range).await;
        }
        self.root_for(storage_uri)
            .ok_or_else(|| out_of_scope(storage_uri))?
            .read(storage_uri, range)
            .await
    }

    async fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<StoredObject>> {
        self.primary.list(after, limit).await
    }

    async fn remove(&self, sha256: &str) -> Result<bool> {
        self.primary.remove(sha256).await
    }

    async fn sweep_leftovers(
        &self,
        before: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<LeftoverReport> {
        self.primary.sweep_leftovers(before, dry_run).await
    }

    fn filesystem(&self) -> Option<FilesystemUsage> {
        self.primary.filesystem()
    }

    async fn probe(&self) -> BackendHealth {
        self.primary.probe().await
    }
}
