//! Documents, records and registration outcomes (RegisterOrGet, RegisterOrGetBatch, GetRecord,
//! the lookups, ImportRecords).

use chrono::Utc;

use super::{from_timestamp, none_if_empty, to_timestamp};
use crate::{CatalogError, DocumentRecord, NewDocument, RegisterOutcome, Result, proto};

impl From<DocumentRecord> for proto::DocumentRecord {
    fn from(r: DocumentRecord) -> Self {
        Self {
            id: r.id,
            artifact_id: r.artifact_id,
            source_url: r.source_url,
            resolver: r.resolver,
            content_type: r.content_type.unwrap_or_default(),
            bytes: r.bytes,
            sha256: r.sha256.unwrap_or_default(),
            storage_uri: r.storage_uri.unwrap_or_default(),
            created_at: Some(to_timestamp(r.created_at)),
            updated_at: Some(to_timestamp(r.updated_at)),
            run_id: r.run_id.unwrap_or_default(),
        }
    }
}

impl TryFrom<proto::DocumentRecord> for DocumentRecord {
    type Error = CatalogError;

    fn try_from(r: proto::DocumentRecord) -> Result<Self> {
        let created_at = from_timestamp("created_at", r.created_at.unwrap_or_default())?;
        let updated_at = from_timestamp("updated_at", r.updated_at.unwrap_or_default())?;
        Ok(Self {
            id: r.id,
            artifact_id: r.artifact_id,
            source_url: r.source_url,
            resolver: r.resolver,
            content_type: none_if_empty(r.content_type),
            bytes: r.bytes,
            sha256: none_if_empty(r.sha256),
            storage_uri: none_if_empty(r.storage_uri),
            created_at,
            updated_at,
            run_id: none_if_empty(r.run_id),
        })
    }
}

/// A record field that the server must always send.
pub fn required_record(record: Option<proto::DocumentRecord>) -> Result<DocumentRecord> {
    record
        .ok_or_else(|| CatalogError::internal("the server sent a response without a record"))?
        .try_into()
}

impl From<NewDocument> for proto::NewDocument {
    fn from(d: NewDocument) -> Self {
        Self {
            artifact_id: d.artifact_id,
            source_url: d.source_url,
            resolver: d.resolver,
            content_type: d.content_type.unwrap_or_default(),
            bytes: d.bytes,
            sha256: d.sha256.unwrap_or_default(),
            storage_uri: d.storage_uri.unwrap_or_default(),
            run_id: d.run_id.unwrap_or_default(),
        }
    }
}

impl From<proto::NewDocument> for NewDocument {
    fn from(d: proto::NewDocument) -> Self {
        Self {
            artifact_id: d.artifact_id,
            source_url: d.source_url,
            resolver: d.resolver,
            content_type: none_if_empty(d.content_type),
            bytes: d.bytes,
            sha256: none_if_empty(d.sha256),
            storage_uri: none_if_empty(d.storage_uri),
            run_id: none_if_empty(d.run_id),
        }
    }
}

impl From<RegisterOutcome> for proto::RegisterOrGetResponse {
    fn from(o: RegisterOutcome) -> Self {
        Self {
            record: Some(o.record.into()),
            created: o.created,
            differing_fields: o.differing_fields,
        }
    }
}

impl TryFrom<proto::RegisterOrGetResponse> for RegisterOutcome {
    type Error = CatalogError;

    fn try_from(r: proto::RegisterOrGetResponse) -> Result<Self> {
        Ok(Self {
            record: required_record(r.record)?,
            created: r.created,
            differing_fields: r.differing_fields,
        })
    }
}

/// A record sent to ImportRecords: a missing created_at means now, a missing updated_at means
/// created_at.
pub fn imported_record(mut record: proto::DocumentRecord) -> Result<DocumentRecord> {
    let created_at = *record
        .created_at
        .get_or_insert_with(|| to_timestamp(Utc::now()));
    record.updated_at.get_or_insert(created_at);
    DocumentRecord::try_from(record)
}

impl From<DocumentRecord> for proto::ListRecordsResponse {
    fn from(record: DocumentRecord) -> Self {
        Self {
            record: Some(record.into()),
        }
    }
}

impl TryFrom<proto::ListRecordsResponse> for DocumentRecord {
    type Error = CatalogError;

    fn try_from(message: proto::ListRecordsResponse) -> Result<Self> {
        required_record(message.record)
    }
}

impl TryFrom<proto::RegisterOrGetRequest> for NewDocument {
    type Error = CatalogError;

    fn try_from(request: proto::RegisterOrGetRequest) -> Result<Self> {
        request
            .document
            .map(Self::from)
            .ok_or_else(|| CatalogError::invalid("document", "is required"))
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;

    #[test]
    fn test_record_round_trips_with_empty_optionals_as_none() {
        let now = DateTime::from_timestamp(1_700_000_000, 123_456_000).expect("valid");
        let record = DocumentRecord {
            id: 7,
            artifact_id: "a".into(),
            source_url: "u".into(),
            resolver: "r".into(),
            content_type: None,
            bytes: 10,
            sha256: Some("ab".repeat(32)),
            storage_uri: None,
            created_at: now,
            updated_at: now,
            run_id: Some("run".into()),
        };
        let wire = proto::DocumentRecord::from(record.clone());
        assert_eq!(wire.content_type, "");
        assert_eq!(DocumentRecord::try_from(wire).expect("round trip"), record);
    }

    #[test]
    fn test_imported_record_without_timestamps_gets_one_instant() {
        let record = imported_record(proto::DocumentRecord {
            artifact_id: "a".into(),
            ..proto::DocumentRecord::default()
        })
        .expect("valid");
        assert_eq!(record.created_at, record.updated_at);
        assert!(record.created_at > DateTime::from_timestamp(1_700_000_000, 0).expect("valid"));
    }

    #[test]
    fn test_register_request_without_document_names_the_field() {
        let error = NewDocument::try_from(proto::RegisterOrGetRequest { document: None })
            .expect_err("no document");
        assert_eq!(error.field.as_deref(), Some("document"));
    }
}
