//! Test data: documents, hashes and byte streams.

use bytes::Bytes;
use docstokg_catalog::{ByteStream, CatalogError, ErrorKind, NewDocument};
use futures::{StreamExt, stream};
use sha2::{Digest, Sha256};

/// A document with its key and nothing else.
pub fn doc(artifact_id: &str, source_url: &str, resolver: &str) -> NewDocument {
    NewDocument::new(artifact_id, source_url, resolver)
}

/// A document with a size and a hash.
pub fn doc_with_hash(artifact_id: &str, source_url: &str, bytes: i64, sha256: &str) -> NewDocument {
    NewDocument {
        bytes,
        sha256: Some(sha256.to_owned()),
        ..doc(artifact_id, source_url, "unpaywall")
    }
}

/// A distinct, valid sha256 for every `n`.
pub fn fake_sha256(n: u64) -> String {
    hex::encode(Sha256::digest(n.to_le_bytes()))
}

/// The real sha256 of `data`.
pub fn sha256_of(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// `data` as a stream of `chunk`-byte pieces.
pub fn chunked(data: Vec<u8>, chunk: usize) -> ByteStream {
    let data = Bytes::from(data);
    let pieces: Vec<_> = (0..data.len())
        .step_by(chunk.max(1))
        .map(|at| Ok(data.slice(at..(at + chunk).min(data.len()))))
        .collect();
    stream::iter(pieces).boxed()
}

/// A stream that yields `data` and then fails, like a client that went away mid-upload.
pub fn interrupted(data: Vec<u8>) -> ByteStream {
    let parts = vec![
        Ok(Bytes::from(data)),
        Err(CatalogError::new(
            ErrorKind::Cancelled,
            "the client went away",
        )),
    ];
    stream::iter(parts).boxed()
}

/// Deterministic pseudo-random bytes.
pub fn pseudo_random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}
