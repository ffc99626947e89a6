//! Domain inputs as request messages, for the RPCs whose conversion the contract crate leaves to
//! the client.

use docstokg_catalog::proto::{self, get_content_request::Selector};
use docstokg_catalog::{
    CatalogError, ContentRequest, ContentSelector, DuplicateQuery, Result, VerifyAllOptions,
};

/// A FindDuplicates request.
pub(crate) fn find_duplicates(query: DuplicateQuery) -> proto::FindDuplicatesRequest {
    proto::FindDuplicatesRequest {
        min_count: query.min_count,
        include_records: query.include_records,
    }
}

/// A VerifyAll request; a concurrency beyond `u32` is bad input.
pub(crate) fn verify_all(options: VerifyAllOptions) -> Result<proto::VerifyAllRequest> {
    let concurrency = u32::try_from(options.concurrency).map_err(|_| {
        CatalogError::invalid(
            "concurrency",
            format!("is too large: {}", options.concurrency),
        )
    })?;
    Ok(proto::VerifyAllRequest {
        filter: Some(options.filter.into()),
        sample_rate: options.sample_rate,
        concurrency,
    })
}

/// A GetContent request; `length: None` is 0 on the wire (to the end).
pub(crate) fn get_content(request: ContentRequest) -> Result<proto::GetContentRequest> {
    let selector = match request.selector {
        ContentSelector::RecordId(id) => Selector::RecordId(id),
        ContentSelector::Sha256(sha256) => Selector::Sha256(sha256),
    };
    let offset = i64::try_from(request.offset)
        .map_err(|_| CatalogError::invalid("offset", "is too large"))?;
    let length = request
        .length
        .map(|length| {
            i64::try_from(length).map_err(|_| CatalogError::invalid("length", "is too large"))
        })
        .transpose()?
        .unwrap_or(0);
    Ok(proto::GetContentRequest {
        selector: Some(selector),
        offset,
        length,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_verify_all_carries_rate_and_concurrency() {
        let options = VerifyAllOptions {
            sample_rate: 0.5,
            concurrency: 8,
            ..VerifyAllOptions::default()
        };
        let request = verify_all(options).expect("valid");
        assert_eq!((request.sample_rate, request.concurrency), (0.5, 8));
        assert!(request.filter.is_some());
    }

    #[test]
    fn test_get_content_maps_selector_and_range() {
        let request = ContentRequest {
            selector: ContentSelector::RecordId(3),
            offset: 10,
            length: None,
        };
        let wire = get_content(request).expect("valid");
        assert_eq!(wire.selector, Some(Selector::RecordId(3)));
        assert_eq!((wire.offset, wire.length), (10, 0));
    }

    #[test]
    fn test_get_content_rejects_unrepresentable_offset() {
        let request = ContentRequest {
            selector: ContentSelector::RecordId(3),
            offset: u64::MAX,
            length: Some(1),
        };
        assert_eq!(
            get_content(request)
                .expect_err("too large")
                .field
                .as_deref(),
            Some("offset")
        );
    }

    #[test]
    fn test_find_duplicates_copies_query() {
        let wire = find_duplicates(DuplicateQuery {
            min_count: 3,
            include_records: true,
        });
        assert_eq!((wire.min_count, wire.include_records), (3, true));
    }
}
