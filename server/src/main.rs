//! `catalog-server`: runs the DocsToKG Catalog gRPC service, or prints its configuration.

use std::{num::NonZeroUsize, path::PathBuf, process::ExitCode, sync::Arc};

use clap::{Parser, Subcommand};
use docstokg_catalog::Catalog;
use docstokg_catalog_server::{
    auth::BearerAuth,
    config::{self, Config},
    lifecycle, metering, migrate,
    provider::{CatalogProvider, build_provider},
    server, telemetry,
    tls::{self, ServerTls},
};

#[derive(Parser)]
#[command(
    name = "catalog-server",
    version,
    about = "The DocsToKG Catalog gRPC service"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Settings that may come from flags (they override environment and file).
#[derive(clap::Args)]
struct ConfigArgs {
    /// YAML configuration file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Provider: development or enterprise [env DOCSTOKG_CATALOG_PROVIDER].
    #[arg(long)]
    provider: Option<String>,
    /// Address to listen on [env DOCSTOKG_LISTEN; default 127.0.0.1:50051].
    #[arg(long)]
    listen: Option<String>,
    /// Log format: text or json [env DOCSTOKG_LOG_FORMAT].
    #[arg(long)]
    log_format: Option<String>,
}

/// Which two configurations a migration connects.
#[derive(clap::Args)]
struct MigrateArgs {
    /// YAML configuration of the source.
    #[arg(long, value_name = "FILE")]
    from_config: Option<PathBuf>,
    /// Source provider (overrides the file and DOCSTOKG_CATALOG_PROVIDER).
    #[arg(long, value_name = "NAME")]
    from_provider: Option<String>,
    /// YAML configuration of the target.
    #[arg(long, value_name = "FILE")]
    to_config: Option<PathBuf>,
    /// Target provider (overrides the file and DOCSTOKG_CATALOG_PROVIDER).
    #[arg(long, value_name = "NAME")]
    to_provider: Option<String>,
    /// Re-hash every copied blob in the target.
    #[arg(long)]
    verify: bool,
    /// Report what would happen; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Records per batch (at least 1).
    #[arg(long, default_value_t = migrate::DEFAULT_BATCH_SIZE, value_parser = at_least_one)]
    batch_size: NonZeroUsize,
    /// Print the summary as JSON on stdout.
    #[arg(long)]
    json: bool,
}

/// How a garbage collection runs.
#[derive(clap::Args)]
struct GcArgs {
    #[command(flatten)]
    config: ConfigArgs,
    /// Report what would be removed; remove nothing.
    #[arg(long)]
    dry_run: bool,
    /// Keep what is younger than this (e.g. 24h, 30m, 0) [default: catalog.gc.grace_period].
    #[arg(long, value_name = "DURATION", value_parser = lifecycle::parse_duration)]
    grace_period: Option<std::time::Duration>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gRPC server.
    Serve(ConfigArgs),
    /// Copy every record, and the bytes the source holds, from one provider to another.
    ///
    /// Idempotent and resumable: records whose key the target has are skipped, bytes are
    /// content-addressed. Ids are kept where the target has them free. Environment variables
    /// apply to both sides (DOCSTOKG_POSTGRES_URL is read by an enterprise side,
    /// DOCSTOKG_RDS_URL by a cloud side).
    Migrate(MigrateArgs),
    /// Remove stored bytes that no record references and that are older than the grace period,
    /// then leftovers of failed uploads, in batches.
    ///
    /// Safe while servers run: uploads and registrations of the same bytes pin them first, so
    /// the collector keeps them. Resumable: a killed run's unfinished batch is finished by the
    /// next one. Retention (`catalogctl retention`) deletes records; this frees their bytes.
    Gc(GcArgs),
    /// Print the effective configuration (secrets redacted) and exit.
    Config {
        /// Print the reference of every key (Markdown) instead.
        #[arg(long)]
        reference: bool,
        #[command(flatten)]
        args: ConfigArgs,
    },
}

impl ConfigArgs {
    fn load(&self) -> Result<Config, config::ConfigError> {
        let flags: Vec<(&'static str, String)> = [
            ("catalog.provider", &self.provider),
            ("server.listen", &self.listen),
            ("server.log_format", &self.log_format),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.clone().map(|value| (key, value)))
        .collect();
        config::load(
            self.config.as_deref(),
            |name| std::env::var(name).ok(),
            &flags,
        )
    }
}

/// Parses a count flag: 0 is refused with a message naming the flag, never raised to 1.
fn at_least_one(value: &str) -> Result<NonZeroUsize, String> {
    let count: usize = value.parse().map_err(|e| format!("{e}"))?;
    NonZeroUsize::new(count).ok_or_else(|| "must be at least 1".to_owned())
}

