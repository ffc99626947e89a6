//! Streaming SHA-256 with the checks an upload must pass.

use docstokg_catalog::{ByteStream, CatalogError, ErrorKind, Result};
use futures::StreamExt;
use sha2::{Digest, Sha256};

use super::BlobExpectation;

/// Hashes and counts bytes as they arrive, and refuses them as soon as they exceed a limit.
pub struct ContentDigest {
    hasher: Sha256,
    bytes: u64,
    expect: BlobExpectation,
}

impl ContentDigest {
    /// A digest that checks `expect`.
    pub fn new(expect: BlobExpectation) -> Self {
        Self {
            hasher: Sha256::new(),
            bytes: 0,
            expect,
        }
    }

    /// Adds a chunk; fails as soon as the bytes exceed the declared size or the upload limit.
    pub fn update(&mut self, chunk: &[u8]) -> Result<()> {
        self.bytes += chunk.len() as u64;
        if self.bytes > self.expect.max_bytes {
            return Err(CatalogError::new(
                ErrorKind::ResourceExhausted,
                format!(
                    "the upload exceeds the server's limit of {} bytes (max_upload_bytes)",
                    self.expect.max_bytes
                ),
            ));
        }
        if let Some(expected) = self.expect.bytes.filter(|expected| self.bytes > *expected) {
            return Err(CatalogError::invalid(
                "expected_bytes",
                format!("the upload sent more than the declared {expected} bytes"),
            ));
        }
        self.hasher.update(chunk);
        Ok(())
    }

    /// Feeds every chunk `body` has left, keeping none of them.
    pub async fn update_from(&mut self, body: &mut ByteStream) -> Result<()> {
        while let Some(chunk) = body.next().await {
            self.update(&chunk?)?;
        }
        Ok(())
    }

    /// The SHA-256 and size of everything added so far, once both match what was declared.
    pub fn finish(&self) -> Result<(String, u64)> {
        let sha256 = hex::encode(self.hasher.clone().finalize());
        if let Some(expected) = self.expect.bytes.filter(|expected| *expected != self.bytes) {
            return Err(CatalogError::invalid(
                "expected_bytes",
                format!(
                    "the upload sent {} bytes, the header declared {expected}",
                    self.bytes
                ),
            ));
        }
        if let Some(expected) = self
            .expect
            .sha256
            .as_ref()
            .filter(|expected| **expected != sha256)
        {
            return Err(CatalogError::invalid(
                "expected_sha256",
                format!("the uploaded bytes hash to {sha256}, the header declared {expected}"),
            ));
        }
        Ok((sha256, self.bytes))
    }
}

/// The SHA-256 and size of everything `body` yields.
pub async fn hash_stream(mut body: ByteStream) -> Result<(String, u64)> {
    let mut digest = ContentDigest::new(BlobExpectation {
        max_bytes: u64::MAX,
        ..BlobExpectation::default()
    });
    digest.update_from(&mut body).await?;
    digest.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO_SHA256: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    fn expect(sha256: Option<&str>, bytes: Option<u64>) -> BlobExpectation {
        BlobExpectation {
            sha256: sha256.map(str::to_owned),
            bytes,
            max_bytes: 100,
        }
    }

    #[test]
    fn test_matching_upload_passes() {
        let mut digest = ContentDigest::new(expect(Some(HELLO_SHA256), Some(5)));
        digest.update(b"hel").expect("fits");
        digest.update(b"lo").expect("fits");
        assert_eq!(
            digest.finish().expect("matches"),
            (HELLO_SHA256.to_owned(), 5)
        );
    }

    #[test]
    fn test_wrong_hash_is_rejected_naming_the_field() {
        let mut digest = ContentDigest::new(expect(Some(&"0".repeat(64)), None));
        digest.update(b"hello").expect("fits");
        assert_eq!(
            digest.finish().expect_err("mismatch").field.as_deref(),
            Some("expected_sha256")
        );
    }

    #[test]
    fn test_too_many_bytes_fail_early() {
        let mut digest = ContentDigest::new(expect(None, Some(3)));
        assert_eq!(
            digest
                .update(b"hello")
                .expect_err("too long")
                .field
                .as_deref(),
            Some("expected_bytes")
        );
        let mut digest = ContentDigest::new(expect(None, None));
        assert_eq!(
            digest.update(&[0; 101]).expect_err("over limit").kind,
            ErrorKind::ResourceExhausted
        );
    }

    #[test]
    fn test_too_few_bytes_are_rejected() {
        let mut digest = ContentDigest::new(expect(None, Some(10)));
        digest.update(b"hello").expect("fits");
        assert_eq!(
            digest.finish().expect_err("short").field.as_deref(),
            Some("expected_bytes")
        );
    }

    #[tokio::test]
    async fn test_update_from_feeds_every_chunk_left_in_a_body() {
        let chunks = ["hel", "lo"].map(|c| Ok(bytes::Bytes::from_static(c.as_bytes())));
        let mut body: ByteStream = futures::stream::iter(chunks).boxed();
        let mut digest = ContentDigest::new(expect(Some(HELLO_SHA256), Some(5)));
        digest.update_from(&mut body).await.expect("fits");
        assert_eq!(
            digest.finish().expect("matches"),
            (HELLO_SHA256.to_owned(), 5)
        );
    }
}
