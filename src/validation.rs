//! The validation rules every input obeys, applied before any I/O. Each failure is an
//! [`ErrorKind::InvalidArgument`](crate::ErrorKind) naming the field.

use crate::{
    AuditOptions, CatalogError, ContentHeader, ContentRequest, ContentSelector, DeleteRequest,
    DeleteSelection, DocumentRecord, DuplicateQuery, NewDocument, RecordFilter, Result,
    VerifyAllOptions,
};

/// Longest id-like string (artifact_id, resolver, run_id, content_type), in bytes.
pub const MAX_ID_BYTES: usize = 512;
/// Longest URL (source_url, storage_uri), in bytes.
pub const MAX_URL_BYTES: usize = 8 * 1024;
/// Default largest RegisterOrGetBatch.
pub const DEFAULT_MAX_BATCH: usize = 1000;
/// Largest VerifyAll concurrency.
pub const MAX_VERIFY_CONCURRENCY: usize = 64;
/// URI schemes a storage_uri may use.
pub const STORAGE_URI_SCHEMES: [&str; 2] = ["file://", "s3://"];

/// Checks and normalises a document: key fields present, lengths within limits, sha256 lowercase
/// hex, size non-negative, storage_uri of a known scheme; empty optional strings become `None`.
pub fn new_document(document: NewDocument) -> Result<NewDocument> {
    Ok(NewDocument {
        artifact_id: required("artifact_id", document.artifact_id, MAX_ID_BYTES)?,
        source_url: required("source_url", document.source_url, MAX_URL_BYTES)?,
        resolver: required("resolver", document.resolver, MAX_ID_BYTES)?,
        content_type: optional("content_type", document.content_type, MAX_ID_BYTES)?,
        bytes: non_negative("bytes", document.bytes)?,
        sha256: optional_sha256("sha256", document.sha256)?,
        storage_uri: storage_uri(optional(
            "storage_uri",
            document.storage_uri,
            MAX_URL_BYTES,
        )?)?,
        run_id: optional("run_id", document.run_id, MAX_ID_BYTES)?,
    })
}

/// Checks a batch: its size within `max_batch`, and every document (fields named `documents[i].x`).
pub fn batch(documents: Vec<NewDocument>, max_batch: usize) -> Result<Vec<NewDocument>> {
    if documents.len() > max_batch {
        return Err(CatalogError::invalid(
            "documents",
            format!(
                "{} documents exceed the batch limit of {max_batch}; split the batch",
                documents.len()
            ),
        ));
    }
    documents
        .into_iter()
        .enumerate()
        .map(|(index, document)| {
            new_document(document).map_err(|e| e.within(&format!("documents[{index}]")))
        })
        .collect()
}

/// Checks records to import like a batch of documents (fields named `records[i].x`), keeping
/// their ids (which must not be negative) and timestamps.
pub fn import(records: Vec<DocumentRecord>, max_batch: usize) -> Result<Vec<DocumentRecord>> {
    if records.len() > max_batch {
        return Err(CatalogError::invalid(
            "records",
            format!(
                "{} records exceed the batch limit of {max_batch}; split the batch",
                records.len()
            ),
        ));
    }
    records
        .into_iter()
        .enumerate()
        .map(|(index, record)| {
            imported_record(record).map_err(|e| e.within(&format!("records[{index}]")))
        })
        .collect()
}

/// Checks one record to import: a non-negative id and the fields of a document, normalised as
/// [`new_document`] does; its id and timestamps are kept.
pub fn imported_record(record: DocumentRecord) -> Result<DocumentRecord> {
    non_negative("id", record.id)?;
    let document = new_document(NewDocument::from(&record))?;
    Ok(DocumentRecord::from_document(
        record.id,
        document,
        record.created_at,
        record.updated_at,
    ))
}

