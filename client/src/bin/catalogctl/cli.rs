//! The command line: global options and one subcommand per RPC.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{ArgGroup, Args, Parser, Subcommand};
use docstokg_catalog::RecordFilter;

pub use crate::export::ExportArgs;
pub use crate::import::ImportArgs;

/// Command-line client of the DocsToKG Catalog gRPC service.
#[derive(Debug, Parser)]
#[command(name = "catalogctl", version, about)]
pub struct Cli {
    /// Server address: http://host:port, https://host:port or host:port (https with --tls-ca-file).
    #[arg(
        long,
        global = true,
        env = "CATALOG_ENDPOINT",
        default_value = "http://127.0.0.1:50051"
    )]
    pub endpoint: String,
    /// File holding the bearer token sent with every catalog call.
    #[arg(long, global = true, env = "DOCSTOKG_AUTH_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,
    /// PEM CA certificates that signed the server's certificate: connect over TLS.
    #[arg(long, global = true, env = "CATALOG_TLS_CA_FILE", value_name = "PEM")]
    pub tls_ca_file: Option<PathBuf>,
    /// PEM client certificate, for a server that wants mutual TLS (with --tls-key-file).
    #[arg(
        long,
        global = true,
        env = "CATALOG_TLS_CERT_FILE",
        value_name = "PEM",
        requires = "tls_ca_file"
    )]
    pub tls_cert_file: Option<PathBuf>,
    /// PEM private key of --tls-cert-file.
    #[arg(
        long,
        global = true,
        env = "CATALOG_TLS_KEY_FILE",
        value_name = "PEM",
        requires = "tls_cert_file"
    )]
    pub tls_key_file: Option<PathBuf>,
    /// Name the server's certificate must carry, when it differs from the endpoint's host.
    #[arg(
        long,
        global = true,
        env = "CATALOG_TLS_DOMAIN",
        requires = "tls_ca_file"
    )]
    pub tls_domain: Option<String>,
    /// Deadline of each unary call, in seconds (streams are not bounded).
    #[arg(long, global = true, value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// Print one JSON object per line instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// One subcommand per RPC.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Register a document (idempotent on artifact id, source URL and resolver).
    Register(RegisterArgs),
    /// Write every record matching the filters as JSON Lines, one record per line, by id.
    ///
    /// Streams ListRecords, so memory does not grow with the catalog. Each line is a record's
    /// JSON form: snake_case fields, RFC 3339 timestamps, null for absent optional fields, the
    /// format `catalogctl import` reads back. A file output appears under its name only once the
    /// export is complete. The summary goes to stderr; with --json and --output FILE, it is a
    /// JSON object on stdout instead.
    Export(ExportArgs),
    /// Import a JSON Lines file of exported records or of a download manifest.
    ///
    /// Reads the file line by line, validates each line and sends them in batches of
    /// --batch-size, then prints a summary (with --json, one JSON object on stdout).
    #[command(after_long_help = crate::manifest::FIELD_MAPPING)]
    Import(ImportArgs),
    /// Show one record.
    Get {
        /// Record id.
        id: i64,
    },
    /// Records of an artifact, newest first.
    ByArtifact {
        /// Artifact id.
        artifact_id: String,
    },
    /// Records with a content hash, newest first.
    BySha256 {
        /// 64 hex characters.
        sha256: String,
    },
    /// Records of a pipeline run, newest first.
    ByRun {
        /// Run id.
        run_id: String,
    },
    /// Stream every record matching the filters, by id.
    List(FilterArgs),
    /// Groups of records sharing a sha256, largest first: count, bytes of all copies, bytes
    /// saved by storing one copy, hash.
    Duplicates {
        /// Smallest group size to report.
        #[arg(long, default_value_t = 2)]
        min_count: i64,
        /// Also print the records of each group.
        #[arg(long)]
        records: bool,
        /// Only the N largest groups.
        #[arg(long, value_name = "N")]
        top: Option<i64>,
    },
    /// Delete records by id (--id, repeatable) or by filter (at least one); bytes stay until
    /// `catalog-server gc` frees those no record references.
    Delete(DeleteArgs),
    /// Apply the server's retention rules (catalog.retention.rules), or show what they would
    /// delete with --dry-run.
    Retention {
        /// Report what each rule would delete; delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Audit records against stored objects: orphans, missing bytes, mismatches, records
    /// outside the provider's storage; findings as they come, then a summary.
    Audit {
        /// Fraction of records whose bytes are re-hashed, in [0, 1] (sizes are always checked).
        #[arg(long, default_value_t = 0.0)]
        rehash_rate: f64,
    },
    /// Re-hash the stored bytes of one record.
    Verify {
        /// Record id.
        id: i64,
    },
    /// Verify every record matching the filters; prints problems and a summary.
    VerifyAll(VerifyAllArgs),
    /// Upload a file, store it content-addressed and register it.
    Put(PutArgs),
    /// Download the stored bytes of a record or a hash.
    GetContent(GetContentArgs),
    /// Counts and sizes of the catalog.
    Stats,
    /// Health of each backend of the server's provider.
    Health,
    /// Standard grpc.health.v1 check; exit code 1 unless SERVING.
    Ping {
        /// Service to ask about; empty for the whole server.
        #[arg(long, default_value = "")]
        service: String,
    },
}

