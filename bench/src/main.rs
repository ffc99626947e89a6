//! `catalog-bench`: a load generator for the catalog. It runs one workload with a given
//! concurrency for a duration or a count, against a server over gRPC or against the provider in
//! this process (the same configuration the server reads, without gRPC), so every gRPC figure
//! can be set beside its in-process ceiling. It reports throughput, latency percentiles and
//! errors as text, or as one JSON object with `--json`.

mod report;
mod workload;

use std::{process::ExitCode, sync::Arc, time::Duration};

use clap::{Parser, ValueEnum};
use docstokg_catalog::Catalog;
use docstokg_catalog_client::CatalogClient;

use crate::{report::Report, workload::Workload};

/// What each call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Operation {
    /// RegisterOrGet (or RegisterOrGetBatch with --batch-size > 1).
    Register,
    /// The standard grpc.health.v1 Check (gRPC only): the transport's ceiling.
    Health,
}

/// Which keys registrations use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Keys {
    /// A key never registered before, every call.
    New,
    /// Keys registered before the measurement starts (cache hits).
    Existing,
    /// Half new, half existing.
    Mixed,
}

/// Load generator of the DocsToKG Catalog.
#[derive(Debug, Parser)]
#[command(name = "catalog-bench", version, about)]
struct Cli {
    /// What each call does.
    #[arg(long, value_enum, default_value = "register")]
    operation: Operation,
    /// A server to call over gRPC (host:port or http://host:port); without it the provider that
    /// the DOCSTOKG_* environment (or --config) configures runs in this process.
    #[arg(long)]
    endpoint: Option<String>,
    /// YAML configuration of the in-process provider.
    #[arg(long)]
    config: Option<std::path::PathBuf>,
    /// Calls in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds to run (ignored with --count).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Calls in all, instead of a duration.
    #[arg(long)]
    count: Option<u64>,
    /// Keys of registrations.
    #[arg(long, value_enum, default_value = "new")]
    keys: Keys,
    /// Documents per call: 1 is RegisterOrGet, more is RegisterOrGetBatch.
    #[arg(long, default_value_t = 1)]
    batch_size: usize,
    /// Bytes of padding in each document's source_url (the payload size).
    #[arg(long, default_value_t = 0)]
    payload_bytes: usize,
    /// Existing keys registered before an `existing` or `mixed` run (the default fits the
    /// server's default cache of 1,000 records, so `existing` measures cache hits).
    #[arg(long, default_value_t = 1000)]
    existing_keys: usize,
    /// A label for this run in the report.
    #[arg(long, default_value = "")]
    label: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli).await {
        Ok(report) => {
            report.print(cli.json);
            if report.errors > 0 {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(message) => {
            eprintln!("catalog-bench: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: &Cli) -> Result<Report, String> {
    if cli.concurrency == 0 || cli.batch_size == 0 {
        return Err("--concurrency and --batch-size must be at least 1".to_owned());
    }
    let (catalog, client, mode): (Arc<dyn Catalog>, Option<CatalogClient>, &str) =
        match &cli.endpoint {
            Some(endpoint) => {
                let client = CatalogClient::connect(endpoint.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                (Arc::new(client.clone()), Some(client), "grpc")
            }
            None => {
                if cli.operation == Operation::Health {
                    return Err("--operation health needs --endpoint".to_owned());
                }
                let config = docstokg_catalog_server::config::load(
                    cli.config.as_deref(),
                    |name| std::env::var(name).ok(),
                    &[],
                )
                .map_err(|e| e.to_string())?;
                let provider = docstokg_catalog_server::provider::build_provider(&config)
                    .await
                    .map_err(|e| format!("cannot open the provider: {e}"))?;
                (Arc::new(provider), None, "in-process")
            }
        };
    let workload = Workload {
        operation: cli.operation,
        keys: cli.keys,
        batch_size: cli.batch_size,
        payload_bytes: cli.payload_bytes,
        run: std::process::id(),
    };
    if matches!(cli.keys, Keys::Existing | Keys::Mixed) && cli.operation == Operation::Register {
        workload
            .register_existing(catalog.as_ref(), cli.existing_keys)
            .await
            .map_err(|e| format!("registering the existing keys: {e}"))?;
    }
    let limit = match cli.count {
        Some(count) => workload::Limit::Count(count),
        None => workload::Limit::Duration(
            Duration::try_from_secs_f64(cli.duration).map_err(|e| format!("--duration: {e}"))?,
        ),
    };
    let samples = workload
        .drive(catalog, client, cli.concurrency, cli.existing_keys, limit)
        .await;
    Ok(Report::new(cli, mode, samples))
}
