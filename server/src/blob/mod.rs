//! Blob stores: where the bytes of records live, content-addressed by SHA-256; the last hop of a
//! content RPC (`service.rs` -> `provider/` -> here). One trait, one file per backend
//! (`local.rs`, `s3/`).

mod blocking_io;
mod digest;
mod instrumented;
pub mod local;
mod local_reader;
mod local_sweep;
mod read_only_roots;
pub mod s3;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use docstokg_catalog::{BackendHealth, ByteStream, Result, StorageBackend};

use crate::metering::FilesystemUsage;
pub use digest::{ContentDigest, hash_stream};
pub use instrumented::InstrumentedBlobs;
pub use local::LocalBlobStore;
pub use local_reader::LocalReader;
pub use read_only_roots::WithReadOnlyRoots;
pub use s3::S3BlobStore;

/// What an upload must turn out to be.
#[derive(Debug, Clone, Default)]
pub struct BlobExpectation {
    /// The bytes must hash to this (lowercase hex).
    pub sha256: Option<String>,
    /// Exactly this many bytes must arrive.
    pub bytes: Option<u64>,
    /// More bytes than this are refused with RESOURCE_EXHAUSTED.
    pub max_bytes: u64,
}

/// Which bytes of an object a read returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// The first byte.
    pub offset: u64,
    /// How many bytes from `offset`; `None` reads to the end.
    pub length: Option<u64>,
}

impl ByteRange {
    /// The whole object.
    pub const ALL: Self = Self {
        offset: 0,
        length: None,
    };

    /// `length` bytes from `offset` (to the end when `None`).
    pub fn new(offset: u64, length: Option<u64>) -> Self {
        Self { offset, length }
    }
}

/// Where an upload's bytes ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// Their SHA-256 (lowercase hex).
    pub sha256: String,
    /// Their size.
    pub bytes: u64,
    /// Their URI in this store.
    pub storage_uri: String,
    /// True when identical bytes were already stored and nothing was written.
    pub deduplicated: bool,
}

/// One stored object, as [`BlobStore::list`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Its SHA-256 (lowercase hex), which is its address.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
    /// When it was last written.
    pub modified: DateTime<Utc>,
}

/// What [`BlobStore::sweep_leftovers`] found (and, unless a dry run, removed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeftoverReport {
    /// Temporary files or objects older than the cut-off that no upload holds.
    pub temporary: u64,
    /// Their sizes.
    pub temporary_bytes: u64,
    /// Multipart uploads started before the cut-off and never completed (S3).
    pub multipart_uploads: u64,
}

/// A content-addressed store of bytes.
///
/// `put` writes nothing visible unless the bytes match the expectation: a mismatch, an error of the
/// body stream or a dropped future leaves no object and no temporary file. A repeated `put` of the
/// same bytes writes nothing and reports `deduplicated`. Reads take a `storage_uri` and touch only
/// URIs inside this store's scope: anything else is `FailedPrecondition` and is never opened; a URI
/// in scope with no object behind it is `NotFound`.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// What and where this store is, for Stats.
    fn describe(&self) -> StorageBackend;

    /// Store-specific details for Stats (bucket, region...).
    fn details(&self) -> std::collections::BTreeMap<String, String> {
        std::collections::BTreeMap::new()
    }

    /// Streams `body` into the store under its SHA-256, checking it against `expect`.
    async fn put(&self, expect: BlobExpectation, body: ByteStream) -> Result<StoredBlob>;

    /// The URI the bytes with `sha256` have in this store (whether or not they are there).
    fn uri_of(&self, sha256: &str) -> String;

    /// Whether `storage_uri` lies inside this store, decided from the URI alone (no I/O).
    fn in_scope(&self, storage_uri: &str) -> bool;

    /// The size of the object at `storage_uri`, `None` when there is none.
    async fn size(&self, storage_uri: &str) -> Result<Option<u64>>;

    /// Streams the bytes of `range` of the object at `storage_uri`.
    async fn read(&self, storage_uri: &str, range: ByteRange) -> Result<ByteStream>;

    /// Up to `limit` stored objects with hashes above `after`, ascending by hash: a listing
    /// that resumes where the last page ended.
    async fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<StoredObject>>;

    /// Removes the object of `sha256`; false when there was none. Only the garbage collector
    /// calls it, after making sure no record references the bytes.
    async fn remove(&self, sha256: &str) -> Result<bool>;

    /// Removes (unless `dry_run`) what failed or killed uploads left older than `before`:
    /// temporary files no upload holds, temporary objects, incomplete multipart uploads.
    async fn sweep_leftovers(&self, before: DateTime<Utc>, dry_run: bool)
    -> Result<LeftoverReport>;

    /// Space on the filesystem under a local store, for the metrics endpoint; `None` elsewhere.
    fn filesystem(&self) -> Option<FilesystemUsage> {
        None
    }

    /// A real write and read of a probe object.
    async fn probe(&self) -> BackendHealth;
}
