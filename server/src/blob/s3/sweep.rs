//! The garbage collector's side of the S3 blob store: listing `PREFIX cas/sha256/` in key (hence
//! hash) order from where the last page ended, removing an object, and sweeping temporary
//! objects under `PREFIX tmp/` and incomplete multipart uploads under `PREFIX`.

use aws_sdk_s3::primitives::DateTime as S3DateTime;
use chrono::{DateTime, Utc};
use docstokg_catalog::Result;

use super::{S3BlobStore, error::from_sdk, multipart::abort_upload};
use crate::blob::{LeftoverReport, StoredObject};

/// An S3 timestamp as a chrono instant (the epoch when out of range).
fn instant(time: Option<&S3DateTime>) -> DateTime<Utc> {
    time.and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos()))
        .unwrap_or_default()
}

impl S3BlobStore {
    /// Up to `limit` (at most 1,000, S3's page) CAS objects with hashes above `after`.
    pub(super) async fn list_cas(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<StoredObject>> {
        let prefix = format!("{}cas/sha256/", self.config.prefix);
        let mut request = self
            .client
            .list_objects_v2()
            .bucket(&self.config.bucket)
            .prefix(&prefix)
            .max_keys(limit.clamp(1, 1000) as i32);
        if let Some(after) = after {
            request = request.start_after(self.key_of(after));
        }
        let page = request
            .send()
            .await
            .map_err(|e| from_sdk("listing stored objects", e))?;
        Ok(page
            .contents()
            .iter()
            .filter_map(|object| {
                let key = object.key()?;
                let sha256 = key.rsplit('/').next()?;
                (self.key_of_checked(sha256)? == key).then(|| StoredObject {
                    sha256: sha256.to_owned(),
                    bytes: object.size().unwrap_or_default().max(0) as u64,
                    modified: instant(object.last_modified()),
                })
            })
            .collect())
    }

    /// The CAS key of `sha256` when it is a well-formed hash.
    fn key_of_checked(&self, sha256: &str) -> Option<String> {
        (sha256.len() == 64
            && sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| self.key_of(sha256))
    }

    /// Removes the CAS object of `sha256`; false when there was none.
    pub(super) async fn remove_cas(&self, sha256: &str) -> Result<bool> {
        let key = self.key_of(sha256);
        let existed = self.object_size(&key).await?.is_some();
        if existed {
            self.client
                .delete_object()
                .bucket(&self.config.bucket)
                .key(&key)
                .send()
                .await
                .map_err(|e| from_sdk("removing a stored object", e))?;
        }
        Ok(existed)
    }

    /// Removes (unless `dry_run`) temporary objects and incomplete multipart uploads older than
    /// `before`.
    pub(super) async fn sweep(
        &self,
        before: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<LeftoverReport> {
        let mut report = LeftoverReport::default();
        let tmp = format!("{}tmp/", self.config.prefix);
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.config.bucket)
                .prefix(&tmp)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| from_sdk("listing temporary objects", e))?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                if instant(object.last_modified()) >= before {
                    continue;
                }
                if !dry_run {
                    self.delete(key).await?;
                }
                report.temporary += 1;
                report.temporary_bytes += object.size().unwrap_or_default().max(0) as u64;
            }
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => break,
            }
        }
        let (mut key_marker, mut upload_marker): (Option<String>, Option<String>) = (None, None);
        loop {
            let page = self
                .client
                .list_multipart_uploads()
                .bucket(&self.config.bucket)
                .prefix(&self.config.prefix)
                .set_key_marker(key_marker.take())
                .set_upload_id_marker(upload_marker.take())
                .send()
                .await
                .map_err(|e| from_sdk("listing multipart uploads", e))?;
            for upload in page.uploads() {
                let (Some(key), Some(id)) = (upload.key(), upload.upload_id()) else {
                    continue;
                };
                if instant(upload.initiated()) >= before {
                    continue;
                }
                if !dry_run {
                    abort_upload(&self.client, &self.config.bucket, key, id).await?;
                }
                report.multipart_uploads += 1;
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            upload_marker = page.next_upload_id_marker().map(str::to_owned);
            if key_marker.is_none() && upload_marker.is_none() {
                break;
            }
        }
        Ok(report)
    }
}
