"""What each RPC sends and how its answers convert, shared by ``CatalogClient`` and
``AsyncCatalogClient`` so that the two differ only in how they wait for the server."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from operator import attrgetter
from types import ModuleType
from typing import IO, Any, Generic, TypeVar, cast

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ._generated import catalog_pb2 as pb
from ._generated import catalog_pb2_grpc as pb_grpc
from .models import (
    AuditFinding,
    AuditProgress,
    AuditSummary,
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
    VerifySummary,
)

#: Bytes per upload message.
CHUNK_SIZE = 256 * 1024
#: Largest response message accepted (a duplicate group with many records can be large).
MAX_RECEIVE_BYTES = 64 * 1024 * 1024
#: The last message of an upload: without it the server stores nothing.
FINISH = pb.PutContentRequest(finish=pb.PutContentFinish())

Source = str | os.PathLike[str] | IO[bytes]
T = TypeVar("T")


def opened(file: Source, mode: str) -> AbstractContextManager[IO[bytes]]:
    """Opens a path (closed afterwards), or passes an open binary file through untouched."""
    if isinstance(file, str | os.PathLike):
        return cast("AbstractContextManager[IO[bytes]]", open(file, mode))
    return nullcontext(file)


def open_channel(
    api: ModuleType,
    target: str,
    *,
    tls: bool,
    root_certificates: bytes | None,
    private_key: bytes | None = None,
    certificate_chain: bytes | None = None,
    options: Iterable[tuple[str, Any]],
) -> Any:
    """A channel to ``target`` from ``api``, ``grpc`` or ``grpc.aio`` (same channel functions).

    With ``tls``, the server must present a certificate signed by ``root_certificates`` (PEM; the
    system roots when ``None``); ``private_key`` and ``certificate_chain`` (PEM) are the client's
    certificate, for a server that wants mutual TLS."""
    channel_options = [("grpc.max_receive_message_length", MAX_RECEIVE_BYTES), *options]
    if (private_key is None) != (certificate_chain is None):
        raise ValueError("give both private_key and certificate_chain, or neither")
    if tls:
        credentials = grpc.ssl_channel_credentials(
            root_certificates, private_key, certificate_chain
        )
        return api.secure_channel(target, credentials, channel_options)
    return api.insecure_channel(target, channel_options)


def auth_metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    """The metadata every call sends: the bearer token, if any."""
    return (("authorization", f"Bearer {token}"),) if token else ()


class Stubs:
    """The generated stubs of the catalog and health services on one channel, sync or asyncio."""

    def __init__(self, channel: Any) -> None:
        """Binds both stubs to ``channel``."""
        self.catalog = pb_grpc.CatalogServiceStub(channel)
        self.health = health_pb2_grpc.HealthStub(channel)


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One RPC: the stub method (``"catalog.GetRecord"``), the request (an upload's header) and
    how a response message (each one, for a server stream) converts."""

    method: str
    request: Any
    convert: Callable[[Any], T]

    def bind(self, stubs: Stubs) -> Any:
        """The stub's callable for ``method``."""
        return attrgetter(self.method)(stubs)


def _identity(message: Any) -> Any:
    return message


def _record(response: Any) -> DocumentRecord:
    return DocumentRecord.from_proto(response.record)


def _records(response: Any) -> list[DocumentRecord]:
    return [DocumentRecord.from_proto(record) for record in response.records]


def _outcomes(response: Any) -> list[RegisterOutcome]:
    return [RegisterOutcome.from_proto(result) for result in response.results]


def _record_filter(filters: RecordFilter) -> pb.RecordFilter:
    message = pb.RecordFilter(
        run_id=filters.get("run_id"),
        resolver=filters.get("resolver"),
        content_type=filters.get("content_type"),
        artifact_id=filters.get("artifact_id"),
    )
    if (after := filters.get("created_after")) is not None:
        message.created_after.FromDatetime(after)
    if (before := filters.get("created_before")) is not None:
        message.created_before.FromDatetime(before)
    return message


