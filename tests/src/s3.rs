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
