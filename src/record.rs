//! Document records: what a caller registers and what the catalog stores.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};

/// One registered document. Immutable once created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentRecord {
    /// Server-assigned id.
    pub id: i64,
    /// The artifact the document belongs to.
    pub artifact_id: String,
    /// Where the document was fetched from.
    pub source_url: String,
    /// Which resolver found the URL.
    pub resolver: String,
    /// MIME type, when known.
    pub content_type: Option<String>,
    /// Size in bytes.
    pub bytes: i64,
    /// Lowercase hex SHA-256, when known.
    pub sha256: Option<String>,
    /// `file://...` or `s3://bucket/key`, when the bytes are stored.
    pub storage_uri: Option<String>,
    /// Creation instant (UTC, microsecond precision).
    #[serde(serialize_with = "serialize_instant")]
    pub created_at: DateTime<Utc>,
    /// Last update instant; equals `created_at` since records are immutable.
    #[serde(serialize_with = "serialize_instant")]
    pub updated_at: DateTime<Utc>,
    /// The pipeline run that fetched the document.
    pub run_id: Option<String>,
}

impl DocumentRecord {
    /// The record of `document` with its server-assigned `id` and timestamps.
    pub fn from_document(
        id: i64,
        document: NewDocument,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            artifact_id: document.artifact_id,
            source_url: document.source_url,
            resolver: document.resolver,
            content_type: document.content_type,
            bytes: document.bytes,
            sha256: document.sha256,
            storage_uri: document.storage_uri,
            created_at,
            updated_at,
            run_id: document.run_id,
        }
    }
}

/// An instant in chrono's own serde form (RFC 3339, `Z`, as many fractional digits as it
/// needs: the export format), formatted first and handed over whole: chrono's `Serialize` hands
/// the serializer a piece at a time, and serde_json escapes each piece on its own (most of the
/// string escaping that was a quarter of `catalogctl --json`'s time on a long stream).
fn serialize_instant<S: Serializer>(
    instant: &DateTime<Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&instant.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

/// The fields of a document to register. Optional fields are `None` when unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDocument {
    /// Required artifact id.
    pub artifact_id: String,
    /// Required source URL.
    pub source_url: String,
    /// Required resolver name.
    pub resolver: String,
    /// MIME type.
    pub content_type: Option<String>,
    /// Size in bytes (>= 0).
    pub bytes: i64,
    /// Hex SHA-256 (64 characters).
    pub sha256: Option<String>,
    /// `file://` or `s3://` URI of the stored bytes.
    pub storage_uri: Option<String>,
    /// The pipeline run that fetched the document.
    pub run_id: Option<String>,
}

impl NewDocument {
    /// A document with its three key fields and nothing else.
    pub fn new(
        artifact_id: impl Into<String>,
        source_url: impl Into<String>,
        resolver: impl Into<String>,
    ) -> Self {
        Self {
            artifact_id: artifact_id.into(),
            source_url: source_url.into(),
            resolver: resolver.into(),
            ..Self::default()
        }
    }

    /// The names of the fields whose values differ from `stored` (key fields aside).
    pub fn differing_fields(&self, stored: &DocumentRecord) -> Vec<String> {
        let mut fields = Vec::new();
        let mut check = |name: &str, differs: bool| {
            if differs {
                fields.push(name.to_owned());
            }
        };
        check("content_type", self.content_type != stored.content_type);
        check("bytes", self.bytes != stored.bytes);
        check("sha256", self.sha256 != stored.sha256);
        check("storage_uri", self.storage_uri != stored.storage_uri);
        check("run_id", self.run_id != stored.run_id);
        fields
    }
}

impl From<&DocumentRecord> for NewDocument {
    fn from(record: &DocumentRecord) -> Self {
        Self {
            artifact_id: record.artifact_id.clone(),
            source_url: record.source_url.clone(),
            resolver: record.resolver.clone(),
            content_type: record.content_type.clone(),
            bytes: record.bytes,
            sha256: record.sha256.clone(),
            storage_uri: record.storage_uri.clone(),
            run_id: record.run_id.clone(),
        }
    }
}

/// The answer to a registration: the stored record and whether this call created it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterOutcome {
    /// The stored record (the existing one when `created` is false).
    pub record: DocumentRecord,
    /// True when this call created the record.
    pub created: bool,
    /// Request fields that differ from the stored record (empty when created).
    pub differing_fields: Vec<String>,
}

impl RegisterOutcome {
    /// The outcome of a registration that found `record` already stored.
    pub fn existing(request: &NewDocument, record: DocumentRecord) -> Self {
        let differing_fields = request.differing_fields(&record);
        Self {
            record,
            created: false,
            differing_fields,
        }
    }

    /// The outcome of a registration that created `record`.
    pub fn created(record: DocumentRecord) -> Self {
        Self {
            record,
            created: true,
            differing_fields: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record_at(instant: DateTime<Utc>) -> DocumentRecord {
        DocumentRecord::from_document(
            7,
            NewDocument::new("a", "https://e.org/a", "r"),
            instant,
            instant,
        )
    }

    #[test]
    fn test_record_timestamps_serialize_exactly_as_chrono_does() {
        let instants = [
            (1_700_000_000, 0),
            (1_700_000_000, 1_000_000),
            (1_700_000_000, 123_456_000),
            (1_700_000_000, 123_456_789),
            (1_700_000_039, 1_500_000_000), // a leap second (at :59)
            (-62_135_596_800, 5_000),       // year 1
            (253_402_300_800, 0),           // year 10000
        ];
        for (seconds, nanos) in instants {
            let instant = DateTime::from_timestamp(seconds, nanos).expect("valid instant");
            let json = serde_json::to_value(record_at(instant)).expect("record as JSON");
            let chrono = serde_json::to_value(instant).expect("instant as JSON");
            assert_eq!(json["created_at"], chrono, "{seconds}.{nanos}");
            assert_eq!(json["updated_at"], chrono, "{seconds}.{nanos}");
            let back: DocumentRecord = serde_json::from_value(json).expect("read back");
            assert_eq!(back, record_at(instant));
        }
    }
}
