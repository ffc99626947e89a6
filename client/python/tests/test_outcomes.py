"""Outcomes read like their record (the seed's connector API): ``register_or_get(...).id`` and
every other record field work on the outcomes of RegisterOrGet, RegisterOrGetBatch, ImportRecords
and PutContent, next to ``created``, ``differing_fields`` and ``record``; sync and asyncio."""

import dataclasses
import hashlib
import io
import os

import pytest

from docstokg_catalog import (
    AsyncCatalogClient,
    CatalogClient,
    DocumentRecord,
    PutOutcome,
    RegisterOutcome,
)

#: The record fields an outcome answers for itself, as the seed's DocumentRecord names them.
RECORD_FIELDS = (
    "id",
    "artifact_id",
    "source_url",
    "resolver",
    "content_type",
    "bytes",
    "sha256",
    "storage_uri",
    "created_at",
    "updated_at",
    "run_id",
)


def assert_reads_like_its_record(outcome: RegisterOutcome | PutOutcome) -> None:
    assert isinstance(outcome.record, DocumentRecord)
    assert isinstance(outcome.created, bool)
    assert isinstance(outcome.differing_fields, tuple)
    for name in RECORD_FIELDS:
        assert getattr(outcome, name) == getattr(outcome.record, name), name


def test_every_record_field_has_its_outcome_attribute():
    assert tuple(f.name for f in dataclasses.fields(DocumentRecord)) == RECORD_FIELDS


def test_the_seed_example_runs_as_written(endpoint, capsys):
    # The seed's example, with the test server's address for "localhost:50051".
    with CatalogClient(endpoint) as cat:
        record = cat.register_or_get(
            artifact_id="W123", source_url="https://example.org/a.pdf", resolver="unpaywall"
        )
        print(record.id, record.artifact_id, record.sha256)

        stored = cat.get_record(record.id)
        again = cat.register_or_get(
            artifact_id="W123", source_url="https://example.org/a.pdf", resolver="unpaywall"
        )

    assert capsys.readouterr().out == f"{stored.id} W123 {stored.sha256}\n"
    assert record.record == stored and (record.id, record.artifact_id) == (stored.id, "W123")
    assert_reads_like_its_record(record)
    assert not again.created and again.record == stored
    assert again.differing_fields == record.differing_fields


def test_register_or_get_outcomes_read_like_their_record(catalog, doc, unique):
    sha256 = hashlib.sha256(unique.encode()).hexdigest()
    fields = doc(
        content_type="application/pdf",
        bytes=1000,
        sha256=sha256,
        storage_uri=f"file:///blobs/{unique}",
        run_id=f"run-{unique}",
    )
    first = catalog.register_or_get(**fields)
    again = catalog.register_or_get(**{**fields, "bytes": 2000})

    assert first.created and first.differing_fields == ()
    assert not again.created and again.differing_fields == ("bytes",)
    assert again.record == first.record == catalog.get_record(first.id)
    assert_reads_like_its_record(first)
    assert_reads_like_its_record(again)
    assert (first.artifact_id, first.source_url, first.resolver) == (
        fields["artifact_id"],
        fields["source_url"],
        "unpaywall",
    )
    assert (first.content_type, first.bytes, first.sha256, first.run_id) == (
        "application/pdf",
        1000,
        sha256,
        f"run-{unique}",
    )
    assert first.storage_uri == f"file:///blobs/{unique}"
    assert again.bytes == 1000, "the stored record's, not the request's"
    assert first.updated_at == first.created_at == first.record.created_at


def test_outcomes_stay_frozen(catalog, doc):
    outcome = catalog.register_or_get(**doc())

    with pytest.raises(dataclasses.FrozenInstanceError):
        outcome.created = False  # type: ignore[misc]
    # A read-only property: refused like any non-field name of a frozen, slotted dataclass
    # (CPython raises TypeError there rather than FrozenInstanceError).
    with pytest.raises((AttributeError, TypeError)):
        outcome.id = 1  # type: ignore[misc]
    assert not hasattr(outcome, "__dict__")


def test_batch_and_import_outcomes_read_like_their_records(catalog, doc, unique):
    existing = catalog.register_or_get(**doc(0))
    outcomes = catalog.register_or_get_batch([doc(n, bytes=n) for n in range(3)])

    assert [o.created for o in outcomes] == [False, True, True]
    assert [o.artifact_id for o in outcomes] == [doc(n)["artifact_id"] for n in range(3)]
    assert outcomes[0].id == existing.id and outcomes[0].record == existing.record
    assert [o.bytes for o in outcomes] == [0, 1, 2]
    for outcome in outcomes:
        assert_reads_like_its_record(outcome)

    exported = dataclasses.replace(existing.record, artifact_id=f"{unique}-imported")
    (imported,) = catalog.import_records([exported])
    assert imported.created and imported.artifact_id == f"{unique}-imported"
    assert imported.id != existing.id and imported.created_at == existing.created_at
    assert_reads_like_its_record(imported)


def test_put_content_outcomes_read_like_their_record(catalog, doc):
    data = os.urandom(5000)
    put = catalog.put_content(io.BytesIO(data), content_type="text/plain", **doc(1))
    again = catalog.put_content(io.BytesIO(data), **doc(2))

    assert isinstance(put, PutOutcome) and put.created and not put.deduplicated
    assert again.deduplicated and put.differing_fields == ()
    assert (put.sha256, put.bytes) == (hashlib.sha256(data).hexdigest(), len(data))
    assert put.content_type == "text/plain" and put.storage_uri == again.storage_uri
    assert catalog.get_record(put.id) == put.record
    assert_reads_like_its_record(put)
    assert_reads_like_its_record(again)


async def test_the_asyncio_outcomes_read_like_their_records(endpoint, doc):
    data = os.urandom(3000)
    async with AsyncCatalogClient(endpoint) as cat:
        record = await cat.register_or_get(**doc(0, bytes=7))
        batch = await cat.register_or_get_batch([doc(0), doc(1)])
        put = await cat.put_content(io.BytesIO(data), **doc(2))
        stored = await cat.get_record(record.id)

    assert record.created and record.id == stored.id and record.record == stored
    assert (record.artifact_id, record.bytes) == (doc(0)["artifact_id"], 7)
    assert batch[0].id == record.id and [o.created for o in batch] == [False, True]
    assert batch[0].differing_fields == ("bytes",)
    assert put.sha256 == hashlib.sha256(data).hexdigest() and put.bytes == len(data)
    for outcome in (record, *batch, put):
        assert_reads_like_its_record(outcome)
