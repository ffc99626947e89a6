//! The S3 blob store (AWS S3 or any S3-compatible store): `PREFIX cas/sha256/ab/<sha256>`.
//!
//! Uploads stream: up to one part is buffered, then small objects go in one PUT carrying their
//! SHA-256, larger ones go multipart with a bounded number of parts in flight. When the hash is
//! declared up front the parts go straight to the CAS key; otherwise to `PREFIX tmp/...`, copied
//! to the CAS key once the hash is known. A multipart upload that fails, mismatches or is dropped
//! is aborted, so no object and no incomplete upload is left behind.

use std::{collections::BTreeMap, time::Duration};

use async_stream::try_stream;
use async_trait::async_trait;
use aws_sdk_s3::{
    Client,
    config::{
        Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
        retry::RetryConfig, timeout::TimeoutConfig,
    },
    error::{ProvideErrorMetadata, SdkError},
    primitives::ByteStream as S3Body,
    types::{CompletedMultipartUpload, CompletedPart},
};
use base64::Engine;
use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use docstokg_catalog::{
    BackendHealth, ByteStream, CatalogError, ErrorKind, Result, StorageBackend,
};
use futures::StreamExt;
use tokio::task::JoinSet;

use super::{
    BlobExpectation, BlobStore, ByteRange, ContentDigest, LeftoverReport, StoredBlob, StoredObject,
};
use crate::{config::S3Config, health::timed_probe};

mod error;
pub mod limits;
mod sweep;

/// The key of `storage_uri` when it is `s3://BUCKET/KEY` with `KEY` under `prefix` and no
/// empty, `.` or `..` segment: a purely lexical check, before any I/O. Nothing is decoded, so
/// `%2e%2e` is a plain segment.
pub fn key_in_scope<'a>(bucket: &str, prefix: &str, storage_uri: &'a str) -> Option<&'a str> {
    let (named_bucket, key) = storage_uri.strip_prefix(S3_SCHEME)?.split_once('/')?;
    let plain = key
        .split('/')
        .all(|segment| !segment.is_empty() && segment != "." && segment != "..");
    (named_bucket == bucket && plain && key.starts_with(prefix)).then_some(key)
}
mod multipart;

use error::{from_sdk, status_of};
use limits::{check_copy_size, check_part_count};
use multipart::fill;

const S3_SCHEME: &str = "s3://";
/// Bytes per ranged GET of a download or a verification.
const READ_WINDOW_BYTES: u64 = 8 * 1024 * 1024;
/// Attempts per request, with the SDK's exponential backoff between them.
const MAX_ATTEMPTS: u32 = 4;

/// Blob store on an S3 bucket.
pub struct S3BlobStore {
    client: Client,
    config: S3Config,
}

