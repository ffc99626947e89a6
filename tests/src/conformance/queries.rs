//! Conformance cases: Lookups, streams, duplicates, stats and health.

use super::*;

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
            limit: None,
            ..DuplicateQuery::default()
        },
    )
    .await;
    assert_eq!(
        groups[0].records.iter().map(|r| r.id).collect::<Vec<_>>(),
        ids
    );
    assert_eq!((groups[0].count, groups[0].total_bytes), (3, 300));
    assert!(
        duplicates(
            s,
            DuplicateQuery {
                min_count: 4,
                ..DuplicateQuery::default()
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
            limit: None,
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

/// ProviderHealth reports every backend healthy, each with what its probe saw.
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
    for backend in &report.backends {
        assert_eq!(backend.state, HealthState::Healthy, "{}", backend.message);
        assert!(!backend.message.is_empty(), "{} says nothing", backend.name);
    }
}
