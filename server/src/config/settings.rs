//! Every configuration key: its YAML path, its environment variables, its default, and whether it
//! is a secret. Loading, resolution, `catalog-server config` and the configuration reference read
//! this table; which section a provider reads is the `preset` module's decision, not this table's.

/// One configuration key.
#[derive(Debug)]
pub struct Setting {
    /// Dotted YAML path, e.g. `catalog.dev.db_path`.
    pub key: &'static str,
    /// Environment variables that set it, highest precedence first.
    pub env: &'static [&'static str],
    /// Value when nothing sets it; `None` means "unset" (required only where a provider needs it).
    pub default: Option<&'static str>,
    /// Redacted when printed.
    pub secret: bool,
    /// What it means.
    pub doc: &'static str,
    /// What joins the items of a YAML list given for it.
    pub list_separator: &'static str,
}

impl Setting {
    /// The same setting, its YAML list items joined by `separator`.
    const fn separated_by(self, separator: &'static str) -> Self {
        Self {
            list_separator: separator,
            ..self
        }
    }
}

const fn setting(
    key: &'static str,
    env: &'static [&'static str],
    default: Option<&'static str>,
    doc: &'static str,
) -> Setting {
    Setting {
        key,
        env,
        default,
        secret: false,
        doc,
        list_separator: ":",
    }
}

