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
    AuditEvent, AuditOptions, Catalog, CatalogError, CatalogStats, ContentDownload, ContentHeader,
    ContentRequest, DeleteReport, DeleteRequest, DocumentRecord, DuplicateGroup, DuplicateQuery,
    ErrorKind, HealthReport, NewDocument, PutOutcome, RecordFilter, RecordStream, RegisterOutcome,
    Result, RetentionReport, VerificationResult, VerifyAllEvent, VerifyAllOptions, validation,
};
use futures::stream::BoxStream;
use tracing::Span;

pub use build::build_provider;
use detached::detached;

use crate::{
    blob::{BlobStore, InstrumentedBlobs},
    cache::RecordCache,
    lifecycle::{RetentionRule, audit, delete, pins, retention},
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
    /// Retention rules, applied by ApplyRetention.
    pub retention: Vec<RetentionRule>,
}

/// A catalog made of a metadata store and a blob store.
pub struct CatalogProvider {
    settings: ProviderSettings,
    metadata: Arc<dyn MetadataStore>,
    blobs: Arc<dyn BlobStore>,
    cache: Arc<RecordCache>,
}

impl CatalogProvider {
    /// Composes a provider from its two stores.
    pub fn new(
        settings: ProviderSettings,
        metadata: Arc<dyn MetadataStore>,
        blobs: Arc<dyn BlobStore>,
    ) -> Self {
        let cache = Arc::new(RecordCache::new(settings.cache_size));
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
        if let Some(record) = self.cache.get(id)
            && self.still_exists(&record).await?
        {
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

    /// Whether a cached `record` may be served: always where this process is the only writer of
    /// the database (it evicts what it deletes); where other servers share it, only once the
    /// database confirms the record still exists (an indexed read, coalesced with the other
    /// hits in flight), since another server may have deleted it. A record found gone is
    /// evicted.
    async fn still_exists(&self, record: &DocumentRecord) -> Result<bool> {
        let exists = self.metadata.still_exists(record.id).await?;
        if !exists {
            self.cache.evict(record.id);
        }
        Ok(exists)
    }

    /// Registers `document`, pinning its bytes first when it points at an object of this
    /// provider's store by hash, so that garbage collection cannot remove them under it; a
    /// document pointing at such an object that is not there is FAILED_PRECONDITION.
    async fn register_pinned(&self, document: NewDocument) -> Result<RegisterOutcome> {
        let mut held = Vec::new();
        let checked = self
            .hold_references(std::slice::from_ref(&document), &mut held, |_| {
                "document.storage_uri".to_owned()
            })
            .await;
        let registered = match checked {
            Ok(()) => self.metadata.register(document).await,
            Err(error) => Err(error),
        };
        self.release(held).await;
        registered
    }

    /// Stores an upload and registers it. Bytes not pinned yet (`pin` is `None`) are pinned
    /// once their hash is known and then checked to be still there: a collector may have
    /// removed identical bytes that were already stored, and then the upload must be retried.
    async fn store_then_register(
        &self,
        header: ContentHeader,
        body: docstokg_catalog::ByteStream,
        pin: &mut Option<i64>,
    ) -> Result<PutOutcome> {
        let (document, deduplicated) = content::store_upload(
            self.blobs.as_ref(),
            header,
            body,
            self.settings.max_upload_bytes,
        )
        .await?;
        if pin.is_none() {
            let sha256 = document.sha256.clone().unwrap_or_default();
            *pin = Some(pins::hold(self.metadata.lifecycle(), &sha256).await?);
            let uri = document.storage_uri.as_deref().unwrap_or_default();
            if self.blobs.size(uri).await?.is_none() {
                return Err(pins::collected_meanwhile(&sha256));
            }
        }
        let registration = self.register_document(document, false).await?;
        Ok(PutOutcome {
            registration,
            deduplicated,
        })
    }

    /// Registers a validated `document`: from the cache when its key is there (and still
    /// exists), otherwise in the metadata store, pinning its bytes unless `pin` is false (the
    /// caller holds a pin already).
    async fn register_document(&self, document: NewDocument, pin: bool) -> Result<RegisterOutcome> {
        if let Some(record) = self.cache.get_by_key(
            &document.artifact_id,
            &document.source_url,
            &document.resolver,
        ) && self.still_exists(&record).await?
        {
            return Ok(RegisterOutcome::existing(&document, record));
        }
        let outcome = if pin {
            self.register_pinned(document).await?
        } else {
            self.metadata.register(document).await?
        };
        Span::current().record("record_id", outcome.record.id);
        self.cache.insert(&outcome.record);
        Ok(outcome)
    }

    /// Pins (into `held`) the stored objects `documents` point at and checks they are there;
    /// `field` names the storage_uri of document `i` in the error when one is not.
    async fn hold_references(
        &self,
        documents: &[NewDocument],
        held: &mut Vec<i64>,
        field: impl Fn(usize) -> String,
    ) -> Result<()> {
        let mut pinned = std::collections::HashSet::new();
        for (index, document) in documents.iter().enumerate() {
            let Some(sha256) = self.cas_reference(document) else {
                continue;
            };
            if pinned.insert(sha256.clone()) {
                held.push(pins::hold(self.metadata.lifecycle(), &sha256).await?);
            }
            let uri = document.storage_uri.as_deref().unwrap_or_default();
            if self.blobs.size(uri).await?.is_none() {
                return Err(missing_bytes(&field(index), uri));
            }
        }
        Ok(())
    }

    /// Removes the pins in `held`.
    async fn release(&self, held: Vec<i64>) {
        for pin in held {
            pins::release(self.metadata.lifecycle(), pin).await;
        }
    }

    /// The hash of the stored object `document` points at, when its storage_uri is the
    /// content address of its sha256 in this provider's store.
    fn cas_reference(&self, document: &NewDocument) -> Option<String> {
        let sha256 = document.sha256.as_deref()?;
        (document.storage_uri.as_deref()? == self.blobs.uri_of(sha256)).then(|| sha256.to_owned())
    }
}

/// The error of a registration pointing at an object of the provider's store that is not there.
fn missing_bytes(field: &str, uri: &str) -> CatalogError {
    CatalogError::new(
        ErrorKind::FailedPrecondition,
        format!(
            "{field}: no bytes at {uri}: a storage_uri in this provider's storage must name \
             stored bytes; upload them with PutContent"
        ),
    )
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
        self.register_document(document, true).await
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
        let mut held = Vec::new();
        let checked = self
            .hold_references(&documents, &mut held, |index| {
                format!("documents[{index}].storage_uri")
            })
            .await;
        let outcomes = match checked {
            Ok(()) => self.metadata.register_batch(documents).await,
            Err(error) => Err(error),
        };
        self.release(held).await;
        // Batch records stay out of the cache: a batch as large as the cache (1,000 records by
        // default) would evict every hot record and copy each of its own in, on every call.
        outcomes
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
        let lifecycle = self.metadata.lifecycle();
        // Declared bytes are pinned before they are stored, so a collector never removes them
        // in between; others are pinned once their hash is known (`store_then_register`).
        let mut pin = match header.expected_sha256.as_deref() {
            Some(sha256) => Some(pins::hold(lifecycle, sha256).await?),
            None => None,
        };
        let stored = self.store_then_register(header, body, &mut pin).await;
        if let Some(pin) = pin {
            pins::release(lifecycle, pin).await;
        }
        let PutOutcome {
            registration,
            deduplicated,
        } = stored?;
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
            hashed_bytes: counts.hashed_bytes,
            unique_bytes: counts.unique_bytes,
            dedup_saved_bytes: counts.hashed_bytes - counts.unique_bytes,
            duplicate_groups_by_resolver: counts.duplicate_groups_by_resolver.into_iter().collect(),
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
        // Imported records stay out of the cache, as batches do.
        self.metadata.import(records, keep_ids).await
    }

    #[tracing::instrument(name = "catalog.provider.provider_health", level = "debug", skip_all)]
    async fn provider_health(&self) -> Result<HealthReport> {
        let (metadata, blobs) = tokio::join!(self.metadata.probe(), self.blobs.probe());
        Ok(HealthReport::from_backends(vec![metadata, blobs]))
    }

    #[tracing::instrument(name = "catalog.provider.delete_records", level = "debug", skip_all)]
    async fn delete_records(&self, request: DeleteRequest) -> Result<DeleteReport> {
        let request = validation::delete(request, self.settings.max_batch)?;
        // On a task of its own: a caller that goes away (or its deadline) never stops it in the
        // middle of a statement; what it deleted stays deleted, and a repeated call finishes it.
        let (metadata, cache) = (self.metadata.clone(), self.cache.clone());
        let report = tokio::spawn(async move {
            delete::delete_records(metadata.as_ref(), &cache, request).await
        })
        .await
        .map_err(|e| CatalogError::internal(format!("deleting records: {e}")))??;
        tracing::info!(
            matched = report.matched,
            deleted = report.deleted,
            "deleted records"
        );
        Ok(report)
    }

    #[tracing::instrument(name = "catalog.provider.apply_retention", level = "debug", skip_all)]
    async fn apply_retention(&self, dry_run: bool) -> Result<RetentionReport> {
        let mut report = RetentionReport {
            dry_run,
            rules: Vec::with_capacity(self.settings.retention.len()),
        };
        for rule in &self.settings.retention {
            // On a task of its own, as a delete is.
            let (metadata, cache, rule) = (self.metadata.clone(), self.cache.clone(), rule.clone());
            let applied = tokio::spawn(async move {
                retention::apply_rule(metadata.as_ref(), &cache, &rule, dry_run).await
            })
            .await
            .map_err(|e| CatalogError::internal(format!("applying retention: {e}")))??;
            tracing::info!(
                rule = %applied.rule,
                matched = applied.matched,
                deleted = applied.deleted,
                dry_run,
                "applied a retention rule"
            );
            report.rules.push(applied);
        }
        Ok(report)
    }

    #[tracing::instrument(name = "catalog.provider.audit_storage", level = "debug", skip_all)]
    async fn audit_storage(
        &self,
        options: AuditOptions,
    ) -> Result<BoxStream<'static, Result<AuditEvent>>> {
        let options = validation::audit(options)?;
        let total = self.metadata.count(&RecordFilter::default()).await?;
        let records = self.metadata.list(RecordFilter::default());
        Ok(detached(audit::audit_stream(
            self.metadata.clone(),
            self.blobs.clone(),
            records,
            total,
            options,
        )))
    }
}
