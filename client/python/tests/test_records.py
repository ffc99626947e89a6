"""Registration and the unary look-ups: RegisterOrGet, RegisterOrGetBatch, GetRecord,
GetByArtifact, GetBySha256, GetByRun."""

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta

import pytest


def test_register_or_get_creates_then_returns_the_stored_record(catalog, doc):
    first = catalog.register_or_get(**doc(bytes=1000, content_type="application/pdf"))
    again = catalog.register_or_get(**doc(bytes=2000, content_type="application/pdf"))

    assert first.created and first.differing_fields == ()
    assert not again.created
    assert again.record == first.record
    assert again.differing_fields == ("bytes",)
    record = first.record
    assert record.id > 0 and record.bytes == 1000 and record.content_type == "application/pdf"
    assert record.sha256 is None and record.storage_uri is None and record.run_id is None
    assert record.created_at.tzinfo is UTC and record.updated_at == record.created_at
    assert abs(datetime.now(UTC) - record.created_at) < timedelta(minutes=5)


def test_records_are_frozen(catalog, doc):
    record = catalog.register_or_get(**doc()).record
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.bytes = 1  # type: ignore[misc]


def test_batch_returns_one_outcome_per_document_in_order(catalog, doc):
    existing = catalog.register_or_get(**doc(0)).record
    outcomes = catalog.register_or_get_batch([doc(n, bytes=n) for n in range(5)])

    assert [o.record.artifact_id for o in outcomes] == [doc(n)["artifact_id"] for n in range(5)]
    assert [o.created for o in outcomes] == [False, True, True, True, True]
    assert outcomes[0].record == existing


def test_get_record_and_the_three_look_ups(catalog, doc, unique):
    sha256 = hashlib.sha256(unique.encode()).hexdigest()
    older = catalog.register_or_get(**doc(1, sha256=sha256.upper(), run_id=f"run-{unique}")).record
    newer = catalog.register_or_get(**doc(2, sha256=sha256, run_id=f"run-{unique}")).record
    same_artifact = catalog.register_or_get(**doc(1, source_url="https://mirror.example.org/x"))

    assert catalog.get_record(older.id) == older
    assert older.sha256 == sha256, "stored lowercase"
    assert catalog.get_by_sha256(sha256) == [newer, older]
    assert catalog.get_by_run(f"run-{unique}") == [newer, older]
    assert catalog.get_by_artifact(older.artifact_id) == [same_artifact.record, older]
    assert catalog.get_by_artifact(f"{unique}-nothing") == []


def test_import_records_restores_records_with_their_timestamps(catalog, doc, unique):
    original = catalog.register_or_get(**doc(0, bytes=5, run_id=unique)).record
    past = datetime(2020, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    exported = dataclasses.replace(
        original, artifact_id=f"{unique}-imported", created_at=past, updated_at=past
    )

    (first,) = catalog.import_records([exported], keep_ids=True)
    (again,) = catalog.import_records([exported])

    assert first.created and first.record.id != original.id, "the id was taken: a new one"
    assert first.record.created_at == past and first.record.updated_at == past
    assert (first.record.artifact_id, first.record.bytes, first.record.run_id) == (
        exported.artifact_id,
        5,
        unique,
    )
    assert not again.created and again.record == first.record
