//! Resolution: the layered strings become the typed [`Config`]. Every setting is parsed and
//! checked here, once. A value that cannot be used (unparsable, 0 where at least 1 is needed,
//! outside S3's part limits) is an error naming the value, where it came from, the environment
//! variable and the YAML key; nothing is raised or clamped silently. Which section a store's
//! settings come from is [`section_for`]'s decision alone.

use crate::lifecycle::{RetentionRule, parse_duration};
use std::{fmt, num::NonZeroU32, path::PathBuf, str::FromStr};

use super::{
    load::{Layers, unknown_key},
    model::{
        BlobConfig, Config, ConfigError, MetadataConfig, ProviderConfig, S3Config, ServerConfig,
        TlsConfig,
    },
    preset::{BlobKind, MetadataKind, ProviderName, section_for},
    settings::{self, Setting},
};
use crate::blob::s3::limits::{MAX_PART_BYTES, MAX_PARTS, MIN_PART_BYTES, max_multipart_bytes};

/// Resolves and checks every setting of `layers`.
pub(super) fn resolve(layers: Layers) -> Result<Config, ConfigError> {
    let v = Values(layers);
    let provider = resolve_provider(&v)?;
    let server = resolve_server(&v)?;
    Ok(Config {
        provider,
        server,
        values: v.0,
    })
}

/// The layered values, read one setting at a time.
struct Values(Layers);

impl Values {
    /// The value of `key`; `None` when unset or empty.
    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .map(|(value, _)| value.as_str())
            .filter(|v| !v.is_empty())
    }

    /// The value of `key`, an error naming the env var and YAML key when unset; `why` ends the
    /// sentence "KEY is required...".
    fn required(&self, key: &str, why: &str) -> Result<String, ConfigError> {
        let setting = find(key)?;
        self.get(key).map(str::to_owned).ok_or_else(|| {
            ConfigError(format!("{key} is required{why}: set {}", describe(setting)))
        })
    }

    /// The (required) value of `key` passed through `parse`, whose error says what is wrong.
    fn parse_with<T>(
        &self,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        let setting = find(key)?;
        let raw = self.required(key, "")?;
        parse(&raw).map_err(|reason| {
            let source = self
                .0
                .get(key)
                .map(|(_, source)| source.to_string())
                .unwrap_or_default();
            ConfigError(format!(
                "invalid value {raw:?} for {key} (from {source}): {reason}; set {}",
                describe(setting)
            ))
        })
    }

    /// The value of `key` passed through `parse`, or `default` when unset.
    fn choice<T>(
        &self,
        key: &str,
        default: T,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        match self.get(key) {
            Some(_) => self.parse_with(key, parse),
            None => Ok(default),
        }
    }

    /// The value of `key` parsed as a `T`.
    fn parse<T: FromStr>(&self, key: &str) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        self.parse_with(key, |raw| raw.parse().map_err(|e: T::Err| e.to_string()))
    }

    /// The value of `key` as a count of at least 1 (`T` a number or a `NonZero` number).
    fn positive<T: FromStr>(&self, key: &str) -> Result<T, ConfigError>
    where
        T::Err: fmt::Display,
    {
        self.parse_with(key, |raw| match raw.parse::<u64>() {
            Ok(0) => Err("must be at least 1".to_owned()),
            _ => raw.parse().map_err(|e: T::Err| e.to_string()),
        })
    }
}

fn find(key: &str) -> Result<&'static Setting, ConfigError> {
    settings::find(key).ok_or_else(|| unknown_key(key))
}

/// How to set `setting`: its environment variables and its YAML key.
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

