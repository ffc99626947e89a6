//! Subjects under test: a provider in-process, or the same provider served over a real gRPC
//! connection on loopback and reached through `CatalogClient`.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use docstokg_catalog::Catalog;
use docstokg_catalog_client::CatalogClient;
use docstokg_catalog_server::{
    auth::BearerAuth,
    config::{self, Config},
    provider::{CatalogProvider, build_provider},
    server,
};
use tokio::{net::TcpListener, sync::oneshot};

/// A catalog to test, with what the tests may inspect behind its back.
pub struct Subject {
    /// The catalog under test.
    pub catalog: Arc<dyn Catalog>,
    /// The provider's local blob root, when its bytes live on local disk.
    pub storage_root: Option<PathBuf>,
    /// The gRPC endpoint, when the subject is served over gRPC.
    pub endpoint: Option<String>,
    _guards: Vec<Box<dyn std::any::Any + Send + Sync>>,
}

impl Subject {
    /// Files under the blob root's `cas/` and `tmp/` directories.
    pub fn stored_files(&self) -> (usize, usize) {
        let Some(root) = &self.storage_root else {
            return (0, 0);
        };
        (
            count_files(&root.join("cas")),
            count_files(&root.join("tmp")),
        )
    }
}

fn count_files(dir: &std::path::Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| {
            if entry.path().is_dir() {
                count_files(&entry.path())
            } else {
                1
            }
        })
        .sum()
}

/// Loads a configuration from `env` pairs only (no file, no process environment).
pub fn config_from(env: &[(&str, String)]) -> Config {
    let lookup = |name: &str| {
        env.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.clone())
    };
    let mut config = config::load(None, lookup, &[]).expect("test configuration is valid");
    config.server.health_probe_interval_secs = 1;
    config.server.shutdown_grace_secs = 2;
    config
}

/// Configuration of the development provider in `dir`.
pub fn development_env(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        (
            "DOCSTOKG_DEV_DB_PATH",
            dir.join("catalog.sqlite").display().to_string(),
        ),
        (
            "DOCSTOKG_STORAGE_ROOT",
            dir.join("blobs").display().to_string(),
        ),
    ]
}

/// Configuration of the enterprise provider on a fresh test database, blobs in `dir`; `None`
/// (after a loud SKIPPED) without PostgreSQL.
pub async fn enterprise_env(dir: &Path) -> Option<Vec<(&'static str, String)>> {
    let url = crate::postgres::fresh_database("enterprise provider").await?;
    Some(vec![
        ("DOCSTOKG_CATALOG_PROVIDER", "enterprise".to_owned()),
        ("DOCSTOKG_POSTGRES_URL", url),
        ("DOCSTOKG_POOL_SIZE", "2".to_owned()),
        ("DOCSTOKG_MAX_OVERFLOW", "8".to_owned()),
        (
            "DOCSTOKG_STORAGE_ROOT",
            dir.join("blobs").display().to_string(),
        ),
    ])
}

/// Opens the provider that `env` configures.
pub async fn open_provider(env: &[(&str, String)]) -> (Config, Arc<CatalogProvider>) {
    let config = config_from(env);
    let provider = Arc::new(build_provider(&config).await.expect("provider opens"));
    (config, provider)
}

async fn in_process(dir: tempfile::TempDir, env: Vec<(&'static str, String)>) -> Subject {
    let (_config, provider) = open_provider(&env).await;
    Subject {
        catalog: provider,
        storage_root: Some(dir.path().join("blobs")),
        endpoint: None,
        _guards: vec![Box::new(dir)],
    }
}

async fn over_grpc(dir: tempfile::TempDir, env: Vec<(&'static str, String)>) -> Subject {
    let (config, provider) = open_provider(&env).await;
    let served = serve_in_background(provider, &config).await;
    Subject {
        catalog: Arc::new(served.client.clone()),
        storage_root: Some(dir.path().join("blobs")),
        endpoint: Some(served.endpoint.clone()),
        _guards: vec![Box::new(served), Box::new(dir)],
    }
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// The development provider, called in-process.
pub async fn development_in_process() -> Option<Subject> {
    let dir = temp_dir();
    let env = development_env(dir.path());
    Some(in_process(dir, env).await)
}

/// The development provider behind a real gRPC server on loopback, called through `CatalogClient`.
pub async fn development_over_grpc() -> Option<Subject> {
    let dir = temp_dir();
    let env = development_env(dir.path());
    Some(over_grpc(dir, env).await)
}

/// The enterprise provider (PostgreSQL + local disk), called in-process.
pub async fn enterprise_in_process() -> Option<Subject> {
    let dir = temp_dir();
    let env = enterprise_env(dir.path()).await?;
    Some(in_process(dir, env).await)
}

/// The enterprise provider behind a real gRPC server on loopback.
pub async fn enterprise_over_grpc() -> Option<Subject> {
    let dir = temp_dir();
    let env = enterprise_env(dir.path()).await?;
    Some(over_grpc(dir, env).await)
}

/// A gRPC server running in this process; dropping it shuts the server down.
pub struct ServedCatalog {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// A client connected to it.
    pub client: CatalogClient,
    _stop: oneshot::Sender<()>,
}

/// Serves `catalog` on a free loopback port until the returned handle is dropped.
pub async fn serve_in_background(catalog: Arc<dyn Catalog>, config: &Config) -> ServedCatalog {
    serve_with_auth(catalog, config, BearerAuth::disabled()).await
}

/// Like [`serve_in_background`], with authentication.
pub async fn serve_with_auth(
    catalog: Arc<dyn Catalog>,
    config: &Config,
    auth: BearerAuth,
) -> ServedCatalog {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let endpoint = format!("http://{}", listener.local_addr().expect("local addr"));
    let (stop, stopped) = oneshot::channel::<()>();
    let server_config = config.server.clone();
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        if let Err(error) = server::serve(catalog, &server_config, auth, listener, shutdown).await {
            eprintln!("test server failed: {error}");
        }
    });
    let client = CatalogClient::connect(endpoint.clone())
        .await
        .expect("client connects");
    wait_until_serving(&client).await;
    ServedCatalog {
        endpoint,
        client,
        _stop: stop,
    }
}

/// Waits (up to 10 s) until grpc.health.v1 reports SERVING.
pub async fn wait_until_serving(client: &CatalogClient) {
    for _ in 0..100 {
        if client.health_check("").await.unwrap_or(false) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server never reported SERVING");
}
