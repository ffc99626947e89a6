"""AsyncCatalogClient's unary calls, auth and errors: the same values and exceptions as the
synchronous client (``async def`` tests run under ``asyncio.run``, see conftest.py)."""

import dataclasses
import hashlib
from datetime import UTC, datetime

import grpc
import pytest

from docstokg_catalog import (
    AsyncCatalogClient,
    CatalogError,
    HealthState,
    InvalidArgument,
    NotFound,
    RegisterOutcome,
    Unauthenticated,
    Unavailable,
    VerificationStatus,
)


async def test_registration_and_the_look_ups(endpoint, catalog, doc, unique):
    sha256 = hashlib.sha256(unique.encode()).hexdigest()
    run = f"run-{unique}"
    async with AsyncCatalogClient(endpoint) as aio:
        first = await aio.register_or_get(**doc(0, bytes=10, sha256=sha256, run_id=run))
        again = await aio.register_or_get(**doc(0, bytes=20, sha256=sha256, run_id=run))
        batch = await aio.register_or_get_batch([doc(n, sha256=sha256, run_id=run) for n in (0, 1)])
        record, newer = first.record, batch[1].record

        assert isinstance(first, RegisterOutcome) and first.created
        assert (again.created, again.record, again.differing_fields) == (False, record, ("bytes",))
        assert [o.created for o in batch] == [False, True] and batch[0].record == record
        assert await aio.get_record(record.id) == record == catalog.get_record(record.id)
        assert await aio.get_by_artifact(record.artifact_id) == [record]
        assert await aio.get_by_sha256(sha256) == [newer, record]
        assert await aio.get_by_run(run) == [newer, record]
        assert (await aio.verify(record.id)).status is VerificationStatus.MISSING


async def test_import_records_keeps_the_timestamps(endpoint, doc, unique):
    async with AsyncCatalogClient(endpoint) as aio:
        original = (await aio.register_or_get(**doc(0))).record
        past = datetime(2020, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
        exported = dataclasses.replace(
            original, artifact_id=f"{unique}-imported", created_at=past, updated_at=past
        )
        (imported,) = await aio.import_records([exported])
        (again,) = await aio.import_records([exported], keep_ids=True)

    assert imported.created and imported.record.created_at == past
    assert not again.created and again.record == imported.record


async def test_stats_provider_health_and_health_check(endpoint, provider):
    async with AsyncCatalogClient(endpoint) as aio:
        stats = await aio.stats()
        health = await aio.provider_health()
        assert await aio.health_check() is True
        assert await aio.health_check("docstokg.catalog.v1.CatalogService") is True

    assert stats.provider == provider and stats.total_records >= 0
    assert {backend.role for backend in stats.storage_backends} == {"metadata", "blobs"}
    assert health.state is HealthState.HEALTHY
    assert {backend.name for backend in health.backends} == {"metadata", "blobs"}


async def test_with_auth_enabled_the_token_is_required(auth_endpoint, token, doc):
    async with AsyncCatalogClient(auth_endpoint) as anonymous:
        assert await anonymous.health_check() is True, "health needs no token"
        with pytest.raises(Unauthenticated):
            await anonymous.stats()
    async with AsyncCatalogClient(auth_endpoint, "wrong") as wrong:
        with pytest.raises(Unauthenticated):
            [record async for record in wrong.list_records(run_id="anything")]
    async with AsyncCatalogClient(auth_endpoint, token) as aio:
        record = (await aio.register_or_get(**doc())).record
        assert await aio.get_record(record.id) == record
        assert [r async for r in aio.list_records(run_id="nothing-registered-here")] == []


async def test_an_empty_artifact_id_is_an_invalid_argument_naming_the_field(endpoint, doc):
    async with AsyncCatalogClient(endpoint) as aio:
        with pytest.raises(InvalidArgument) as raised:
            await aio.register_or_get(**doc(artifact_id=""))
        with pytest.raises(InvalidArgument) as batch:
            await aio.register_or_get_batch([doc(0), doc(1, sha256="not-a-hash")])

    error = raised.value
    assert isinstance(error, CatalogError) and error.code is grpc.StatusCode.INVALID_ARGUMENT
    assert error.field == "artifact_id" and "artifact_id" in error.message
    assert batch.value.field == "documents[1].sha256"


async def test_an_unknown_id_is_not_found_and_the_client_stays_usable(endpoint):
    async with AsyncCatalogClient(endpoint) as aio:
        with pytest.raises(NotFound) as raised:
            await aio.get_record(2**62)
        assert raised.value.code is grpc.StatusCode.NOT_FOUND and raised.value.field is None
        assert await aio.health_check() is True


async def test_an_unreachable_server_is_unavailable():
    async with AsyncCatalogClient("127.0.0.1:1", timeout=5) as aio:
        with pytest.raises(Unavailable):
            await aio.stats()
