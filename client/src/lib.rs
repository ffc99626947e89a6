//! Rust client of the DocsToKG Catalog gRPC service.
//!
//! [`CatalogClient`] implements the contract crate's [`Catalog`](docstokg_catalog::Catalog) trait
//! over gRPC, so code written against an in-process provider runs unchanged against a remote
//! server: the same domain types, the same typed [`CatalogError`](docstokg_catalog::CatalogError),
//! and real streams for the streaming RPCs.
//!
//! ```no_run
//! # async fn demo() -> docstokg_catalog::Result<()> {
//! use docstokg_catalog::{Catalog, NewDocument};
//! use docstokg_catalog_client::CatalogClient;
//!
//! let catalog = CatalogClient::connect("127.0.0.1:50051").await?;
//! let outcome = catalog.register_or_get(NewDocument::new("artifact-1", "https://example.org/a.pdf", "unpaywall")).await?;
//! assert!(outcome.record.id > 0);
//! # Ok(())
//! # }
//! ```

mod auth;
mod catalog_impl;
mod client;
mod download;
mod errors;
mod options;
mod tls;
mod upload;

pub use client::CatalogClient;
pub use options::{ClientOptions, normalize_endpoint};
pub use tls::ClientTls;

/// The Rust examples of the README and the guides, compiled as doc tests so they cannot drift.
#[cfg(doctest)]
mod guides {
    #[doc = include_str!("../../README.md")]
    struct Readme;

    #[doc = include_str!("../../docs/usage.md")]
    struct UsageGuide;

    #[doc = include_str!("../../docs/migration.md")]
    struct MigrationGuide;

    #[doc = include_str!("../../docs/lifecycle.md")]
    struct LifecycleGuide;
}
