//! Conformance cases: Verification of stored bytes.

use super::*;

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
