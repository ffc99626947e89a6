//! The conformance suite: the observable behaviour every provider must show, in-process and over
//! gRPC alike. [`conformance_suite!`](crate::conformance_suite) expands it into one test per case.

use std::collections::HashSet;

use bytes::Bytes;
use docstokg_catalog::{
    ContentHeader, ContentRequest, ContentSelector, DuplicateQuery, ErrorKind, HealthState,
    NewDocument, RecordFilter, VerificationStatus, VerifyAllEvent, VerifyAllOptions,
};
use futures::{TryStreamExt, future::join_all};

use crate::{data::*, harness::Subject};

/// Expands into a `#[tokio::test]` per conformance case, each on a fresh subject from `$factory`
/// (an `async fn() -> Option<Subject>`; `None` means its services are missing).
#[macro_export]
macro_rules! conformance_suite {
    ($factory:path) => {
        $crate::conformance_cases!($factory;
            register_twice_returns_same_id,
            register_twice_reports_differing_fields,
            different_resolver_is_a_different_record,
            lookups_return_expected_counts_newest_first,
            find_duplicates_empty_on_empty_catalog,
            find_duplicates_empty_on_unique_hashes,
            find_duplicates_groups_three_records_sharing_a_hash,
            find_duplicates_orders_by_count_then_hash,
            stats_on_empty_catalog_are_zero,
            stats_on_three_records,
            concurrent_distinct_registrations_get_distinct_ids,
            concurrent_registrations_of_one_key_get_one_id,
            batch_returns_one_outcome_per_item_in_order,
            invalid_input_is_rejected_naming_the_field,
            invalid_batch_registers_nothing,
            longest_allowed_fields_are_accepted,
            unknown_record_id_is_not_found,
            list_records_streams_by_id_with_filters,
            injection_strings_are_stored_verbatim,
            put_content_round_trips_and_deduplicates,
            get_content_returns_a_range,
            upload_with_wrong_hash_leaves_nothing,
            upload_with_wrong_size_leaves_nothing,
            interrupted_upload_leaves_nothing,
            verify_detects_changed_and_missing_bytes,
            verify_outside_storage_is_out_of_scope,
            verify_without_hash_is_no_hash,
            verify_all_reports_every_record_and_a_summary,
            provider_health_is_healthy,
            import_keeps_fields_timestamps_and_free_ids,
            import_rejects_bad_records_naming_the_field,
        );
    };
}

/// Expands the named cases of [`conformance_suite!`](crate::conformance_suite).
#[macro_export]
macro_rules! conformance_cases {
    ($factory:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(subject) = $factory().await else { return };
                $crate::conformance::$case(&subject).await;
            }
        )*
    };
}

/// The error kind and field of a failed call.
fn rejection<T: std::fmt::Debug>(
    result: docstokg_catalog::Result<T>,
) -> (ErrorKind, Option<String>) {
    let error = result.expect_err("the call must fail");
    (error.kind, error.field)
}

/// Registering a key twice returns the same id with `created = false`.
pub async fn register_twice_returns_same_id(s: &Subject) {
    let first = s
        .catalog
        .register_or_get(doc("a1", "https://x/1.pdf", "unpaywall"))
        .await
        .expect("first");
    let second = s
        .catalog
        .register_or_get(doc("a1", "https://x/1.pdf", "unpaywall"))
        .await
        .expect("second");
    assert!(first.created);
    assert!(!second.created);
    assert_eq!(first.record.id, second.record.id);
    assert_eq!(first.record, second.record);
    assert!(second.differing_fields.is_empty());
}

/// A repeated key keeps the stored record and lists the request fields that differ.
pub async fn register_twice_reports_differing_fields(s: &Subject) {
    let original = doc_with_hash("a1", "https://x/1.pdf", 10, &fake_sha256(1));
    s.catalog
        .register_or_get(original.clone())
        .await
        .expect("first");
    let changed = NewDocument {
        bytes: 20,
        sha256: Some(fake_sha256(2)),
        ..original.clone()
    };
    let outcome = s.catalog.register_or_get(changed).await.expect("second");
    assert!(!outcome.created);
    assert_eq!(
        outcome.differing_fields,
        vec!["bytes".to_owned(), "sha256".to_owned()]
    );
    assert_eq!(outcome.record.bytes, 10, "the stored record is immutable");
    assert_eq!(outcome.record.sha256, original.sha256);
}

/// A different resolver for the same artifact and URL is a different record.
pub async fn different_resolver_is_a_different_record(s: &Subject) {
    let a = s
        .catalog
        .register_or_get(doc("a1", "https://x/1.pdf", "unpaywall"))
        .await
        .expect("a");
    let b = s
        .catalog
        .register_or_get(doc("a1", "https://x/1.pdf", "crossref"))
        .await
        .expect("b");
    assert!(a.created && b.created);
    assert_ne!(a.record.id, b.record.id);
}

