//! Multipart uploads: parts uploaded while the next one fills, at most `parts_in_flight` at
//! once, never more than S3's [`MAX_PARTS`](super::limits::MAX_PARTS); completed only when the
//! bytes match what was declared, aborted otherwise (also when the upload is dropped).

use super::*;

impl S3BlobStore {
    /// Streams `first` and the rest of `body` into a multipart upload at `key`; completes it only
    /// when the bytes match the declared hash and size, and aborts it otherwise. Returns the
    /// SHA-256 and size.
    pub(super) async fn put_multipart(
        &self,
        key: &str,
        first: Bytes,
        body: &mut ByteStream,
        digest: &mut ContentDigest,
    ) -> Result<(String, u64)> {
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.config.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| from_sdk("starting a multipart upload", e))?;
        let upload_id = created
            .upload_id()
            .ok_or_else(|| CatalogError::internal("the object store returned no upload id"))?
            .to_owned();
        let mut guard = AbortOnDrop {
            client: self.client.clone(),
            bucket: self.config.bucket.clone(),
            key: key.to_owned(),
            upload_id: Some(upload_id.clone()),
        };
        let uploaded = self
            .upload_parts(key, &upload_id, first, body, digest)
            .await;
        let checked = uploaded.and_then(|parts| digest.finish().map(|found| (parts, found)));
        let (parts, found) = match checked {
            Ok(checked) => checked,
            Err(error) => {
                guard.abort().await;
                return Err(error);
            }
        };
        self.client
            .complete_multipart_upload()
            .bucket(&self.config.bucket)
            .key(key)
            .upload_id(&upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| from_sdk("completing a multipart upload", e))?;
        guard.upload_id = None;
        Ok(found)
    }

    async fn upload_parts(
        &self,
        key: &str,
        upload_id: &str,
        first: Bytes,
        body: &mut ByteStream,
        digest: &mut ContentDigest,
    ) -> Result<Vec<CompletedPart>> {
        let part_bytes = self.config.part_bytes as usize;
        let parts_in_flight = self.config.parts_in_flight.get();
        let mut in_flight: JoinSet<Result<CompletedPart>> = JoinSet::new();
        let mut done = Vec::new();
        let mut next_part = Some(first);
        let mut part_number = 0_i32;
        let mut bytes_in_parts = 0_u64;
        while let Some(part) = next_part.take() {
            part_number += 1;
            // An upload of undeclared size can outgrow S3's part count: stop before the part
            // past the limit is sent (the caller aborts the upload).
            bytes_in_parts += part.len() as u64;
            check_part_count(bytes_in_parts, self.config.part_bytes)?;
            if in_flight.len() >= parts_in_flight {
                done.push(join_part(in_flight.join_next().await)?);
            }
            let request = self
                .client
                .upload_part()
                .bucket(&self.config.bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(part_number)
                .content_length(part.len() as i64)
                .body(S3Body::from(part));
            in_flight.spawn(async move {
                let uploaded = request
                    .send()
                    .await
                    .map_err(|e| from_sdk("uploading a part", e))?;
                Ok(CompletedPart::builder()
                    .set_e_tag(uploaded.e_tag().map(str::to_owned))
                    .part_number(part_number)
                    .build())
            });
            let (buffer, _) = fill(body, digest, part_bytes).await?;
            if !buffer.is_empty() {
                next_part = Some(buffer);
            }
        }
        while let Some(joined) = in_flight.join_next().await {
            done.push(join_part(Some(joined))?);
        }
        done.sort_by_key(|part| part.part_number());
        Ok(done)
    }
}

pub(super) fn join_part(
    joined: Option<std::result::Result<Result<CompletedPart>, tokio::task::JoinError>>,
) -> Result<CompletedPart> {
    joined
        .ok_or_else(|| CatalogError::internal("no part upload to wait for"))?
        .map_err(|e| error::from_join("a part upload task failed", e))?
}

/// Reads from `body` into one buffer of up to `limit` bytes, feeding the digest; the flag says
/// whether the body ended.
pub(super) async fn fill(
    body: &mut ByteStream,
    digest: &mut ContentDigest,
    limit: usize,
) -> Result<(Bytes, bool)> {
    let mut buffer = BytesMut::new();
    while buffer.len() < limit {
        match body.next().await {
            Some(chunk) => {
                let chunk = chunk?;
                digest.update(&chunk)?;
                // A second chunk means a part of `limit` bytes (the last chunk may run past it):
                // allocate it once. Growing by doubling left parts with up to twice their size
                // allocated, and copied them.
                if !buffer.is_empty() && buffer.capacity() < limit {
                    buffer.reserve(limit.saturating_sub(buffer.len()) + chunk.len());
                }
                buffer.extend_from_slice(&chunk);
            }
            None => return Ok((buffer.freeze(), true)),
        }
    }
    Ok((buffer.freeze(), false))
}

/// Aborts a multipart upload that was neither completed nor aborted, also when the upload's
/// future is dropped (a client that went away): the abort then runs as a task of its own.
struct AbortOnDrop {
    client: Client,
    bucket: String,
    key: String,
    upload_id: Option<String>,
}

impl AbortOnDrop {
    async fn abort(&mut self) {
        if let Some(upload_id) = self.upload_id.take()
            && let Err(error) =
                abort_upload(&self.client, &self.bucket, &self.key, &upload_id).await
        {
            tracing::warn!(%error, key = %self.key, "could not abort a multipart upload");
        }
    }
}

pub(super) async fn abort_upload(
    client: &Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<()> {
    client
        .abort_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .send()
        .await
        .map(drop)
        .map_err(|e| from_sdk("aborting a multipart upload", e))
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        let Some(upload_id) = self.upload_id.take() else {
            return;
        };
        let (client, bucket, key) = (self.client.clone(), self.bucket.clone(), self.key.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(error) = abort_upload(&client, &bucket, &key, &upload_id).await {
                    tracing::warn!(%error, %key, "could not abort a dropped multipart upload");
                }
            });
        }
    }
}
