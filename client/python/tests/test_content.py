"""The byte RPCs: PutContent (client stream), GetContent (server stream) and Verify."""

import hashlib
import io
import os

import pytest

from docstokg_catalog import InvalidArgument, NotFound, VerificationStatus


def test_put_content_uploads_a_file_in_chunks_and_get_content_streams_it_back(
    catalog, doc, tmp_path
):
    data = os.urandom(300_000)
    source = tmp_path / "document.pdf"
    source.write_bytes(data)

    put = catalog.put_content(source, content_type="application/pdf", chunk_size=7_000, **doc())
    record = put.record
    assert put.created and not put.deduplicated
    assert (record.sha256, record.bytes) == (hashlib.sha256(data).hexdigest(), len(data))
    assert record.content_type == "application/pdf" and record.storage_uri.startswith("file://")

    dest = tmp_path / "copy.pdf"
    info = catalog.get_content(dest, record_id=record.id)
    assert dest.read_bytes() == data
    assert (info.sha256, info.total_bytes, info.range_bytes) == (
        record.sha256,
        len(data),
        len(data),
    )

    part = io.BytesIO()
    info = catalog.get_content(part, sha256=record.sha256, offset=1000, length=5000)
    assert part.getvalue() == data[1000:6000] and info.range_bytes == 5000

    assert catalog.verify(record.id).status is VerificationStatus.VERIFIED


def test_the_same_bytes_are_stored_once(catalog, doc):
    data = os.urandom(1000)
    first = catalog.put_content(io.BytesIO(data), **doc(1))
    second = catalog.put_content(io.BytesIO(data), expected_sha256=first.record.sha256, **doc(2))

    assert second.created and second.deduplicated
    assert second.record.storage_uri == first.record.storage_uri


def test_an_upload_that_breaks_its_promise_is_rejected_and_leaves_nothing(catalog, doc):
    with pytest.raises(InvalidArgument) as raised:
        catalog.put_content(io.BytesIO(b"four"), expected_bytes=3, **doc())

    assert raised.value.field == "expected_bytes"
    assert catalog.get_by_artifact(doc()["artifact_id"]) == []


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


def test_an_upload_whose_source_fails_midway_stores_nothing(catalog, doc):
    with pytest.raises(OSError, match="disk on fire"):
        catalog.put_content(FailingFile(), **doc())
    assert catalog.get_by_artifact(doc()["artifact_id"]) == []


def test_get_content_of_unknown_bytes_creates_no_file(catalog, tmp_path):
    dest = tmp_path / "absent"
    with pytest.raises(NotFound):
        catalog.get_content(dest, sha256="0" * 64)
    assert not dest.exists()


def test_get_content_needs_exactly_one_selector(catalog, tmp_path):
    with pytest.raises(ValueError, match="exactly one"):
        catalog.get_content(tmp_path / "x", record_id=1, sha256="0" * 64)
