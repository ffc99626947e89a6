//! Record filters (ListRecords, VerifyAll) and FindDuplicates.

use super::{from_timestamp, none_if_empty, to_timestamp};
use crate::{CatalogError, DuplicateGroup, DuplicateQuery, RecordFilter, Result, proto};

impl From<RecordFilter> for proto::RecordFilter {
    fn from(f: RecordFilter) -> Self {
        Self {
            run_id: f.run_id.unwrap_or_default(),
            resolver: f.resolver.unwrap_or_default(),
            content_type: f.content_type.unwrap_or_default(),
            created_after: f.created_after.map(to_timestamp),
            created_before: f.created_before.map(to_timestamp),
            artifact_id: f.artifact_id.unwrap_or_default(),
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
            artifact_id: none_if_empty(f.artifact_id),
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

/// An optional wire filter; absent means "every record".
pub(super) fn filter_of(filter: Option<proto::RecordFilter>) -> Result<RecordFilter> {
    filter
        .map(RecordFilter::try_from)
        .transpose()
        .map(Option::unwrap_or_default)
}

impl TryFrom<proto::ListRecordsRequest> for RecordFilter {
    type Error = CatalogError;

    fn try_from(request: proto::ListRecordsRequest) -> Result<Self> {
        filter_of(request.filter)
    }
}

impl From<RecordFilter> for proto::ListRecordsRequest {
    fn from(filter: RecordFilter) -> Self {
        Self {
            filter: Some(filter.into()),
        }
    }
}

impl From<proto::FindDuplicatesRequest> for DuplicateQuery {
    /// A `min_count` of 0 means the default (2).
    fn from(request: proto::FindDuplicatesRequest) -> Self {
        Self {
            min_count: match request.min_count {
                0 => DuplicateQuery::default().min_count,
                count => count,
            },
            include_records: request.include_records,
            limit: (request.limit != 0).then_some(request.limit),
        }
    }
}

impl From<DuplicateQuery> for proto::FindDuplicatesRequest {
    fn from(query: DuplicateQuery) -> Self {
        Self {
            min_count: query.min_count,
            include_records: query.include_records,
            limit: query.limit.unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_find_duplicates_zero_min_count_is_the_default_and_others_pass_through() {
        let wire = proto::FindDuplicatesRequest {
            min_count: 0,
            include_records: true,
            limit: 0,
        };
        assert_eq!(
            DuplicateQuery::from(wire),
            DuplicateQuery {
                min_count: 2,
                include_records: true,
                limit: None,
            }
        );
        let query = DuplicateQuery {
            min_count: 3,
            include_records: false,
            limit: Some(5),
        };
        assert_eq!(
            DuplicateQuery::from(proto::FindDuplicatesRequest::from(query.clone())),
            query
        );
    }

    #[test]
    fn test_absent_filter_matches_everything() {
        let request = proto::ListRecordsRequest { filter: None };
        assert_eq!(
            RecordFilter::try_from(request).expect("valid"),
            RecordFilter::default()
        );
    }
}
