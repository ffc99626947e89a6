//! Conformance cases: Uploads and downloads.

use super::*;

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