impl S3BlobStore {
    /// Builds the client: credentials from the configuration or the standard AWS chain, optional
    /// endpoint and path-style addressing, retries with backoff, and checksums only where S3
    /// requires them (S3-compatible stores differ in the CRC trailers they accept; the catalog
    /// checks SHA-256 itself).
    pub async fn open(config: &S3Config) -> Result<Self> {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(Region::new(config.region.clone()))
            .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(Duration::from_secs(120))
                    .build(),
            );
        if let Some((id, secret)) = &config.credentials {
            loader = loader.credentials_provider(Credentials::new(
                id,
                secret,
                None,
                None,
                "docstokg-config",
            ));
        }
        if let Some(endpoint) = &config.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        let shared = loader.load().await;
        let s3_config = aws_sdk_s3::config::Builder::from(&shared)
            .force_path_style(config.force_path_style)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
            .build();
        Ok(Self {
            client: Client::from_conf(s3_config),
            config: config.clone(),
        })
    }

    fn key_of(&self, sha256: &str) -> String {
        format!(
            "{}cas/sha256/{}/{sha256}",
            self.config.prefix,
            &sha256[0..2]
        )
    }

    fn uri_of_key(&self, key: &str) -> String {
        format!("{S3_SCHEME}{}/{key}", self.config.bucket)
    }

    /// The key of `storage_uri` when it names an object under this store's bucket and prefix.
    fn scoped_key<'a>(&self, storage_uri: &'a str) -> Option<&'a str> {
        key_in_scope(&self.config.bucket, &self.config.prefix, storage_uri)
    }

    async fn object_size(&self, key: &str) -> Result<Option<u64>> {
        match self
            .client
            .head_object()
            .bucket(&self.config.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(head) => Ok(Some(head.content_length().unwrap_or_default().max(0) as u64)),
            Err(error) if status_of(&error) == Some(404) => Ok(None),
            Err(error) => Err(from_sdk("reading an object's size", error)),
        }
    }

    async fn put_single(&self, key: &str, bytes: Bytes, sha256: &str) -> Result<()> {
        let digest =
            hex::decode(sha256).map_err(|e| CatalogError::internal(format!("hex digest: {e}")))?;
        self.client
            .put_object()
            .bucket(&self.config.bucket)
            .key(key)
            .content_length(bytes.len() as i64)
            .checksum_sha256(base64::engine::general_purpose::STANDARD.encode(digest))
            .body(S3Body::from(bytes))
            .send()
            .await
            .map_err(|e| from_sdk("uploading an object", e))?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.client
            .delete_object()
            .bucket(&self.config.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| from_sdk("deleting a temporary object", e))?;
        Ok(())
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    fn describe(&self) -> StorageBackend {
        StorageBackend {
            role: "blobs".into(),
            kind: "s3".into(),
            location: format!("{S3_SCHEME}{}/{}", self.config.bucket, self.config.prefix),
        }
    }

    fn details(&self) -> BTreeMap<String, String> {
        let mut details = BTreeMap::new();
        details.insert("s3_bucket".to_owned(), self.config.bucket.clone());
        details.insert("s3_prefix".to_owned(), self.config.prefix.clone());
        details.insert("aws_region".to_owned(), self.config.region.clone());
        if let Some(endpoint) = &self.config.endpoint_url {
            details.insert("s3_endpoint_url".to_owned(), endpoint.clone());
        }
        details
    }

    async fn put(&self, expect: BlobExpectation, mut body: ByteStream) -> Result<StoredBlob> {
        let declared = expect.sha256.clone();
        // A declared size that S3 cannot take is refused before any byte is read or sent.
        if let Some(bytes) = expect.bytes {
            check_part_count(bytes, self.config.part_bytes)?;
            if declared.is_none() && bytes > self.config.part_bytes {
                check_copy_size(bytes)?;
            }
        }
        let mut digest = ContentDigest::new(expect);
        let (first, ended) = fill(
            &mut body,
            &mut digest,
            self.config.part_bytes as usize,
            BytesMut::new(),
        )
        .await?;
        if ended {
            let (sha256, bytes) = digest.finish()?;
            let key = self.key_of(&sha256);
            let storage_uri = self.uri_of_key(&key);
            if self.object_size(&key).await?.is_some() {
                return Ok(StoredBlob {
                    sha256,
                    bytes,
                    storage_uri,
                    deduplicated: true,
                });
            }
            self.put_single(&key, first, &sha256).await?;
            return Ok(StoredBlob {
                sha256,
                bytes,
                storage_uri,
                deduplicated: false,
            });
        }
        if let Some(sha256) = &declared {
            let key = self.key_of(sha256);
            let storage_uri = self.uri_of_key(&key);
            if self.object_size(&key).await?.is_some() {
                // Already stored: hash the upload to hold the client to its claim, write nothing.
                digest.update_from(&mut body).await?;
                let (sha256, bytes) = digest.finish()?;
                return Ok(StoredBlob {
                    sha256,
                    bytes,
                    storage_uri,
                    deduplicated: true,
                });
            }
            let (sha256, bytes) = self
                .put_multipart(&key, first, &mut body, &mut digest)
                .await?;
            return Ok(StoredBlob {
                sha256,
                bytes,
                storage_uri,
                deduplicated: false,
            });
        }
        let temporary = format!(
            "{}tmp/upload-{}-{}",
            self.config.prefix,
            std::process::id(),
            unique_suffix()
        );
        let (sha256, bytes) = self
            .put_multipart(&temporary, first, &mut body, &mut digest)
            .await?;
        let key = self.key_of(&sha256);
        let storage_uri = self.uri_of_key(&key);
        let deduplicated = self.object_size(&key).await?.is_some();
        if !deduplicated && let Err(error) = check_copy_size(bytes) {
            self.delete(&temporary).await?;
            return Err(error);
        }
        if !deduplicated {
            self.client
                .copy_object()
                .bucket(&self.config.bucket)
                .key(&key)
                .copy_source(format!(
                    "{}/{}",
                    self.config.bucket,
                    percent_encode(&temporary)
                ))
                .send()
                .await
                .map_err(|e| from_sdk("moving an upload to its content address", e))?;
        }
        self.delete(&temporary).await?;
        Ok(StoredBlob {
            sha256,
            bytes,
            storage_uri,
            deduplicated,
        })
    }

    fn uri_of(&self, sha256: &str) -> String {
        self.uri_of_key(&self.key_of(sha256))
    }

    async fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<StoredObject>> {
        self.list_cas(after, limit).await
    }

    async fn remove(&self, sha256: &str) -> Result<bool> {
        self.remove_cas(sha256).await
    }

    async fn sweep_leftovers(
        &self,
        before: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<LeftoverReport> {
        self.sweep(before, dry_run).await
    }

    fn in_scope(&self, storage_uri: &str) -> bool {
        self.scoped_key(storage_uri).is_some()
    }

    async fn size(&self, storage_uri: &str) -> Result<Option<u64>> {
        let key = self
            .scoped_key(storage_uri)
            .ok_or_else(|| out_of_scope(storage_uri))?;
        self.object_size(key).await
    }

    async fn read(&self, storage_uri: &str, range: ByteRange) -> Result<ByteStream> {
        let ByteRange { offset, length } = range;
        let key = self
            .scoped_key(storage_uri)
            .ok_or_else(|| out_of_scope(storage_uri))?
            .to_owned();
        let end = match length {
            Some(length) => offset + length,
            None => self.object_size(&key).await?.ok_or_else(|| {
                CatalogError::not_found(format!("no stored object at {storage_uri}"))
            })?,
        };
        let (client, bucket) = (self.client.clone(), self.config.bucket.clone());
        Ok(Box::pin(try_stream! {
            let mut position = offset;
            while position < end {
                let window_end = (position + READ_WINDOW_BYTES).min(end);
                let object = client
                    .get_object()
                    .bucket(&bucket)
                    .key(&key)
                    .range(format!("bytes={position}-{}", window_end - 1))
                    .send()
                    .await
                    .map_err(|e| from_sdk("reading an object", e))?;
                let mut window = object.body;
                while let Some(chunk) = window
                    .try_next()
                    .await
                    .map_err(|e| error::from_body("reading an object", e))?
                {
                    position += chunk.len() as u64;
                    yield chunk;
                }
                if position < window_end {
                    Err(CatalogError::unavailable("the object store ended a ranged read early"))?;
                }
            }
        }))
    }

    async fn probe(&self) -> BackendHealth {
        timed_probe("blobs", async {
            self.client
                .head_bucket()
                .bucket(&self.config.bucket)
                .send()
                .await
                .map_err(|e| from_sdk("probing the bucket", e))?;
            Ok(format!("bucket {} answers", self.config.bucket))
        })
        .await
    }
}

fn out_of_scope(storage_uri: &str) -> CatalogError {
    CatalogError::new(
        ErrorKind::FailedPrecondition,
        format!("{storage_uri} is outside this provider's bucket and prefix; it was not opened"),
    )
}

/// A suffix that no other upload of this process uses.
fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Percent-encodes a key for `x-amz-copy-source`, keeping `/` and unreserved characters.
fn percent_encode(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> S3Config {
        S3Config {
            bucket: "artifacts".into(),
            prefix: "docs/".into(),
            region: "us-east-1".into(),
            endpoint_url: None,
            force_path_style: true,
            part_bytes: limits::MIN_PART_BYTES,
            parts_in_flight: std::num::NonZeroUsize::new(2).expect("2 is not zero"),
            credentials: Some(("id".into(), "secret".into())),
        }
    }

    #[tokio::test]
    async fn test_scope_is_the_bucket_and_prefix() {
        let store = S3BlobStore::open(&config()).await.expect("client");
        let sha = "ab".repeat(32);
        assert_eq!(
            store.uri_of(&sha),
            format!("s3://artifacts/docs/cas/sha256/ab/{sha}")
        );
        assert!(store.in_scope(&store.uri_of(&sha)));
        assert!(!store.in_scope("s3://other-bucket/docs/cas/x"));
        assert!(!store.in_scope("s3://artifacts/elsewhere/x"));
        assert!(!store.in_scope("s3://artifacts/docs/../secrets"));
        assert!(!store.in_scope("file:///etc/shadow"));
    }

    #[tokio::test]
    async fn test_an_upload_needing_more_than_max_parts_fails_before_any_request() {
        // The body is empty: past the up-front check this would fail as a size mismatch.
        let store = S3BlobStore::open(&config()).await.expect("client");
        let expect = BlobExpectation {
            sha256: Some("ab".repeat(32)),
            bytes: Some(limits::MIN_PART_BYTES * limits::MAX_PARTS + 1),
            max_bytes: u64::MAX,
        };
        let error = store
            .put(expect, Box::pin(futures::stream::empty()))
            .await
            .expect_err("too many parts");
        assert_eq!(error.kind, ErrorKind::ResourceExhausted, "{error}");
    }

    #[test]
    fn test_copy_source_is_percent_encoded() {
        assert_eq!(percent_encode("docs/tmp/a b+c"), "docs/tmp/a%20b%2Bc");
    }
}