def register_or_get(document: NewDocument) -> Call[RegisterOutcome]:
    """RegisterOrGet of one document."""
    request = pb.RegisterOrGetRequest(document=pb.NewDocument(**document))
    return Call("catalog.RegisterOrGet", request, RegisterOutcome.from_proto)


def register_or_get_batch(documents: Iterable[NewDocument]) -> Call[list[RegisterOutcome]]:
    """RegisterOrGetBatch: one outcome per document, in order."""
    request = pb.RegisterOrGetBatchRequest(documents=[pb.NewDocument(**d) for d in documents])
    return Call("catalog.RegisterOrGetBatch", request, _outcomes)


def get_record(record_id: int) -> Call[DocumentRecord]:
    """GetRecord by id."""
    return Call("catalog.GetRecord", pb.GetRecordRequest(id=record_id), _record)


def get_by_artifact(artifact_id: str) -> Call[list[DocumentRecord]]:
    """GetByArtifact."""
    request = pb.GetByArtifactRequest(artifact_id=artifact_id)
    return Call("catalog.GetByArtifact", request, _records)


def get_by_sha256(sha256: str) -> Call[list[DocumentRecord]]:
    """GetBySha256."""
    return Call("catalog.GetBySha256", pb.GetBySha256Request(sha256=sha256), _records)


def get_by_run(run_id: str) -> Call[list[DocumentRecord]]:
    """GetByRun."""
    return Call("catalog.GetByRun", pb.GetByRunRequest(run_id=run_id), _records)


def list_records(filters: RecordFilter) -> Call[DocumentRecord]:
    """ListRecords (a server stream of records)."""
    request = pb.ListRecordsRequest(filter=_record_filter(filters))
    return Call("catalog.ListRecords", request, _record)


def find_duplicates(min_count: int, include_records: bool, limit: int) -> Call[DuplicateGroup]:
    """FindDuplicates (a server stream of groups, at most ``limit`` of them unless 0)."""
    request = pb.FindDuplicatesRequest(
        min_count=min_count, include_records=include_records, limit=limit
    )
    return Call("catalog.FindDuplicates", request, DuplicateGroup.from_proto)


def verify(record_id: int) -> Call[VerificationResult]:
    """Verify one record."""
    request = pb.VerifyRequest(record_id=record_id)
    return Call("catalog.Verify", request, lambda r: VerificationResult.from_proto(r.result))


def verify_all(
    sample_rate: float, concurrency: int, filters: RecordFilter
) -> Call[pb.VerifyAllResponse]:
    """VerifyAll (a server stream of events, which a :class:`VerifyAllProgress` sorts)."""
    request = pb.VerifyAllRequest(
        filter=_record_filter(filters), sample_rate=sample_rate, concurrency=concurrency
    )
    return Call("catalog.VerifyAll", request, _identity)


def put_content(
    *,
    artifact_id: str,
    source_url: str,
    resolver: str,
    content_type: str | None,
    run_id: str | None,
    expected_sha256: str | None,
    expected_bytes: int | None,
) -> Call[PutOutcome]:
    """PutContent (a client stream): ``request`` is the header; chunks and :data:`FINISH`
    follow."""
    header = pb.PutContentHeader(
        artifact_id=artifact_id,
        source_url=source_url,
        resolver=resolver,
        content_type=content_type,
        run_id=run_id,
        expected_sha256=expected_sha256,
        expected_bytes=expected_bytes,
    )
    return Call("catalog.PutContent", pb.PutContentRequest(header=header), PutOutcome.from_proto)


def chunk(data: bytes) -> pb.PutContentRequest:
    """An upload message carrying ``data``."""
    return pb.PutContentRequest(chunk=data)


def get_content(
    record_id: int | None, sha256: str | None, offset: int, length: int
) -> Call[pb.GetContentResponse]:
    """GetContent (a server stream: the ``info``, then ``chunk`` messages)."""
    if (record_id is None) == (sha256 is None):
        raise ValueError("pass exactly one of record_id and sha256")
    request = pb.GetContentRequest(record_id=record_id, sha256=sha256, offset=offset, length=length)
    return Call("catalog.GetContent", request, _identity)


