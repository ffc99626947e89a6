"""The lifecycle RPCs: DeleteRecords (by ids, by filter, dry run, idempotent, refused for a
read-only token), ApplyRetention (the rule scripts/test-clients configures on the server without
auth), AuditStorage (orphans, missing, mismatched and out-of-scope bytes), and the dedup figures of
Stats and FindDuplicates' limit."""

import hashlib
import io
import os

import pytest

from docstokg_catalog import (
    AuditFindingKind,
    AuditStorageRun,
    CatalogClient,
    DeleteReport,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RetentionReport,
)

#: The rule scripts/test-clients gives the server without auth: of the records of this resolver,
#: keep the newest of each artifact. One test alone (of this suite) registers records of it.
RETENTION_RULE = "client-keep-one"
RETENTION_RESOLVER = "client-retention"


def test_delete_by_ids_removes_the_records_and_frees_their_keys(catalog, doc):
    kept, newest = (o.record for o in catalog.register_or_get_batch([doc(0), doc(1)]))

    report = catalog.delete_records([newest.id])

    assert report == DeleteReport(matched=1, deleted=1, ids=(newest.id,), ids_truncated=False)
    with pytest.raises(NotFound):
        catalog.get_record(newest.id)
    assert catalog.get_record(kept.id) == kept
    again = catalog.register_or_get(**doc(1))
    assert again.created, "a deleted key can be registered again"
    assert again.id > newest.id, "under a new id, even after deleting the highest one"
    assert catalog.get_by_artifact(newest.artifact_id) == [again.record]


def test_delete_by_filter_removes_only_the_matching_records(catalog, doc, unique):
    artifact = f"{unique}-artifact-0"
    doomed = [
        catalog.register_or_get(**doc(0, source_url=f"https://example.org/{unique}/{n}")).record
        for n in range(2)
    ]
    other = catalog.register_or_get(**doc(1)).record
    by_run = [
        o.record for o in catalog.register_or_get_batch([doc(n, run_id=unique) for n in (2, 3)])
    ]

    report = catalog.delete_records(artifact_id=artifact)
    assert (report.matched, report.deleted) == (2, 2)
    assert report.ids == tuple(sorted(r.id for r in doomed)) and not report.ids_truncated
    assert catalog.get_by_artifact(artifact) == []
    assert catalog.get_record(other.id) == other

    report = catalog.delete_records(run_id=unique, resolver="unpaywall")
    assert (report.matched, report.deleted, report.ids) == (2, 2, tuple(r.id for r in by_run))
    assert list(catalog.list_records(run_id=unique)) == []
    assert catalog.get_record(other.id) == other


def test_a_dry_run_reports_what_it_would_delete_and_deletes_nothing(catalog, doc, unique):
    records = [
        o.record for o in catalog.register_or_get_batch([doc(n, run_id=unique) for n in range(3)])
    ]

    by_filter = catalog.delete_records(run_id=unique, dry_run=True)
    by_ids = catalog.delete_records([r.id for r in reversed(records)], dry_run=True)

    expected = DeleteReport(
        matched=3, deleted=0, ids=tuple(r.id for r in records), ids_truncated=False
    )
    assert by_filter == expected and by_ids == expected
    assert list(catalog.list_records(run_id=unique)) == records


def test_deleting_twice_is_not_an_error(catalog, doc):
    record = catalog.register_or_get(**doc()).record

    first = catalog.delete_records([record.id])
    second = catalog.delete_records([record.id])
    by_filter = catalog.delete_records(artifact_id=record.artifact_id)

    assert (first.matched, first.deleted) == (1, 1)
    assert second == DeleteReport(matched=0, deleted=0, ids=(), ids_truncated=False)
    assert (by_filter.matched, by_filter.deleted, by_filter.ids) == (0, 0, ())


