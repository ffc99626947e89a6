//! Conformance cases: DeleteRecords, Stats' dedup analytics, FindDuplicates' limit, AuditStorage,
//! and registrations that point at the provider's own stored bytes.

use docstokg_catalog::{
    AuditEvent, AuditFinding, AuditFindingKind, AuditOptions, AuditSummary, DeleteReport,
    DeleteRequest, DeleteSelection, RegisterOutcome,
};

use super::*;

async fn delete(s: &Subject, selection: DeleteSelection, dry_run: bool) -> DeleteReport {
    s.catalog
        .delete_records(DeleteRequest { selection, dry_run })
        .await
        .expect("delete_records")
}

async fn register(s: &Subject, document: NewDocument) -> RegisterOutcome {
    s.catalog.register_or_get(document).await.expect("register")
}

/// Deleting by id: a dry run lists what would go and deletes nothing; a real run deletes only
/// what exists (unknown ids are not an error), the record is gone from every read, its key can
/// be registered again under a new id, and deleting again matches nothing.
pub async fn delete_by_ids_is_idempotent_and_frees_the_key(s: &Subject) {
    let a = register(s, doc("a1", "https://x/1", "r")).await.record;
    let b = register(s, doc("a2", "https://x/2", "r")).await.record;
    let kept = register(s, doc("a3", "https://x/3", "r")).await.record;
    let ids = DeleteSelection::Ids(vec![b.id, a.id, 999_999]);
    let dry = delete(s, ids.clone(), true).await;
    assert_eq!((dry.matched, dry.deleted), (2, 0));
    assert_eq!(dry.ids, vec![a.id, b.id]);
    assert_eq!(s.catalog.stats().await.expect("stats").total_records, 3);
    let done = delete(s, ids.clone(), false).await;
    assert_eq!((done.matched, done.deleted), (2, 2));
    assert_eq!(done.ids, vec![a.id, b.id]);
    assert!(!done.ids_truncated);
    let gone = s.catalog.get_record(a.id).await.expect_err("deleted");
    assert_eq!(gone.kind, ErrorKind::NotFound);
    assert!(
        s.catalog
            .get_by_artifact("a1")
            .await
            .expect("lookup")
            .is_empty()
    );
    assert_eq!(s.catalog.get_record(kept.id).await.expect("kept"), kept);
    let again = register(s, doc("a1", "https://x/1", "r")).await;
    assert!(again.created, "a deleted key registers anew");
    assert_ne!(again.record.id, a.id, "with a new id");
    let twice = delete(s, ids, false).await;
    assert_eq!((twice.matched, twice.deleted), (0, 0));
}

/// Deleting by filter deletes every matching record (across batches) and nothing else; a filter
/// with no field set is refused rather than deleting everything.
pub async fn delete_by_filter_deletes_only_matches(s: &Subject) {
    let mut run = Vec::new();
    for i in 0..1203 {
        run.push(NewDocument {
            run_id: Some("doomed".into()),
            ..doc(&format!("d{i}"), "https://x/d", "r")
        });
    }
    for chunk in run.chunks(1000) {
        s.catalog
            .register_or_get_batch(chunk.to_vec())
            .await
            .expect("batch");
    }
    let other = register(
        s,
        NewDocument {
            run_id: Some("kept".into()),
            ..doc("k", "https://x/k", "r")
        },
    )
    .await
    .record;
    let same_artifact = register(s, doc("d7", "https://x/other", "r")).await.record;
    let by_run = DeleteSelection::Filter(RecordFilter {
        run_id: Some("doomed".into()),
        ..RecordFilter::default()
    });
    let dry = delete(s, by_run.clone(), true).await;
    assert_eq!((dry.matched, dry.deleted, dry.ids.len()), (1203, 0, 1203));
    let done = delete(s, by_run, false).await;
    assert_eq!((done.matched, done.deleted), (1203, 1203));
    let left: Vec<i64> = s
        .catalog
        .list_records(RecordFilter::default())
        .await
        .expect("list")
        .map_ok(|r| r.id)
        .try_collect()
        .await
        .expect("list");
    assert_eq!(left, vec![other.id, same_artifact.id]);
    let by_artifact = DeleteSelection::Filter(RecordFilter {
        artifact_id: Some("d7".into()),
        ..RecordFilter::default()
    });
    assert_eq!(
        delete(s, by_artifact, false).await.ids,
        vec![same_artifact.id]
    );
    let everything = s
        .catalog
        .delete_records(DeleteRequest {
            selection: DeleteSelection::Filter(RecordFilter::default()),
            dry_run: false,
        })
        .await;
    assert_eq!(
        rejection(everything),
        (ErrorKind::InvalidArgument, Some("filter".into()))
    );
    let bad_id = s
        .catalog
        .delete_records(DeleteRequest {
            selection: DeleteSelection::Ids(vec![other.id, 0]),
            dry_run: true,
        })
        .await;
    assert_eq!(
        rejection(bad_id),
        (ErrorKind::InvalidArgument, Some("ids[1]".into()))
    );
    assert_eq!(s.catalog.get_record(other.id).await.expect("kept"), other);
}

