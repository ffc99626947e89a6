//! Providers: a metadata store plus a blob store behind the [`Catalog`] trait. The named
//! providers (development, enterprise, cloud) are presets of that pair, built in [`build`].

mod build;
mod content;
mod detached;
pub(crate) mod verify;

use std::sync::Arc;

use async_trait::async_trait;
use docstokg_catalog::{
    Catalog, CatalogError, CatalogStats, ContentDownload, ContentHeader, ContentRequest,
    DocumentRecord, DuplicateGroup, DuplicateQuery, HealthReport, NewDocument, PutOutcome,
    RecordFilter, RecordStream, RegisterOutcome, Result, VerificationResult, VerifyAllEvent,
    VerifyAllOptions, validation,
};
use futures::stream::BoxStream;

pub use build::build_provider;
use detached::detached;

use crate::{
    blob::BlobStore,
    cache::RecordCache,
    metadata::{Lookup, MetadataStore},
};

/// Limits and names a provider applies on top of its stores.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// Provider name reported by Stats ("development", "enterprise", "cloud").
    pub name: String,
    /// Largest RegisterOrGetBatch.
    pub max_batch: usize,
    /// Largest upload in bytes.
    pub max_upload_bytes: u64,
    /// Records kept in the LRU cache (0 disables it).
    pub cache_size: usize,
}

/// A catalog made of a metadata store and a blob store.
pub struct CatalogProvider {
    settings: ProviderSettings,
    metadata: Arc<dyn MetadataStore>,
    blobs: Arc<dyn BlobStore>,
    cache: RecordCache,
}

impl CatalogProvider {
    /// Composes a provider from its two stores.
    pub fn new(
        settings: ProviderSettings,
        metadata: Arc<dyn MetadataStore>,
        blobs: Arc<dyn BlobStore>,
    ) -> Self {
        let cache = RecordCache::new(settings.cache_size);
        Self {
            settings,
            metadata,
            blobs,
            cache,
        }
    }

    /// The metadata store.
    pub fn metadata(&self) -> &dyn MetadataStore {
        self.metadata.as_ref()
    }

    /// The blob store.
    pub fn blobs(&self) -> &dyn BlobStore {
        self.blobs.as_ref()
    }

    /// The provider's name.
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// Closes the metadata store's pools.
    pub async fn close(&self) {
        self.metadata.close().await;
    }

    fn remember(&self, outcome: RegisterOutcome) -> RegisterOutcome {
        self.cache.insert(&outcome.record);
        outcome
    }
}

#[async_trait]
impl Catalog for CatalogProvider {
    async fn register_or_get(&self, document: NewDocument) -> Result<RegisterOutcome> {
        let document = validation::new_document(document)?;
        if let Some(record) = self.cache.get_by_key(
            &document.artifact_id,
            &document.source_url,
            &document.resolver,
        ) {
            return Ok(RegisterOutcome::existing(&document, record));
        }
        self.metadata
            .register(document)
            .await
            .map(|outcome| self.remember(outcome))
    }

    async fn register_or_get_batch(
        &self,
        documents: Vec<NewDocument>,
    ) -> Result<Vec<RegisterOutcome>> {
        let documents = validation::batch(documents, self.settings.max_batch)?;
        if documents.is_empty() {
            return Ok(Vec::new());
        }
        let outcomes = self.metadata.register_batch(documents).await?;
        Ok(outcomes
            .into_iter()
            .map(|outcome| self.remember(outcome))
            .collect())
    }

    async fn get_record(&self, id: i64) -> Result<DocumentRecord> {
        let id = validation::record_id("id", id)?;
        if let Some(record) = self.cache.get(id) {
            return Ok(record);
        }
        let record = self
            .metadata
            .get(id)
            .await?
            .ok_or_else(|| CatalogError::not_found(format!("no record with id {id}")))?;
        self.cache.insert(&record);
        Ok(record)
    }

