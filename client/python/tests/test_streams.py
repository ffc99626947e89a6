"""The server streams: ListRecords, FindDuplicates and VerifyAll, as generators."""

import hashlib
from datetime import UTC, datetime, timedelta

from docstokg_catalog import VerificationStatus


def test_list_records_streams_the_filtered_records_by_id(catalog, doc, unique):
    run = f"run-{unique}"
    registered = [
        o.record for o in catalog.register_or_get_batch([doc(n, run_id=run) for n in range(3)])
    ]
    catalog.register_or_get(**doc(9, run_id=f"other-{unique}"))

    records = catalog.list_records(run_id=run)
    assert not isinstance(records, list | tuple), "a generator, not a materialised list"
    assert list(records) == registered
    assert list(catalog.list_records(run_id=run, resolver="nobody")) == []
    later = datetime.now(UTC) + timedelta(hours=1)
    assert list(catalog.list_records(run_id=run, created_after=later)) == []
    assert list(catalog.list_records(run_id=run, created_before=later)) == registered


def test_a_stream_abandoned_early_leaves_the_client_usable(catalog, doc, unique):
    catalog.register_or_get_batch([doc(n, run_id=unique) for n in range(3)])
    records = catalog.list_records(run_id=unique)
    first = next(records)
    records.close()

    assert first.run_id == unique
    assert len(list(catalog.list_records(run_id=unique))) == 3


def test_find_duplicates_streams_groups_with_their_records(catalog, doc, unique):
    sha256 = hashlib.sha256(unique.encode()).hexdigest()
    # Seven copies: more than any other test registers, so this group comes first at min_count=7.
    outcomes = catalog.register_or_get_batch([doc(n, sha256=sha256, bytes=10) for n in range(7)])

    groups = catalog.find_duplicates(min_count=7, include_records=True)
    group = next(g for g in groups if g.sha256 == sha256)
    assert (group.count, group.total_bytes) == (7, 70)
    assert group.records == tuple(o.record for o in outcomes)

    bare = next(g for g in catalog.find_duplicates(min_count=7) if g.sha256 == sha256)
    assert bare.records == () and bare.count == 7
    assert all(g.sha256 != sha256 for g in catalog.find_duplicates(min_count=8))


def test_verify_all_yields_results_then_exposes_the_summary(catalog, doc, unique, tmp_path):
    path = tmp_path / "stored.txt"
    path.write_bytes(b"verified bytes")
    stored = catalog.put_content(path, run_id=unique, **doc(0)).record
    uri = stored.storage_uri

    def register(n, **fields):
        return catalog.register_or_get(**doc(n, run_id=unique, **fields)).record.id

    expected = {
        stored.id: VerificationStatus.VERIFIED,
        register(1, storage_uri=uri, sha256="a" * 64): VerificationStatus.MISMATCH,
        register(2, storage_uri=uri): VerificationStatus.NO_HASH,
        register(3, sha256="a" * 64): VerificationStatus.MISSING,
        register(
            4, storage_uri="file:///etc/shadow", sha256="a" * 64
        ): VerificationStatus.OUT_OF_SCOPE,
    }

    run = catalog.verify_all(run_id=unique, concurrency=2)
    assert run.summary is None
    assert {result.record_id: result.status for result in run} == expected
    assert run.matching_records == 5
    assert run.summary is not None
    assert (run.summary.checked, run.summary.verified, run.summary.mismatched) == (5, 1, 1)
    assert (run.summary.no_hash, run.summary.missing, run.summary.out_of_scope) == (1, 1, 1)
    assert run.summary.skipped == 0