/// Checks an upload header like a document, plus the expected hash and size.
pub fn content_header(header: ContentHeader) -> Result<ContentHeader> {
    Ok(ContentHeader {
        artifact_id: required("artifact_id", header.artifact_id, MAX_ID_BYTES)?,
        source_url: required("source_url", header.source_url, MAX_URL_BYTES)?,
        resolver: required("resolver", header.resolver, MAX_ID_BYTES)?,
        content_type: optional("content_type", header.content_type, MAX_ID_BYTES)?,
        run_id: optional("run_id", header.run_id, MAX_ID_BYTES)?,
        expected_sha256: optional_sha256("expected_sha256", header.expected_sha256)?,
        expected_bytes: header
            .expected_bytes
            .map(|n| non_negative("expected_bytes", n))
            .transpose()?,
    })
}

/// Checks a record id: positive.
pub fn record_id(field: &str, id: i64) -> Result<i64> {
    if id <= 0 {
        return Err(CatalogError::invalid(
            field,
            format!("must be a positive record id, got {id}"),
        ));
    }
    Ok(id)
}

/// Checks a required key (artifact_id, run_id) used as a lookup.
pub fn lookup_key(field: &str, value: &str) -> Result<()> {
    required(field, value.to_owned(), MAX_ID_BYTES).map(drop)
}

/// Checks and lowercases a sha256 used as a lookup.
pub fn sha256(field: &str, value: &str) -> Result<String> {
    if value.len() != 64 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(CatalogError::invalid(
            field,
            format!(
                "must be 64 hexadecimal characters, got {} characters",
                value.chars().count()
            ),
        ));
    }
    Ok(value.to_ascii_lowercase())
}

/// Checks a record filter's strings and time range; empty strings become `None`.
pub fn filter(filter: RecordFilter) -> Result<RecordFilter> {
    if let (Some(after), Some(before)) = (filter.created_after, filter.created_before)
        && after > before
    {
        return Err(CatalogError::invalid(
            "filter.created_after",
            "must not be later than filter.created_before",
        ));
    }
    Ok(RecordFilter {
        run_id: optional("filter.run_id", filter.run_id, MAX_ID_BYTES)?,
        resolver: optional("filter.resolver", filter.resolver, MAX_ID_BYTES)?,
        content_type: optional("filter.content_type", filter.content_type, MAX_ID_BYTES)?,
        artifact_id: optional("filter.artifact_id", filter.artifact_id, MAX_ID_BYTES)?,
        ..filter
    })
}

/// Checks a DeleteRecords request: ids (1 to `max_ids`, each positive) or a filter with at least
/// one field set, so that no call deletes every record by omission.
pub fn delete(request: DeleteRequest, max_ids: usize) -> Result<DeleteRequest> {
    let selection = match request.selection {
        DeleteSelection::Ids(ids) => {
            if ids.len() > max_ids {
                return Err(CatalogError::invalid(
                    "ids",
                    format!("at most {max_ids} ids per call, got {}", ids.len()),
                ));
            }
            for (i, id) in ids.iter().enumerate() {
                record_id(&format!("ids[{i}]"), *id)?;
            }
            let mut ids = ids;
            ids.sort_unstable();
            ids.dedup();
            DeleteSelection::Ids(ids)
        }
        DeleteSelection::Filter(f) => {
            let f = filter(f)?;
            if f.is_empty() {
                return Err(CatalogError::invalid(
                    "filter",
                    "needs ids or at least one filter field: a delete never matches every record by omission",
                ));
            }
            DeleteSelection::Filter(f)
        }
    };
    Ok(DeleteRequest {
        selection,
        ..request
    })
}

/// Checks AuditStorage options: a re-hash rate in [0, 1].
pub fn audit(options: AuditOptions) -> Result<AuditOptions> {
    if !(0.0..=1.0).contains(&options.rehash_rate) {
        return Err(CatalogError::invalid(
            "rehash_rate",
            format!("must be in [0, 1], got {}", options.rehash_rate),
        ));
    }
    Ok(options)
}

