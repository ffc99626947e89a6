"""The exceptions the client raises: one class per gRPC status code the catalog uses.

Every exception carries the status ``code``, the server's ``message`` and, when the server
attached a ``google.rpc.BadRequest``, the ``field`` it names (for example ``"artifact_id"``).
"""

from __future__ import annotations

from typing import cast

import grpc
from google.rpc import error_details_pb2, status_pb2

_DETAILS_KEY = "grpc-status-details-bin"


class CatalogError(Exception):
    """A failed catalog call."""

    def __init__(self, message: str, code: grpc.StatusCode, field: str | None = None) -> None:
        """Records the status ``code``, its ``message`` and the offending ``field``, if named."""
        super().__init__(f"{code.name}: {message}")
        self.message = message
        self.code = code
        self.field = field


class InvalidArgument(CatalogError):
    """Bad input; ``field`` names the offending request field."""


class NotFound(CatalogError):
    """Unknown record id or content hash."""


class FailedPrecondition(CatalogError):
    """The request cannot apply to the record as it is (e.g. its bytes live elsewhere)."""


class ResourceExhausted(CatalogError):
    """A size limit was exceeded or the server is overloaded."""


class Unavailable(CatalogError):
    """The server, its database or its object store is unreachable: retrying may succeed."""


class DeadlineExceeded(CatalogError):
    """The call did not finish within its timeout."""


class Unauthenticated(CatalogError):
    """Missing or wrong bearer token."""


class PermissionDenied(CatalogError):
    """The caller may not make this call."""


class Internal(CatalogError):
    """A server bug."""


_BY_CODE: dict[grpc.StatusCode, type[CatalogError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.INTERNAL: Internal,
}


def _bad_request_field(metadata: object) -> str | None:
    """The first field named by a ``google.rpc.BadRequest`` in the trailing metadata."""
    for key, value in cast("tuple[tuple[str, bytes], ...]", metadata or ()):
        if key != _DETAILS_KEY:
            continue
        for detail in status_pb2.Status.FromString(value).details:
            bad_request = error_details_pb2.BadRequest()
            if detail.Unpack(bad_request) and bad_request.field_violations:
                return str(bad_request.field_violations[0].field)
    return None


def catalog_error(error: grpc.RpcError) -> CatalogError:
    """Converts a failed gRPC call into the matching :class:`CatalogError` subclass."""
    call = cast("grpc.Call", error)
    code = call.code()
    kind = _BY_CODE.get(code, CatalogError)
    return kind(call.details() or "", code, _bad_request_field(call.trailing_metadata()))