/// Lookups by artifact, sha256 and run return the expected records, newest first.
pub async fn lookups_return_expected_counts_newest_first(s: &Subject) {
    let hash = fake_sha256(7);
    let mut ids = Vec::new();
    for (artifact, url) in [
        ("a1", "https://x/1"),
        ("a1", "https://x/2"),
        ("a2", "https://x/3"),
    ] {
        let document = NewDocument {
            run_id: Some("run-1".into()),
            ..doc_with_hash(artifact, url, 5, &hash)
        };
        ids.push(
            s.catalog
                .register_or_get(document)
                .await
                .expect("register")
                .record
                .id,
        );
    }
    s.catalog
        .register_or_get(doc("a3", "https://x/4", "r"))
        .await
        .expect("register");
    let by_artifact = s.catalog.get_by_artifact("a1").await.expect("by artifact");
    assert_eq!(
        by_artifact.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![ids[1], ids[0]],
        "newest first"
    );
    assert_eq!(
        s.catalog.get_by_sha256(&hash).await.expect("by sha").len(),
        3
    );
    assert_eq!(
        s.catalog
            .get_by_sha256(&hash.to_uppercase())
            .await
            .expect("uppercase sha")
            .len(),
        3
    );
    assert_eq!(
        s.catalog.get_by_run("run-1").await.expect("by run").len(),
        3
    );
    assert!(
        s.catalog
            .get_by_artifact("missing")
            .await
            .expect("none")
            .is_empty()
    );
    assert!(
        s.catalog
            .get_by_sha256(&fake_sha256(99))
            .await
            .expect("none")
            .is_empty()
    );
}

async fn duplicates(s: &Subject, query: DuplicateQuery) -> Vec<docstokg_catalog::DuplicateGroup> {
    s.catalog
        .find_duplicates(query)
        .await
        .expect("find_duplicates")
        .try_collect()
        .await
        .expect("stream")
}

/// FindDuplicates on an empty catalog is empty.
pub async fn find_duplicates_empty_on_empty_catalog(s: &Subject) {
    assert!(duplicates(s, DuplicateQuery::default()).await.is_empty());
}

/// FindDuplicates with unique hashes is empty.
pub async fn find_duplicates_empty_on_unique_hashes(s: &Subject) {
    for n in 0..3 {
        s.catalog
            .register_or_get(doc_with_hash(
                "a",
                &format!("https://x/{n}"),
                1,
                &fake_sha256(n),
            ))
            .await
            .expect("register");
    }
    assert!(duplicates(s, DuplicateQuery::default()).await.is_empty());
}

/// Three records sharing a hash form one group of count 3, with their records when asked.
pub async fn find_duplicates_groups_three_records_sharing_a_hash(s: &Subject) {
    let hash = fake_sha256(1);
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(
            s.catalog
                .register_or_get(doc_with_hash(&format!("a{n}"), "https://x", 100, &hash))
                .await
                .expect("r")
                .record
                .id,
        );
    }
    s.catalog
        .register_or_get(doc_with_hash("other", "https://y", 1, &fake_sha256(2)))
        .await
        .expect("unique");
    let groups = duplicates(s, DuplicateQuery::default()).await;
    assert_eq!(groups.len(), 1);
    assert_eq!(
        (
            groups[0].sha256.as_str(),
            groups[0].count,
            groups[0].total_bytes
        ),
        (hash.as_str(), 3, 300)
    );
    assert!(groups[0].records.is_empty());
    let groups = duplicates(
        s,
        DuplicateQuery {
            include_records: true,
            ..DuplicateQuery::default()
        },
    )
    .await;
    assert_eq!(
        groups[0].records.iter().map(|r| r.id).collect::<Vec<_>>(),
        ids
    );
    assert!(
        duplicates(
            s,
            DuplicateQuery {
                min_count: 4,
                include_records: false
            }
        )
        .await
        .is_empty()
    );
}