def test_bad_delete_requests_are_invalid_arguments_naming_the_field(catalog, doc):
    record = catalog.register_or_get(**doc()).record

    cases = {
        "filter": [
            lambda: catalog.delete_records([record.id], artifact_id=record.artifact_id),
            lambda: catalog.delete_records(),  # no ids and no filter field: never "everything"
            lambda: catalog.delete_records(dry_run=True),
        ],
        "ids[1]": [lambda: catalog.delete_records([record.id, 0])],
        "ids": [lambda: catalog.delete_records(range(1, 1002))],  # over the default batch limit
    }
    for field, calls in cases.items():
        for call in calls:
            with pytest.raises(InvalidArgument) as raised:
                call()
            assert raised.value.field == field
    assert catalog.get_record(record.id) == record, "nothing deleted"


def test_a_read_only_token_may_not_delete_or_apply_retention(
    auth_endpoint, token, read_only_token, doc
):
    with (
        CatalogClient(auth_endpoint, token) as writer,
        CatalogClient(auth_endpoint, read_only_token) as reader,
    ):
        record = writer.register_or_get(**doc()).record
        assert reader.get_record(record.id) == record, "the read-only token may read"
        with pytest.raises(PermissionDenied):
            reader.delete_records([record.id])
        with pytest.raises(PermissionDenied):
            reader.delete_records(artifact_id=record.artifact_id, dry_run=True)
        with pytest.raises(PermissionDenied):
            reader.apply_retention(dry_run=True)
        assert writer.get_record(record.id) == record

        assert writer.apply_retention(dry_run=True) == RetentionReport(rules=(), dry_run=True), (
            "the auth server has no retention rule"
        )
        assert writer.delete_records([record.id]).deleted == 1
        with pytest.raises(NotFound):
            reader.get_record(record.id)


def test_apply_retention_keeps_the_newest_record_of_each_artifact(catalog, doc, unique):
    fields = doc(resolver=RETENTION_RESOLVER, bytes=100)
    records = [
        catalog.register_or_get(**{**fields, "source_url": f"https://example.org/{unique}/{n}"})
        for n in range(3)
    ]
    newest = records[-1].record
    artifact = newest.artifact_id
    assert catalog.get_by_artifact(artifact)[0] == newest

    dry = catalog.apply_retention(dry_run=True)
    (rule,) = [r for r in dry.rules if r.rule == RETENTION_RULE]
    assert dry.dry_run and rule.deleted == 0
    assert rule.matched >= 2 and rule.matched_bytes >= 200
    assert len(catalog.get_by_artifact(artifact)) == 3, "a dry run deletes nothing"

    applied = catalog.apply_retention()
    (rule,) = [r for r in applied.rules if r.rule == RETENTION_RULE]
    assert not applied.dry_run and rule.deleted >= 2 and rule.matched >= rule.deleted
    assert catalog.get_by_artifact(artifact) == [newest]
    assert catalog.get_record(newest.id) == newest


