//! Conformance cases: ImportRecords.

use super::*;

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
