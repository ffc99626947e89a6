//! Catalog statistics.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One storage backend of a provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageBackend {
    /// "metadata" or "blobs".
    pub role: String,
    /// "sqlite", "postgres", "local", "s3".
    pub kind: String,
    /// Where it lives (path, redacted URL, bucket/prefix).
    pub location: String,
}

/// Counts and sizes of a catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogStats {
    /// The provider preset serving the catalog (development, enterprise, cloud).
    pub provider: String,
    /// Number of records.
    pub total_records: i64,
    /// Sum of record sizes.
    pub total_bytes: i64,
    /// Distinct sha256 values.
    pub unique_sha256: i64,
    /// Distinct artifact ids.
    pub unique_artifacts: i64,
    /// sha256 values shared by two or more records.
    pub duplicate_groups: i64,
    /// Records per resolver.
    pub by_resolver: BTreeMap<String, i64>,
    /// The metadata and blob stores behind the provider, and where they are.
    pub storage_backends: Vec<StorageBackend>,
    /// Provider-specific details.
    pub details: BTreeMap<String, String>,
    /// Sum of the sizes of records with a sha256: the bytes registered.
    pub hashed_bytes: i64,
    /// Sum over distinct sha256 values of one record's size: the bytes stored once.
    pub unique_bytes: i64,
    /// `hashed_bytes - unique_bytes`: what content addressing saves.
    pub dedup_saved_bytes: i64,
    /// Duplicate groups holding at least one record of each resolver.
    pub duplicate_groups_by_resolver: BTreeMap<String, i64>,
}

impl CatalogStats {
    /// `hashed_bytes / unique_bytes`: 1 without duplicates, 0 on an empty catalog.
    pub fn dedup_ratio(&self) -> f64 {
        if self.unique_bytes == 0 {
            return 0.0;
        }
        self.hashed_bytes as f64 / self.unique_bytes as f64
    }
}
