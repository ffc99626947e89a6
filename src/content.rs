//! Content: uploads (PutContent) and downloads (GetContent) of a record's bytes.

use serde::{Deserialize, Serialize};

use crate::{ByteStream, NewDocument, RegisterOutcome};

/// The header of an upload: the record to register and what the bytes must be.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentHeader {
    /// Required artifact id.
    pub artifact_id: String,
    /// Required source URL.
    pub source_url: String,
    /// Required resolver name.
    pub resolver: String,
    /// MIME type.
    pub content_type: Option<String>,
    /// The pipeline run.
    pub run_id: Option<String>,
    /// The upload is rejected unless the bytes hash to this.
    pub expected_sha256: Option<String>,
    /// The upload is rejected unless exactly this many bytes arrive.
    pub expected_bytes: Option<i64>,
}

impl ContentHeader {
    /// The document registered once the bytes are stored under `sha256` at `storage_uri`.
    pub fn into_document(self, sha256: String, bytes: i64, storage_uri: String) -> NewDocument {
        NewDocument {
            artifact_id: self.artifact_id,
            source_url: self.source_url,
            resolver: self.resolver,
            content_type: self.content_type,
            bytes,
            sha256: Some(sha256),
            storage_uri: Some(storage_uri),
            run_id: self.run_id,
        }
    }
}

/// The answer to an upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutOutcome {
    /// The registration of the uploaded bytes.
    pub registration: RegisterOutcome,
    /// True when identical bytes were already stored and not written again.
    pub deduplicated: bool,
}

/// Whose bytes GetContent reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContentSelector {
    /// The bytes of a record.
    RecordId(i64),
    /// The bytes stored under a hash.
    Sha256(String),
}

/// A GetContent request: which bytes, and which range of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentRequest {
    /// Whose bytes.
    pub selector: ContentSelector,
    /// First byte to return.
    pub offset: u64,
    /// Bytes to return; `None` means to the end.
    pub length: Option<u64>,
}

/// Describes the bytes a download returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentInfo {
    /// Hash of the whole object.
    pub sha256: String,
    /// Size of the whole object.
    pub total_bytes: i64,
    /// Bytes in the returned range.
    pub range_bytes: i64,
    /// Where the bytes are stored.
    pub storage_uri: String,
}

/// A download: what it is, then the bytes as a stream.
pub struct ContentDownload {
    /// What the stream carries.
    pub info: ContentInfo,
    /// The bytes of the range, in order.
    pub body: ByteStream,
}

impl std::fmt::Debug for ContentDownload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContentDownload")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}
