//! Configuration: flags > environment > YAML file > defaults, every key in [`settings::SETTINGS`].
//! Unknown keys and missing required values stop start-up with a message naming both the
//! environment variable and the YAML key.

mod redact;
pub mod settings;

use std::{
    collections::BTreeMap,
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
    str::FromStr,
};

pub use redact::redact;
use serde_yaml_ng::Value;
use settings::{SETTINGS, Setting};

/// A configuration that cannot be used; the message says what to change.
#[derive(Debug, thiserror::Error)]
#[error("configuration error: {0}")]
pub struct ConfigError(pub String);

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// The YAML file.
    File,
    /// An environment variable.
    Env(&'static str),
    /// A command-line flag.
    Flag,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::File => f.write_str("config file"),
            Self::Env(name) => write!(f, "env {name}"),
            Self::Flag => f.write_str("flag"),
        }
    }
}

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

impl ProviderName {
    /// The name as configured and reported.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Enterprise => "enterprise",
            Self::Cloud => "cloud",
        }
    }
}

/// Where records live.
#[derive(Debug, Clone)]
pub enum MetadataConfig {
    /// SQLite file or `:memory:`.
    Sqlite {
        /// Database path.
        db_path: String,
    },
    /// A PostgreSQL pool.
    Postgres {
        /// Connection URL (a secret).
        connection_url: String,
        /// Pooled connections.
        pool_size: u32,
        /// Extra connections under load.
        max_overflow: u32,
    },
}

/// Settings of an S3 (or S3-compatible) blob store.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// Bucket.
    pub bucket: String,
    /// Key prefix.
    pub prefix: String,
    /// Region.
    pub region: String,
    /// Endpoint of an S3-compatible store.
    pub endpoint_url: Option<String>,
    /// Path-style addressing.
    pub force_path_style: bool,
    /// Multipart threshold and part size.
    pub part_bytes: u64,
    /// Parts uploaded at once.
    pub parts_in_flight: usize,
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
    /// The preset.
    pub name: ProviderName,
    /// The metadata store.
    pub metadata: MetadataConfig,
    /// The blob store.
    pub blobs: BlobConfig,
    /// LRU cache capacity.
    pub cache_size: usize,
    /// Directories Verify and GetContent may also read.
    pub verify_roots: Vec<PathBuf>,
}

impl ProviderConfig {
    /// The provider's name.
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
    /// Bearer token file; auth is on when set.
    pub auth_token_file: Option<PathBuf>,
    /// Largest upload.
    pub max_upload_bytes: u64,
    /// Largest gRPC message.
    pub max_message_bytes: usize,
    /// Largest batch.
    pub max_batch_size: usize,
    /// Unary deadline in seconds.
    pub request_timeout_secs: u64,
    /// Calls served at once.
    pub concurrency_limit: usize,
    /// Seconds between health probes.
    pub health_probe_interval_secs: u64,
    /// Seconds to drain after SIGTERM.
    pub shutdown_grace_secs: u64,
    /// Log format.
    pub log_format: LogFormat,
}

/// The effective configuration, and where each value came from.
#[derive(Debug, Clone)]
pub struct Config {
    /// The provider to run.
    pub provider: ProviderConfig,
    /// Server settings.
    pub server: ServerConfig,
    values: BTreeMap<&'static str, (String, Source)>,
}

