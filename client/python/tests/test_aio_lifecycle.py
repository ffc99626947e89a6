"""AsyncCatalogClient's lifecycle calls: delete_records, apply_retention and audit_storage (an
async iterator of findings with the summary at the end), FindDuplicates' limit and the dedup
figures of Stats, with the values and exceptions of the synchronous client."""

import io
import os
from contextlib import aclosing

import pytest

from docstokg_catalog import (
    AsyncAuditStorageRun,
    AsyncCatalogClient,
    AuditFindingKind,
    DeleteReport,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RetentionReport,
)


async def test_delete_records_by_ids_and_by_filter(endpoint, doc, unique):
    async with AsyncCatalogClient(endpoint) as aio:
        batch = await aio.register_or_get_batch([doc(n, run_id=unique) for n in range(3)])
        first, *rest = (o.record for o in batch)

        dry = await aio.delete_records(run_id=unique, dry_run=True)
        by_id = await aio.delete_records([first.id])
        twice = await aio.delete_records([first.id])
        by_filter = await aio.delete_records(run_id=unique)
        with pytest.raises(NotFound):
            await aio.get_record(first.id)
        again = await aio.register_or_get(**doc(0, run_id=unique))
        with pytest.raises(InvalidArgument) as both:
            await aio.delete_records([again.id], run_id=unique)
        with pytest.raises(InvalidArgument) as neither:
            await aio.delete_records()

    assert dry == DeleteReport(3, 0, (first.id, *(r.id for r in rest)), False)
    assert by_id == DeleteReport(1, 1, (first.id,), False)
    assert twice == DeleteReport(0, 0, (), False)
    assert by_filter == DeleteReport(2, 2, tuple(r.id for r in rest), False)
    assert again.created and again.id not in dry.ids
    assert both.value.field == "filter" and neither.value.field == "filter"


async def test_writes_need_a_read_write_token(auth_endpoint, token, read_only_token, doc):
    async with (
        AsyncCatalogClient(auth_endpoint, token) as writer,
        AsyncCatalogClient(auth_endpoint, read_only_token) as reader,
    ):
        record = (await writer.register_or_get(**doc())).record
        with pytest.raises(PermissionDenied):
            await reader.delete_records([record.id])
        with pytest.raises(PermissionDenied):
            await reader.apply_retention()
        assert await writer.apply_retention() == RetentionReport(rules=(), dry_run=False)
        assert (await writer.delete_records([record.id])).deleted == 1


async def test_audit_storage_is_an_async_stream_of_findings(endpoint, doc, unique):
    async with AsyncCatalogClient(endpoint) as aio:
        orphaned = (await aio.put_content(io.BytesIO(os.urandom(1234)), **doc(0))).record
        await aio.delete_records([orphaned.id])
        elsewhere = await aio.register_or_get(**doc(1, storage_uri=f"s3://elsewhere/{unique}"))

        run = aio.audit_storage()
        assert isinstance(run, AsyncAuditStorageRun)
        findings = [finding async for finding in run]
        with pytest.raises(InvalidArgument) as raised:
            [finding async for finding in aio.audit_storage(rehash_rate=2)]
        async with aclosing(aio.audit_storage()) as early:
            await anext(early)  # leaving early cancels the call
        assert await aio.health_check() is True

    (orphan,) = [f for f in findings if f.sha256 == orphaned.sha256]
    assert (orphan.kind, orphan.record_id, orphan.bytes) == (AuditFindingKind.ORPHAN, 0, 1234)
    (outside,) = [f for f in findings if f.record_id == elsewhere.id]
    assert outside.kind is AuditFindingKind.OUT_OF_SCOPE
    assert run.records is not None and run.summary is not None
    assert run.summary.orphans >= 1 and run.summary.out_of_scope >= 1
    assert raised.value.field == "rehash_rate"


async def test_find_duplicates_limit_and_the_dedup_stats(endpoint, doc, unique):
    resolver = f"dedup-{unique}"
    data = os.urandom(3000)
    async with AsyncCatalogClient(endpoint) as aio:
        for n in range(2):
            await aio.put_content(io.BytesIO(data), **doc(n, resolver=resolver))
        groups = [g async for g in aio.find_duplicates(limit=1)]
        stats = await aio.stats()

    assert len(groups) == 1
    assert stats.dedup_saved_bytes >= len(data) and stats.dedup_ratio > 1.0
    assert stats.duplicate_groups_by_resolver[resolver] == 1
