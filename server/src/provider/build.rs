//! The named providers as presets of a metadata store and a blob store.

use std::sync::Arc;

use docstokg_catalog::Result;

use super::{CatalogProvider, ProviderSettings};
use crate::{
    blob::LocalBlobStore,
    config::{Config, ProviderConfig},
    metadata::{PostgresStore, SqliteStore},
};

/// Opens the stores the configuration names and composes them into a provider.
pub async fn build_provider(config: &Config) -> Result<CatalogProvider> {
    let settings = |cache_size| ProviderSettings {
        name: config.provider.name().to_owned(),
        max_batch: config.server.max_batch_size,
        max_upload_bytes: config.server.max_upload_bytes,
        cache_size,
    };
    match &config.provider {
        ProviderConfig::Development {
            db_path,
            cache_size,
            root_dir,
        } => {
            let metadata = SqliteStore::open(db_path).await?;
            let blobs = LocalBlobStore::open(root_dir).await?;
            Ok(CatalogProvider::new(
                settings(*cache_size),
                Arc::new(metadata),
                Arc::new(blobs),
            ))
        }
        ProviderConfig::Enterprise {
            connection_url,
            pool_size,
            max_overflow,
            root_dir,
            cache_size,
        } => {
            let metadata = PostgresStore::open(connection_url, *pool_size, *max_overflow).await?;
            let blobs = LocalBlobStore::open(root_dir).await?;
            Ok(CatalogProvider::new(
                settings(*cache_size),
                Arc::new(metadata),
                Arc::new(blobs),
            ))
        }
    }
}