/// Stats: bytes registered vs stored once, what dedup saves, the ratio, duplicate groups per
/// resolver.
pub async fn stats_report_dedup_savings(s: &Subject) {
    let shared = pseudo_random_bytes(3000, 7);
    let single = pseudo_random_bytes(1000, 8);
    for (artifact, resolver) in [("s1", "crossref"), ("s2", "unpaywall")] {
        let header = ContentHeader {
            resolver: resolver.into(),
            ..header(artifact)
        };
        s.catalog
            .put_content(header, chunked(shared.clone(), 1000))
            .await
            .expect("upload");
    }
    s.catalog
        .put_content(header("u1"), chunked(single, 1000))
        .await
        .expect("upload");
    register(s, doc("nohash", "https://x/n", "crossref")).await;
    let stats = s.catalog.stats().await.expect("stats");
    assert_eq!(stats.hashed_bytes, 7000);
    assert_eq!(stats.unique_bytes, 4000);
    assert_eq!(stats.dedup_saved_bytes, 3000);
    assert!((stats.dedup_ratio() - 1.75).abs() < 1e-9);
    assert_eq!(
        stats
            .duplicate_groups_by_resolver
            .into_iter()
            .collect::<Vec<_>>(),
        vec![("crossref".to_owned(), 1), ("unpaywall".to_owned(), 1)]
    );
}

/// FindDuplicates with a limit streams only the largest groups, in the usual order.
pub async fn find_duplicates_limit_returns_the_largest_groups(s: &Subject) {
    for (group, size) in [(1_u64, 4), (2, 2), (3, 3)] {
        for i in 0..size {
            register(
                s,
                doc_with_hash(
                    &format!("g{group}-{i}"),
                    "https://x/g",
                    10,
                    &fake_sha256(group),
                ),
            )
            .await;
        }
    }
    let query = DuplicateQuery {
        limit: Some(2),
        include_records: true,
        ..DuplicateQuery::default()
    };
    let groups: Vec<_> = s
        .catalog
        .find_duplicates(query)
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("stream");
    let counts: Vec<(i64, usize)> = groups.iter().map(|g| (g.count, g.records.len())).collect();
    assert_eq!(counts, vec![(4, 4), (3, 3)]);
    let totals_only = DuplicateQuery {
        limit: Some(1),
        ..DuplicateQuery::default()
    };
    let top: Vec<_> = s
        .catalog
        .find_duplicates(totals_only)
        .await
        .expect("find")
        .try_collect()
        .await
        .expect("stream");
    assert_eq!(top.len(), 1);
    assert_eq!((top[0].count, top[0].total_bytes), (4, 40));
    assert_eq!(top[0].sha256, fake_sha256(1));
}

/// Runs an audit; returns its findings and summary, checking the stream's shape.
pub async fn audit(s: &Subject, rehash_rate: f64) -> (Vec<AuditFinding>, AuditSummary) {
    let events: Vec<AuditEvent> = s
        .catalog
        .audit_storage(AuditOptions { rehash_rate })
        .await
        .expect("audit")
        .try_collect()
        .await
        .expect("audit stream");
    assert!(matches!(events.first(), Some(AuditEvent::Started { .. })));
    let Some(AuditEvent::Summary(summary)) = events.last().cloned() else {
        panic!("the audit must end with a summary: {events:?}");
    };
    let findings = events
        .into_iter()
        .filter_map(|event| match event {
            AuditEvent::Finding(finding) => Some(finding),
            _ => None,
        })
        .collect();
    (findings, summary)
}

