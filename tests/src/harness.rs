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

use crate::s3::{BucketView, S3Settings, fresh_prefix};

/// A catalog to test, with what the tests may inspect behind its back.
pub struct Subject {
    /// The catalog under test.
    pub catalog: Arc<dyn Catalog>,
    /// Where the provider keeps its bytes.
    pub storage: Storage,
    /// The gRPC endpoint, when the subject is served over gRPC.
    pub endpoint: Option<String>,
    _guards: Vec<Box<dyn std::any::Any + Send + Sync>>,
}

/// Where a subject's bytes live, for looking behind the catalog's back.
pub enum Storage {
    /// A local blob root.
    Local(PathBuf),
    /// A prefix of an S3 bucket.
    S3(BucketView),
}

impl Subject {
    /// (stored content objects, leftovers): leftovers are temporary files, temporary objects and
    /// incomplete multipart uploads, which a finished or failed upload must never leave.
    pub async fn stored_objects(&self) -> (usize, usize) {
        match &self.storage {
            Storage::Local(root) => (
                count_files(&root.join("cas")),
                count_files(&root.join("tmp")),
            ),
            Storage::S3(view) => {
                let leftovers = view.keys("tmp/").await.len() + view.incomplete_uploads().await;
                (view.keys("cas/").await.len(), leftovers)
            }
        }
    }

    /// Replaces the stored object at `uri` with `bytes`.
    pub async fn overwrite(&self, uri: &str, bytes: &[u8]) {
        match &self.storage {
            Storage::Local(_) => {
                std::fs::write(uri.strip_prefix("file://").expect("file URI"), bytes)
                    .expect("overwrite")
            }
            Storage::S3(view) => view.overwrite(uri, bytes).await,
        }
    }

    /// Deletes the stored object at `uri`.
    pub async fn delete(&self, uri: &str) {
        match &self.storage {
            Storage::Local(_) => {
                std::fs::remove_file(uri.strip_prefix("file://").expect("file URI"))
                    .expect("delete")
            }
            Storage::S3(view) => view.delete(uri).await,
        }
    }

    /// The local blob root, for tests of local-disk behaviour.
    pub fn local_root(&self) -> Option<&Path> {
        match &self.storage {
            Storage::Local(root) => Some(root),
            Storage::S3(_) => None,
        }
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

async fn in_process(
    dir: tempfile::TempDir,
    env: Vec<(&'static str, String)>,
    storage: Storage,
) -> Subject {
    let (_config, provider) = open_provider(&env).await;
    Subject {
        catalog: provider,
        storage,
        endpoint: None,
        _guards: vec![Box::new(dir)],
    }
}

async fn over_grpc(
    dir: tempfile::TempDir,
    env: Vec<(&'static str, String)>,
    storage: Storage,
) -> Subject {
    let (config, provider) = open_provider(&env).await;
    let served = serve_in_background(provider, &config).await;
    Subject {
        catalog: Arc::new(served.client.clone()),
        storage,
        endpoint: Some(served.endpoint.clone()),
        _guards: vec![Box::new(served), Box::new(dir)],
    }
}

fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn local(dir: &tempfile::TempDir) -> Storage {
    Storage::Local(dir.path().join("blobs"))
}

/// The development provider, called in-process.
pub async fn development_in_process() -> Option<Subject> {
    let dir = temp_dir();
    let (env, storage) = (development_env(dir.path()), local(&dir));
    Some(in_process(dir, env, storage).await)
}

/// The development provider behind a real gRPC server on loopback, called through `CatalogClient`.
pub async fn development_over_grpc() -> Option<Subject> {
    let dir = temp_dir();
    let (env, storage) = (development_env(dir.path()), local(&dir));
    Some(over_grpc(dir, env, storage).await)
}

/// The development provider on a `:memory:` database (one shared-cache database for every pooled
/// connection), called in-process.
pub async fn development_in_memory() -> Option<Subject> {
    let dir = temp_dir();
    let env = vec![
        ("DOCSTOKG_DEV_DB_PATH", ":memory:".to_owned()),
        (
            "DOCSTOKG_STORAGE_ROOT",
            dir.path().join("blobs").display().to_string(),
        ),
    ];
    let storage = local(&dir);
    Some(in_process(dir, env, storage).await)
}

/// The enterprise provider (PostgreSQL + local disk), called in-process.
pub async fn enterprise_in_process() -> Option<Subject> {
    let dir = temp_dir();
    let env = enterprise_env(dir.path()).await?;
    let storage = local(&dir);
    Some(in_process(dir, env, storage).await)
}

/// The enterprise provider behind a real gRPC server on loopback.
pub async fn enterprise_over_grpc() -> Option<Subject> {
    let dir = temp_dir();
    let env = enterprise_env(dir.path()).await?;
    let storage = local(&dir);
    Some(over_grpc(dir, env, storage).await)
}

/// Configuration of the cloud provider: a fresh test database and a fresh prefix of the test
/// bucket; `None` (after a loud SKIPPED) without PostgreSQL or the S3 store.
pub async fn cloud_env() -> Option<(Vec<(&'static str, String)>, Storage)> {
    let s3 = S3Settings::from_env("cloud provider")?;
    let url = crate::postgres::fresh_database("cloud provider").await?;
    let prefix = fresh_prefix();
    let mut env = vec![
        ("DOCSTOKG_CATALOG_PROVIDER", "cloud".to_owned()),
        ("DOCSTOKG_RDS_URL", url),
    ];
    env.extend(s3.provider_env(&prefix));
    let view = BucketView {
        client: s3.client(),
        bucket: s3.bucket.clone(),
        prefix,
    };
    Some((env, Storage::S3(view)))
}

/// The cloud provider (PostgreSQL + S3), called in-process.
pub async fn cloud_in_process() -> Option<Subject> {
    let (env, storage) = cloud_env().await?;
    Some(in_process(temp_dir(), env, storage).await)
}

/// The cloud provider behind a real gRPC server on loopback.
pub async fn cloud_over_grpc() -> Option<Subject> {
    let (env, storage) = cloud_env().await?;
    Some(over_grpc(temp_dir(), env, storage).await)
}

/// A mixed provider that needs no code: the development preset (SQLite) with its blobs in S3.
pub async fn sqlite_with_s3_in_process() -> Option<Subject> {
    let s3 = S3Settings::from_env("SQLite + S3 provider")?;
    let dir = temp_dir();
    let prefix = fresh_prefix();
    let mut env = development_env(dir.path());
    env.push(("DOCSTOKG_BLOB_STORE", "s3".to_owned()));
    env.extend(s3.provider_env(&prefix));
    let storage = Storage::S3(BucketView {
        client: s3.client(),
        bucket: s3.bucket.clone(),
        prefix,
    });
    Some(in_process(dir, env, storage).await)
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
        if let Err(error) =
            server::serve(catalog, &server_config, auth, listener.into(), shutdown).await
        {
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