/// Groups come count DESC, then sha256 ASC.
pub async fn find_duplicates_orders_by_count_then_hash(s: &Subject) {
    let (h1, h2, h3) = (fake_sha256(1), fake_sha256(2), fake_sha256(3));
    let mut n = 0;
    for (hash, copies) in [(&h1, 2), (&h2, 3), (&h3, 2)] {
        for _ in 0..copies {
            n += 1;
            s.catalog
                .register_or_get(doc_with_hash("a", &format!("https://x/{n}"), 1, hash))
                .await
                .expect("r");
        }
    }
    let groups = duplicates(
        s,
        DuplicateQuery {
            include_records: true,
            ..DuplicateQuery::default()
        },
    )
    .await;
    let mut tied = [h1.clone(), h3.clone()];
    tied.sort();
    let expected = vec![h2.clone(), tied[0].clone(), tied[1].clone()];
    assert_eq!(
        groups.iter().map(|g| g.sha256.clone()).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(
        groups.iter().map(|g| g.records.len()).collect::<Vec<_>>(),
        vec![3, 2, 2]
    );
}

/// Stats on an empty catalog are all zero.
pub async fn stats_on_empty_catalog_are_zero(s: &Subject) {
    let stats = s.catalog.stats().await.expect("stats");
    assert_eq!(
        (
            stats.total_records,
            stats.total_bytes,
            stats.unique_sha256,
            stats.unique_artifacts,
            stats.duplicate_groups
        ),
        (0, 0, 0, 0, 0)
    );
    assert!(stats.by_resolver.is_empty());
    assert!(!stats.provider.is_empty());
    assert_eq!(stats.storage_backends.len(), 2);
}

/// Three records (2 artifacts, 2 hashes, 1000 + 1000 + 2000 bytes).
pub async fn stats_on_three_records(s: &Subject) {
    let (h1, h2) = (fake_sha256(1), fake_sha256(2));
    s.catalog
        .register_or_get(doc_with_hash("a1", "https://x/1", 1000, &h1))
        .await
        .expect("1");
    s.catalog
        .register_or_get(doc_with_hash("a1", "https://x/2", 1000, &h1))
        .await
        .expect("2");
    s.catalog
        .register_or_get(doc_with_hash("a2", "https://x/3", 2000, &h2))
        .await
        .expect("3");
    let stats = s.catalog.stats().await.expect("stats");
    assert_eq!(stats.total_records, 3);
    assert_eq!(stats.unique_sha256, 2);
    assert_eq!(stats.unique_artifacts, 2);
    assert_eq!(stats.total_bytes, 4000);
    assert_eq!(stats.duplicate_groups, 1);
    assert_eq!(stats.by_resolver.get("unpaywall"), Some(&3));
}

/// Ten concurrent registrations of distinct keys give ten distinct ids.
pub async fn concurrent_distinct_registrations_get_distinct_ids(s: &Subject) {
    let calls = (0..10).map(|n| {
        s.catalog
            .register_or_get(doc(&format!("a{n}"), "https://x", "r"))
    });
    let outcomes: Vec<_> = join_all(calls)
        .await
        .into_iter()
        .map(|o| o.expect("register"))
        .collect();
    assert!(outcomes.iter().all(|o| o.created));
    assert_eq!(
        outcomes
            .iter()
            .map(|o| o.record.id)
            .collect::<HashSet<_>>()
            .len(),
        10
    );
}

/// Ten concurrent registrations of one key give one id, created exactly once.
pub async fn concurrent_registrations_of_one_key_get_one_id(s: &Subject) {
    let calls = (0..10).map(|_| s.catalog.register_or_get(doc("same", "https://x", "r")));
    let outcomes: Vec<_> = join_all(calls)
        .await
        .into_iter()
        .map(|o| o.expect("register"))
        .collect();
    assert_eq!(
        outcomes
            .iter()
            .map(|o| o.record.id)
            .collect::<HashSet<_>>()
            .len(),
        1
    );
    assert_eq!(outcomes.iter().filter(|o| o.created).count(), 1);
    assert_eq!(s.catalog.stats().await.expect("stats").total_records, 1);
}

/// A batch returns one outcome per document in request order, repeated keys included.
pub async fn batch_returns_one_outcome_per_item_in_order(s: &Subject) {
    let existing = s
        .catalog
        .register_or_get(doc("a0", "https://x", "r"))
        .await
        .expect("existing");
    let batch = vec![
        doc("a1", "https://x", "r"),
        doc("a0", "https://x", "r"),
        doc("a2", "https://x", "r"),
        doc("a1", "https://x", "r"),
    ];
    let outcomes = s.catalog.register_or_get_batch(batch).await.expect("batch");
    assert_eq!(
        outcomes
            .iter()
            .map(|o| o.record.artifact_id.as_str())
            .collect::<Vec<_>>(),
        ["a1", "a0", "a2", "a1"]
    );
    assert_eq!(
        outcomes.iter().map(|o| o.created).collect::<Vec<_>>(),
        [true, false, true, false]
    );
    assert_eq!(outcomes[1].record.id, existing.record.id);
    assert_eq!(outcomes[0].record.id, outcomes[3].record.id);
    assert!(
        s.catalog
            .register_or_get_batch(Vec::new())
            .await
            .expect("empty batch")
            .is_empty()
    );
}

/// Bad input is INVALID_ARGUMENT naming the field, and nothing is registered.
pub async fn invalid_input_is_rejected_naming_the_field(s: &Subject) {
    let valid = || doc_with_hash("a", "https://x", 1, &fake_sha256(1));
    let cases: Vec<(NewDocument, &str)> = vec![
        (
            NewDocument {
                artifact_id: String::new(),
                ..valid()
            },
            "artifact_id",
        ),
        (
            NewDocument {
                source_url: String::new(),
                ..valid()
            },
            "source_url",
        ),
        (
            NewDocument {
                resolver: String::new(),
                ..valid()
            },
            "resolver",
        ),
        (
            NewDocument {
                artifact_id: "x".repeat(513),
                ..valid()
            },
            "artifact_id",
        ),
        (
            NewDocument {
                source_url: "x".repeat(8 * 1024 + 1),
                ..valid()
            },
            "source_url",
        ),
        (
            NewDocument {
                sha256: Some("not-a-hash".into()),
                ..valid()
            },
            "sha256",
        ),
        (
            NewDocument {
                bytes: -1,
                ..valid()
            },
            "bytes",
        ),
        (
            NewDocument {
                storage_uri: Some("ftp://host/file".into()),
                ..valid()
            },
            "storage_uri",
        ),
    ];
    for (document, field) in cases {
        let (kind, named) = rejection(s.catalog.register_or_get(document).await);
        assert_eq!(kind, ErrorKind::InvalidArgument);
        assert_eq!(named.as_deref(), Some(field));
    }
    assert_eq!(
        rejection(s.catalog.get_by_sha256("xyz").await),
        (ErrorKind::InvalidArgument, Some("sha256".into()))
    );
    assert_eq!(
        rejection(s.catalog.get_by_artifact("").await),
        (ErrorKind::InvalidArgument, Some("artifact_id".into()))
    );
    assert_eq!(s.catalog.stats().await.expect("stats").total_records, 0);
}

/// One bad document rejects the whole batch, naming its index, and registers nothing.
pub async fn invalid_batch_registers_nothing(s: &Subject) {
    let batch = vec![
        doc("a1", "https://x", "r"),
        NewDocument {
            bytes: -3,
            ..doc("a2", "https://x", "r")
        },
    ];
    let (kind, field) = rejection(s.catalog.register_or_get_batch(batch).await);
    assert_eq!(
        (kind, field.as_deref()),
        (ErrorKind::InvalidArgument, Some("documents[1].bytes"))
    );
    let too_many = (0..1001)
        .map(|n| doc(&format!("a{n}"), "https://x", "r"))
        .collect();
    assert_eq!(
        rejection(s.catalog.register_or_get_batch(too_many).await).0,
        ErrorKind::InvalidArgument
    );
    assert_eq!(s.catalog.stats().await.expect("stats").total_records, 0);
}

/// Fields at their length limits (512-byte ids, 8 KiB URLs) register, idempotently.
pub async fn longest_allowed_fields_are_accepted(s: &Subject) {
    let long_url = format!(
        "https://x/{}",
        pseudo_random_bytes(8 * 1024 - 10, 3)
            .iter()
            .map(|b| char::from(b'a' + b % 26))
            .collect::<String>()
    );
    assert_eq!(long_url.len(), 8 * 1024);
    let document = NewDocument {
        run_id: Some("r".repeat(512)),
        content_type: Some("c".repeat(512)),
        storage_uri: Some(format!("s3://bucket/{}", "k".repeat(8 * 1024 - 12))),
        ..doc(&"a".repeat(512), &long_url, &"z".repeat(512))
    };
    let first = s
        .catalog
        .register_or_get(document.clone())
        .await
        .expect("longest fields register");
    let second = s
        .catalog
        .register_or_get(document.clone())
        .await
        .expect("again");
    assert!(first.created && !second.created);
    assert_eq!(first.record.id, second.record.id);
    assert_eq!(first.record.source_url, long_url);
    let other_url = NewDocument {
        source_url: format!("{}b", &long_url[..long_url.len() - 1]),
        ..document
    };
    assert!(
        s.catalog
            .register_or_get(other_url)
            .await
            .expect("other url")
            .created
    );
}

/// An id that does not exist is NOT_FOUND for every call that takes one.
pub async fn unknown_record_id_is_not_found(s: &Subject) {
    assert_eq!(
        rejection(s.catalog.get_record(424242).await).0,
        ErrorKind::NotFound
    );
    assert_eq!(
        rejection(s.catalog.verify(424242).await).0,
        ErrorKind::NotFound
    );
    let request = ContentRequest {
        selector: ContentSelector::RecordId(424242),
        offset: 0,
        length: None,
    };
    assert_eq!(
        rejection(s.catalog.get_content(request).await).0,
        ErrorKind::NotFound
    );
    let request = ContentRequest {
        selector: ContentSelector::Sha256(fake_sha256(5)),
        offset: 0,
        length: None,
    };
    assert_eq!(
        rejection(s.catalog.get_content(request).await).0,
        ErrorKind::NotFound
    );
    assert_eq!(
        rejection(s.catalog.get_record(0).await).0,
        ErrorKind::InvalidArgument
    );
}

/// ListRecords streams every record by id, and filters by run and resolver.
pub async fn list_records_streams_by_id_with_filters(s: &Subject) {
    let documents: Vec<NewDocument> = (0..1203)
        .map(|n| NewDocument {
            run_id: Some(format!("run-{}", n % 2)),
            ..doc(
                &format!("a{n}"),
                "https://x",
                if n % 3 == 0 { "crossref" } else { "unpaywall" },
            )
        })
        .collect();
    for chunk in documents.chunks(500) {
        s.catalog
            .register_or_get_batch(chunk.to_vec())
            .await
            .expect("batch");
    }
    let all: Vec<_> = s
        .catalog
        .list_records(RecordFilter::default())
        .await
        .expect("list")
        .try_collect()
        .await
        .expect("stream");
    assert_eq!(all.len(), 1203);
    assert!(
        all.windows(2).all(|pair| pair[0].id < pair[1].id),
        "ordered by id"
    );
    let filter = RecordFilter {
        run_id: Some("run-0".into()),
        resolver: Some("crossref".into()),
        ..RecordFilter::default()
    };
    let some: Vec<_> = s
        .catalog
        .list_records(filter)
        .await
        .expect("list")
        .try_collect()
        .await
        .expect("stream");
    assert_eq!(
        some.len(),
        (0..1203).filter(|n| n % 2 == 0 && n % 3 == 0).count()
    );
    let future = RecordFilter {
        created_after: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
        ..RecordFilter::default()
    };
    let none: Vec<_> = s
        .catalog
        .list_records(future)
        .await
        .expect("list")
        .try_collect()
        .await
        .expect("stream");
    assert!(none.is_empty());
}

/// Strings that look like SQL are data: stored and returned verbatim.
pub async fn injection_strings_are_stored_verbatim(s: &Subject) {
    let nasty = [
        "'; DROP TABLE documents; --",
        "\" OR 1=1 --",
        "a'b\"c\\d",
        "ünïcødé ✓ %_*",
        "$1 $$ ? :name",
    ];
    for (n, text) in nasty.iter().enumerate() {
        let document = NewDocument {
            content_type: Some((*text).to_owned()),
            run_id: Some((*text).to_owned()),
            ..doc(text, &format!("https://x/{text}"), text)
        };
        let outcome = s
            .catalog
            .register_or_get(document.clone())
            .await
            .expect("register");
        let fetched = s.catalog.get_record(outcome.record.id).await.expect("get");
        assert_eq!(fetched.artifact_id, *text);
        assert_eq!(fetched.resolver, *text);
        assert_eq!(fetched.source_url, format!("https://x/{text}"));
        assert_eq!(fetched.content_type.as_deref(), Some(*text));
        assert_eq!(
            s.catalog.get_by_artifact(text).await.expect("lookup").len(),
            1,
            "case {n}"
        );
        assert_eq!(
            s.catalog.get_by_run(text).await.expect("lookup").len(),
            1,
            "case {n}"
        );
    }
    assert_eq!(
        s.catalog.stats().await.expect("stats").total_records,
        nasty.len() as i64
    );
}

fn header(artifact_id: &str) -> ContentHeader {
    ContentHeader {
        artifact_id: artifact_id.to_owned(),
        source_url: format!("https://x/{artifact_id}.pdf"),
        resolver: "unpaywall".to_owned(),
        content_type: Some("application/pdf".to_owned()),
        ..ContentHeader::default()
    }
}

async fn download(
    s: &Subject,
    selector: ContentSelector,
    offset: u64,
    length: Option<u64>,
) -> (docstokg_catalog::ContentInfo, Vec<u8>) {
    let download = s
        .catalog
        .get_content(ContentRequest {
            selector,
            offset,
            length,
        })
        .await
        .expect("get_content");
    let chunks: Vec<Bytes> = download.body.try_collect().await.expect("download stream");
    (download.info, chunks.concat())
}

/// Uploaded bytes come back identical; the same bytes again are deduplicated, not re-stored.
pub async fn put_content_round_trips_and_deduplicates(s: &Subject) {
    let data = pseudo_random_bytes(3 * 1024 * 1024 + 17, 1);
    let hash = sha256_of(&data);
    let first = ContentHeader {
        expected_sha256: Some(hash.clone()),
        expected_bytes: Some(data.len() as i64),
        ..header("a1")
    };
    let outcome = s
        .catalog
        .put_content(first, chunked(data.clone(), 64 * 1024))
        .await
        .expect("upload");
    assert!(outcome.registration.created);
    assert!(!outcome.deduplicated);
    let record = outcome.registration.record;
    assert_eq!(record.sha256.as_deref(), Some(hash.as_str()));
    assert_eq!(record.bytes, data.len() as i64);
    assert_eq!(record.content_type.as_deref(), Some("application/pdf"));
    let (info, bytes) = download(s, ContentSelector::RecordId(record.id), 0, None).await;
    assert_eq!(
        (info.total_bytes, info.range_bytes),
        (data.len() as i64, data.len() as i64)
    );
    assert!(bytes == data, "downloaded bytes differ from the upload");
    let again = s
        .catalog
        .put_content(header("a2"), chunked(data.clone(), 1 << 20))
        .await
        .expect("second upload");
    assert!(again.deduplicated);
    assert!(again.registration.created);
    assert_eq!(again.registration.record.storage_uri, record.storage_uri);
    assert_eq!(
        s.stored_objects().await,
        (1, 0),
        "one stored object, nothing left over"
    );
    let (_, by_hash) = download(s, ContentSelector::Sha256(hash), 0, None).await;
    assert!(by_hash == data);
}

/// GetContent honours offset and length.
pub async fn get_content_returns_a_range(s: &Subject) {
    let data = b"0123456789abcdef".to_vec();
    let record = s
        .catalog
        .put_content(header("a1"), chunked(data, 5))
        .await
        .expect("upload")
        .registration
        .record;
    let (info, bytes) = download(s, ContentSelector::RecordId(record.id), 3, Some(4)).await;
    assert_eq!(bytes, b"3456");
    assert_eq!((info.total_bytes, info.range_bytes), (16, 4));
    let (_, tail) = download(s, ContentSelector::RecordId(record.id), 10, None).await;
    assert_eq!(tail, b"abcdef");
    let past_end = ContentRequest {
        selector: ContentSelector::RecordId(record.id),
        offset: 17,
        length: None,
    };
    assert_eq!(
        rejection(s.catalog.get_content(past_end).await).0,
        ErrorKind::InvalidArgument
    );
}

async fn assert_nothing_stored(s: &Subject) {
    assert_eq!(
        s.stored_objects().await,
        (0, 0),
        "no blob, no temporary file, no incomplete upload"
    );
    assert_eq!(
        s.catalog.stats().await.expect("stats").total_records,
        0,
        "no record"
    );
}

/// An upload whose bytes do not hash to the declared sha256 is rejected and leaves nothing.
pub async fn upload_with_wrong_hash_leaves_nothing(s: &Subject) {
    let wrong = ContentHeader {
        expected_sha256: Some(fake_sha256(1)),
        ..header("a1")
    };
    let (kind, field) = rejection(
        s.catalog
            .put_content(wrong, chunked(vec![7; 100_000], 10_000))
            .await,
    );
    assert_eq!(
        (kind, field.as_deref()),
        (ErrorKind::InvalidArgument, Some("expected_sha256"))
    );
    assert_nothing_stored(s).await;
}

/// An upload of another size than declared is rejected and leaves nothing.
pub async fn upload_with_wrong_size_leaves_nothing(s: &Subject) {
    for declared in [10, 1_000_000] {
        let wrong = ContentHeader {
            expected_bytes: Some(declared),
            ..header("a1")
        };
        let (kind, field) = rejection(
            s.catalog
                .put_content(wrong, chunked(vec![7; 100_000], 10_000))
                .await,
        );
        assert_eq!(
            (kind, field.as_deref()),
            (ErrorKind::InvalidArgument, Some("expected_bytes"))
        );
    }
    assert_nothing_stored(s).await;
}

/// An upload whose stream breaks off leaves no blob, no temporary file and no record.
pub async fn interrupted_upload_leaves_nothing(s: &Subject) {
    let result = s
        .catalog
        .put_content(header("a1"), interrupted(vec![1; 200_000]))
        .await;
    assert!(result.is_err(), "an interrupted upload must fail");
    // The server notices a client that went away asynchronously; give it a moment.
    for _ in 0..50 {
        if s.stored_objects().await == (0, 0) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_nothing_stored(s).await;
}

/// Verify re-hashes the stored bytes: VERIFIED, then MISMATCH after a change behind the
/// catalog's back, then MISSING after a deletion.
pub async fn verify_detects_changed_and_missing_bytes(s: &Subject) {
    let record = s
        .catalog
        .put_content(header("a1"), chunked(b"original bytes".to_vec(), 4))
        .await
        .expect("upload")
        .registration
        .record;
    let verified = s.catalog.verify(record.id).await.expect("verify");
    assert_eq!(verified.status, VerificationStatus::Verified);
    assert_eq!(verified.actual_sha256, record.sha256);
    let uri = record.storage_uri.clone().expect("stored");
    s.overwrite(&uri, b"tampered bytes").await;
    let mismatch = s.catalog.verify(record.id).await.expect("verify");
    assert_eq!(mismatch.status, VerificationStatus::Mismatch);
    assert_ne!(mismatch.actual_sha256, mismatch.expected_sha256);
    s.delete(&uri).await;
    assert_eq!(
        s.catalog.verify(record.id).await.expect("verify").status,
        VerificationStatus::Missing
    );
}

/// A record pointing outside the provider's storage is OUT_OF_SCOPE and never opened.
pub async fn verify_outside_storage_is_out_of_scope(s: &Subject) {
    for uri in [
        "file:///etc/shadow",
        "file:///tmp/../etc/passwd",
        "s3://someone-elses-bucket/key",
    ] {
        let document = NewDocument {
            storage_uri: Some(uri.to_owned()),
            ..doc_with_hash("a", uri, 1, &fake_sha256(1))
        };
        let record = s
            .catalog
            .register_or_get(document)
            .await
            .expect("register")
            .record;
        let result = s.catalog.verify(record.id).await.expect("verify");
        assert_eq!(result.status, VerificationStatus::OutOfScope, "{uri}");
        assert_eq!(result.actual_sha256, None);
        let request = ContentRequest {
            selector: ContentSelector::RecordId(record.id),
            offset: 0,
            length: None,
        };
        assert_eq!(
            rejection(s.catalog.get_content(request).await).0,
            ErrorKind::FailedPrecondition
        );
    }
}

/// A record without a hash is NO_HASH; one without a storage_uri is MISSING.
pub async fn verify_without_hash_is_no_hash(s: &Subject) {
    let stored = s
        .catalog
        .put_content(header("a1"), chunked(b"bytes".to_vec(), 5))
        .await
        .expect("upload")
        .registration
        .record;
    let unhashed = NewDocument {
        storage_uri: stored.storage_uri.clone(),
        ..doc("a2", "https://x", "r")
    };
    let record = s
        .catalog
        .register_or_get(unhashed)
        .await
        .expect("register")
        .record;
    assert_eq!(
        s.catalog.verify(record.id).await.expect("verify").status,
        VerificationStatus::NoHash
    );
    let nowhere = s
        .catalog
        .register_or_get(doc_with_hash("a3", "https://y", 1, &fake_sha256(3)))
        .await
        .expect("r")
        .record;
    assert_eq!(
        s.catalog.verify(nowhere.id).await.expect("verify").status,
        VerificationStatus::Missing
    );
}

/// VerifyAll announces the work, reports every record in id order, then a summary that adds up.
pub async fn verify_all_reports_every_record_and_a_summary(s: &Subject) {
    for n in 0..5u8 {
        s.catalog
            .put_content(header(&format!("a{n}")), chunked(vec![n; 1000], 300))
            .await
            .expect("upload");
    }
    s.catalog
        .register_or_get(doc("no-hash", "https://x", "r"))
        .await
        .expect("register");
    let events: Vec<VerifyAllEvent> = s
        .catalog
        .verify_all(VerifyAllOptions {
            concurrency: 3,
            ..VerifyAllOptions::default()
        })
        .await
        .expect("verify_all")
        .try_collect()
        .await
        .expect("stream");
    assert_eq!(
        events.first(),
        Some(&VerifyAllEvent::Started {
            matching_records: 6
        })
    );
    let results: Vec<_> = events
        .iter()
        .filter_map(|e| {
            if let VerifyAllEvent::Result(r) = e {
                Some(r)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(results.len(), 6);
    assert!(
        results
            .windows(2)
            .all(|pair| pair[0].record_id < pair[1].record_id)
    );
    let Some(VerifyAllEvent::Summary(summary)) = events.last() else {
        panic!("no summary last")
    };
    assert_eq!(
        (
            summary.checked,
            summary.verified,
            summary.missing,
            summary.skipped
        ),
        (6, 5, 1, 0)
    );
    let sampled: Vec<VerifyAllEvent> = s
        .catalog
        .verify_all(VerifyAllOptions {
            sample_rate: 0.5,
            ..VerifyAllOptions::default()
        })
        .await
        .expect("verify_all")
        .try_collect()
        .await
        .expect("stream");
    let Some(VerifyAllEvent::Summary(summary)) = sampled.last() else {
        panic!("no summary last")
    };
    assert_eq!(summary.checked + summary.skipped, 6);
    let (kind, field) = rejection(
        s.catalog
            .verify_all(VerifyAllOptions {
                sample_rate: 2.0,
                ..VerifyAllOptions::default()
            })
            .await
            .map(|_| ()),
    );
    assert_eq!(
        (kind, field.as_deref()),
        (ErrorKind::InvalidArgument, Some("sample_rate"))
    );
}

/// ProviderHealth reports every backend healthy, with latency.
pub async fn provider_health_is_healthy(s: &Subject) {
    let report = s.catalog.provider_health().await.expect("health");
    assert_eq!(report.state, HealthState::Healthy, "{}", report.message);
    assert_eq!(
        report
            .backends
            .iter()
            .map(|b| b.name.as_str())
            .collect::<Vec<_>>(),
        ["metadata", "blobs"]
    );
    assert!(report.backends.iter().all(|b| b.latency_ms >= 0.0));
}

fn exported(id: i64, artifact_id: &str, days_ago: i64) -> docstokg_catalog::DocumentRecord {
    let at = chrono::DateTime::from_timestamp_micros(
        (chrono::Utc::now() - chrono::Duration::days(days_ago)).timestamp_micros(),
    )
    .expect("valid instant");
    docstokg_catalog::DocumentRecord {
        id,
        artifact_id: artifact_id.to_owned(),
        source_url: format!("https://x/{artifact_id}"),
        resolver: "unpaywall".to_owned(),
        content_type: Some("application/pdf".to_owned()),
        bytes: 42,
        sha256: Some(fake_sha256(id as u64)),
        storage_uri: Some(format!("s3://elsewhere/{artifact_id}")),
        created_at: at,
        updated_at: at,
        run_id: Some("run-7".to_owned()),
    }
}

/// ImportRecords restores records field for field (timestamps included) and keeps free ids;
/// a repeated import changes nothing, a taken id gets a new one, and later registrations get
/// ids past the imported ones.
pub async fn import_keeps_fields_timestamps_and_free_ids(s: &Subject) {
    let records = vec![
        exported(10, "a10", 30),
        exported(20, "a20", 20),
        exported(30, "a30", 10),
    ];
    let outcomes = s
        .catalog
        .import_records(records.clone(), true)
        .await
        .expect("import");
    assert!(outcomes.iter().all(|o| o.created));
    for record in &records {
        assert_eq!(
            &s.catalog.get_record(record.id).await.expect("imported"),
            record
        );
    }
    let again = s
        .catalog
        .import_records(records.clone(), true)
        .await
        .expect("import again");
    assert!(again.iter().all(|o| !o.created));
    assert_eq!(s.catalog.stats().await.expect("stats").total_records, 3);
    let clash = exported(20, "other", 5);
    let moved = s
        .catalog
        .import_records(vec![clash.clone()], true)
        .await
        .expect("import clash");
    assert!(moved[0].created);
    assert_ne!(moved[0].record.id, 20, "a taken id is not reused");
    assert_eq!(moved[0].record.created_at, clash.created_at);
    let fresh = s
        .catalog
        .register_or_get(doc("new", "https://x/new", "r"))
        .await
        .expect("register");
    assert!(
        fresh.record.id > 30,
        "new ids come after imported ones, got {}",
        fresh.record.id
    );
    let renumbered = s
        .catalog
        .import_records(vec![exported(10, "b10", 1)], false)
        .await
        .expect("import");
    assert_ne!(renumbered[0].record.id, 10);
}

/// Bad records are INVALID_ARGUMENT naming the record and field, and nothing is imported.
pub async fn import_rejects_bad_records_naming_the_field(s: &Subject) {
    let bad = docstokg_catalog::DocumentRecord {
        sha256: Some("xyz".into()),
        ..exported(2, "a2", 1)
    };
    let (kind, field) = rejection(
        s.catalog
            .import_records(vec![exported(1, "a1", 1), bad], true)
            .await,
    );
    assert_eq!(
        (kind, field.as_deref()),
        (ErrorKind::InvalidArgument, Some("records[1].sha256"))
    );
    assert_eq!(s.catalog.stats().await.expect("stats").total_records, 0);
}