    async fn get_by_artifact(&self, artifact_id: &str) -> Result<Vec<DocumentRecord>> {
        validation::lookup_key("artifact_id", artifact_id)?;
        self.metadata.lookup(Lookup::Artifact(artifact_id)).await
    }

    async fn get_by_sha256(&self, sha256: &str) -> Result<Vec<DocumentRecord>> {
        let sha256 = validation::sha256("sha256", sha256)?;
        self.metadata.lookup(Lookup::Sha256(&sha256)).await
    }

    async fn get_by_run(&self, run_id: &str) -> Result<Vec<DocumentRecord>> {
        validation::lookup_key("run_id", run_id)?;
        self.metadata.lookup(Lookup::Run(run_id)).await
    }

    async fn list_records(&self, filter: RecordFilter) -> Result<RecordStream> {
        Ok(detached(self.metadata.list(validation::filter(filter)?)))
    }

    async fn find_duplicates(
        &self,
        query: DuplicateQuery,
    ) -> Result<BoxStream<'static, Result<DuplicateGroup>>> {
        Ok(detached(
            self.metadata
                .duplicates(validation::duplicate_query(query)?),
        ))
    }

    async fn verify(&self, record_id: i64) -> Result<VerificationResult> {
        let record = self.get_record(record_id).await?;
        verify::verify_record(self.blobs.as_ref(), &record).await
    }

    async fn verify_all(
        &self,
        options: VerifyAllOptions,
    ) -> Result<BoxStream<'static, Result<VerifyAllEvent>>> {
        let options = validation::verify_all(options)?;
        let matching_records = self.metadata.count(&options.filter).await?;
        let records = self.metadata.list(options.filter.clone());
        Ok(detached(verify::verify_stream(
            self.blobs.clone(),
            records,
            options,
            matching_records,
        )))
    }

    async fn put_content(
        &self,
        header: ContentHeader,
        body: docstokg_catalog::ByteStream,
    ) -> Result<PutOutcome> {
        let header = validation::content_header(header)?;
        let (document, deduplicated) = content::store_upload(
            self.blobs.as_ref(),
            header,
            body,
            self.settings.max_upload_bytes,
        )
        .await?;
        let registration = self.register_or_get(document).await?;
        Ok(PutOutcome {
            registration,
            deduplicated,
        })
    }

    async fn get_content(&self, request: ContentRequest) -> Result<ContentDownload> {
        let request = validation::content_request(request)?;
        content::open_download(self, self.blobs.as_ref(), request).await
    }

    async fn stats(&self) -> Result<CatalogStats> {
        let counts = self.metadata.stats().await?;
        let mut details = self.blobs.details();
        details.insert("cache_size".to_owned(), self.cache.capacity().to_string());
        details.insert(
            "max_batch_size".to_owned(),
            self.settings.max_batch.to_string(),
        );
        Ok(CatalogStats {
            provider: self.settings.name.clone(),
            total_records: counts.total_records,
            total_bytes: counts.total_bytes,
            unique_sha256: counts.unique_sha256,
            unique_artifacts: counts.unique_artifacts,
            duplicate_groups: counts.duplicate_groups,
            by_resolver: counts.by_resolver.into_iter().collect(),
            storage_backends: vec![self.metadata.describe(), self.blobs.describe()],
            details,
        })
    }

    async fn import_records(
        &self,
        records: Vec<DocumentRecord>,
        keep_ids: bool,
    ) -> Result<Vec<RegisterOutcome>> {
        let records = validation::import(records, self.settings.max_batch)?;
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let outcomes = self.metadata.import(records, keep_ids).await?;
        Ok(outcomes
            .into_iter()
            .map(|outcome| self.remember(outcome))
            .collect())
    }

    async fn provider_health(&self) -> Result<HealthReport> {
        let (metadata, blobs) = tokio::join!(self.metadata.probe(), self.blobs.probe());
        Ok(HealthReport::from_backends(vec![metadata, blobs]))
    }
}
