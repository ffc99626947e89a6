//! Conversions between the generated protobuf messages and the domain types. Empty strings on the
//! wire mean "unset" and become `None`; timestamps are UTC.

use chrono::{DateTime, Utc};
use prost_types::Timestamp;

use crate::{
    BackendHealth, CatalogError, CatalogStats, ContentHeader, ContentInfo, DocumentRecord,
    DuplicateGroup, HealthReport, HealthState, NewDocument, RecordFilter, RegisterOutcome, Result,
    StorageBackend, VerificationResult, VerificationStatus, VerifyAllEvent, VerifySummary, proto,
};

fn none_if_empty(value: String) -> Option<String> {
    Some(value).filter(|v| !v.is_empty())
}

/// A domain instant as a protobuf timestamp.
pub fn to_timestamp(instant: DateTime<Utc>) -> Timestamp {
    Timestamp {
        seconds: instant.timestamp(),
        nanos: instant.timestamp_subsec_nanos() as i32,
    }
}

/// A protobuf timestamp as a domain instant; `field` names it in the error.
pub fn from_timestamp(field: &str, timestamp: Timestamp) -> Result<DateTime<Utc>> {
    u32::try_from(timestamp.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(timestamp.seconds, nanos))
        .ok_or_else(|| CatalogError::invalid(field, "is not a valid timestamp"))
}

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

impl From<RecordFilter> for proto::RecordFilter {
    fn from(f: RecordFilter) -> Self {
        Self {
            run_id: f.run_id.unwrap_or_default(),
            resolver: f.resolver.unwrap_or_default(),
            content_type: f.content_type.unwrap_or_default(),
            created_after: f.created_after.map(to_timestamp),
            created_before: f.created_before.map(to_timestamp),
        }
    }
}

impl TryFrom<proto::RecordFilter> for RecordFilter {
    type Error = CatalogError;

    fn try_from(f: proto::RecordFilter) -> Result<Self> {
        Ok(Self {
            run_id: none_if_empty(f.run_id),
            resolver: none_if_empty(f.resolver),
            content_type: none_if_empty(f.content_type),
            created_after: f
                .created_after
                .map(|t| from_timestamp("filter.created_after", t))
                .transpose()?,
            created_before: f
                .created_before
                .map(|t| from_timestamp("filter.created_before", t))
                .transpose()?,
        })
    }
}

impl From<DuplicateGroup> for proto::FindDuplicatesResponse {
    fn from(g: DuplicateGroup) -> Self {
        Self {
            sha256: g.sha256,
            count: g.count,
            total_bytes: g.total_bytes,
            records: g.records.into_iter().map(Into::into).collect(),
        }
    }
}

impl TryFrom<proto::FindDuplicatesResponse> for DuplicateGroup {
    type Error = CatalogError;

    fn try_from(g: proto::FindDuplicatesResponse) -> Result<Self> {
        Ok(Self {
            sha256: g.sha256,
            count: g.count,
            total_bytes: g.total_bytes,
            records: g
                .records
                .into_iter()
                .map(TryInto::try_into)
                .collect::<Result<_>>()?,
        })
    }
}

impl From<VerificationStatus> for proto::VerificationStatus {
    fn from(s: VerificationStatus) -> Self {
        match s {
            VerificationStatus::Verified => Self::Verified,
            VerificationStatus::Mismatch => Self::Mismatch,
            VerificationStatus::Missing => Self::Missing,
            VerificationStatus::NoHash => Self::NoHash,
            VerificationStatus::OutOfScope => Self::OutOfScope,
        }
    }
}

impl TryFrom<proto::VerificationStatus> for VerificationStatus {
    type Error = CatalogError;

    fn try_from(s: proto::VerificationStatus) -> Result<Self> {
        Ok(match s {
            proto::VerificationStatus::Verified => Self::Verified,
            proto::VerificationStatus::Mismatch => Self::Mismatch,
            proto::VerificationStatus::Missing => Self::Missing,
            proto::VerificationStatus::NoHash => Self::NoHash,
            proto::VerificationStatus::OutOfScope => Self::OutOfScope,
            proto::VerificationStatus::Unspecified => {
                return Err(CatalogError::internal(
                    "the server sent an unspecified verification status",
                ));
            }
        })
    }
}

