//! DeleteRecords, ApplyRetention and AuditStorage messages.

use super::{none_if_empty, queries::filter_of};
use crate::{
    AuditEvent, AuditFinding, AuditFindingKind, AuditOptions, AuditSummary, CatalogError,
    DeleteReport, DeleteRequest, DeleteSelection, Result, RetentionReport, RetentionRuleReport,
    proto,
};

impl TryFrom<proto::DeleteRecordsRequest> for DeleteRequest {
    type Error = CatalogError;

    /// Ids or a filter: both, or neither, is INVALID_ARGUMENT.
    fn try_from(request: proto::DeleteRecordsRequest) -> Result<Self> {
        let selection = match (request.ids.is_empty(), request.filter) {
            (false, Some(_)) => {
                return Err(CatalogError::invalid(
                    "filter",
                    "give ids or a filter, not both",
                ));
            }
            (false, None) => DeleteSelection::Ids(request.ids),
            (true, filter) => DeleteSelection::Filter(filter_of(filter)?),
        };
        Ok(Self {
            selection,
            dry_run: request.dry_run,
        })
    }
}

impl From<DeleteRequest> for proto::DeleteRecordsRequest {
    fn from(request: DeleteRequest) -> Self {
        let (ids, filter) = match request.selection {
            DeleteSelection::Ids(ids) => (ids, None),
            DeleteSelection::Filter(filter) => (Vec::new(), Some(filter.into())),
        };
        Self {
            ids,
            filter,
            dry_run: request.dry_run,
        }
    }
}

mirror_conversions!(DeleteReport, proto::DeleteRecordsResponse; fields: matched, deleted, ids, ids_truncated);
mirror_conversions!(
    RetentionRuleReport, proto::RetentionRuleReport;
    fields: rule, matched, deleted, matched_bytes
);
mirror_conversions!(RetentionReport, proto::ApplyRetentionResponse; fields: dry_run; collections: rules);
mirror_conversions!(
    AuditSummary, proto::AuditSummary;
    fields: records_checked, objects_checked, rehashed, orphans, orphan_bytes, missing, mismatched,
        out_of_scope
);

impl From<proto::AuditStorageRequest> for AuditOptions {
    fn from(request: proto::AuditStorageRequest) -> Self {
        Self {
            rehash_rate: request.rehash_rate,
        }
    }
}

impl From<AuditOptions> for proto::AuditStorageRequest {
    fn from(options: AuditOptions) -> Self {
        Self {
            rehash_rate: options.rehash_rate,
        }
    }
}

impl From<AuditFindingKind> for proto::AuditFindingKind {
    fn from(kind: AuditFindingKind) -> Self {
        match kind {
            AuditFindingKind::Orphan => Self::Orphan,
            AuditFindingKind::Missing => Self::Missing,
            AuditFindingKind::Mismatch => Self::Mismatch,
            AuditFindingKind::OutOfScope => Self::OutOfScope,
        }
    }
}

impl From<AuditFinding> for proto::AuditFinding {
    fn from(f: AuditFinding) -> Self {
        Self {
            kind: proto::AuditFindingKind::from(f.kind) as i32,
            record_id: f.record_id.unwrap_or_default(),
            sha256: f.sha256.unwrap_or_default(),
            storage_uri: f.storage_uri.unwrap_or_default(),
            bytes: f.bytes,
            message: f.message,
        }
    }
}

impl TryFrom<proto::AuditFinding> for AuditFinding {
    type Error = CatalogError;

    fn try_from(f: proto::AuditFinding) -> Result<Self> {
        let kind = match f.kind() {
            proto::AuditFindingKind::Orphan => AuditFindingKind::Orphan,
            proto::AuditFindingKind::Missing => AuditFindingKind::Missing,
            proto::AuditFindingKind::Mismatch => AuditFindingKind::Mismatch,
            proto::AuditFindingKind::OutOfScope => AuditFindingKind::OutOfScope,
            proto::AuditFindingKind::Unspecified => {
                return Err(CatalogError::internal("an audit finding without a kind"));
            }
        };
        Ok(Self {
            kind,
            record_id: (f.record_id != 0).then_some(f.record_id),
            sha256: none_if_empty(f.sha256),
            storage_uri: none_if_empty(f.storage_uri),
            bytes: f.bytes,
            message: f.message,
        })
    }
}

impl From<AuditEvent> for proto::AuditStorageResponse {
    fn from(event: AuditEvent) -> Self {
        use proto::audit_storage_response::Event;
        let event = match event {
            AuditEvent::Started { records } => Event::Started(proto::AuditStarted { records }),
            AuditEvent::Progress {
                records_checked,
                objects_checked,
            } => Event::Progress(proto::AuditProgress {
                records_checked,
                objects_checked,
            }),
            AuditEvent::Finding(finding) => Event::Finding(finding.into()),
            AuditEvent::Summary(summary) => Event::Summary(summary.into()),
        };
        Self { event: Some(event) }
    }
}

impl TryFrom<proto::AuditStorageResponse> for AuditEvent {
    type Error = CatalogError;

    fn try_from(message: proto::AuditStorageResponse) -> Result<Self> {
        use proto::audit_storage_response::Event;
        Ok(match message.event {
            Some(Event::Started(s)) => Self::Started { records: s.records },
            Some(Event::Progress(p)) => Self::Progress {
                records_checked: p.records_checked,
                objects_checked: p.objects_checked,
            },
            Some(Event::Finding(f)) => Self::Finding(f.try_into()?),
            Some(Event::Summary(s)) => Self::Summary(s.into()),
            None => return Err(CatalogError::internal("an empty AuditStorage message")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_delete_takes_ids_or_a_filter_not_both() {
        let both = proto::DeleteRecordsRequest {
            ids: vec![1],
            filter: Some(proto::RecordFilter::default()),
            dry_run: false,
        };
        let error = DeleteRequest::try_from(both).expect_err("both is refused");
        assert_eq!(error.field.as_deref(), Some("filter"));
        let ids = proto::DeleteRecordsRequest {
            ids: vec![3, 1],
            filter: None,
            dry_run: true,
        };
        let request = DeleteRequest::try_from(ids).expect("ids");
        assert_eq!(request.selection, DeleteSelection::Ids(vec![3, 1]));
        assert!(request.dry_run);
    }
}
