"""``CatalogClient``: the catalog's RPCs as Python methods over one gRPC channel."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import Any, TypeVar, Unpack

import grpc

from . import _calls as calls
from ._calls import (
    CHUNK_SIZE,
    MAX_RECEIVE_BYTES,
    AuditStorageProgress,
    Call,
    Source,
    Stubs,
    VerifyAllProgress,
    auth_metadata,
    open_channel,
    opened,
)
from ._generated import catalog_pb2 as pb
from .errors import CatalogError, catalog_error
from .models import (
    AuditFinding,
    ContentInfo,
    DeleteReport,
    DocumentRecord,
    DuplicateGroup,
    NewDocument,
    ProviderHealth,
    PutOutcome,
    RecordFilter,
    RegisterOutcome,
    RetentionReport,
    Stats,
    VerificationResult,
)

__all__ = [
    "CHUNK_SIZE",
    "MAX_RECEIVE_BYTES",
    "AuditStorageRun",
    "CatalogClient",
    "Source",
    "VerifyAllRun",
]

T = TypeVar("T")


class VerifyAllRun(VerifyAllProgress, Iterator[VerificationResult]):
    """The results of a ``verify_all`` stream, one per verified record, in id order.

    ``matching_records`` is set once the stream has started and ``summary`` once it has ended.
    """

    def __init__(self, responses: Iterator[pb.VerifyAllResponse]) -> None:
        """Wraps the raw ``VerifyAllResponse`` stream."""
        super().__init__()
        self._responses = responses

    def __next__(self) -> VerificationResult:
        """The next result; records the started and summary events on the way."""
        for response in self._responses:
            if (result := self._result(response)) is not None:
                return result
        raise StopIteration


class AuditStorageRun(AuditStorageProgress, Iterator[AuditFinding]):
    """The findings of an ``audit_storage`` stream, one per problem, as the server finds them.

    ``records`` is set once the stream has started, ``progress`` holds the latest progress
    report while it runs, and ``summary`` is set once it has ended.
    """

    def __init__(self, responses: Iterator[pb.AuditStorageResponse]) -> None:
        """Wraps the raw ``AuditStorageResponse`` stream."""
        super().__init__()
        self._responses = responses

    def __next__(self) -> AuditFinding:
        """The next finding; records the started, progress and summary events on the way."""
        for response in self._responses:
            if (finding := self._finding(response)) is not None:
                return finding
        raise StopIteration


class CatalogClient:
    """A connection to a catalog server, usable as a context manager.

    ``target`` is ``host:port``. With ``token`` every call sends ``authorization: Bearer <token>``.
    ``tls`` switches to TLS, trusting ``root_certificates`` (PEM) or the system roots; for mutual
    TLS, ``private_key`` and ``certificate_chain`` (PEM) are the client's certificate. ``timeout``
    bounds each unary call in seconds; streams and uploads have no deadline unless
    ``stream_timeout`` sets one. Failed calls raise :class:`~docstokg_catalog.CatalogError`.
    """

    def __init__(
        self,
        target: str,
        token: str | None = None,
        *,
        tls: bool = False,
        root_certificates: bytes | None = None,
        private_key: bytes | None = None,
        certificate_chain: bytes | None = None,
        timeout: float | None = 30.0,
        stream_timeout: float | None = None,
        options: Iterable[tuple[str, Any]] = (),
    ) -> None:
        """Opens a channel to ``target`` (connecting lazily, on the first call)."""
        self._channel: grpc.Channel = open_channel(
            grpc,
            target,
            tls=tls,
            root_certificates=root_certificates,
            private_key=private_key,
            certificate_chain=certificate_chain,
            options=options,
        )
        self._stubs = Stubs(self._channel)
        self._metadata = auth_metadata(token)
        self._timeout = timeout
        self._stream_timeout = stream_timeout

    def __enter__(self) -> CatalogClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        self._channel.close()

    def _unary(self, call: Call[T], *, upload: bool = False) -> T:
        """Makes a unary call (or, with ``upload``, a client stream) and converts the answer."""
        timeout = self._stream_timeout if upload else self._timeout
        try:
            response = call.bind(self._stubs)(
                call.request, timeout=timeout, metadata=self._metadata
            )
        except grpc.RpcError as error:
            raise catalog_error(error) from error
        return call.convert(response)

    def _stream(self, call: Call[T]) -> Iterator[T]:
        """Yields a server stream's converted messages; the call starts on the first ``next`` and
        is cancelled when the consumer stops early."""
        rpc = call.bind(self._stubs)(
            call.request, timeout=self._stream_timeout, metadata=self._metadata
        )
        try:
            for message in rpc:
                yield call.convert(message)
        except grpc.RpcError as error:
            raise catalog_error(error) from error
        finally:
            rpc.cancel()

    def register_or_get(self, **document: Unpack[NewDocument]) -> RegisterOutcome:
        """Registers a document, or returns the record already stored under its key
        (artifact_id, source_url, resolver) with ``created`` False."""
        return self._unary(calls.register_or_get(document))

    def register_or_get_batch(self, documents: Iterable[NewDocument]) -> list[RegisterOutcome]:
        """Registers up to the server's batch limit (1000 by default) in one transaction; one
        outcome per document, in order."""
        return self._unary(calls.register_or_get_batch(documents))

    def get_record(self, record_id: int) -> DocumentRecord:
        """The record with this id; raises ``NotFound`` if there is none."""
        return self._unary(calls.get_record(record_id))

    def get_by_artifact(self, artifact_id: str) -> list[DocumentRecord]:
        """Every record of an artifact, newest first."""
        return self._unary(calls.get_by_artifact(artifact_id))

    def get_by_sha256(self, sha256: str) -> list[DocumentRecord]:
        """Every record with this content hash, newest first."""
        return self._unary(calls.get_by_sha256(sha256))

    def get_by_run(self, run_id: str) -> list[DocumentRecord]:
        """Every record fetched by a pipeline run, newest first."""
        return self._unary(calls.get_by_run(run_id))

    def list_records(self, **filters: Unpack[RecordFilter]) -> Iterator[DocumentRecord]:
        """Streams the records matching the filters (all of them without filters), by id."""
        yield from self._stream(calls.list_records(filters))

    def find_duplicates(
        self, min_count: int = 2, include_records: bool = False, limit: int = 0
    ) -> Iterator[DuplicateGroup]:
        """Streams groups of at least ``min_count`` records sharing a sha256, largest first; at
        most ``limit`` groups (0: every group)."""
        yield from self._stream(calls.find_duplicates(min_count, include_records, limit))

    def verify(self, record_id: int) -> VerificationResult:
        """Re-hashes the stored bytes of one record."""
        return self._unary(calls.verify(record_id))

    def verify_all(
        self, *, sample_rate: float = 1.0, concurrency: int = 0, **filters: Unpack[RecordFilter]
    ) -> VerifyAllRun:
        """Verifies every matching record (a deterministic sample when ``sample_rate`` < 1), with
        ``concurrency`` records at once (0: the server's default)."""
        return VerifyAllRun(self._stream(calls.verify_all(sample_rate, concurrency, filters)))

    def put_content(
        self,
        source: Source,
        *,
        artifact_id: str,
        source_url: str,
        resolver: str,
        content_type: str | None = None,
        run_id: str | None = None,
        expected_sha256: str | None = None,
        expected_bytes: int | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> PutOutcome:
        """Uploads a file (a path or an open binary file) in chunks; the server hashes and stores
        the bytes content-addressed, then registers them. An upload that fails before its end
        (reading ``source`` raises, or the bytes miss ``expected_sha256`` or ``expected_bytes``)
        stores nothing; the reading error is re-raised as it was."""
        call = calls.put_content(
            artifact_id=artifact_id,
            source_url=source_url,
            resolver=resolver,
            content_type=content_type,
            run_id=run_id,
            expected_sha256=expected_sha256,
            expected_bytes=expected_bytes,
        )
        read_errors: list[Exception] = []
        with opened(source, "rb") as stream:

            def messages() -> Iterator[pb.PutContentRequest]:
                yield call.request
                try:
                    while data := stream.read(chunk_size):
                        yield calls.chunk(data)
                except Exception as error:  # gRPC reports only "Exception iterating requests"
                    read_errors.append(error)
                    raise
                yield calls.FINISH

            try:
                return self._unary(replace(call, request=messages()), upload=True)
            except CatalogError:
                if read_errors:
                    raise read_errors[0] from None
                raise

    def get_content(
        self,
        dest: Source,
        *,
        record_id: int | None = None,
        sha256: str | None = None,
        offset: int = 0,
        length: int = 0,
    ) -> ContentInfo:
        """Streams the stored bytes of a record or of a sha256 into ``dest`` (a path, created only
        once the server has found the bytes, or an open binary file). ``offset`` and ``length``
        (0: to the end) select a range."""
        responses = self._stream(calls.get_content(record_id, sha256, offset, length))
        info = ContentInfo.from_proto(next(responses).info)
        with opened(dest, "wb") as sink:
            for response in responses:
                sink.write(response.chunk)
        return info

    def import_records(
        self, records: Iterable[DocumentRecord], keep_ids: bool = False
    ) -> list[RegisterOutcome]:
        """Imports complete records (as ``list_records`` yields them, timestamps included) in one
        transaction, idempotent on the key; with ``keep_ids`` each keeps its id where it is free.
        For restoring an export."""
        return self._unary(calls.import_records(records, keep_ids))

    def delete_records(
        self,
        ids: Iterable[int] = (),
        *,
        dry_run: bool = False,
        **filters: Unpack[RecordFilter],
    ) -> DeleteReport:
        """Deletes the records with these ids (at most the server's batch limit, 1000 by
        default), or every record matching the filters: one or the other, and at least one
        filter without ids (``InvalidArgument`` otherwise, naming ``filter``). Idempotent: ids
        already gone are not an error, and ``matched`` counts only the records that existed.
        With ``dry_run`` nothing is deleted and the report says what would be. The bytes stay
        until the server's garbage collection; a deleted key can be registered again (under a
        new id). A write: a read-only token gets ``PermissionDenied``."""
        return self._unary(calls.delete_records(ids, dry_run, filters))

    def apply_retention(self, *, dry_run: bool = False) -> RetentionReport:
        """Applies the retention rules of the server's configuration (``DOCSTOKG_RETENTION_RULES``),
        or with ``dry_run`` reports what they would delete: one report per rule, none when no
        rule is configured. A write: a read-only token gets ``PermissionDenied``."""
        return self._unary(calls.apply_retention(dry_run))

    def audit_storage(self, *, rehash_rate: float = 0.0) -> AuditStorageRun:
        """Audits every record against the stored objects, and the objects against the records:
        iterate the run for the findings (orphans, missing, mismatched and out-of-scope bytes);
        its ``summary`` holds the totals once it has ended. Sizes are always compared; a
        deterministic ``rehash_rate`` share of records (in [0, 1]) is also re-hashed."""
        return AuditStorageRun(self._stream(calls.audit_storage(rehash_rate)))

    def stats(self) -> Stats:
        """Counts and sizes of the catalog and its storage backends."""
        return self._unary(calls.stats())

    def provider_health(self) -> ProviderHealth:
        """The health of each backend of the server's provider, with probe latency."""
        return self._unary(calls.provider_health())

    def health_check(self, service: str = "") -> bool:
        """Whether the standard ``grpc.health.v1`` service reports ``service`` as SERVING
        (``""``: the whole server). Needs no token."""
        return self._unary(calls.health_check(service))
