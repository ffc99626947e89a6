//! Every bad input names its field, and the same field in-process and over gRPC: validation
//! happens in the provider only, so the remote client reports exactly what the provider said.

use chrono::{TimeZone, Utc};

use super::*;

/// The field named by the INVALID_ARGUMENT of a call.
fn field_of<T>(result: docstokg_catalog::Result<T>) -> String {
    let Err(error) = result else {
        panic!("bad input must be rejected");
    };
    assert_eq!(error.kind, ErrorKind::InvalidArgument, "{error}");
    error
        .field
        .expect("an INVALID_ARGUMENT error names its field")
}

/// Lookups, reads, verification and queries name the field at fault.
pub async fn bad_reads_and_queries_name_their_field(s: &Subject) {
    let c = &s.catalog;
    assert_eq!(field_of(c.get_record(0).await), "id");
    assert_eq!(field_of(c.get_record(-5).await), "id");
    assert_eq!(field_of(c.verify(0).await), "record_id");
    assert_eq!(field_of(c.get_by_sha256("xyz").await), "sha256");
    assert_eq!(field_of(c.get_by_sha256(&"g".repeat(64)).await), "sha256");
    assert_eq!(field_of(c.get_by_artifact("").await), "artifact_id");
    assert_eq!(field_of(c.get_by_run("").await), "run_id");
    assert_eq!(field_of(c.get_by_run(&"r".repeat(513)).await), "run_id");

    let backwards = RecordFilter {
        created_after: Some(Utc.timestamp_opt(2_000_000_000, 0).single().expect("valid")),
        created_before: Some(Utc.timestamp_opt(1_000_000_000, 0).single().expect("valid")),
        ..RecordFilter::default()
    };
    assert_eq!(
        field_of(c.list_records(backwards).await),
        "filter.created_after"
    );
    let nul = RecordFilter {
        resolver: Some("a\0b".into()),
        ..RecordFilter::default()
    };
    assert_eq!(field_of(c.list_records(nul).await), "filter.resolver");

    let single = DuplicateQuery {
        min_count: 1,
        ..DuplicateQuery::default()
    };
    assert_eq!(field_of(c.find_duplicates(single).await), "min_count");
    let no_groups = DuplicateQuery {
        limit: Some(-1),
        ..DuplicateQuery::default()
    };
    assert_eq!(field_of(c.find_duplicates(no_groups).await), "limit");

    let bad_rate = VerifyAllOptions {
        sample_rate: 1.5,
        ..VerifyAllOptions::default()
    };
    assert_eq!(field_of(c.verify_all(bad_rate).await), "sample_rate");
    let too_many = VerifyAllOptions {
        concurrency: 65,
        ..VerifyAllOptions::default()
    };
    assert_eq!(field_of(c.verify_all(too_many).await), "concurrency");
    let huge = VerifyAllOptions {
        concurrency: usize::MAX,
        ..VerifyAllOptions::default()
    };
    assert_eq!(field_of(c.verify_all(huge).await), "concurrency");
    let long_run = VerifyAllOptions {
        filter: RecordFilter {
            run_id: Some("r".repeat(513)),
            ..RecordFilter::default()
        },
        ..VerifyAllOptions::default()
    };
    assert_eq!(field_of(c.verify_all(long_run).await), "filter.run_id");
}

/// Downloads and uploads name the field at fault, and a bad upload stores nothing.
pub async fn bad_content_requests_name_their_field(s: &Subject) {
    let c = &s.catalog;
    let by_record = |id| ContentRequest {
        selector: ContentSelector::RecordId(id),
        offset: 0,
        length: None,
    };
    assert_eq!(field_of(c.get_content(by_record(0)).await), "record_id");
    let by_hash = ContentRequest {
        selector: ContentSelector::Sha256("abc".into()),
        offset: 0,
        length: None,
    };
    assert_eq!(field_of(c.get_content(by_hash).await), "sha256");
    let far = ContentRequest {
        offset: u64::MAX,
        ..by_record(1)
    };
    assert_eq!(field_of(c.get_content(far).await), "offset");

    let body = || futures::stream::iter([Ok(Bytes::from_static(b"bytes"))]).boxed();
    let cases = [
        (
            ContentHeader {
                artifact_id: String::new(),
                ..header("x")
            },
            "artifact_id",
        ),
        (
            ContentHeader {
                resolver: "r".repeat(513),
                ..header("x")
            },
            "resolver",
        ),
        (
            ContentHeader {
                expected_sha256: Some("nope".into()),
                ..header("x")
            },
            "expected_sha256",
        ),
        (
            ContentHeader {
                expected_bytes: Some(-1),
                ..header("x")
            },
            "expected_bytes",
        ),
    ];
    for (bad, field) in cases {
        assert_eq!(field_of(c.put_content(bad, body()).await), field);
    }
    assert_eq!(c.stats().await.expect("stats").total_records, 0);
}
