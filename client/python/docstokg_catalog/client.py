"""``CatalogClient``: the catalog's RPCs as Python methods over one gRPC channel."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import IO, Any, Unpack, cast

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ._generated import catalog_pb2 as pb
from ._generated import catalog_pb2_grpc as pb_grpc
from .errors import CatalogError, catalog_error
from .models import (
    ContentInfo,
    DocumentRecord,
    DuplicateGroup,
    NewDocument,
    ProviderHealth,
    PutOutcome,
    RecordFilter,
    RegisterOutcome,
    Stats,
    VerificationResult,
    VerifySummary,
)

#: Bytes per upload message.
CHUNK_SIZE = 256 * 1024
#: Largest response message accepted (a duplicate group with many records can be large).
MAX_RECEIVE_BYTES = 64 * 1024 * 1024

Source = str | os.PathLike[str] | IO[bytes]


def _opened(file: Source, mode: str) -> AbstractContextManager[IO[bytes]]:
    """Opens a path (closed afterwards), or passes an open binary file through untouched."""
    if isinstance(file, str | os.PathLike):
        return cast("AbstractContextManager[IO[bytes]]", open(file, mode))
    return nullcontext(file)


def _record_filter(filters: RecordFilter) -> pb.RecordFilter:
    message = pb.RecordFilter(
        run_id=filters.get("run_id"),
        resolver=filters.get("resolver"),
        content_type=filters.get("content_type"),
    )
    if (after := filters.get("created_after")) is not None:
        message.created_after.FromDatetime(after)
    if (before := filters.get("created_before")) is not None:
        message.created_before.FromDatetime(before)
    return message


class VerifyAllRun(Iterator[VerificationResult]):
    """The results of a ``verify_all`` stream, one per verified record, in id order.

    ``matching_records`` is set once the stream has started and ``summary`` once it has ended.
    """

    def __init__(self, responses: Iterator[pb.VerifyAllResponse]) -> None:
        """Wraps the raw ``VerifyAllResponse`` stream."""
        self._responses = responses
        self.matching_records: int | None = None
        self.summary: VerifySummary | None = None

    def __next__(self) -> VerificationResult:
        """The next result; records the started and summary events on the way."""
        for response in self._responses:
            event = response.WhichOneof("event")
            if event == "result":
                return VerificationResult.from_proto(response.result)
            if event == "started":
                self.matching_records = response.started.matching_records
            elif event == "summary":
                self.summary = VerifySummary.from_proto(response.summary)
        raise StopIteration


class CatalogClient:
    """A connection to a catalog server, usable as a context manager.

    ``target`` is ``host:port``. With ``token`` every call sends ``authorization: Bearer <token>``.
    ``tls`` switches to TLS, trusting ``root_certificates`` (PEM) or the system roots. ``timeout``
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
        timeout: float | None = 30.0,
        stream_timeout: float | None = None,
        options: Iterable[tuple[str, Any]] = (),
    ) -> None:
        """Opens a channel to ``target`` (connecting lazily, on the first call)."""
        channel_options = [("grpc.max_receive_message_length", MAX_RECEIVE_BYTES), *options]
        if tls:
            credentials = grpc.ssl_channel_credentials(root_certificates)
            self._channel = grpc.secure_channel(target, credentials, channel_options)
        else:
            self._channel = grpc.insecure_channel(target, channel_options)
        self._stub = pb_grpc.CatalogServiceStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._timeout = timeout
        self._stream_timeout = stream_timeout

    def __enter__(self) -> CatalogClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        self._channel.close()

    def _unary(self, method: Callable[..., Any], request: Any, *, upload: bool = False) -> Any:
        timeout = self._stream_timeout if upload else self._timeout
        try:
            return method(request, timeout=timeout, metadata=self._metadata)
        except grpc.RpcError as error:
            raise catalog_error(error) from error

    def _stream(self, method: Callable[..., Any], request: Any) -> Iterator[Any]:
        """Yields a server stream's messages; the call starts on the first ``next`` and is
        cancelled when the consumer stops early."""
        call = method(request, timeout=self._stream_timeout, metadata=self._metadata)
        try:
            yield from call
        except grpc.RpcError as error:
            raise catalog_error(error) from error
        finally:
            call.cancel()

    def register_or_get(self, **document: Unpack[NewDocument]) -> RegisterOutcome:
        """Registers a document, or returns the record already stored under its key
        (artifact_id, source_url, resolver) with ``created`` False."""
        request = pb.RegisterOrGetRequest(document=pb.NewDocument(**document))
        return RegisterOutcome.from_proto(self._unary(self._stub.RegisterOrGet, request))

    def register_or_get_batch(self, documents: Iterable[NewDocument]) -> list[RegisterOutcome]:
        """Registers up to the server's batch limit (1000 by default) in one transaction; one
        outcome per document, in order."""
        request = pb.RegisterOrGetBatchRequest(documents=[pb.NewDocument(**d) for d in documents])
        response = self._unary(self._stub.RegisterOrGetBatch, request)
        return [RegisterOutcome.from_proto(result) for result in response.results]

    def get_record(self, record_id: int) -> DocumentRecord:
        """The record with this id; raises ``NotFound`` if there is none."""
        response = self._unary(self._stub.GetRecord, pb.GetRecordRequest(id=record_id))
        return DocumentRecord.from_proto(response.record)

    def get_by_artifact(self, artifact_id: str) -> list[DocumentRecord]:
        """Every record of an artifact, newest first."""
        response = self._unary(
            self._stub.GetByArtifact, pb.GetByArtifactRequest(artifact_id=artifact_id)
        )
        return [DocumentRecord.from_proto(record) for record in response.records]

    def get_by_sha256(self, sha256: str) -> list[DocumentRecord]:
        """Every record with this content hash, newest first."""
        response = self._unary(self._stub.GetBySha256, pb.GetBySha256Request(sha256=sha256))
        return [DocumentRecord.from_proto(record) for record in response.records]

    def get_by_run(self, run_id: str) -> list[DocumentRecord]:
        """Every record fetched by a pipeline run, newest first."""
        response = self._unary(self._stub.GetByRun, pb.GetByRunRequest(run_id=run_id))
        return [DocumentRecord.from_proto(record) for record in response.records]

    def list_records(self, **filters: Unpack[RecordFilter]) -> Iterator[DocumentRecord]:
        """Streams the records matching the filters (all of them without filters), by id."""
        request = pb.ListRecordsRequest(filter=_record_filter(filters))
        for response in self._stream(self._stub.ListRecords, request):
            yield DocumentRecord.from_proto(response.record)

    def find_duplicates(
        self, min_count: int = 2, include_records: bool = False
    ) -> Iterator[DuplicateGroup]:
        """Streams groups of at least ``min_count`` records sharing a sha256, largest first."""
        request = pb.FindDuplicatesRequest(min_count=min_count, include_records=include_records)
        for response in self._stream(self._stub.FindDuplicates, request):
            yield DuplicateGroup.from_proto(response)

    def verify(self, record_id: int) -> VerificationResult:
        """Re-hashes the stored bytes of one record."""
        response = self._unary(self._stub.Verify, pb.VerifyRequest(record_id=record_id))
        return VerificationResult.from_proto(response.result)

    def verify_all(
        self, *, sample_rate: float = 1.0, concurrency: int = 0, **filters: Unpack[RecordFilter]
    ) -> VerifyAllRun:
        """Verifies every matching record (a deterministic sample when ``sample_rate`` < 1), with
        ``concurrency`` records at once (0: the server's default)."""
        request = pb.VerifyAllRequest(
            filter=_record_filter(filters), sample_rate=sample_rate, concurrency=concurrency
        )
        return VerifyAllRun(self._stream(self._stub.VerifyAll, request))

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
        header = pb.PutContentHeader(
            artifact_id=artifact_id,
            source_url=source_url,
            resolver=resolver,
            content_type=content_type,
            run_id=run_id,
            expected_sha256=expected_sha256,
            expected_bytes=expected_bytes,
        )
        read_errors: list[Exception] = []
        with _opened(source, "rb") as stream:

            def messages() -> Iterator[pb.PutContentRequest]:
                yield pb.PutContentRequest(header=header)
                try:
                    while chunk := stream.read(chunk_size):
                        yield pb.PutContentRequest(chunk=chunk)
                except Exception as error:  # gRPC reports only "Exception iterating requests"
                    read_errors.append(error)
                    raise
                yield pb.PutContentRequest(finish=pb.PutContentFinish())

            try:
                response = self._unary(self._stub.PutContent, messages(), upload=True)
            except CatalogError:
                if read_errors:
                    raise read_errors[0] from None
                raise
        return PutOutcome.from_proto(response)

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
        if (record_id is None) == (sha256 is None):
            raise ValueError("pass exactly one of record_id and sha256")
        request = pb.GetContentRequest(
            record_id=record_id, sha256=sha256, offset=offset, length=length
        )
        responses = self._stream(self._stub.GetContent, request)
        info = ContentInfo.from_proto(next(responses).info)
        with _opened(dest, "wb") as sink:
            for response in responses:
                sink.write(response.chunk)
        return info

    def import_records(
        self, records: Iterable[DocumentRecord], keep_ids: bool = False
    ) -> list[RegisterOutcome]:
        """Imports complete records (as ``list_records`` yields them, timestamps included) in one
        transaction, idempotent on the key; with ``keep_ids`` each keeps its id where it is free.
        For restoring an export."""
        request = pb.ImportRecordsRequest(
            records=[r.to_proto() for r in records], keep_ids=keep_ids
        )
        response = self._unary(self._stub.ImportRecords, request)
        return [RegisterOutcome.from_proto(result) for result in response.results]

    def stats(self) -> Stats:
        """Counts and sizes of the catalog and its storage backends."""
        return Stats.from_proto(self._unary(self._stub.Stats, pb.StatsRequest()))

    def provider_health(self) -> ProviderHealth:
        """The health of each backend of the server's provider, with probe latency."""
        response = self._unary(self._stub.ProviderHealth, pb.ProviderHealthRequest())
        return ProviderHealth.from_proto(response)

    def health_check(self, service: str = "") -> bool:
        """Whether the standard ``grpc.health.v1`` service reports ``service`` as SERVING
        (``""``: the whole server). Needs no token."""
        request = health_pb2.HealthCheckRequest(service=service)
        response = self._unary(self._health.Check, request)
        return bool(response.status == health_pb2.HealthCheckResponse.SERVING)