fn resolve_provider(v: &Values) -> Result<ProviderConfig, ConfigError> {
    let name = v.choice("catalog.provider", ProviderName::Development, |raw| {
        ProviderName::parse(raw).ok_or_else(|| "expected development, enterprise or cloud".into())
    })?;
    let why = format!(" for the {} provider", name.as_str());
    let metadata_kind = v.choice(
        "catalog.metadata",
        name.metadata_store(),
        MetadataKind::parse,
    )?;
    let section = section_for(name, metadata_kind);
    let metadata = match metadata_kind {
        MetadataKind::Sqlite => MetadataConfig::Sqlite {
            db_path: v.required(&format!("catalog.{section}.db_path"), &why)?,
        },
        MetadataKind::Postgres => resolve_postgres(v, section, &why)?,
    };
    let blob_kind = v.choice("catalog.blobs", name.blob_store(), BlobKind::parse)?;
    let section = section_for(name, blob_kind);
    let blobs = match blob_kind {
        BlobKind::Local => BlobConfig::Local {
            root_dir: PathBuf::from(v.required(&format!("catalog.{section}.root_dir"), &why)?),
        },
        BlobKind::S3 => BlobConfig::S3(resolve_s3(v, section, &why)?),
    };
    let cache_size = v.parse(&format!("catalog.{}.cache_size", name.section()))?;
    let verify_roots = v.choice("catalog.verify_roots", Vec::new(), |roots| {
        let roots: Vec<PathBuf> = roots
            .split(':')
            .filter(|r| !r.is_empty())
            .map(PathBuf::from)
            .collect();
        match roots.iter().find(|root| !root.is_absolute()) {
            Some(relative) => Err(format!(
                "must hold absolute directories, got {}",
                relative.display()
            )),
            None => Ok(roots),
        }
    })?;
    let retention_rules = v.choice(
        "catalog.retention.rules",
        Vec::new(),
        RetentionRule::parse_all,
    )?;
    let retention_interval =
        v.choice(
            "catalog.retention.interval",
            None,
            |raw| match parse_duration(raw)? {
                interval if interval.is_zero() => Err("must be longer than 0".to_owned()),
                interval => Ok(Some(interval)),
            },
        )?;
    let gc_grace_period = v.parse_with("catalog.gc.grace_period", parse_duration)?;
    Ok(ProviderConfig {
        name,
        metadata,
        blobs,
        cache_size,
        verify_roots,
        retention_rules,
        retention_interval,
        gc_grace_period,
    })
}

fn resolve_postgres(v: &Values, section: &str, why: &str) -> Result<MetadataConfig, ConfigError> {
    let key = |leaf: &str| format!("catalog.{section}.{leaf}");
    let pool_size: NonZeroU32 = v.positive(&key("pool_size"))?;
    let max_overflow = v.parse_with(&key("max_overflow"), |raw| {
        let overflow: u32 = raw.parse().map_err(|e| format!("{e}"))?;
        match pool_size.checked_add(overflow) {
            Some(_) => Ok(overflow),
            None => Err(format!(
                "pool_size ({pool_size}) + max_overflow must be at most {} connections",
                u32::MAX
            )),
        }
    })?;
    Ok(MetadataConfig::Postgres {
        connection_url: v.required(&key("connection_url"), why)?,
        pool_size,
        max_overflow,
    })
}