/// The audit finds each kind of problem once, where it is, and counts it; a clean catalog has
/// none. Re-hashing finds a same-size change that the size check cannot.
pub async fn audit_finds_orphans_missing_mismatches_and_out_of_scope(s: &Subject) {
    let upload = |artifact: &'static str, seed: u64| async move {
        s.catalog
            .put_content(
                header(artifact),
                chunked(pseudo_random_bytes(500, seed), 100),
            )
            .await
            .expect("upload")
            .registration
            .record
    };
    let clean = upload("clean", 1).await;
    let (findings, summary) = audit(s, 1.0).await;
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!((summary.records_checked, summary.objects_checked), (1, 1));
    assert_eq!(summary.rehashed, 1);
    let orphan = upload("orphan", 2).await;
    delete(s, DeleteSelection::Ids(vec![orphan.id]), false).await;
    let missing = upload("missing", 3).await;
    s.delete(missing.storage_uri.as_deref().expect("uri")).await;
    let resized = upload("resized", 4).await;
    s.overwrite(resized.storage_uri.as_deref().expect("uri"), b"short")
        .await;
    let altered = upload("altered", 5).await;
    s.overwrite(
        altered.storage_uri.as_deref().expect("uri"),
        &pseudo_random_bytes(500, 99),
    )
    .await;
    let elsewhere = register(
        s,
        NewDocument {
            storage_uri: Some("s3://elsewhere/doc.pdf".into()),
            ..doc_with_hash("elsewhere", "https://x/e", 10, &fake_sha256(5))
        },
    )
    .await
    .record;
    let (findings, summary) = audit(s, 0.0).await;
    let found: HashSet<(AuditFindingKind, Option<i64>)> =
        findings.iter().map(|f| (f.kind, f.record_id)).collect();
    let expected: HashSet<(AuditFindingKind, Option<i64>)> = [
        (AuditFindingKind::Orphan, None),
        (AuditFindingKind::Missing, Some(missing.id)),
        (AuditFindingKind::Mismatch, Some(resized.id)),
        (AuditFindingKind::OutOfScope, Some(elsewhere.id)),
    ]
    .into();
    assert_eq!(found, expected, "{findings:?}");
    let orphan_finding = findings
        .iter()
        .find(|f| f.kind == AuditFindingKind::Orphan)
        .expect("orphan");
    assert_eq!(orphan_finding.sha256, orphan.sha256);
    assert_eq!(orphan_finding.bytes, 500);
    assert_eq!(
        (summary.orphans, summary.orphan_bytes, summary.missing),
        (1, 500, 1)
    );
    assert_eq!((summary.mismatched, summary.out_of_scope), (1, 1));
    assert_eq!(summary.records_checked, 5);
    assert_eq!(summary.rehashed, 0);
    let (findings, summary) = audit(s, 1.0).await;
    assert!(
        findings
            .iter()
            .any(|f| f.kind == AuditFindingKind::Mismatch && f.record_id == Some(altered.id)),
        "re-hashing finds the same-size change: {findings:?}"
    );
    assert_eq!(summary.mismatched, 2);
    assert!(summary.rehashed >= 2, "{summary:?}");
    assert_eq!(clean.bytes, 500);
    let bad = s
        .catalog
        .audit_storage(AuditOptions { rehash_rate: 1.5 })
        .await;
    assert_eq!(
        rejection(bad.map(drop)),
        (ErrorKind::InvalidArgument, Some("rehash_rate".into()))
    );
}

/// A registration that points at the provider's own stored bytes is accepted while they are
/// there, and refused with FAILED_PRECONDITION when they are not (alone and in a batch): the
/// catalog never acknowledges a record whose bytes it knows are gone.
pub async fn registration_pointing_at_missing_stored_bytes_is_refused(s: &Subject) {
    let stored = s
        .catalog
        .put_content(
            header("original"),
            chunked(pseudo_random_bytes(300, 3), 100),
        )
        .await
        .expect("upload")
        .registration
        .record;
    let pointing = NewDocument {
        bytes: stored.bytes,
        sha256: stored.sha256.clone(),
        storage_uri: stored.storage_uri.clone(),
        ..doc("second", "https://x/second", "r")
    };
    assert!(register(s, pointing.clone()).await.created);
    s.delete(stored.storage_uri.as_deref().expect("uri")).await;
    let refused = s
        .catalog
        .register_or_get(NewDocument {
            artifact_id: "third".into(),
            ..pointing.clone()
        })
        .await
        .expect_err("refused");
    assert_eq!(refused.kind, ErrorKind::FailedPrecondition, "{refused:?}");
    let batch = s
        .catalog
        .register_or_get_batch(vec![
            doc("fine", "https://x/f", "r"),
            NewDocument {
                artifact_id: "fourth".into(),
                ..pointing
            },
        ])
        .await
        .expect_err("refused");
    assert_eq!(batch.kind, ErrorKind::FailedPrecondition, "{batch:?}");
    assert!(
        batch.message.contains("documents[1].storage_uri"),
        "{batch:?}"
    );
    assert!(
        s.catalog
            .get_by_artifact("fine")
            .await
            .expect("lookup")
            .is_empty()
    );
}
