//! Multipart uploads: parts uploaded while the next one fills, at most `parts_in_flight` at
//! once, never more than S3's [`MAX_PARTS`](super::limits::MAX_PARTS); completed only when the
//! bytes match what was declared, aborted otherwise (also when the upload is dropped). An
//! upload allocates at most `parts_in_flight + 1` part buffers and refills each one once its
//! part is sent, so its memory is those buffers whatever the allocator keeps of freed ones.

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
        let mut in_flight: JoinSet<Result<SentPart>> = JoinSet::new();
        let mut done = Vec::new();
        let mut spare = BytesMut::new();
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
                let sent = join_part(in_flight.join_next().await)?;
                done.push(sent.completed);
                spare = sent.buffer;
            }
            let request = self
                .client
                .upload_part()
                .bucket(&self.config.bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(part_number)
                .content_length(part.len() as i64)
                .body(S3Body::from(part.clone()));
            in_flight.spawn(async move {
                let uploaded = request
                    .send()
                    .await
                    .map_err(|e| from_sdk("uploading a part", e))?;
                Ok(SentPart {
                    completed: CompletedPart::builder()
                        .set_e_tag(uploaded.e_tag().map(str::to_owned))
                        .part_number(part_number)
                        .build(),
                    // The request, and the SDK's copies of its body, are gone once it is sent.
                    buffer: part.try_into_mut().unwrap_or_default(),
                })
            });
            let (buffer, _) = fill(body, digest, part_bytes, std::mem::take(&mut spare)).await?;
            if !buffer.is_empty() {
                next_part = Some(buffer);
            }
        }
        while let Some(joined) = in_flight.join_next().await {
            done.push(join_part(Some(joined))?.completed);
        }
        done.sort_by_key(|part| part.part_number());
        Ok(done)
    }
}

/// A part S3 acknowledged, and its buffer to fill again (empty when the SDK still held it).
struct SentPart {
    completed: CompletedPart,
    buffer: BytesMut,
}

fn join_part(
    joined: Option<std::result::Result<Result<SentPart>, tokio::task::JoinError>>,
) -> Result<SentPart> {
    joined
        .ok_or_else(|| CatalogError::internal("no part upload to wait for"))?
        .map_err(|e| error::from_join("a part upload task failed", e))?
}

/// Reads from `body` into `buffer` (emptied first: a sent part's, or a new one) up to `limit`
/// bytes, feeding the digest; the flag says whether the body ended.
pub(super) async fn fill(
    body: &mut ByteStream,
    digest: &mut ContentDigest,
    limit: usize,
    mut buffer: BytesMut,
) -> Result<(Bytes, bool)> {
    buffer.clear();
    while buffer.len() < limit {
        match body.next().await {
            Some(chunk) => {
                let chunk = chunk?;
                digest.update(&chunk)?;
                // A second chunk means a part of `limit` bytes (the last chunk may run past it):
                // allocate it once. Growing by doubling left parts with up to twice their size
                // allocated, and copied them.
                if !buffer.is_empty() && buffer.capacity() - buffer.len() < chunk.len() {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(count: usize, size: usize) -> ByteStream {
        futures::stream::iter((0..count).map(move |i| Ok(Bytes::from(vec![i as u8; size])))).boxed()
    }

    fn digest() -> ContentDigest {
        ContentDigest::new(BlobExpectation {
            max_bytes: u64::MAX,
            ..BlobExpectation::default()
        })
    }

    #[tokio::test]
    async fn test_a_sent_parts_buffer_is_filled_again_in_place() {
        let (limit, chunk) = (4096, 1024);
        let mut body = chunks(8, chunk);
        let mut digest = digest();
        let (first, ended) = fill(&mut body, &mut digest, limit, BytesMut::new())
            .await
            .expect("first part");
        assert!(!ended);
        assert_eq!(first.len(), limit);
        // Sent: the SDK's copy is gone, so the part's allocation comes back whole.
        let address = first.as_ptr();
        let recycled = first.try_into_mut().expect("the only reference");
        assert!(recycled.capacity() >= limit);
        let (second, _) = fill(&mut body, &mut digest, limit, recycled)
            .await
            .expect("second part");
        assert_eq!(second.as_ptr(), address, "filled in the same allocation");
        assert_eq!(&second[..chunk], &[4u8; 1024][..]);
        assert_eq!(&second[limit - chunk..], &[7u8; 1024][..]);
        let (rest, ended) = fill(&mut body, &mut digest, limit, BytesMut::new())
            .await
            .expect("end");
        assert!(ended && rest.is_empty());
        assert_eq!(digest.finish().expect("digest").1, 8 * 1024);
    }
}