#[tokio::main]
#[allow(clippy::print_stdout)] // `config` prints the configuration: the command's output.
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Config {
            reference: true, ..
        } => {
            print!("{}", config::reference_markdown());
            Ok(())
        }
        Command::Config { args, .. } => args
            .load()
            .map(|config| print!("{}", config.render()))
            .map_err(|e| e.to_string()),
        Command::Migrate(args) => run_migration(args).await,
        Command::Gc(args) => run_gc(args).await,
        Command::Serve(args) => match args.load() {
            Ok(config) => serve(config).await,
            Err(error) => Err(error.to_string()),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("catalog-server: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> Result<(), String> {
    telemetry::init(config.server.log_format);
    let auth = match &config.server.auth_token_file {
        Some(path) => BearerAuth::from_file(path).map_err(|e| {
            format!(
                "cannot read the auth token file {} (server.auth_token_file): {e}",
                path.display()
            )
        })?,
        None => BearerAuth::disabled(),
    };
    let tls = match &config.server.tls {
        Some(files) => Some(Arc::new(
            ServerTls::load(files.clone()).map_err(|e| format!("cannot start TLS: {e}"))?,
        )),
        None => None,
    };
    reload_on_sighup(&auth, tls.as_ref());
    if let Some(tls) = &tls {
        tokio::spawn(tls::watch_files(tls.clone()));
    }
    let provider = Arc::new(
        build_provider(&config)
            .await
            .map_err(|e| format!("cannot open the provider: {e}"))?,
    );
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .map_err(|e| {
            format!(
                "cannot listen on {} (server.listen / --listen): {e}",
                config.server.listen
            )
        })?;
    let health = match config.server.health_listen {
        Some(address) => Some(tokio::net::TcpListener::bind(address).await.map_err(|e| {
            format!(
                "cannot listen on {address} (server.health_listen / DOCSTOKG_HEALTH_LISTEN): {e}"
            )
        })?),
        None => None,
    };
    tracing::info!(
        provider = config.provider.name(),
        listen = %listener.local_addr().map_err(|e| e.to_string())?,
        tls = tls.as_ref().map(|tls| if tls.mutual() { "mutual" } else { "server" }).unwrap_or("off"),
        health_listen = ?config.server.health_listen,
        auth = auth.enabled(),
        "catalog-server ready"
    );
    let metrics = match config.server.metrics_listen {
        Some(address) => Some(start_metrics(address, &provider, config.provider.name()).await?),
        None => None,
    };
    if let Some(interval) = config.provider.retention_interval {
        apply_retention_every(provider.clone(), interval);
    }
    let catalog: Arc<dyn Catalog> = provider.clone();
    let listeners = server::Listeners {
        grpc: listener,
        tls,
        health,
    };
    let outcome = server::serve(catalog, &config.server, auth, listeners, shutdown_signal()).await;
    if let Some(metrics) = metrics {
        metrics.abort();
    }
    provider.close().await;
    tracing::info!("catalog-server stopped");
    outcome.map_err(|e| e.to_string())
}

/// Re-reads the token file and the TLS certificate files on SIGHUP, without dropping
/// connections; a file that does not parse keeps what is in force. Tokens are never logged, only
/// how many are in force.
fn reload_on_sighup(auth: &BearerAuth, tls: Option<&Arc<ServerTls>>) {
    if !auth.enabled() && tls.is_none() {
        return;
    }
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(hangups) => hangups,
            Err(error) => {
                tracing::warn!(%error, "cannot watch SIGHUP; tokens and certificates reload only at a restart");
                return;
            }
        };
        let auth = auth.clone();
        let tls = tls.cloned();
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                if auth.enabled() {
                    match auth.reload() {
                        Ok(tokens) => tracing::info!(tokens, "SIGHUP: reloaded the auth tokens"),
                        Err(error) => tracing::warn!(
                            %error,
                            "SIGHUP: could not reload the auth tokens; the previous ones stay in force"
                        ),
                    }
                }
                if let Some(tls) = &tls {
                    match tls.reload() {
                        Ok(()) => tracing::info!("SIGHUP: reloaded the TLS certificate files"),
                        Err(error) => tracing::warn!(
                            %error,
                            "SIGHUP: could not reload the TLS certificate files; the previous ones stay in force"
                        ),
                    }
                }
            }
        });
    }
}

/// Installs the metrics recorder and serves `/metrics` on `address` until the server stops.
async fn start_metrics(
    address: std::net::SocketAddr,
    provider: &Arc<CatalogProvider>,
    provider_name: &str,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let handle = metering::install(provider_name);
    let listener = tokio::net::TcpListener::bind(address).await.map_err(|e| {
        format!("cannot listen on {address} (server.metrics_listen / DOCSTOKG_METRICS_LISTEN): {e}")
    })?;
    tracing::info!(metrics_listen = %address, "serving Prometheus metrics at /metrics");
    let provider = provider.clone();
    let usage: metering::UsageReader =
        Arc::new(move || (provider.metadata().pools(), provider.blobs().filesystem()));
    Ok(tokio::spawn(async move {
        if let Err(error) =
            metering::serve_metrics(listener, handle, usage, std::future::pending()).await
        {
            tracing::error!(%error, "the metrics endpoint stopped");
        }
    }))
}

