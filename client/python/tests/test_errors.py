"""gRPC status codes become exceptions, with the field a google.rpc.BadRequest names."""

import io

import grpc
import pytest

from docstokg_catalog import (
    CatalogClient,
    CatalogError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)


def test_an_empty_artifact_id_is_an_invalid_argument_naming_the_field(catalog, doc):
    with pytest.raises(InvalidArgument) as raised:
        catalog.register_or_get(**doc(artifact_id=""))

    error = raised.value
    assert isinstance(error, CatalogError)
    assert error.code is grpc.StatusCode.INVALID_ARGUMENT
    assert error.field == "artifact_id"
    assert "artifact_id" in error.message


def test_batch_errors_name_the_item(catalog, doc):
    with pytest.raises(InvalidArgument) as raised:
        catalog.register_or_get_batch([doc(0), doc(1, sha256="not-a-hash")])
    assert raised.value.field == "documents[1].sha256"


def test_an_unknown_id_is_not_found(catalog):
    with pytest.raises(NotFound) as raised:
        catalog.get_record(2**62)
    assert raised.value.code is grpc.StatusCode.NOT_FOUND and raised.value.field is None


def test_bytes_outside_the_storage_are_a_failed_precondition(catalog, doc):
    record = catalog.register_or_get(**doc(storage_uri="file:///etc/shadow")).record
    with pytest.raises(FailedPrecondition):
        catalog.get_content(io.BytesIO(), record_id=record.id)


def test_an_unreachable_server_is_unavailable():
    with CatalogClient("127.0.0.1:1", timeout=5) as client, pytest.raises(Unavailable):
        client.stats()