fn resolve_s3(v: &Values, section: &str, why: &str) -> Result<S3Config, ConfigError> {
    let key = |leaf: &str| format!("catalog.{section}.{leaf}");
    let part_bytes = v.parse_with(&key("multipart_part_bytes"), |raw| {
        let bytes: u64 = raw.parse().map_err(|e| format!("{e}"))?;
        if !(MIN_PART_BYTES..=MAX_PART_BYTES).contains(&bytes) {
            return Err(format!(
                "S3 takes parts of {MIN_PART_BYTES} (5 MiB) to {MAX_PART_BYTES} (5 GiB) bytes"
            ));
        }
        Ok(bytes)
    })?;
    // Every upload the server accepts must fit in S3's part count at this part size.
    let part_setting = find(&key("multipart_part_bytes"))?;
    v.parse_with("server.max_upload_bytes", |raw| {
        let most: u64 = raw.parse().map_err(|e| format!("{e}"))?;
        if most <= max_multipart_bytes(part_bytes) {
            return Ok(());
        }
        Err(format!(
            "an upload this large needs more than {MAX_PARTS} parts (S3's limit) of {part_bytes} \
             bytes; lower it, or raise the part size to at least {} ({})",
            most.div_ceil(MAX_PARTS),
            describe(part_setting)
        ))
    })?;
    let credentials = match (
        v.get(&key("access_key_id")),
        v.get(&key("secret_access_key")),
    ) {
        (Some(id), Some(secret)) => Some((id.to_owned(), secret.to_owned())),
        (None, None) => None,
        _ => {
            return Err(ConfigError(format!(
                "set both or neither of {} and {}",
                describe(find(&key("access_key_id"))?),
                describe(find(&key("secret_access_key"))?)
            )));
        }
    };
    Ok(S3Config {
        bucket: v.required(&key("s3_bucket"), why)?,
        prefix: v.get(&key("s3_prefix")).unwrap_or_default().to_owned(),
        region: v.required(&key("aws_region"), why)?,
        endpoint_url: v.get(&key("endpoint_url")).map(str::to_owned),
        force_path_style: v.parse(&key("force_path_style"))?,
        part_bytes,
        parts_in_flight: v.positive(&key("multipart_parts_in_flight"))?,
        credentials,
    })
}

fn resolve_server(v: &Values) -> Result<ServerConfig, ConfigError> {
    Ok(ServerConfig {
        listen: v.parse("server.listen")?,
        metrics_listen: v
            .get("server.metrics_listen")
            .map(|_| v.parse("server.metrics_listen"))
            .transpose()?,
        auth_token_file: v.get("server.auth_token_file").map(PathBuf::from),
        tls: resolve_tls(v)?,
        health_listen: v
            .get("server.health_listen")
            .map(|_| v.parse("server.health_listen"))
            .transpose()?,
        max_upload_bytes: v.parse("server.max_upload_bytes")?,
        max_message_bytes: v.positive("server.max_message_bytes")?,
        max_batch_size: v.positive("server.max_batch_size")?,
        request_timeout_secs: v.positive("server.request_timeout_secs")?,
        stream_timeout_secs: v.positive("server.stream_timeout_secs")?,
        upload_idle_timeout_secs: v.positive("server.upload_idle_timeout_secs")?,
        concurrency_limit: v.positive("server.concurrency_limit")?,
        health_probe_interval_secs: v.positive("server.health_probe_interval_secs")?,
        shutdown_grace_secs: v.parse("server.shutdown_grace_secs")?,
        log_format: v.parse("server.log_format")?,
    })
}

/// TLS is on when both certificate and key are set; a client CA alone, or one file of the pair,
/// is refused with what to add.
fn resolve_tls(v: &Values) -> Result<Option<TlsConfig>, ConfigError> {
    let cert = v.get("server.tls_cert_file").map(PathBuf::from);
    let key = v.get("server.tls_key_file").map(PathBuf::from);
    let client_ca = v.get("server.tls_client_ca_file").map(PathBuf::from);
    match (cert, key) {
        (Some(cert_file), Some(key_file)) => Ok(Some(TlsConfig {
            cert_file,
            key_file,
            client_ca_file: client_ca,
        })),
        (None, None) if client_ca.is_none() => Ok(None),
        (None, None) => Err(ConfigError(format!(
            "{} asks for client certificates, which needs TLS: set {} and {} too",
            describe(find("server.tls_client_ca_file")?),
            describe(find("server.tls_cert_file")?),
            describe(find("server.tls_key_file")?)
        ))),
        _ => Err(ConfigError(format!(
            "set both or neither of {} and {}",
            describe(find("server.tls_cert_file")?),
            describe(find("server.tls_key_file")?)
        ))),
    }
}
