//! The named providers (presets) and the one rule that decides which YAML section
//! (`catalog.dev`, `catalog.enterprise`, `catalog.cloud`) a store's settings are read from.
//!
//! Each preset owns a section and uses two stores. A provider reads a store's settings from its
//! own section when its preset uses that store, and otherwise from the section of the store's
//! *home* preset (sqlite: development; postgres and local: enterprise; s3: cloud); the cache size
//! always comes from the provider's own section. Resolution and the reference's section table ask
//! [`section_for`], the reference's "read by" column asks [`ProviderName::of_section`]; nothing
//! else maps providers or stores to sections.

/// Which named preset a provider is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderName {
    /// SQLite + local disk.
    Development,
    /// PostgreSQL + local disk.
    Enterprise,
    /// PostgreSQL + S3.
    Cloud,
}

/// A metadata store that `catalog.metadata` can pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MetadataKind {
    /// SQLite (`db_path`).
    Sqlite,
    /// PostgreSQL (`connection_url`, `pool_size`, `max_overflow`).
    Postgres,
}

/// A blob store that `catalog.blobs` can pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BlobKind {
    /// Local disk (`root_dir`).
    Local,
    /// An S3 bucket (`s3_bucket`, `aws_region`, ...).
    S3,
}

/// Either store, the unit [`section_for`] decides about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StoreKind {
    /// A metadata store.
    Metadata(MetadataKind),
    /// A blob store.
    Blobs(BlobKind),
}

impl ProviderName {
    /// Every preset, in the order the reference lists them.
    pub(super) const ALL: [Self; 3] = [Self::Development, Self::Enterprise, Self::Cloud];

    /// The name as configured and reported.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Enterprise => "enterprise",
            Self::Cloud => "cloud",
        }
    }

    /// The preset named `value` (`dev` is accepted for development).
    pub(super) fn parse(value: &str) -> Option<Self> {
        match value {
            "development" | "dev" => Some(Self::Development),
            "enterprise" => Some(Self::Enterprise),
            "cloud" => Some(Self::Cloud),
            _ => None,
        }
    }

    /// The section of this preset's own settings (`catalog.<section>`), its cache size included.
    pub(super) fn section(self) -> &'static str {
        match self {
            Self::Development => "dev",
            Self::Enterprise => "enterprise",
            Self::Cloud => "cloud",
        }
    }

    /// The metadata store this preset runs unless `catalog.metadata` overrides it.
    pub(super) fn metadata_store(self) -> MetadataKind {
        match self {
            Self::Development => MetadataKind::Sqlite,
            Self::Enterprise | Self::Cloud => MetadataKind::Postgres,
        }
    }

    /// The blob store this preset runs unless `catalog.blobs` overrides it.
    pub(super) fn blob_store(self) -> BlobKind {
        match self {
            Self::Development | Self::Enterprise => BlobKind::Local,
            Self::Cloud => BlobKind::S3,
        }
    }

    /// Whether this preset runs `store` (unless overridden).
    pub(super) fn uses(self, store: StoreKind) -> bool {
        match store {
            StoreKind::Metadata(kind) => self.metadata_store() == kind,
            StoreKind::Blobs(kind) => self.blob_store() == kind,
        }
    }

    /// The preset whose section is `catalog.<section>`, if any.
    pub(super) fn of_section(section: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.section() == section)
    }
}

impl MetadataKind {
    /// The store named `value` (`sqlite` or `postgres`).
    pub(super) fn parse(value: &str) -> Result<Self, String> {
        match value {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" => Ok(Self::Postgres),
            _ => Err("expected sqlite or postgres".to_owned()),
        }
    }
}

impl BlobKind {
    /// The store named `value` (`local` or `s3`).
    pub(super) fn parse(value: &str) -> Result<Self, String> {
        match value {
            "local" => Ok(Self::Local),
            "s3" => Ok(Self::S3),
            _ => Err("expected local or s3".to_owned()),
        }
    }
}

impl StoreKind {
    /// Every store, in the order the reference lists them.
    pub(super) const ALL: [Self; 4] = [
        Self::Metadata(MetadataKind::Sqlite),
        Self::Metadata(MetadataKind::Postgres),
        Self::Blobs(BlobKind::Local),
        Self::Blobs(BlobKind::S3),
    ];

    /// The name `catalog.metadata` / `catalog.blobs` take.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::Metadata(MetadataKind::Sqlite) => "sqlite",
            Self::Metadata(MetadataKind::Postgres) => "postgres",
            Self::Blobs(BlobKind::Local) => "local",
            Self::Blobs(BlobKind::S3) => "s3",
        }
    }

    /// The preset whose section holds this store's settings for a provider that does not use
    /// the store itself.
    fn home(self) -> ProviderName {
        match self {
            Self::Metadata(MetadataKind::Sqlite) => ProviderName::Development,
            Self::Metadata(MetadataKind::Postgres) | Self::Blobs(BlobKind::Local) => {
                ProviderName::Enterprise
            }
            Self::Blobs(BlobKind::S3) => ProviderName::Cloud,
        }
    }
}

impl From<MetadataKind> for StoreKind {
    fn from(kind: MetadataKind) -> Self {
        Self::Metadata(kind)
    }
}

impl From<BlobKind> for StoreKind {
    fn from(kind: BlobKind) -> Self {
        Self::Blobs(kind)
    }
}

/// The section `provider` reads `store`'s settings from: its own when its preset uses the
/// store, else the store's home section.
pub(super) fn section_for(provider: ProviderName, store: impl Into<StoreKind>) -> &'static str {
    let store = store.into();
    if provider.uses(store) {
        provider.section()
    } else {
        store.home().section()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings;

    #[test]
    fn test_a_provider_reads_its_own_stores_from_its_own_section() {
        for provider in ProviderName::ALL {
            assert_eq!(
                section_for(provider, provider.metadata_store()),
                provider.section()
            );
            assert_eq!(
                section_for(provider, provider.blob_store()),
                provider.section()
            );
        }
    }

    #[test]
    fn test_a_borrowed_store_comes_from_its_home_section() {
        use ProviderName::*;
        assert_eq!(
            section_for(Development, MetadataKind::Postgres),
            "enterprise"
        );
        assert_eq!(section_for(Development, BlobKind::S3), "cloud");
        assert_eq!(section_for(Enterprise, MetadataKind::Sqlite), "dev");
        assert_eq!(section_for(Cloud, BlobKind::Local), "enterprise");
    }

    #[test]
    fn test_every_chosen_section_has_the_store_settings_in_the_table() {
        let leaf = |store| match store {
            StoreKind::Metadata(MetadataKind::Sqlite) => "db_path",
            StoreKind::Metadata(MetadataKind::Postgres) => "connection_url",
            StoreKind::Blobs(BlobKind::Local) => "root_dir",
            StoreKind::Blobs(BlobKind::S3) => "s3_bucket",
        };
        for provider in ProviderName::ALL {
            let cache = format!("catalog.{}.cache_size", provider.section());
            assert!(settings::find(&cache).is_some(), "{cache}");
            for store in StoreKind::ALL {
                let key = format!("catalog.{}.{}", section_for(provider, store), leaf(store));
                assert!(settings::find(&key).is_some(), "{key}");
            }
        }
    }
}