/// Checks a FindDuplicates query: `min_count` of at least 2, a positive `limit`.
pub fn duplicate_query(query: DuplicateQuery) -> Result<DuplicateQuery> {
    if query.min_count < 2 {
        return Err(CatalogError::invalid(
            "min_count",
            format!("must be at least 2, got {}", query.min_count),
        ));
    }
    if let Some(limit) = query.limit.filter(|limit| *limit < 1) {
        return Err(CatalogError::invalid(
            "limit",
            format!("must be at least 1, got {limit}"),
        ));
    }
    Ok(query)
}

/// Checks VerifyAll options: a sample rate in (0, 1] and a concurrency in 1..=64.
pub fn verify_all(options: VerifyAllOptions) -> Result<VerifyAllOptions> {
    if !(options.sample_rate > 0.0 && options.sample_rate <= 1.0) {
        return Err(CatalogError::invalid(
            "sample_rate",
            format!("must be in (0, 1], got {}", options.sample_rate),
        ));
    }
    if !(1..=MAX_VERIFY_CONCURRENCY).contains(&options.concurrency) {
        return Err(CatalogError::invalid(
            "concurrency",
            format!(
                "must be between 1 and {MAX_VERIFY_CONCURRENCY}, got {}",
                options.concurrency
            ),
        ));
    }
    Ok(VerifyAllOptions {
        filter: filter(options.filter)?,
        ..options
    })
}

/// Checks a GetContent request: a valid selector and a representable range.
pub fn content_request(request: ContentRequest) -> Result<ContentRequest> {
    let selector = match request.selector {
        ContentSelector::RecordId(id) => ContentSelector::RecordId(record_id("record_id", id)?),
        ContentSelector::Sha256(hash) => ContentSelector::Sha256(sha256("sha256", &hash)?),
    };
    if request.offset > i64::MAX as u64 {
        return Err(CatalogError::invalid("offset", "is too large"));
    }
    Ok(ContentRequest {
        selector,
        ..request
    })
}

fn required(field: &str, value: String, max_bytes: usize) -> Result<String> {
    if value.is_empty() {
        return Err(CatalogError::invalid(
            field,
            "is required and must not be empty",
        ));
    }
    within_limits(field, value, max_bytes)
}

fn optional(field: &str, value: Option<String>, max_bytes: usize) -> Result<Option<String>> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| within_limits(field, v, max_bytes))
        .transpose()
}

fn within_limits(field: &str, value: String, max_bytes: usize) -> Result<String> {
    if value.len() > max_bytes {
        return Err(CatalogError::invalid(
            field,
            format!(
                "is {} bytes long, the limit is {max_bytes} bytes",
                value.len()
            ),
        ));
    }
    // PostgreSQL text cannot hold NUL; rejecting it everywhere keeps the providers identical.
    if value.contains('\0') {
        return Err(CatalogError::invalid(
            field,
            "must not contain NUL characters",
        ));
    }
    Ok(value)
}

fn non_negative(field: &str, value: i64) -> Result<i64> {
    if value < 0 {
        return Err(CatalogError::invalid(
            field,
            format!("must not be negative, got {value}"),
        ));
    }
    Ok(value)
}

fn optional_sha256(field: &str, value: Option<String>) -> Result<Option<String>> {
    value
        .filter(|v| !v.is_empty())
        .map(|v| sha256(field, &v))
        .transpose()
}

