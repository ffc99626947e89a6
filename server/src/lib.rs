//! The DocsToKG Catalog server: configuration, providers (a metadata store plus a blob store),
//! and the tonic service that maps each RPC onto the provider.
//!
//! An RPC's path is three hops: [`service`] -> [`provider`] -> a store in [`metadata`] or [`blob`].

mod allocator;
pub mod auth;
pub mod blob;
pub mod cache;
pub mod call_limits;
pub mod config;
pub mod health;
pub mod lifecycle;
pub mod metadata;
pub mod metering;
pub mod migrate;
pub mod provider;
pub mod server;
pub mod service;
mod span_stream;
pub mod telemetry;
pub mod tls;
