//! Providers: a metadata store plus a blob store behind the [`Catalog`] trait. The named
//! providers (development, enterprise, cloud) are presets of that pair, built in [`build`].
//!
//! The second of an RPC's three hops (`service.rs` -> here -> a store in `metadata/` or
//! `blob/`): every input is validated here and only here, the record cache is consulted, and the
//! call goes to the store that owns the data.

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
use tracing::Span;

pub use build::build_provider;
use detached::detached;

use crate::{
    blob::{BlobStore, InstrumentedBlobs},
    cache::RecordCache,
    metadata::{InstrumentedMetadata, Lookup, MetadataStore},
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
            metadata: Arc::new(InstrumentedMetadata::new(metadata)),
            blobs: Arc::new(InstrumentedBlobs::new(blobs)),
            cache,
        }
    }

    /// Where the records live (migration reads it directly).
    pub fn metadata(&self) -> &dyn MetadataStore {
        self.metadata.as_ref()
    }

    /// Where the bytes live (migration reads it directly).
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

    /// The record with a validated `id`, from the cache or the metadata store.
    pub(crate) async fn record(&self, id: i64) -> Result<DocumentRecord> {
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

    fn remember(&self, outcome: RegisterOutcome) -> RegisterOutcome {
        self.cache.insert(&outcome.record);
        outcome
    }
}

#[async_trait]
impl Catalog for CatalogProvider {
    #[tracing::instrument(
        name = "catalog.provider.register_or_get",
        level = "debug",
        skip_all,
        fields(record_id)
    )]
    async fn register_or_get(&self, document: NewDocument) -> Result<RegisterOutcome> {
        let document = validation::new_document(document)?;
        if let Some(record) = self.cache.get_by_key(
            &document.artifact_id,
            &document.source_url,
            &document.resolver,
        ) {
            return Ok(RegisterOutcome::existing(&document, record));
        }
        let outcome = self.metadata.register(document).await?;
        Span::current().record("record_id", outcome.record.id);
        Ok(self.remember(outcome))
    }

    #[tracing::instrument(name = "catalog.provider.register_or_get_batch", level = "debug", skip_all, fields(documents = documents.len()))]
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

    #[tracing::instrument(name = "catalog.provider.get_record", level = "debug", skip_all, fields(record_id = id))]
    async fn get_record(&self, id: i64) -> Result<DocumentRecord> {
        self.record(validation::record_id("id", id)?).await
    }

    #[tracing::instrument(name = "catalog.provider.get_by_artifact", level = "debug", skip_all)]
    async fn get_by_artifact(&self, artifact_id: &str) -> Result<Vec<DocumentRecord>> {
        validation::lookup_key("artifact_id", artifact_id)?;
        self.metadata.lookup(Lookup::Artifact(artifact_id)).await
    }

    #[tracing::instrument(name = "catalog.provider.get_by_sha256", level = "debug", skip_all, fields(sha256 = %sha256))]
    async fn get_by_sha256(&self, sha256: &str) -> Result<Vec<DocumentRecord>> {
        let sha256 = validation::sha256("sha256", sha256)?;
        self.metadata.lookup(Lookup::Sha256(&sha256)).await
    }

    #[tracing::instrument(name = "catalog.provider.get_by_run", level = "debug", skip_all)]
    async fn get_by_run(&self, run_id: &str) -> Result<Vec<DocumentRecord>> {
        validation::lookup_key("run_id", run_id)?;
        self.metadata.lookup(Lookup::Run(run_id)).await
    }

    #[tracing::instrument(name = "catalog.provider.list_records", level = "debug", skip_all)]
    async fn list_records(&self, filter: RecordFilter) -> Result<RecordStream> {
        Ok(detached(self.metadata.list(validation::filter(filter)?)))
    }

    #[tracing::instrument(name = "catalog.provider.find_duplicates", level = "debug", skip_all)]
    async fn find_duplicates(
        &self,
        query: DuplicateQuery,
    ) -> Result<BoxStream<'static, Result<DuplicateGroup>>> {
        Ok(detached(
            self.metadata
                .duplicates(validation::duplicate_query(query)?),
        ))
    }

    #[tracing::instrument(
        name = "catalog.provider.verify",
        level = "debug",
        skip_all,
        fields(record_id)
    )]
    async fn verify(&self, record_id: i64) -> Result<VerificationResult> {
        let record_id = validation::record_id("record_id", record_id)?;
        Span::current().record("record_id", record_id);
        let record = self.record(record_id).await?;
        verify::verify_record(self.blobs.as_ref(), &record).await
    }

    #[tracing::instrument(name = "catalog.provider.verify_all", level = "debug", skip_all)]
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

    #[tracing::instrument(
        name = "catalog.provider.put_content",
        level = "debug",
        skip_all,
        fields(record_id, sha256)
    )]
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
        let span = Span::current();
        span.record("record_id", registration.record.id);
        span.record(
            "sha256",
            registration.record.sha256.as_deref().unwrap_or_default(),
        );
        Ok(PutOutcome {
            registration,
            deduplicated,
        })
    }

    #[tracing::instrument(name = "catalog.provider.get_content", level = "debug", skip_all)]
    async fn get_content(&self, request: ContentRequest) -> Result<ContentDownload> {
        let request = validation::content_request(request)?;
        content::open_download(self, self.blobs.as_ref(), request).await
    }

    #[tracing::instrument(name = "catalog.provider.stats", level = "debug", skip_all)]
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

    #[tracing::instrument(name = "catalog.provider.import_records", level = "debug", skip_all, fields(records = records.len()))]
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

    #[tracing::instrument(name = "catalog.provider.provider_health", level = "debug", skip_all)]
    async fn provider_health(&self) -> Result<HealthReport> {
        let (metadata, blobs) = tokio::join!(self.metadata.probe(), self.blobs.probe());
        Ok(HealthReport::from_backends(vec![metadata, blobs]))
    }
}