impl From<VerificationResult> for proto::VerificationResult {
    fn from(r: VerificationResult) -> Self {
        Self {
            record_id: r.record_id,
            status: proto::VerificationStatus::from(r.status) as i32,
            expected_sha256: r.expected_sha256.unwrap_or_default(),
            actual_sha256: r.actual_sha256.unwrap_or_default(),
            expected_bytes: r.expected_bytes,
            actual_bytes: r.actual_bytes.unwrap_or_default(),
            storage_uri: r.storage_uri.unwrap_or_default(),
            message: r.message,
        }
    }
}

impl TryFrom<proto::VerificationResult> for VerificationResult {
    type Error = CatalogError;

    fn try_from(r: proto::VerificationResult) -> Result<Self> {
        let status = VerificationStatus::try_from(r.status())?;
        let actual_sha256 = none_if_empty(r.actual_sha256);
        let actual_bytes = actual_sha256.as_ref().map(|_| r.actual_bytes);
        Ok(Self {
            record_id: r.record_id,
            status,
            expected_sha256: none_if_empty(r.expected_sha256),
            actual_sha256,
            expected_bytes: r.expected_bytes,
            actual_bytes,
            storage_uri: none_if_empty(r.storage_uri),
            message: r.message,
        })
    }
}

impl From<VerifySummary> for proto::VerifySummary {
    fn from(s: VerifySummary) -> Self {
        Self {
            checked: s.checked,
            verified: s.verified,
            mismatched: s.mismatched,
            missing: s.missing,
            no_hash: s.no_hash,
            out_of_scope: s.out_of_scope,
            skipped: s.skipped,
        }
    }
}

impl From<proto::VerifySummary> for VerifySummary {
    fn from(s: proto::VerifySummary) -> Self {
        Self {
            checked: s.checked,
            verified: s.verified,
            mismatched: s.mismatched,
            missing: s.missing,
            no_hash: s.no_hash,
            out_of_scope: s.out_of_scope,
            skipped: s.skipped,
        }
    }
}

impl From<VerifyAllEvent> for proto::VerifyAllResponse {
    fn from(e: VerifyAllEvent) -> Self {
        use proto::verify_all_response::Event;
        let event = match e {
            VerifyAllEvent::Started { matching_records } => {
                Event::Started(proto::VerifyAllStarted { matching_records })
            }
            VerifyAllEvent::Result(result) => Event::Result(result.into()),
            VerifyAllEvent::Summary(summary) => Event::Summary(summary.into()),
        };
        Self { event: Some(event) }
    }
}

impl TryFrom<proto::VerifyAllResponse> for VerifyAllEvent {
    type Error = CatalogError;

    fn try_from(r: proto::VerifyAllResponse) -> Result<Self> {
        use proto::verify_all_response::Event;
        match r.event {
            Some(Event::Started(s)) => Ok(Self::Started {
                matching_records: s.matching_records,
            }),
            Some(Event::Result(result)) => Ok(Self::Result(result.try_into()?)),
            Some(Event::Summary(summary)) => Ok(Self::Summary(summary.into())),
            None => Err(CatalogError::internal(
                "the server sent an empty VerifyAll message",
            )),
        }
    }
}

impl From<ContentHeader> for proto::PutContentHeader {
    fn from(h: ContentHeader) -> Self {
        Self {
            artifact_id: h.artifact_id,
            source_url: h.source_url,
            resolver: h.resolver,
            content_type: h.content_type.unwrap_or_default(),
            run_id: h.run_id.unwrap_or_default(),
            expected_sha256: h.expected_sha256.unwrap_or_default(),
            expected_bytes: h.expected_bytes,
        }
    }
}

