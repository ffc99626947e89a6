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
}
