//! The named providers as presets of a metadata store and a blob store. A mixed pair (SQLite with
//! S3, PostgreSQL with local disk) needs no code: the configuration picks each store.

use std::sync::Arc;

use docstokg_catalog::Result;

use super::{CatalogProvider, ProviderSettings};
use crate::{
    blob::{BlobStore, LocalBlobStore, LocalReader, S3BlobStore, WithReadOnlyRoots},
    config::{BlobConfig, Config, MetadataConfig},
    metadata::{MetadataStore, PostgresStore, SqliteStore},
};

/// Opens the stores the configuration names and composes them into a provider.
pub async fn build_provider(config: &Config) -> Result<CatalogProvider> {
    let metadata: Arc<dyn MetadataStore> = match &config.provider.metadata {
        MetadataConfig::Sqlite { db_path } => Arc::new(SqliteStore::open(db_path).await?),
        MetadataConfig::Postgres {
            connection_url,
            pool_size,
            max_overflow,
        } => Arc::new(PostgresStore::open(connection_url, *pool_size, *max_overflow).await?),
    };
    let mut blobs: Arc<dyn BlobStore> = match &config.provider.blobs {
        BlobConfig::Local { root_dir } => Arc::new(LocalBlobStore::open(root_dir).await?),
        BlobConfig::S3(s3) => Arc::new(S3BlobStore::open(s3).await?),
    };
    if !config.provider.verify_roots.is_empty() {
        let mut roots = Vec::with_capacity(config.provider.verify_roots.len());
        for root in &config.provider.verify_roots {
            roots.push(LocalReader::new(root).await?);
        }
        blobs = Arc::new(WithReadOnlyRoots::new(blobs, roots));
    }
    let settings = ProviderSettings {
        name: config.provider.name().to_owned(),
        max_batch: config.server.max_batch_size,
        max_upload_bytes: config.server.max_upload_bytes,
        cache_size: config.provider.cache_size,
        retention: config.provider.retention_rules.clone(),
    };
    Ok(CatalogProvider::new(settings, metadata, blobs))
}