fn storage_uri(value: Option<String>) -> Result<Option<String>> {
    if let Some(uri) = &value
        && !STORAGE_URI_SCHEMES
            .iter()
            .any(|scheme| uri.starts_with(scheme))
    {
        return Err(CatalogError::invalid(
            "storage_uri",
            format!("must start with one of {}", STORAGE_URI_SCHEMES.join(", ")),
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn valid() -> NewDocument {
        NewDocument {
            sha256: Some("AB".repeat(32)),
            storage_uri: Some("file:///data/x".into()),
            content_type: Some(String::new()),
            ..NewDocument::new("a", "https://x", "r")
        }
    }

    fn field_of(result: Result<NewDocument>) -> String {
        let error = result.expect_err("must be rejected");
        assert_eq!(error.kind, ErrorKind::InvalidArgument);
        error.field.expect("names a field")
    }

    #[test]
    fn test_valid_document_is_normalised() {
        let document = new_document(valid()).expect("valid");
        assert_eq!(document.sha256.as_deref(), Some("ab".repeat(32).as_str()));
        assert_eq!(document.content_type, None);
    }

    #[test]
    fn test_empty_key_fields_are_rejected_by_name() {
        assert_eq!(
            field_of(new_document(NewDocument {
                artifact_id: String::new(),
                ..valid()
            })),
            "artifact_id"
        );
        assert_eq!(
            field_of(new_document(NewDocument {
                source_url: String::new(),
                ..valid()
            })),
            "source_url"
        );
        assert_eq!(
            field_of(new_document(NewDocument {
                resolver: String::new(),
                ..valid()
            })),
            "resolver"
        );
    }

    #[test]
    fn test_oversized_strings_are_rejected() {
        let long_id = "x".repeat(MAX_ID_BYTES + 1);
        let long_url = "x".repeat(MAX_URL_BYTES + 1);
        assert_eq!(
            field_of(new_document(NewDocument {
                artifact_id: long_id.clone(),
                ..valid()
            })),
            "artifact_id"
        );
        assert_eq!(
            field_of(new_document(NewDocument {
                source_url: long_url,
                ..valid()
            })),
            "source_url"
        );
        assert_eq!(
            field_of(new_document(NewDocument {
                run_id: Some(long_id),
                ..valid()
            })),
            "run_id"
        );
        let at_limit = NewDocument {
            artifact_id: "x".repeat(MAX_ID_BYTES),
            ..valid()
        };
        assert!(new_document(at_limit).is_ok());
    }

    #[test]
    fn test_malformed_sha256_negative_size_and_unknown_scheme_are_rejected() {
        assert_eq!(
            field_of(new_document(NewDocument {
                sha256: Some("abc".into()),
                ..valid()
            })),
            "sha256"
        );
        assert_eq!(
            field_of(new_document(NewDocument {
                sha256: Some("g".repeat(64)),
                ..valid()
            })),
            "sha256"
        );
        assert_eq!(
            field_of(new_document(NewDocument {
                bytes: -1,
                ..valid()
            })),
            "bytes"
        );
        let ftp = NewDocument {
            storage_uri: Some("ftp://host/x".into()),
            ..valid()
        };
        assert_eq!(field_of(new_document(ftp)), "storage_uri");
    }

    #[test]
    fn test_nul_characters_are_rejected() {
        assert_eq!(
            field_of(new_document(NewDocument {
                resolver: "a\0b".into(),
                ..valid()
            })),
            "resolver"
        );
    }

    #[test]
    fn test_batch_names_the_item_and_enforces_the_limit() {
        let bad = NewDocument {
            bytes: -5,
            ..valid()
        };
        let error = batch(vec![valid(), bad], 10).expect_err("rejected");
        assert_eq!(error.field.as_deref(), Some("documents[1].bytes"));
        let error = batch(vec![valid(); 3], 2).expect_err("too many");
        assert_eq!(error.field.as_deref(), Some("documents"));
    }

    #[test]
    fn test_verify_options_bounds() {
        let options = VerifyAllOptions {
            sample_rate: 0.0,
            ..VerifyAllOptions::default()
        };
        assert_eq!(
            verify_all(options).expect_err("rate").field.as_deref(),
            Some("sample_rate")
        );
        let options = VerifyAllOptions {
            concurrency: 65,
            ..VerifyAllOptions::default()
        };
        assert_eq!(
            verify_all(options)
                .expect_err("concurrency")
                .field
                .as_deref(),
            Some("concurrency")
        );
    }
}