const fn secret(key: &'static str, env: &'static [&'static str], doc: &'static str) -> Setting {
    Setting {
        key,
        env,
        default: None,
        secret: true,
        doc,
        list_separator: ":",
    }
}

/// The table of every key, in the order `catalog-server config` prints them.
pub const SETTINGS: &[Setting] = &[
    setting(
        "catalog.provider",
        &["DOCSTOKG_CATALOG_PROVIDER"],
        Some("development"),
        "Which provider to run: development, enterprise or cloud.",
    ),
    setting(
        "catalog.metadata",
        &["DOCSTOKG_METADATA_STORE"],
        None,
        "Override the provider's metadata store: sqlite or postgres (the table below says which section its settings \
         come from).",
    ),
    setting(
        "catalog.blobs",
        &["DOCSTOKG_BLOB_STORE"],
        None,
        "Override the provider's blob store: local or s3 (the table below says which section its settings come from).",
    ),
    setting(
        "catalog.verify_roots",
        &["DOCSTOKG_VERIFY_ROOTS"],
        None,
        "Directories outside the provider's storage that Verify and GetContent may read (read-only), \
         separated by ':' (YAML: a list or a ':'-separated string), e.g. the download pipeline's own directory.",
    ),
    setting(
        "catalog.retention.rules",
        &["DOCSTOKG_RETENTION_RULES"],
        None,
        "Retention rules, separated by ';' (YAML: a list), each `NAME key=value...` with keys resolver, content_type, \
         max_age (e.g. 90d) and keep_latest (the newest N records of each artifact are kept); a rule needs max_age or \
         keep_latest. Applied by ApplyRetention (`catalogctl retention`) and on the schedule below. See docs/lifecycle.md.",
    )
    .separated_by(";"),
    setting(
        "catalog.retention.interval",
        &["DOCSTOKG_RETENTION_INTERVAL"],
        None,
        "Apply the retention rules inside the server every this long (e.g. 6h); unset: only when asked.",
    ),
    setting(
        "catalog.gc.grace_period",
        &["DOCSTOKG_GC_GRACE_PERIOD"],
        Some("24h"),
        "`catalog-server gc` keeps stored objects, temporary files and pins younger than this (s, m, h or d; 0 for none).",
    ),
    setting(
        "catalog.dev.db_path",
        &["DOCSTOKG_DEV_DB_PATH"],
        Some("catalog-data/catalog.sqlite"),
        "SQLite database file, or :memory: for a private in-memory database.",
    ),
    setting(
        "catalog.dev.cache_size",
        &["DOCSTOKG_DEV_CACHE_SIZE"],
        Some("1000"),
        "Records kept in the LRU cache (0 disables it).",
    ),
    setting(
        "catalog.dev.root_dir",
        &["DOCSTOKG_STORAGE_ROOT"],
        Some("catalog-data/blobs"),
        "Directory of the content-addressed blob store.",
    ),
    secret(
        "catalog.enterprise.connection_url",
        &["DOCSTOKG_POSTGRES_URL"],
        "PostgreSQL URL, e.g. postgresql://user:password@host:5432/catalog (required).",
    ),
    setting(
        "catalog.enterprise.pool_size",
        &["DOCSTOKG_POOL_SIZE"],
        Some("10"),
        "Connections kept open in the pool (at least 1).",
    ),
    setting(
        "catalog.enterprise.max_overflow",
        &["DOCSTOKG_MAX_OVERFLOW"],
        Some("20"),
        "Extra connections opened under load, on top of pool_size.",
    ),
    setting(
        "catalog.enterprise.root_dir",
        &["DOCSTOKG_STORAGE_ROOT"],
        Some("/data/artifacts"),
        "Directory of the content-addressed blob store.",
    ),
    setting(
        "catalog.enterprise.cache_size",
        &["DOCSTOKG_ENTERPRISE_CACHE_SIZE"],
        Some("1000"),
        "Records kept in the LRU cache (0 disables it).",
    ),
    secret(
        "catalog.cloud.connection_url",
        &["DOCSTOKG_RDS_URL"],
        "PostgreSQL / RDS URL (required).",
    ),
    setting(
        "catalog.cloud.pool_size",
        &["DOCSTOKG_POOL_SIZE"],
        Some("10"),
        "Connections kept open in the pool (at least 1).",
    ),
    setting(
        "catalog.cloud.max_overflow",
        &["DOCSTOKG_MAX_OVERFLOW"],
        Some("20"),
        "Extra connections opened under load, on top of pool_size.",
    ),
    setting(
        "catalog.cloud.cache_size",
        &["DOCSTOKG_CLOUD_CACHE_SIZE"],
        Some("1000"),
        "Records kept in the LRU cache (0 disables it).",
    ),
    setting(
        "catalog.cloud.aws_region",
        &["AWS_REGION", "AWS_DEFAULT_REGION"],
        Some("us-east-1"),
        "AWS region of the bucket.",
    ),
    setting(
        "catalog.cloud.s3_bucket",
        &["DOCSTOKG_S3_BUCKET"],
        None,
        "Bucket of the blob store (required).",
    ),
    setting(
        "catalog.cloud.s3_prefix",
        &["DOCSTOKG_S3_PREFIX"],
        Some(""),
        "Key prefix inside the bucket, e.g. docs/ (objects go to PREFIX cas/sha256/ab/<sha256>).",
    ),
    setting(
        "catalog.cloud.endpoint_url",
        &["DOCSTOKG_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL"],
        None,
        "Endpoint of an S3-compatible store (Garage, MinIO, Ceph); unset for AWS S3.",
    ),
    setting(
        "catalog.cloud.force_path_style",
        &["DOCSTOKG_S3_FORCE_PATH_STYLE"],
        Some("false"),
        "Address buckets as ENDPOINT/BUCKET instead of BUCKET.ENDPOINT (most S3-compatible stores need true).",
    ),
    setting(
        "catalog.cloud.multipart_part_bytes",
        &["DOCSTOKG_S3_PART_BYTES"],
        Some("8388608"),
        "Uploads larger than this go multipart, in parts of this size: 5 MiB to 5 GiB, and 10,000 parts (S3's limit) \
         must hold server.max_upload_bytes.",
    ),
    setting(
        "catalog.cloud.multipart_parts_in_flight",
        &["DOCSTOKG_S3_PARTS_IN_FLIGHT"],
        Some("2"),
        "Parts uploaded at once (at least 1); an upload holds at most this many parts plus one in memory.",
    ),
    secret(
        "catalog.cloud.access_key_id",
        &["AWS_ACCESS_KEY_ID"],
        "Static credentials; unset means the standard AWS chain (environment, profile, IMDS).",
    ),
    secret(
        "catalog.cloud.secret_access_key",
        &["AWS_SECRET_ACCESS_KEY"],
        "Secret of the static credentials.",
    ),
    setting(
        "server.listen",
        &["DOCSTOKG_LISTEN"],
        Some("127.0.0.1:50051"),
        "Address the gRPC server binds.",
    ),
    setting(
        "server.metrics_listen",
        &["DOCSTOKG_METRICS_LISTEN"],
        None,
        "Address of the Prometheus `/metrics` endpoint (plain HTTP, e.g. `127.0.0.1:9464`); unset: no metrics.",
    ),
    setting(
        "server.auth_token_file",
        &["DOCSTOKG_AUTH_TOKEN_FILE"],
        None,
        "File of bearer tokens, one per line, read-write unless written `read-only TOKEN`; when set, catalog calls must send `authorization: Bearer <token>`. SIGHUP reloads it.",
    ),
    setting(
        "server.tls_cert_file",
        &["DOCSTOKG_TLS_CERT_FILE"],
        None,
        "PEM certificate chain of the gRPC listener; set with server.tls_key_file to serve TLS only. Reloaded when the file changes (checked every 10 s) or on SIGHUP.",
    ),
    setting(
        "server.tls_key_file",
        &["DOCSTOKG_TLS_KEY_FILE"],
        None,
        "PEM private key (PKCS#8, PKCS#1 or SEC1) of server.tls_cert_file.",
    ),
    setting(
        "server.tls_client_ca_file",
        &["DOCSTOKG_TLS_CLIENT_CA_FILE"],
        None,
        "PEM CA certificates; when set, the listener asks for a client certificate and refuses a client without one signed by them (mutual TLS). Needs server.tls_cert_file.",
    ),
    setting(
        "server.health_listen",
        &["DOCSTOKG_HEALTH_LISTEN"],
        None,
        "Address of a plaintext listener that serves only grpc.health.v1, for Kubernetes probes when the main listener speaks TLS (e.g. `0.0.0.0:50052`); unset: none.",
    ),
    setting(
        "server.max_upload_bytes",
        &["DOCSTOKG_MAX_UPLOAD_BYTES"],
        Some("17179869184"),
        "Largest PutContent upload in bytes (16 GiB).",
    ),
    setting(
        "server.max_message_bytes",
        &["DOCSTOKG_MAX_MESSAGE_BYTES"],
        Some("16777216"),
        "Largest single gRPC message in bytes (16 MiB; at least 1).",
    ),
    setting(
        "server.max_batch_size",
        &["DOCSTOKG_MAX_BATCH_SIZE"],
        Some("1000"),
        "Most documents in one RegisterOrGetBatch (at least 1).",
    ),
    setting(
        "server.request_timeout_secs",
        &["DOCSTOKG_REQUEST_TIMEOUT_SECS"],
        Some("30"),
        "Deadline of a unary catalog call, in seconds (at least 1), answered with DEADLINE_EXCEEDED; uploads are exempt (a shorter grpc-timeout from the client wins).",
    ),
    setting(
        "server.stream_timeout_secs",
        &["DOCSTOKG_STREAM_TIMEOUT_SECS"],
        Some("3600"),
        "Deadline of a server stream (ListRecords, FindDuplicates, VerifyAll, GetContent) until its last message, in seconds (at least 1); a shorter grpc-timeout from the client wins.",
    ),
    setting(
        "server.upload_idle_timeout_secs",
        &["DOCSTOKG_UPLOAD_IDLE_TIMEOUT_SECS"],
        Some("60"),
        "Seconds a PutContent upload may go without a message (the header included) before it is abandoned with DEADLINE_EXCEEDED, nothing stored (at least 1).",
    ),
    setting(
        "server.concurrency_limit",
        &["DOCSTOKG_CONCURRENCY_LIMIT"],
        Some("256"),
        "Catalog calls served at once across all connections (at least 1); beyond it calls are shed with RESOURCE_EXHAUSTED (health and reflection are exempt).",
    ),
    setting(
        "server.health_probe_interval_secs",
        &["DOCSTOKG_HEALTH_PROBE_INTERVAL_SECS"],
        Some("2"),
        "Seconds between the provider probes that drive grpc.health.v1 (at least 1).",
    ),
    setting(
        "server.shutdown_grace_secs",
        &["DOCSTOKG_SHUTDOWN_GRACE_SECS"],
        Some("30"),
        "Seconds in-flight calls get to finish after SIGTERM.",
    ),
    setting(
        "server.log_format",
        &["DOCSTOKG_LOG_FORMAT"],
        Some("text"),
        "Log format: text or json.",
    ),
];

/// The setting with `key`.
pub fn find(key: &str) -> Option<&'static Setting> {
    SETTINGS.iter().find(|s| s.key == key)
}