/// Loads the configuration: `flags` (key, value) over the environment (read through `env`) over
/// the YAML `file` over defaults.
pub fn load(
    file: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
    flags: &[(&'static str, String)],
) -> Result<Config, ConfigError> {
    let mut values: BTreeMap<&'static str, (String, Source)> = BTreeMap::new();
    for setting in SETTINGS {
        if let Some(default) = setting.default {
            values.insert(setting.key, (default.to_owned(), Source::Default));
        }
    }
    if let Some(path) = file {
        for (key, value) in read_file(path)? {
            values.insert(key, (value, Source::File));
        }
    }
    for setting in SETTINGS {
        if let Some((name, value)) = setting
            .env
            .iter()
            .find_map(|name| env(name).map(|value| (*name, value)))
        {
            values.insert(setting.key, (value, Source::Env(name)));
        }
    }
    for (key, value) in flags {
        values.insert(key, (value.clone(), Source::Flag));
    }
    resolve(values)
}

fn read_file(path: &Path) -> Result<Vec<(&'static str, String)>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError(format!("cannot read config file {}: {e}", path.display())))?;
    let document: Value = serde_yaml_ng::from_str(&text).map_err(|e| {
        ConfigError(format!(
            "config file {} is not valid YAML: {e}",
            path.display()
        ))
    })?;
    let mut flat = Vec::new();
    if !document.is_null() {
        flatten("", &document, &mut flat)?;
    }
    Ok(flat)
}

fn flatten(
    prefix: &str,
    value: &Value,
    out: &mut Vec<(&'static str, String)>,
) -> Result<(), ConfigError> {
    let Value::Mapping(mapping) = value else {
        return Err(ConfigError(format!("{prefix} must be a mapping of keys")));
    };
    for (name, child) in mapping {
        let name = name
            .as_str()
            .ok_or_else(|| ConfigError(format!("keys under {prefix} must be strings")))?;
        let key = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        };
        match child {
            Value::Mapping(_)
                if SETTINGS
                    .iter()
                    .any(|s| s.key.starts_with(&format!("{key}."))) =>
            {
                flatten(&key, child, out)?
            }
            Value::Sequence(items) if settings::find(&key).is_some() => {
                let setting = settings::find(&key).ok_or_else(|| unknown_key(&key))?;
                let parts: Option<Vec<String>> = items.iter().map(scalar_text).collect();
                let parts =
                    parts.ok_or_else(|| ConfigError(format!("{key} must be a list of strings")))?;
                out.push((setting.key, parts.join(":")));
            }
            Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => {
                let setting = settings::find(&key).ok_or_else(|| unknown_key(&key))?;
                if let Some(text) = scalar_text(child) {
                    out.push((setting.key, text));
                }
            }
            _ => return Err(unknown_key(&key)),
        }
    }
    Ok(())
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn unknown_key(key: &str) -> ConfigError {
    let hint = match key.rsplit_once('.') {
        None => " (top-level keys: catalog, server)".to_owned(),
        Some((section, _)) => {
            let known: Vec<&str> = SETTINGS
                .iter()
                .filter_map(|s| s.key.strip_prefix(section)?.strip_prefix('.'))
                .filter(|rest| !rest.contains('.'))
                .collect();
            format!(" (known keys under {section}: {})", known.join(", "))
        }
    };
    ConfigError(format!("unknown configuration key {key}{hint}"))
}

fn describe(setting: &Setting) -> String {
    match setting.env {
        [] => setting.key.to_owned(),
        names => format!(
            "{} or {} in the config file",
            names.join(" / "),
            setting.key
        ),
    }
}

struct Values(BTreeMap<&'static str, (String, Source)>);

impl Values {
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(|(value, _)| value.as_str())
            .filter(|v| !v.is_empty())
    }

    fn required(&self, key: &str, why: &str) -> Result<String, ConfigError> {
        let setting = settings::find(key).ok_or_else(|| unknown_key(key))?;
        self.get(key).map(str::to_owned).ok_or_else(|| {
            ConfigError(format!(
                "{key} is required {why}: set {}",
                describe(setting)
            ))
        })
    }

    fn parse<T: FromStr>(&self, key: &str) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        let setting = settings::find(key).ok_or_else(|| unknown_key(key))?;
        let raw = self.required(key, "")?;
        raw.parse().map_err(|e| {
            let source = self
                .0
                .get(key)
                .map(|(_, source)| source.to_string())
                .unwrap_or_default();
            ConfigError(format!(
                "invalid value {raw:?} for {key} (from {source}): {e}; set {}",
                describe(setting)
            ))
        })
    }
}

/// The section (`catalog.<section>`) whose settings a provider reads.
fn section(name: ProviderName) -> &'static str {
    match name {
        ProviderName::Development => "dev",
        ProviderName::Enterprise => "enterprise",
        ProviderName::Cloud => "cloud",
    }
}

fn resolve_provider(v: &Values) -> Result<ProviderConfig, ConfigError> {
    let name = match v.get("catalog.provider").unwrap_or("development") {
        "development" | "dev" => ProviderName::Development,
        "enterprise" => ProviderName::Enterprise,
        "cloud" => ProviderName::Cloud,
        other => {
            return Err(ConfigError(format!(
                "unknown provider {other:?}: expected development, enterprise or cloud \
                 (DOCSTOKG_CATALOG_PROVIDER or catalog.provider)"
            )));
        }
    };
    let why = format!("for the {} provider", name.as_str());
    let default_metadata = if name == ProviderName::Development {
        "sqlite"
    } else {
        "postgres"
    };
    let metadata = match v.get("catalog.metadata").unwrap_or(default_metadata) {
        "sqlite" => MetadataConfig::Sqlite {
            db_path: v.required("catalog.dev.db_path", &why)?,
        },
        "postgres" => {
            let pg = if name == ProviderName::Cloud {
                "cloud"
            } else {
                "enterprise"
            };
            MetadataConfig::Postgres {
                connection_url: v.required(&format!("catalog.{pg}.connection_url"), &why)?,
                pool_size: v.parse(&format!("catalog.{pg}.pool_size"))?,
                max_overflow: v.parse(&format!("catalog.{pg}.max_overflow"))?,
            }
        }
        other => {
            return Err(ConfigError(format!(
                "unknown metadata store {other:?}: expected sqlite or postgres (DOCSTOKG_METADATA_STORE or \
                 catalog.metadata)"
            )));
        }
    };
    let default_blobs = if name == ProviderName::Cloud {
        "s3"
    } else {
        "local"
    };
    let blobs = match v.get("catalog.blobs").unwrap_or(default_blobs) {
        "local" => {
            let local = if name == ProviderName::Development {
                "dev"
            } else {
                "enterprise"
            };
            BlobConfig::Local {
                root_dir: PathBuf::from(v.required(&format!("catalog.{local}.root_dir"), &why)?),
            }
        }
        "s3" => BlobConfig::S3(resolve_s3(v, &why)?),
        other => {
            return Err(ConfigError(format!(
                "unknown blob store {other:?}: expected local or s3 (DOCSTOKG_BLOB_STORE or catalog.blobs)"
            )));
        }
    };
    let cache_size = v.parse(&format!("catalog.{}.cache_size", section(name)))?;
    let verify_roots: Vec<PathBuf> = v
        .get("catalog.verify_roots")
        .map(|roots| {
            roots
                .split(':')
                .filter(|r| !r.is_empty())
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default();
    if let Some(relative) = verify_roots.iter().find(|root| !root.is_absolute()) {
        return Err(ConfigError(format!(
            "catalog.verify_roots must hold absolute directories, got {}: set DOCSTOKG_VERIFY_ROOTS or \
             catalog.verify_roots",
            relative.display()
        )));
    }
    Ok(ProviderConfig {
        name,
        metadata,
        blobs,
        cache_size,
        verify_roots,
    })
}

/// Smallest multipart part S3 accepts (except the last part):
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html>.
const MIN_PART_BYTES: u64 = 5 * 1024 * 1024;

fn resolve_s3(v: &Values, why: &str) -> Result<S3Config, ConfigError> {
    let part_bytes: u64 = v.parse("catalog.cloud.multipart_part_bytes")?;
    if part_bytes < MIN_PART_BYTES {
        return Err(ConfigError(format!(
            "catalog.cloud.multipart_part_bytes must be at least {MIN_PART_BYTES} (S3's smallest part): set \
             DOCSTOKG_S3_PART_BYTES or catalog.cloud.multipart_part_bytes"
        )));
    }
    let credentials = match (
        v.get("catalog.cloud.access_key_id"),
        v.get("catalog.cloud.secret_access_key"),
    ) {
        (Some(id), Some(secret)) => Some((id.to_owned(), secret.to_owned())),
        (None, None) => None,
        _ => {
            return Err(ConfigError(
                "set both or neither of AWS_ACCESS_KEY_ID / catalog.cloud.access_key_id and AWS_SECRET_ACCESS_KEY / \
                 catalog.cloud.secret_access_key"
                    .to_owned(),
            ));
        }
    };
    let parts_in_flight: usize = v.parse("catalog.cloud.multipart_parts_in_flight")?;
    Ok(S3Config {
        bucket: v.required("catalog.cloud.s3_bucket", why)?,
        prefix: v
            .0
            .get("catalog.cloud.s3_prefix")
            .map(|(value, _)| value.clone())
            .unwrap_or_default(),
        region: v.required("catalog.cloud.aws_region", why)?,
        endpoint_url: v.get("catalog.cloud.endpoint_url").map(str::to_owned),
        force_path_style: v.parse("catalog.cloud.force_path_style")?,
        part_bytes,
        parts_in_flight: parts_in_flight.max(1),
        credentials,
    })
}

fn resolve(values: BTreeMap<&'static str, (String, Source)>) -> Result<Config, ConfigError> {
    let v = Values(values);
    let provider = resolve_provider(&v)?;
    let server = ServerConfig {
        listen: v.parse("server.listen")?,
        auth_token_file: v.get("server.auth_token_file").map(PathBuf::from),
        max_upload_bytes: v.parse("server.max_upload_bytes")?,
        max_message_bytes: v.parse("server.max_message_bytes")?,
        max_batch_size: v.parse("server.max_batch_size")?,
        request_timeout_secs: v.parse("server.request_timeout_secs")?,
        concurrency_limit: v.parse("server.concurrency_limit")?,
        health_probe_interval_secs: v.parse("server.health_probe_interval_secs")?,
        shutdown_grace_secs: v.parse("server.shutdown_grace_secs")?,
        log_format: v.parse("server.log_format")?,
    };
    for (key, min) in [
        ("server.max_batch_size", 1),
        ("server.concurrency_limit", 1),
        ("server.health_probe_interval_secs", 1),
    ] {
        if v.parse::<u64>(key)? < min {
            let setting = settings::find(key).ok_or_else(|| unknown_key(key))?;
            return Err(ConfigError(format!(
                "{key} must be at least {min}: set {}",
                describe(setting)
            )));
        }
    }
    Ok(Config {
        provider,
        server,
        values: v.0,
    })
}

impl Config {
    /// The effective configuration as YAML, secrets redacted, each value's source in a comment.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut section = "";
        for setting in SETTINGS {
            let (parent, leaf) = setting.key.rsplit_once('.').unwrap_or(("", setting.key));
            if parent != section {
                let shared = section
                    .split('.')
                    .zip(parent.split('.'))
                    .take_while(|(a, b)| a == b)
                    .count();
                let shared = if section.is_empty() { 0 } else { shared };
                for (level, part) in parent.split('.').enumerate().skip(shared) {
                    out.push_str(&format!("{}{part}:\n", "  ".repeat(level)));
                }
                section = parent;
            }
            let indent = "  ".repeat(parent.matches('.').count() + 1);
            let (value, source) = match self.values.get(setting.key) {
                Some((value, source)) if setting.secret && !value.is_empty() => {
                    (redact(value), source.to_string())
                }
                Some((value, source)) => (value.clone(), source.to_string()),
                None => ("null".to_owned(), "unset".to_owned()),
            };
            let value = if value == "null" {
                value
            } else {
                format!("{value:?}")
            };
            out.push_str(&format!("{indent}{leaf}: {value}  # {source}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests;