/// Loads one side of a migration.
fn migration_side(
    file: Option<&std::path::Path>,
    provider: Option<&String>,
) -> Result<Config, String> {
    let flags: Vec<(&'static str, String)> = provider
        .map(|p| ("catalog.provider", p.clone()))
        .into_iter()
        .collect();
    config::load(file, |name| std::env::var(name).ok(), &flags).map_err(|e| e.to_string())
}

#[allow(clippy::print_stdout)] // The summary is the command's output.
async fn run_migration(args: MigrateArgs) -> Result<(), String> {
    let source_config = migration_side(args.from_config.as_deref(), args.from_provider.as_ref())
        .map_err(|e| format!("source: {e}"))?;
    let target_config = migration_side(args.to_config.as_deref(), args.to_provider.as_ref())
        .map_err(|e| format!("target: {e}"))?;
    telemetry::init(source_config.server.log_format);
    let source = build_provider(&source_config)
        .await
        .map_err(|e| format!("cannot open the source: {e}"))?;
    let target = build_provider(&target_config)
        .await
        .map_err(|e| format!("cannot open the target: {e}"))?;
    eprintln!(
        "migrate: {} -> {}{}",
        source.name(),
        target.name(),
        if args.dry_run {
            " (dry run: nothing is written)"
        } else {
            ""
        }
    );
    let options = migrate::MigrateOptions {
        batch_size: args.batch_size,
        verify: args.verify,
        dry_run: args.dry_run,
        ..migrate::MigrateOptions::default()
    };
    let mut progress = migrate::MigrationProgress::for_stderr();
    let outcome = migrate::migrate(&source, &target, &options, &mut progress).await;
    source.close().await;
    target.close().await;
    let summary = outcome.map_err(|e| format!("migration stopped: {e}; run it again to resume"))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&summary).map_err(|e| e.to_string())?
        );
    } else {
        print!("{}", summary.render());
    }
    if summary.failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} records could not be migrated completely (see above); {} of them were not imported \
             because their bytes could not be written to the target: fix the target, then run the \
             same command again to finish them",
            summary.failures.len(),
            summary.records_deferred
        ))
    }
}

#[allow(clippy::print_stdout)] // The report is the command's output.
async fn run_gc(args: GcArgs) -> Result<(), String> {
    let config = args.config.load().map_err(|e| e.to_string())?;
    telemetry::init(config.server.log_format);
    let provider = build_provider(&config)
        .await
        .map_err(|e| format!("cannot open the provider: {e}"))?;
    let options = lifecycle::GcOptions {
        grace_period: args.grace_period.unwrap_or(config.provider.gc_grace_period),
        dry_run: args.dry_run,
    };
    let mut progress = lifecycle::GcProgress::for_stderr();
    let outcome = lifecycle::collect_garbage(provider.metadata(), provider.blobs(), options, |r| {
        progress.update(r)
    })
    .await;
    progress.finish();
    provider.close().await;
    let report = outcome.map_err(|e| format!("gc stopped: {e}; run it again to resume"))?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string(&report).map_err(|e| e.to_string())?
        );
    } else {
        print!("{}", report.render());
    }
    Ok(())
}

/// Applies the retention rules every `interval`, for as long as the server runs.
fn apply_retention_every(provider: Arc<CatalogProvider>, interval: std::time::Duration) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            match provider.apply_retention(false).await {
                Ok(report) => tracing::info!(
                    deleted = report.rules.iter().map(|r| r.deleted).sum::<i64>(),
                    "scheduled retention applied"
                ),
                Err(error) => {
                    tracing::warn!(%error, "scheduled retention failed; trying again at the next interval")
                }
            }
        }
    });
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(error) => {
                    tracing::warn!(%error, "cannot watch SIGTERM; only Ctrl-C stops the server");
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_migrate_batch_size_zero_is_an_error_naming_the_flag() {
        let error = Cli::try_parse_from(["catalog-server", "migrate", "--batch-size", "0"])
            .err()
            .expect("0 is refused");
        let message = error.to_string();
        assert!(
            message.contains("--batch-size") && message.contains("at least 1"),
            "{message}"
        );
    }

    #[test]
    fn test_migrate_batch_size_defaults_to_the_library_default() {
        let Ok(Cli {
            command: Command::Migrate(args),
        }) = Cli::try_parse_from(["catalog-server", "migrate"])
        else {
            panic!("migrate parses");
        };
        assert_eq!(args.batch_size, migrate::DEFAULT_BATCH_SIZE);
    }
}
