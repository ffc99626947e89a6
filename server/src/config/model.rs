//! The typed configuration the rest of the server reads: the provider (its preset, two stores,
//! cache and verify roots) and the server settings. Only [`super::load()`] builds a [`Config`], so
//! every value here has passed resolution's checks; counts that must be at least one are
//! `NonZero` types rather than numbers corrected later.

use std::{
    net::SocketAddr,
    num::{NonZeroU32, NonZeroUsize},
    path::PathBuf,
    str::FromStr,
    time::Duration,
};

use crate::lifecycle::RetentionRule;

use super::{load::Layers, preset::ProviderName};

/// A configuration that cannot be used; the message says what to change.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

/// Where records live.
#[derive(Debug, Clone)]
pub enum MetadataConfig {
    /// SQLite file or `:memory:`.
    Sqlite {
        /// The SQLite file, or `:memory:` for a database that lives as long as the server.
        db_path: String,
    },
    /// A PostgreSQL pool.
    Postgres {
        /// Connection URL (a secret).
        connection_url: String,
        /// Connections kept open; at least one.
        pool_size: NonZeroU32,
        /// Extra connections under load; `pool_size + max_overflow` fits in a `u32`.
        max_overflow: u32,
    },
}

/// Settings of an S3 (or S3-compatible) blob store.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// The bucket that holds every object.
    pub bucket: String,
    /// Prepended to every key (`docs/` puts objects under `docs/cas/...`).
    pub prefix: String,
    /// The bucket's region (signing needs it, even for S3-compatible stores).
    pub region: String,
    /// Endpoint of an S3-compatible store.
    pub endpoint_url: Option<String>,
    /// Path-style addressing.
    pub force_path_style: bool,
    /// Multipart threshold and part size, within S3's part limits
    /// ([`crate::blob::s3::limits`]).
    pub part_bytes: u64,
    /// Parts uploaded at once.
    pub parts_in_flight: NonZeroUsize,
    /// Static credentials (access key id, secret); `None` uses the standard AWS chain.
    pub credentials: Option<(String, String)>,
}

/// Where bytes live.
#[derive(Debug, Clone)]
pub enum BlobConfig {
    /// A local directory.
    Local {
        /// Blob store root.
        root_dir: PathBuf,
    },
    /// An S3 bucket.
    S3(S3Config),
}

/// The provider to run: a preset name, its two stores, and its cache.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// The named preset, reported by Stats.
    pub name: ProviderName,
    /// The metadata store.
    pub metadata: MetadataConfig,
    /// The blob store.
    pub blobs: BlobConfig,
    /// LRU cache capacity (0 disables the cache).
    pub cache_size: usize,
    /// Directories Verify and GetContent may also read.
    pub verify_roots: Vec<PathBuf>,
    /// The retention rules, in configuration order.
    pub retention_rules: Vec<RetentionRule>,
    /// How often the server applies them itself; `None`: only when asked.
    pub retention_interval: Option<Duration>,
    /// Garbage collection keeps what is younger than this.
    pub gc_grace_period: Duration,
}

impl ProviderConfig {
    /// The provider's name, as configured and reported.
    pub fn name(&self) -> &'static str {
        self.name.as_str()
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        match value {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("expected text or json, got {other:?}")),
        }
    }
}

/// Server settings shared by every provider.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to bind.
    pub listen: SocketAddr,
    /// Where `/metrics` is served; `None` turns metrics off.
    pub metrics_listen: Option<SocketAddr>,
    /// Bearer token file; auth is on when set.
    pub auth_token_file: Option<PathBuf>,
    /// TLS of the gRPC listener; plaintext when `None`.
    pub tls: Option<TlsConfig>,
    /// A plaintext listener serving only `grpc.health.v1`; `None` turns it off.
    pub health_listen: Option<SocketAddr>,
    /// Largest upload.
    pub max_upload_bytes: u64,
    /// Largest gRPC message (at least 1).
    pub max_message_bytes: usize,
    /// Largest batch (at least 1).
    pub max_batch_size: usize,
    /// Unary deadline in seconds (at least 1).
    pub request_timeout_secs: u64,
    /// Server stream deadline in seconds, until the last message.
    pub stream_timeout_secs: u64,
    /// Seconds an upload may go without a message (at least 1).
    pub upload_idle_timeout_secs: u64,
    /// Calls served at once (at least 1).
    pub concurrency_limit: usize,
    /// Seconds between health probes (at least 1).
    pub health_probe_interval_secs: u64,
    /// Seconds to drain after SIGTERM.
    pub shutdown_grace_secs: u64,
    /// Whether logs are text lines or JSON objects.
    pub log_format: LogFormat,
}

/// The certificate files of a TLS listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// PEM certificate chain, leaf first.
    pub cert_file: PathBuf,
    /// PEM private key of the leaf certificate.
    pub key_file: PathBuf,
    /// PEM CA certificates that client certificates must chain to; `None`: no client certificate
    /// is asked for.
    pub client_ca_file: Option<PathBuf>,
}

/// The effective configuration, and where each value came from.
#[derive(Debug, Clone)]
pub struct Config {
    /// The provider to run.
    pub provider: ProviderConfig,
    /// Listener, limits, auth and logging, the same for every provider.
    pub server: ServerConfig,
    /// The layered values the typed fields were resolved from, for [`Config::render`].
    pub(super) values: Layers,
}
