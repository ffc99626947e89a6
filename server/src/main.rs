//! `catalog-server`: runs the DocsToKG Catalog gRPC service, or prints its configuration.

use std::{path::PathBuf, process::ExitCode, sync::Arc};

use clap::{Parser, Subcommand};
use docstokg_catalog::Catalog;
use docstokg_catalog_server::{
    auth::BearerAuth,
    config::{self, Config},
    provider::build_provider,
    server, telemetry,
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

#[derive(Subcommand)]
enum Command {
    /// Run the gRPC server.
    Serve(ConfigArgs),
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

#[tokio::main]
#[allow(clippy::print_stdout)] // `config` prints the configuration: the command's output.
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Config {
            reference: true, ..
        } => {
            print!("{}", config::settings::reference_markdown());
            Ok(())
        }
        Command::Config { args, .. } => args
            .load()
            .map(|config| print!("{}", config.render()))
            .map_err(|e| e.to_string()),
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
    tracing::info!(
        provider = config.provider.name(),
        listen = %listener.local_addr().map_err(|e| e.to_string())?,
        auth = auth.enabled(),
        "catalog-server ready"
    );
    let catalog: Arc<dyn Catalog> = provider.clone();
    let outcome = server::serve(catalog, &config.server, auth, listener, shutdown_signal()).await;
    provider.close().await;
    tracing::info!("catalog-server stopped");
    outcome.map_err(|e| e.to_string())
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