def import_records(
    records: Iterable[DocumentRecord], keep_ids: bool
) -> Call[list[RegisterOutcome]]:
    """ImportRecords: one outcome per record, in order."""
    request = pb.ImportRecordsRequest(records=[r.to_proto() for r in records], keep_ids=keep_ids)
    return Call("catalog.ImportRecords", request, _outcomes)


def delete_records(ids: Iterable[int], dry_run: bool, filters: RecordFilter) -> Call[DeleteReport]:
    """DeleteRecords by ids or by filter. The filter is sent only when one is given, so that ids
    alone are not "ids and a filter"; ids with filters go as they are, for the server to refuse."""
    request = pb.DeleteRecordsRequest(ids=list(ids), dry_run=dry_run)
    if filters:
        request.filter.CopyFrom(_record_filter(filters))
    return Call("catalog.DeleteRecords", request, DeleteReport.from_proto)


def apply_retention(dry_run: bool) -> Call[RetentionReport]:
    """ApplyRetention."""
    request = pb.ApplyRetentionRequest(dry_run=dry_run)
    return Call("catalog.ApplyRetention", request, RetentionReport.from_proto)


def audit_storage(rehash_rate: float) -> Call[pb.AuditStorageResponse]:
    """AuditStorage (a server stream of events, which an :class:`AuditStorageProgress`
    sorts)."""
    request = pb.AuditStorageRequest(rehash_rate=rehash_rate)
    return Call("catalog.AuditStorage", request, _identity)


def stats() -> Call[Stats]:
    """Stats."""
    return Call("catalog.Stats", pb.StatsRequest(), Stats.from_proto)


def provider_health() -> Call[ProviderHealth]:
    """ProviderHealth."""
    return Call("catalog.ProviderHealth", pb.ProviderHealthRequest(), ProviderHealth.from_proto)


def health_check(service: str) -> Call[bool]:
    """The standard ``grpc.health.v1`` Check: whether ``service`` is SERVING."""
    return Call(
        "health.Check",
        health_pb2.HealthCheckRequest(service=service),
        lambda r: bool(r.status == health_pb2.HealthCheckResponse.SERVING),
    )


class VerifyAllProgress:
    """What a ``verify_all`` stream reports besides its results: ``matching_records`` once it
    has started and ``summary`` once it has ended."""

    def __init__(self) -> None:
        """Nothing is known before the stream starts."""
        self.matching_records: int | None = None
        self.summary: VerifySummary | None = None

    def _result(self, response: pb.VerifyAllResponse) -> VerificationResult | None:
        """The result ``response`` carries; ``None`` after recording a started or summary
        event."""
        event = response.WhichOneof("event")
        if event == "result":
            return VerificationResult.from_proto(response.result)
        if event == "started":
            self.matching_records = response.started.matching_records
        elif event == "summary":
            self.summary = VerifySummary.from_proto(response.summary)
        return None


class AuditStorageProgress:
    """What an ``audit_storage`` stream reports besides its findings: ``records`` (to check)
    once it has started, the latest ``progress`` while it runs, and ``summary`` once it has
    ended."""

    def __init__(self) -> None:
        """Nothing is known before the stream starts."""
        self.records: int | None = None
        self.progress: AuditProgress | None = None
        self.summary: AuditSummary | None = None

    def _finding(self, response: pb.AuditStorageResponse) -> AuditFinding | None:
        """The finding ``response`` carries; ``None`` after recording a started, progress or
        summary event."""
        event = response.WhichOneof("event")
        if event == "finding":
            return AuditFinding.from_proto(response.finding)
        if event == "started":
            self.records = response.started.records
        elif event == "progress":
            progress = response.progress
            self.progress = AuditProgress(progress.records_checked, progress.objects_checked)
        elif event == "summary":
            self.summary = AuditSummary.from_proto(response.summary)
        return None
