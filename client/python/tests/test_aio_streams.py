"""AsyncCatalogClient's streams: ListRecords, FindDuplicates and VerifyAll as async iterators,
PutContent and GetContent through files, and cancelling a stream by leaving it early."""

import asyncio
import hashlib
import io
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import UTC, datetime, timedelta

import pytest

from docstokg_catalog import (
    AsyncCatalogClient,
    InvalidArgument,
    NotFound,
    VerificationStatus,
)


async def test_list_records_is_an_async_stream_of_the_filtered_records(endpoint, doc, unique):
    run = f"run-{unique}"
    async with AsyncCatalogClient(endpoint) as aio:
        outcomes = await aio.register_or_get_batch([doc(n, run_id=run) for n in range(3)])
        registered = [o.record for o in outcomes]
        await aio.register_or_get(**doc(9, run_id=f"other-{unique}"))

        records = aio.list_records(run_id=run)
        assert isinstance(records, AsyncIterator) and not isinstance(records, list | tuple)
        assert [r async for r in records] == registered
        later = datetime.now(UTC) + timedelta(hours=1)
        assert [r async for r in aio.list_records(run_id=run, created_after=later)] == []
        assert [r async for r in aio.list_records(run_id=run, created_before=later)] == registered


async def test_find_duplicates_streams_groups_with_their_records(endpoint, doc, unique):
    sha256 = hashlib.sha256(unique.encode()).hexdigest()
    async with AsyncCatalogClient(endpoint) as aio:
        batch = [doc(n, sha256=sha256, bytes=10) for n in range(7)]
        records = tuple(o.record for o in await aio.register_or_get_batch(batch))

        groups = [g async for g in aio.find_duplicates(min_count=7, include_records=True)]
        bare = [g async for g in aio.find_duplicates(min_count=7) if g.sha256 == sha256]

    (group,) = [g for g in groups if g.sha256 == sha256]
    assert (group.count, group.total_bytes, group.records) == (7, 70, records)
    assert [(g.count, g.records) for g in bare] == [(7, ())]


async def test_verify_all_yields_results_then_exposes_the_summary(endpoint, doc, unique):
    async with AsyncCatalogClient(endpoint) as aio:
        stored = (await aio.put_content(io.BytesIO(b"bytes"), run_id=unique, **doc(0))).record
        missing = (await aio.register_or_get(**doc(1, run_id=unique, sha256="a" * 64))).record

        run = aio.verify_all(run_id=unique, concurrency=2)
        assert run.summary is None
        results = {result.record_id: result.status async for result in run}

    assert results == {
        stored.id: VerificationStatus.VERIFIED,
        missing.id: VerificationStatus.MISSING,
    }
    assert run.matching_records == 2 and run.summary is not None
    assert (run.summary.checked, run.summary.verified, run.summary.missing) == (2, 1, 1)


async def test_put_content_uploads_in_chunks_and_get_content_streams_back(endpoint, doc, tmp_path):
    data = os.urandom(300_000)
    source = tmp_path / "document.pdf"
    source.write_bytes(data)
    async with AsyncCatalogClient(endpoint) as aio:
        put = await aio.put_content(
            source, content_type="application/pdf", chunk_size=7_000, **doc()
        )
        again = await aio.put_content(io.BytesIO(data), **doc(1))
        dest = tmp_path / "copy.pdf"
        info = await aio.get_content(dest, record_id=put.record.id)
        part = io.BytesIO()
        ranged = await aio.get_content(part, sha256=put.record.sha256, offset=1000, length=5000)

    assert put.created and not put.deduplicated and again.deduplicated
    assert (put.record.sha256, put.record.bytes) == (hashlib.sha256(data).hexdigest(), len(data))
    assert dest.read_bytes() == data and (info.total_bytes, info.range_bytes) == (len(data),) * 2
    assert part.getvalue() == data[1000:6000] and ranged.range_bytes == 5000


class FailingFile(io.RawIOBase):
    """Reads one chunk, then fails like a dying disk."""

    def __init__(self):
        self.reads = 0

    def readable(self):
        return True

    def read(self, size=-1):
        self.reads += 1
        if self.reads > 1:
            raise OSError("disk on fire")
        return os.urandom(1000)


async def test_failed_uploads_and_downloads_leave_nothing(endpoint, doc, tmp_path):
    async with AsyncCatalogClient(endpoint) as aio:
        with pytest.raises(OSError, match="disk on fire"):
            await aio.put_content(FailingFile(), **doc(0))
        with pytest.raises(InvalidArgument) as raised:
            await aio.put_content(io.BytesIO(b"four"), expected_bytes=3, **doc(1))
        with pytest.raises(NotFound):
            await aio.get_content(tmp_path / "absent", sha256="0" * 64)
        with pytest.raises(ValueError, match="exactly one"):
            await aio.get_content(tmp_path / "x", record_id=1, sha256="0" * 64)
        assert await aio.get_by_artifact(doc(0)["artifact_id"]) == []
        assert await aio.get_by_artifact(doc(1)["artifact_id"]) == []

    assert raised.value.field == "expected_bytes"
    assert not (tmp_path / "absent").exists()


class EndlessFile(io.RawIOBase):
    """A source that never ends: one kilobyte every 10 ms."""

    def __init__(self):
        self.reads = 0

    def readable(self):
        return True

    def read(self, size=-1):
        self.reads += 1
        time.sleep(0.01)
        return bytes(1000)


async def test_a_cancelled_upload_stores_nothing(endpoint, doc):
    async with AsyncCatalogClient(endpoint) as aio:
        source = EndlessFile()
        upload = asyncio.create_task(aio.put_content(source, **doc()))
        while source.reads < 5:
            await asyncio.sleep(0.01)
        upload.cancel()
        with pytest.raises(asyncio.CancelledError):
            await upload
        assert await aio.get_by_artifact(doc()["artifact_id"]) == []


async def test_an_upload_the_server_ends_early_reports_the_servers_status(endpoint, doc):
    # The server rejects the header while chunks are still being written; a write failing after
    # that used to turn the status into INTERNAL about one time in four (grpc/grpc#36066).
    async with AsyncCatalogClient(endpoint) as aio:
        for _ in range(10):
            with pytest.raises(InvalidArgument) as raised:
                source = io.BytesIO(os.urandom(100_000))
                await aio.put_content(source, chunk_size=100, **doc(artifact_id=""))
            assert raised.value.field == "artifact_id"


async def test_leaving_a_stream_early_cancels_its_call(endpoint, doc, unique, caplog):
    caplog.set_level(logging.DEBUG)
    async with AsyncCatalogClient(endpoint) as aio:
        await aio.register_or_get_batch([doc(n, run_id=unique) for n in range(3)])
        stub, calls = aio._stubs.catalog, []  # keeps each grpc.aio call the streams make
        list_records = stub.ListRecords

        def spy(*args, **kwargs):
            calls.append(list_records(*args, **kwargs))
            return calls[-1]

        stub.ListRecords = spy

        async for record in aio.list_records(run_id=unique):
            first = record
            break
        assert first.run_id == unique
        assert await aio.get_record(first.id) == first, "the next call works"
        assert calls[0].cancelled(), "dropping the iterator cancelled the call"

        async with aclosing(aio.list_records(run_id=unique)) as records:
            await anext(records)
        assert calls[1].cancelled(), "aclosing cancels at once"
        assert len([r async for r in aio.list_records(run_id=unique)]) == 3

    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert errors == [], "nothing logged"
