//! The DocsToKG Catalog contract: the generated gRPC code of `proto/`, the domain types that
//! providers and clients exchange, the validation rules every input obeys, and the [`Catalog`]
//! trait that both in-process providers and the remote client implement.

mod catalog;
mod content;
pub mod convert;
mod error;
mod forward;
mod health;
mod lifecycle;
mod query;
mod record;
mod stats;
pub mod validation;
mod verification;

pub use catalog::{ByteStream, Catalog, RecordStream};
pub use content::{
    ContentDownload, ContentHeader, ContentInfo, ContentRequest, ContentSelector, PutOutcome,
};
pub use error::{CatalogError, ErrorKind, ErrorSource, Result};
pub use forward::forward_chunks;
pub use health::{BackendHealth, HealthReport, HealthState};
pub use lifecycle::{
    AuditEvent, AuditFinding, AuditFindingKind, AuditOptions, AuditSummary, DeleteReport,
    DeleteRequest, DeleteSelection, MAX_REPORTED_IDS, RetentionReport, RetentionRuleReport,
};
pub use query::{DuplicateGroup, DuplicateQuery, RecordFilter};
pub use record::{DocumentRecord, NewDocument, RegisterOutcome};
pub use stats::{CatalogStats, StorageBackend};
pub use verification::{
    DEFAULT_VERIFY_CONCURRENCY, VerificationResult, VerificationStatus, VerifyAllEvent,
    VerifyAllOptions, VerifySummary,
};

/// Code generated from `proto/docstokg/catalog/v1/catalog.proto` by tonic-prost-build.
pub mod proto {
    #![allow(missing_docs, clippy::all)]
    tonic::include_proto!("docstokg.catalog.v1");

    /// The encoded file descriptor set of the contract, served by gRPC reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        tonic::include_file_descriptor_set!("catalog_descriptor");
}

/// The fully qualified gRPC service name, as health checks and reflection know it.
pub const SERVICE_NAME: &str = "docstokg.catalog.v1.CatalogService";