def test_audit_storage_reports_orphans_missing_mismatched_and_out_of_scope(catalog, doc, unique):
    orphaned = catalog.put_content(io.BytesIO(os.urandom(4321)), **doc(0)).record
    assert catalog.delete_records([orphaned.id]).deleted == 1, "its bytes are now an orphan"
    stored = catalog.put_content(io.BytesIO(os.urandom(1000)), **doc(1)).record
    elsewhere = catalog.register_or_get(**doc(2, storage_uri=f"s3://elsewhere/{unique}")).record
    absent_sha256 = hashlib.sha256(unique.encode()).hexdigest()
    missing = catalog.register_or_get(
        **doc(3, storage_uri=stored.storage_uri.replace(stored.sha256, absent_sha256))
    ).record
    resized = catalog.register_or_get(
        **doc(4, storage_uri=stored.storage_uri, sha256=stored.sha256, bytes=999)
    ).record

    run = catalog.audit_storage()
    assert isinstance(run, AuditStorageRun) and run.summary is None
    findings = list(run)

    orphans = [f for f in findings if f.sha256 == orphaned.sha256]
    assert [(f.kind, f.record_id, f.bytes) for f in orphans] == [(AuditFindingKind.ORPHAN, 0, 4321)]
    assert orphans[0].storage_uri == orphaned.storage_uri
    by_record = {f.record_id: f for f in findings if f.record_id}
    assert by_record[elsewhere.id].kind is AuditFindingKind.OUT_OF_SCOPE
    assert by_record[elsewhere.id].storage_uri == f"s3://elsewhere/{unique}"
    assert by_record[missing.id].kind is AuditFindingKind.MISSING
    assert by_record[resized.id].kind is AuditFindingKind.MISMATCH
    assert stored.id not in by_record, "intact bytes are no finding"
    assert run.records is not None and run.records >= 4

    summary = run.summary
    assert summary is not None
    assert summary.records_checked >= 4 and summary.objects_checked >= 2 and summary.rehashed == 0
    assert summary.orphans >= 1 and summary.orphan_bytes >= 4321
    assert (summary.missing, summary.mismatched, summary.out_of_scope) >= (1, 1, 1)
    kinds = [f.kind for f in findings]
    assert summary.orphans == kinds.count(AuditFindingKind.ORPHAN)
    assert summary.out_of_scope == kinds.count(AuditFindingKind.OUT_OF_SCOPE)


def test_audit_storage_re_hashes_a_sample(catalog, doc):
    data = os.urandom(2000)
    stored = catalog.put_content(io.BytesIO(data), **doc(0)).record
    wrong_hash = hashlib.sha256(data + b"!").hexdigest()
    # Right size, wrong hash: only a re-hash finds it.
    forged = catalog.register_or_get(
        **doc(1, storage_uri=stored.storage_uri, sha256=wrong_hash, bytes=len(data))
    ).record

    sized = {f.record_id: f.kind for f in catalog.audit_storage(rehash_rate=0)}
    run = catalog.audit_storage(rehash_rate=1)
    hashed = {f.record_id: f.kind for f in run}

    assert forged.id not in sized
    assert hashed[forged.id] is AuditFindingKind.MISMATCH and stored.id not in hashed
    assert run.summary is not None and run.summary.rehashed >= 2


def test_an_out_of_range_rehash_rate_is_an_invalid_argument(catalog):
    for rate in (-0.5, 1.5):
        with pytest.raises(InvalidArgument) as raised:
            list(catalog.audit_storage(rehash_rate=rate))
        assert raised.value.field == "rehash_rate"


def test_stats_report_what_deduplication_saves(catalog, doc, unique):
    resolver = f"dedup-{unique}"
    data = os.urandom(7000)
    for n in range(2):
        catalog.put_content(io.BytesIO(data), **doc(n, resolver=resolver))

    stats = catalog.stats()

    assert stats.dedup_saved_bytes >= len(data)
    assert stats.dedup_saved_bytes == stats.hashed_bytes - stats.unique_bytes
    assert stats.hashed_bytes >= stats.unique_bytes + len(data)
    assert stats.dedup_ratio > 1.0
    assert stats.dedup_ratio == pytest.approx(stats.hashed_bytes / stats.unique_bytes)
    assert stats.duplicate_groups_by_resolver[resolver] == 1
    assert stats.duplicate_groups <= sum(stats.duplicate_groups_by_resolver.values())


def test_find_duplicates_stops_at_the_limit(catalog, doc, unique):
    sha256 = hashlib.sha256(unique.encode()).hexdigest()
    catalog.register_or_get_batch([doc(n, sha256=sha256, bytes=1) for n in range(2)])

    limited = list(catalog.find_duplicates(limit=1))
    groups = catalog.find_duplicates()
    largest = next(groups)
    groups.close()
    assert len(limited) == 1 and limited[0].count == largest.count, "the largest group"
    assert len(list(catalog.find_duplicates(min_count=2, limit=3))) <= 3
    with pytest.raises(InvalidArgument) as raised:
        list(catalog.find_duplicates(limit=-1))
    assert raised.value.field == "limit"