/// The key and descriptive fields that `register` and `put` share.
#[derive(Debug, Args)]
pub struct DocumentArgs {
    /// Artifact the document belongs to.
    #[arg(long)]
    pub artifact_id: String,
    /// Where the document was fetched from.
    #[arg(long)]
    pub source_url: String,
    /// Resolver that found the URL.
    #[arg(long)]
    pub resolver: String,
    /// MIME type.
    #[arg(long)]
    pub content_type: Option<String>,
    /// Pipeline run that fetched the document.
    #[arg(long)]
    pub run_id: Option<String>,
}

/// Fields of a document to register.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// Key, content type and run.
    #[command(flatten)]
    pub document: DocumentArgs,
    /// Size in bytes.
    #[arg(long, default_value_t = 0)]
    pub bytes: i64,
    /// Hex SHA-256 of the bytes.
    #[arg(long)]
    pub sha256: Option<String>,
    /// file:// or s3:// URI of the stored bytes.
    #[arg(long)]
    pub storage_uri: Option<String>,
}

/// Optional record filters.
#[derive(Debug, Clone, Args)]
pub struct FilterArgs {
    /// Only records of this run.
    #[arg(long)]
    pub run_id: Option<String>,
    /// Only records found by this resolver.
    #[arg(long)]
    pub resolver: Option<String>,
    /// Only records of this content type.
    #[arg(long)]
    pub content_type: Option<String>,
    /// Only records created at or after this RFC 3339 instant.
    #[arg(long)]
    pub created_after: Option<DateTime<Utc>>,
    /// Only records created before this RFC 3339 instant.
    #[arg(long)]
    pub created_before: Option<DateTime<Utc>>,
    /// Only records of this artifact.
    #[arg(long)]
    pub artifact_id: Option<String>,
}

/// What `delete` deletes.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// A record to delete (repeat for several).
    #[arg(long = "id", value_name = "ID")]
    pub ids: Vec<i64>,
    /// Or every record matching these filters.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Count and list what would be deleted; delete nothing.
    #[arg(long)]
    pub dry_run: bool,
}

impl From<FilterArgs> for RecordFilter {
    fn from(args: FilterArgs) -> Self {
        Self {
            run_id: args.run_id,
            resolver: args.resolver,
            content_type: args.content_type,
            created_after: args.created_after,
            created_before: args.created_before,
            artifact_id: args.artifact_id,
        }
    }
}

/// Options of verify-all.
#[derive(Debug, Args)]
pub struct VerifyAllArgs {
    /// Which records to verify.
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Fraction of records to verify, in (0, 1]; the sample is deterministic.
    #[arg(long, default_value_t = 1.0)]
    pub sample_rate: f64,
    /// Records the server verifies at once (1..=64).
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
}

/// An upload.
#[derive(Debug, Args)]
pub struct PutArgs {
    /// The file to upload.
    pub file: PathBuf,
    /// Key, content type and run.
    #[command(flatten)]
    pub document: DocumentArgs,
    /// Reject the upload unless the bytes hash to this.
    #[arg(long)]
    pub sha256: Option<String>,
    /// Skip hashing the file while sending it and comparing with the stored sha256.
    #[arg(long)]
    pub no_hash_check: bool,
}

/// A download.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("selector").required(true).args(["id", "sha256"])))]
pub struct GetContentArgs {
    /// The bytes of this record.
    #[arg(long)]
    pub id: Option<i64>,
    /// The bytes stored under this hash.
    #[arg(long)]
    pub sha256: Option<String>,
    /// Where to write the bytes; `-` for stdout.
    #[arg(long, short)]
    pub output: PathBuf,
    /// First byte to return.
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
    /// Bytes to return (default: to the end).
    #[arg(long)]
    pub length: Option<u64>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn test_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn test_import_batch_size_is_bounded() {
        let parse =
            |size: &str| Cli::try_parse_from(["catalogctl", "import", "--batch-size", size, "f"]);
        assert!(parse("0").is_err());
        assert!(parse("1001").is_err());
        assert!(parse("1000").is_ok());
        assert!(Cli::try_parse_from(["catalogctl", "import", "--format", "csv", "f"]).is_err());
    }

    #[test]
    fn test_get_content_needs_exactly_one_selector() {
        assert!(Cli::try_parse_from(["catalogctl", "get-content", "--output", "-"]).is_err());
        assert!(
            Cli::try_parse_from([
                "catalogctl",
                "get-content",
                "--id",
                "1",
                "--sha256",
                "ab",
                "-o",
                "-"
            ])
            .is_err()
        );
        assert!(Cli::try_parse_from(["catalogctl", "get-content", "--id", "1", "-o", "-"]).is_ok());
    }
}
