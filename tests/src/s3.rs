//! The S3-compatible store of the test run (Garage, started by the test command): its settings
//! from `DOCSTOKG_TEST_S3_*`, a fresh key prefix per subject, and a client for looking at the
//! bucket behind the catalog's back.

use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_s3::{
    Client,
    config::{Credentials, Region},
    primitives::ByteStream,
};

use crate::services;

/// Where the test store is and how to sign in.
#[derive(Debug, Clone)]
pub struct S3Settings {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Region name the store expects.
    pub region: String,
    /// The test bucket.
    pub bucket: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
}

impl S3Settings {
    /// The settings from the environment, or `None` (after a loud SKIPPED) without a store.
    pub fn from_env(test: &str) -> Option<Self> {
        let var = |name: &str| std::env::var(format!("DOCSTOKG_TEST_S3_{name}")).ok();
        match (
            var("ENDPOINT"),
            var("REGION"),
            var("BUCKET"),
            var("ACCESS_KEY_ID"),
            var("SECRET_ACCESS_KEY"),
        ) {
            (
                Some(endpoint),
                Some(region),
                Some(bucket),
                Some(access_key_id),
                Some(secret_access_key),
            ) => Some(Self {
                endpoint,
                region,
                bucket,
                access_key_id,
                secret_access_key,
            }),
            _ => {
                services::skip(
                    test,
                    "no S3-compatible store (set DOCSTOKG_TEST_S3_*; scripts/test starts Garage)",
                );
                None
            }
        }
    }

    /// Provider configuration for this store under `prefix`.
    pub fn provider_env(&self, prefix: &str) -> Vec<(&'static str, String)> {
        vec![
            ("DOCSTOKG_S3_BUCKET", self.bucket.clone()),
            ("DOCSTOKG_S3_PREFIX", prefix.to_owned()),
            ("DOCSTOKG_S3_ENDPOINT_URL", self.endpoint.clone()),
            ("DOCSTOKG_S3_FORCE_PATH_STYLE", "true".to_owned()),
            ("DOCSTOKG_S3_PART_BYTES", (5 * 1024 * 1024).to_string()),
            ("AWS_REGION", self.region.clone()),
            ("AWS_ACCESS_KEY_ID", self.access_key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.secret_access_key.clone()),
        ]
    }

    /// A client of the store, for inspection.
    pub fn client(&self) -> Client {
        let config = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .endpoint_url(&self.endpoint)
            .force_path_style(true)
            .credentials_provider(Credentials::new(
                &self.access_key_id,
                &self.secret_access_key,
                None,
                None,
                "test",
            ))
            .build();
        Client::from_conf(config)
    }
}

/// A key prefix no other subject of any test run uses.
pub fn fresh_prefix() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "test-{}-{}-{nanos}/",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A view of one prefix of the bucket.
#[derive(Clone)]
pub struct BucketView {
    /// The client.
    pub client: Client,
    /// The bucket.
    pub bucket: String,
    /// The prefix the catalog writes under.
    pub prefix: String,
}

impl BucketView {
    /// Keys under `prefix + sub`.
    pub async fn keys(&self, sub: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(format!("{}{sub}", self.prefix))
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.expect("list objects");
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|object| object.key().map(str::to_owned)),
            );
        }
        keys
    }

    /// Multipart uploads started under the prefix and neither completed nor aborted.
    pub async fn incomplete_uploads(&self) -> usize {
        let listed = self
            .client
            .list_multipart_uploads()
            .bucket(&self.bucket)
            .prefix(&self.prefix)
            .send()
            .await
            .expect("list multipart uploads");
        listed.uploads().len()
    }

    /// The key of an `s3://bucket/key` URI.
    pub fn key_of<'a>(&self, uri: &'a str) -> &'a str {
        uri.strip_prefix(&format!("s3://{}/", self.bucket))
            .expect("a URI of the test bucket")
    }

    /// Replaces the object at `uri` with `bytes`.
    pub async fn overwrite(&self, uri: &str, bytes: &[u8]) {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(self.key_of(uri))
            .body(ByteStream::from(bytes.to_vec()))
            .send()
            .await
            .expect("overwrite");
    }

    /// Deletes the object at `uri`.
    pub async fn delete(&self, uri: &str) {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(self.key_of(uri))
            .send()
            .await
            .expect("delete");
    }
}

/// A private Garage server for tests that stop and restart the store, run through
/// `scripts/garage-test-server`; destroyed on drop.
pub struct GarageServer {
    script: std::path::PathBuf,
    dir: tempfile::TempDir,
    /// How to reach it.
    pub settings: S3Settings,
}

impl GarageServer {
    /// Starts a fresh single-node Garage, or `None` (after a loud SKIPPED) when the garage binary
    /// has not been built (the test command builds it).
    pub fn start(test: &str) -> Option<Self> {
        let script =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/garage-test-server");
        let installed = std::env::var_os("DOCSTOKG_GARAGE_BIN").is_some()
            || std::env::var_os("HOME")
                .map(std::path::PathBuf::from)
                .is_some_and(|home| {
                    home.join(".cache/docstokg/garage-2.5.0/bin/garage")
                        .is_file()
                });
        if !installed {
            services::skip(
                test,
                "garage is not built (scripts/garage-test-server install)",
            );
            return None;
        }
        let dir = tempfile::Builder::new()
            .prefix("catalog-garage-")
            .tempdir()
            .expect("temp dir");
        let server = Self {
            script,
            settings: Self::run(&dir, "start"),
            dir,
        };
        Some(server)
    }

    fn run(dir: &tempfile::TempDir, action: &str) -> S3Settings {
        let status = std::process::Command::new("bash")
            .arg(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../scripts/garage-test-server"),
            )
            .arg(action)
            .arg(dir.path())
            .status()
            .expect("garage-test-server runs");
        assert!(status.success(), "garage-test-server {action} failed");
        let env = std::fs::read_to_string(dir.path().join("env")).expect("env file");
        let value = |name: &str| {
            env.lines()
                .find_map(|line| line.strip_prefix(&format!("DOCSTOKG_TEST_S3_{name}=")))
                .expect("variable in env file")
                .to_owned()
        };
        S3Settings {
            endpoint: value("ENDPOINT"),
            region: value("REGION"),
            bucket: value("BUCKET"),
            access_key_id: value("ACCESS_KEY_ID"),
            secret_access_key: value("SECRET_ACCESS_KEY"),
        }
    }

    /// Stops the server, keeping its data.
    pub fn stop(&self) {
        let status = std::process::Command::new("bash")
            .arg(&self.script)
            .arg("stop")
            .arg(self.dir.path())
            .status();
        assert!(
            status.expect("garage-test-server runs").success(),
            "garage stop failed"
        );
    }

    /// Starts it again on the same port and data.
    pub fn restart(&self) {
        Self::run(&self.dir, "start");
    }
}

impl Drop for GarageServer {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(&self.script)
            .arg("destroy")
            .arg(self.dir.path())
            .status();
    }
}