impl From<proto::PutContentHeader> for ContentHeader {
    fn from(h: proto::PutContentHeader) -> Self {
        Self {
            artifact_id: h.artifact_id,
            source_url: h.source_url,
            resolver: h.resolver,
            content_type: none_if_empty(h.content_type),
            run_id: none_if_empty(h.run_id),
            expected_sha256: none_if_empty(h.expected_sha256),
            expected_bytes: h.expected_bytes,
        }
    }
}

impl From<ContentInfo> for proto::ContentInfo {
    fn from(i: ContentInfo) -> Self {
        Self {
            sha256: i.sha256,
            total_bytes: i.total_bytes,
            range_bytes: i.range_bytes,
            storage_uri: i.storage_uri,
        }
    }
}

impl From<proto::ContentInfo> for ContentInfo {
    fn from(i: proto::ContentInfo) -> Self {
        Self {
            sha256: i.sha256,
            total_bytes: i.total_bytes,
            range_bytes: i.range_bytes,
            storage_uri: i.storage_uri,
        }
    }
}

impl From<CatalogStats> for proto::StatsResponse {
    fn from(s: CatalogStats) -> Self {
        Self {
            provider: s.provider,
            total_records: s.total_records,
            total_bytes: s.total_bytes,
            unique_sha256: s.unique_sha256,
            unique_artifacts: s.unique_artifacts,
            duplicate_groups: s.duplicate_groups,
            by_resolver: s.by_resolver.into_iter().collect(),
            storage_backends: s
                .storage_backends
                .into_iter()
                .map(|b| proto::StorageBackend {
                    role: b.role,
                    kind: b.kind,
                    location: b.location,
                })
                .collect(),
            details: s.details.into_iter().collect(),
        }
    }
}

impl From<proto::StatsResponse> for CatalogStats {
    fn from(s: proto::StatsResponse) -> Self {
        Self {
            provider: s.provider,
            total_records: s.total_records,
            total_bytes: s.total_bytes,
            unique_sha256: s.unique_sha256,
            unique_artifacts: s.unique_artifacts,
            duplicate_groups: s.duplicate_groups,
            by_resolver: s.by_resolver.into_iter().collect(),
            storage_backends: s
                .storage_backends
                .into_iter()
                .map(|b| StorageBackend {
                    role: b.role,
                    kind: b.kind,
                    location: b.location,
                })
                .collect(),
            details: s.details.into_iter().collect(),
        }
    }
}

impl From<HealthState> for proto::HealthState {
    fn from(s: HealthState) -> Self {
        match s {
            HealthState::Healthy => Self::Healthy,
            HealthState::Degraded => Self::Degraded,
            HealthState::Unhealthy => Self::Unhealthy,
        }
    }
}

impl From<proto::HealthState> for HealthState {
    fn from(s: proto::HealthState) -> Self {
        match s {
            proto::HealthState::Healthy => Self::Healthy,
            proto::HealthState::Degraded => Self::Degraded,
            proto::HealthState::Unhealthy | proto::HealthState::Unspecified => Self::Unhealthy,
        }
    }
}

impl From<HealthReport> for proto::ProviderHealthResponse {
    fn from(h: HealthReport) -> Self {
        Self {
            state: proto::HealthState::from(h.state) as i32,
            message: h.message,
            backends: h
                .backends
                .into_iter()
                .map(|b| proto::BackendHealth {
                    name: b.name,
                    state: proto::HealthState::from(b.state) as i32,
                    message: b.message,
                    latency_ms: b.latency_ms,
                })
                .collect(),
        }
    }
}

impl From<proto::ProviderHealthResponse> for HealthReport {
    fn from(h: proto::ProviderHealthResponse) -> Self {
        Self {
            state: h.state().into(),
            message: h.message.clone(),
            backends: h
                .backends
                .into_iter()
                .map(|b| BackendHealth {
                    state: b.state().into(),
                    name: b.name,
                    message: b.message,
                    latency_ms: b.latency_ms,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
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
    fn test_invalid_timestamp_names_the_field() {
        let bad = Timestamp {
            seconds: 0,
            nanos: -1,
        };
        assert_eq!(
            from_timestamp("filter.created_after", bad)
                .expect_err("bad")
                .field
                .as_deref(),
            Some("filter.created_after")
        );
    }
}
