//! The [`Catalog`] trait: the one API that in-process providers and the remote client share.

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;

use crate::{
    AuditEvent, AuditOptions, CatalogStats, ContentDownload, ContentHeader, ContentRequest,
    DeleteReport, DeleteRequest, DocumentRecord, DuplicateGroup, DuplicateQuery, HealthReport,
    NewDocument, PutOutcome, RecordFilter, RegisterOutcome, Result, RetentionReport,
    VerificationResult, VerifyAllEvent, VerifyAllOptions,
};

/// A stream of bytes, as uploads take and downloads return them.
pub type ByteStream = BoxStream<'static, Result<Bytes>>;

/// A stream of records.
pub type RecordStream = BoxStream<'static, Result<DocumentRecord>>;

/// The catalog API. Every provider and the gRPC client implement it with identical observable
/// behaviour; the conformance suite holds them to it.
///
/// Errors: bad input is [`ErrorKind::InvalidArgument`](crate::ErrorKind) before any I/O; an unknown
/// id or hash is `NotFound`; an unreachable backend is `Unavailable` (retryable).
#[async_trait]
pub trait Catalog: Send + Sync + 'static {
    /// Registers a document, idempotent on (artifact_id, source_url, resolver): a repeated key
    /// returns the stored record unchanged with `created = false` and the fields that differ.
    async fn register_or_get(&self, document: NewDocument) -> Result<RegisterOutcome>;

    /// Registers many documents in one transaction; one outcome per document, in order.
    async fn register_or_get_batch(
        &self,
        documents: Vec<NewDocument>,
    ) -> Result<Vec<RegisterOutcome>>;

    /// The record with `id`; `NotFound` if there is none.
    async fn get_record(&self, id: i64) -> Result<DocumentRecord>;

    /// Every record of an artifact, newest first (created_at DESC, id DESC).
    async fn get_by_artifact(&self, artifact_id: &str) -> Result<Vec<DocumentRecord>>;

    /// Every record with a content hash, newest first.
    async fn get_by_sha256(&self, sha256: &str) -> Result<Vec<DocumentRecord>>;

    /// Every record of a pipeline run, newest first.
    async fn get_by_run(&self, run_id: &str) -> Result<Vec<DocumentRecord>>;

    /// Every record matching `filter`, ordered by id, streamed.
    async fn list_records(&self, filter: RecordFilter) -> Result<RecordStream>;

    /// Groups of records sharing a sha256 (count DESC, sha256 ASC), streamed.
    async fn find_duplicates(
        &self,
        query: DuplicateQuery,
    ) -> Result<BoxStream<'static, Result<DuplicateGroup>>>;

    /// Re-hashes the stored bytes of record `record_id`.
    async fn verify(&self, record_id: i64) -> Result<VerificationResult>;

    /// Verifies every record matching the options: started, one result per record, then a summary.
    async fn verify_all(
        &self,
        options: VerifyAllOptions,
    ) -> Result<BoxStream<'static, Result<VerifyAllEvent>>>;

    /// Stores `body` content-addressed, checking it against the header, then registers it.
    /// Nothing is left behind when the bytes do not match or the stream fails.
    async fn put_content(&self, header: ContentHeader, body: ByteStream) -> Result<PutOutcome>;

    /// The stored bytes of a record or a hash, optionally a range of them.
    async fn get_content(&self, request: ContentRequest) -> Result<ContentDownload>;

    /// Counts and sizes of the catalog.
    async fn stats(&self) -> Result<CatalogStats>;

    /// Health of each backend, from real probes.
    async fn provider_health(&self) -> Result<HealthReport>;

    /// Imports complete records (timestamps and storage_uri kept) in one transaction, idempotent
    /// on the key; with `keep_ids`, a record keeps its id where that id is free.
    async fn import_records(
        &self,
        records: Vec<DocumentRecord>,
        keep_ids: bool,
    ) -> Result<Vec<RegisterOutcome>>;

    /// Deletes records by id or by filter (or, with `dry_run`, reports what would go), in
    /// batches; ids that are gone are not an error. Bytes stay until garbage collection.
    async fn delete_records(&self, request: DeleteRequest) -> Result<DeleteReport>;

    /// Applies the configured retention rules (or, with `dry_run`, reports what they would delete).
    async fn apply_retention(&self, dry_run: bool) -> Result<RetentionReport>;

    /// Audits records against stored objects: started, progress and findings, then a summary.
    async fn audit_storage(
        &self,
        options: AuditOptions,
    ) -> Result<BoxStream<'static, Result<AuditEvent>>>;
}
