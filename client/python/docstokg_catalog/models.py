"""Immutable values the client returns, converted from the generated protobuf messages.

Empty optional strings of the wire format (``content_type``, ``sha256``, ``storage_uri``,
``run_id``) become ``None``; timestamps become timezone-aware UTC ``datetime`` values. The outcomes
of registering and uploading read like the record they carry: ``outcome.id`` is
``outcome.record.id``, and so on for every field of :class:`DocumentRecord`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, NotRequired, Required, TypedDict, TypeVar, cast, overload

from google.protobuf.timestamp_pb2 import Timestamp

from ._generated import catalog_pb2 as pb

T = TypeVar("T")


def _optional(value: str) -> str | None:
    return value or None


def _utc(timestamp: Timestamp) -> datetime:
    return timestamp.ToDatetime(tzinfo=UTC)


class NewDocument(TypedDict, total=False):
    """The fields of a document to register (keyword arguments of ``register_or_get``)."""

    artifact_id: Required[str]
    source_url: Required[str]
    resolver: Required[str]
    content_type: NotRequired[str | None]
    bytes: NotRequired[int]
    sha256: NotRequired[str | None]
    storage_uri: NotRequired[str | None]
    run_id: NotRequired[str | None]


class RecordFilter(TypedDict, total=False):
    """Filters of ``list_records``, ``verify_all`` and ``delete_records``; each one left out
    matches everything."""

    run_id: str
    resolver: str
    content_type: str
    created_after: datetime
    created_before: datetime
    artifact_id: str


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """One registered document. Records are immutable once created (they can be deleted)."""

    id: int
    artifact_id: str
    source_url: str
    resolver: str
    content_type: str | None
    bytes: int
    sha256: str | None
    storage_uri: str | None
    created_at: datetime
    updated_at: datetime
    run_id: str | None

    @classmethod
    def from_proto(cls, message: pb.DocumentRecord) -> DocumentRecord:
        """Converts a ``docstokg.catalog.v1.DocumentRecord``."""
        return cls(
            id=message.id,
            artifact_id=message.artifact_id,
            source_url=message.source_url,
            resolver=message.resolver,
            content_type=_optional(message.content_type),
            bytes=message.bytes,
            sha256=_optional(message.sha256),
            storage_uri=_optional(message.storage_uri),
            created_at=_utc(message.created_at),
            updated_at=_utc(message.updated_at),
            run_id=_optional(message.run_id),
        )

    def to_proto(self) -> pb.DocumentRecord:
        """Converts back to a ``docstokg.catalog.v1.DocumentRecord`` (for ``import_records``)."""
        message = pb.DocumentRecord(
            id=self.id,
            artifact_id=self.artifact_id,
            source_url=self.source_url,
            resolver=self.resolver,
            content_type=self.content_type,
            bytes=self.bytes,
            sha256=self.sha256,
            storage_uri=self.storage_uri,
            run_id=self.run_id,
        )
        message.created_at.FromDatetime(self.created_at)
        message.updated_at.FromDatetime(self.updated_at)
        return message


def _records(messages: Iterable[pb.DocumentRecord]) -> tuple[DocumentRecord, ...]:
    return tuple(DocumentRecord.from_proto(m) for m in messages)


class _FromRecord(Generic[T]):
    """A read-only attribute holding the same-named field of the owner's ``record``."""

    __slots__ = ("name",)

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> _FromRecord[T]: ...
    @overload
    def __get__(self, instance: _RecordFields, owner: type) -> T: ...
    def __get__(self, instance: _RecordFields | None, owner: type) -> _FromRecord[T] | T:
        if instance is None:
            return self
        return cast(T, getattr(instance.record, self.name))


class _RecordFields:
    """The fields of :class:`DocumentRecord` as read-only attributes of a value carrying one in
    ``record``, so that an outcome reads like its record (``outcome.id``, ``outcome.sha256``, ...).
    """

    __slots__ = ()
    record: DocumentRecord

    id = _FromRecord[int]()
    artifact_id = _FromRecord[str]()
    source_url = _FromRecord[str]()
    resolver = _FromRecord[str]()
    content_type = _FromRecord["str | None"]()
    bytes = _FromRecord[int]()
    sha256 = _FromRecord["str | None"]()
    storage_uri = _FromRecord["str | None"]()
    created_at = _FromRecord[datetime]()
    updated_at = _FromRecord[datetime]()
    run_id = _FromRecord["str | None"]()


@dataclass(frozen=True, slots=True)
class RegisterOutcome(_RecordFields):
    """The stored record, whether this call created it, and which request fields differ. Reads
    like the record: ``outcome.id`` is ``outcome.record.id``, and so on for each record field."""

    record: DocumentRecord
    created: bool
    differing_fields: tuple[str, ...]

    @classmethod
    def from_proto(cls, message: pb.RegisterOrGetResponse) -> RegisterOutcome:
        """Converts a ``RegisterOrGetResponse``."""
        return cls(
            record=DocumentRecord.from_proto(message.record),
            created=message.created,
            differing_fields=tuple(message.differing_fields),
        )


@dataclass(frozen=True, slots=True)
class PutOutcome(_RecordFields):
    """The record an upload registered; ``deduplicated`` when the bytes were already stored. Reads
    like the record, as :class:`RegisterOutcome` does."""

    record: DocumentRecord
    created: bool
    differing_fields: tuple[str, ...]
    deduplicated: bool

    @classmethod
    def from_proto(cls, message: pb.PutContentResponse) -> PutOutcome:
        """Converts a ``PutContentResponse``."""
        return cls(
            record=DocumentRecord.from_proto(message.record),
            created=message.created,
            differing_fields=tuple(message.differing_fields),
            deduplicated=message.deduplicated,
        )


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    """Records sharing one sha256; ``records`` is empty unless they were requested."""

    sha256: str
    count: int
    total_bytes: int
    records: tuple[DocumentRecord, ...]

    @classmethod
    def from_proto(cls, message: pb.FindDuplicatesResponse) -> DuplicateGroup:
        """Converts a ``FindDuplicatesResponse``."""
        return cls(message.sha256, message.count, message.total_bytes, _records(message.records))


class VerificationStatus(enum.Enum):
    """Outcome of verifying one record (values are the wire numbers)."""

    UNSPECIFIED = 0
    VERIFIED = 1
    MISMATCH = 2
    MISSING = 3
    NO_HASH = 4
    OUT_OF_SCOPE = 5


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """Expected and actual hash and size of one record's stored bytes."""

    record_id: int
    status: VerificationStatus
    expected_sha256: str | None
    actual_sha256: str | None
    expected_bytes: int
    actual_bytes: int
    storage_uri: str | None
    message: str

    @classmethod
    def from_proto(cls, message: pb.VerificationResult) -> VerificationResult:
        """Converts a ``VerificationResult``."""
        return cls(
            record_id=message.record_id,
            status=VerificationStatus(message.status),
            expected_sha256=_optional(message.expected_sha256),
            actual_sha256=_optional(message.actual_sha256),
            expected_bytes=message.expected_bytes,
            actual_bytes=message.actual_bytes,
            storage_uri=_optional(message.storage_uri),
            message=message.message,
        )


@dataclass(frozen=True, slots=True)
class VerifySummary:
    """Totals of a ``verify_all`` run."""

    checked: int
    verified: int
    mismatched: int
    missing: int
    no_hash: int
    out_of_scope: int
    skipped: int

    @classmethod
    def from_proto(cls, message: pb.VerifySummary) -> VerifySummary:
        """Converts a ``VerifySummary``."""
        return cls(
            checked=message.checked,
            verified=message.verified,
            mismatched=message.mismatched,
            missing=message.missing,
            no_hash=message.no_hash,
            out_of_scope=message.out_of_scope,
            skipped=message.skipped,
        )


@dataclass(frozen=True, slots=True)
class ContentInfo:
    """What ``get_content`` wrote: the whole object's hash and size, and the range's size."""

    sha256: str
    total_bytes: int
    range_bytes: int
    storage_uri: str

    @classmethod
    def from_proto(cls, message: pb.ContentInfo) -> ContentInfo:
        """Converts a ``ContentInfo``."""
        return cls(message.sha256, message.total_bytes, message.range_bytes, message.storage_uri)


@dataclass(frozen=True, slots=True)
class StorageBackend:
    """One storage backend: role ("metadata" or "blobs"), kind and location."""

    role: str
    kind: str
    location: str


@dataclass(frozen=True, slots=True)
class Stats:
    """Counts and sizes of the catalog and its storage backends."""

    provider: str
    total_records: int
    total_bytes: int
    unique_sha256: int
    unique_artifacts: int
    duplicate_groups: int
    by_resolver: dict[str, int]
    storage_backends: tuple[StorageBackend, ...]
    details: dict[str, str]
    #: Sum of the sizes of records with a sha256: the bytes registered.
    hashed_bytes: int
    #: Sum over distinct sha256 values of one record's size: the bytes stored once.
    unique_bytes: int
    #: ``hashed_bytes - unique_bytes``: what content addressing saves.
    dedup_saved_bytes: int
    #: ``hashed_bytes / unique_bytes`` (1.0 without duplicates, 0.0 on an empty catalog).
    dedup_ratio: float
    #: Duplicate groups holding at least one record of each resolver.
    duplicate_groups_by_resolver: dict[str, int]

    @classmethod
    def from_proto(cls, message: pb.StatsResponse) -> Stats:
        """Converts a ``StatsResponse``."""
        return cls(
            provider=message.provider,
            total_records=message.total_records,
            total_bytes=message.total_bytes,
            unique_sha256=message.unique_sha256,
            unique_artifacts=message.unique_artifacts,
            duplicate_groups=message.duplicate_groups,
            by_resolver=dict(message.by_resolver),
            storage_backends=tuple(
                StorageBackend(b.role, b.kind, b.location) for b in message.storage_backends
            ),
            details=dict(message.details),
            hashed_bytes=message.hashed_bytes,
            unique_bytes=message.unique_bytes,
            dedup_saved_bytes=message.dedup_saved_bytes,
            dedup_ratio=message.dedup_ratio,
            duplicate_groups_by_resolver=dict(message.duplicate_groups_by_resolver),
        )


class HealthState(enum.Enum):
    """Health of a provider or a backend (values are the wire numbers)."""

    UNSPECIFIED = 0
    HEALTHY = 1
    DEGRADED = 2
    UNHEALTHY = 3


@dataclass(frozen=True, slots=True)
class BackendHealth:
    """What the probe of one backend found, and how long it took."""

    name: str
    state: HealthState
    message: str
    latency_ms: float


@dataclass(frozen=True, slots=True)
class ProviderHealth:
    """The worst state of the provider's backends, and each backend's health."""

    state: HealthState
    message: str
    backends: tuple[BackendHealth, ...]

    @classmethod
    def from_proto(cls, message: pb.ProviderHealthResponse) -> ProviderHealth:
        """Converts a ``ProviderHealthResponse``."""
        backends = tuple(
            BackendHealth(b.name, HealthState(b.state), b.message, b.latency_ms)
            for b in message.backends
        )
        return cls(HealthState(message.state), message.message, backends)


@dataclass(frozen=True, slots=True)
class DeleteReport:
    """What ``delete_records`` matched and deleted.

    ``matched`` counts the records that existed (ids already gone are not an error) or matched the
    filter; ``deleted`` is 0 on a dry run, and less than ``matched`` when another call deleted some
    of them first. ``ids`` lists the ids deleted (on a dry run, that would be), ascending, at most
    10,000 of them; ``ids_truncated`` says there were more.
    """

    matched: int
    deleted: int
    ids: tuple[int, ...]
    ids_truncated: bool

    @classmethod
    def from_proto(cls, message: pb.DeleteRecordsResponse) -> DeleteReport:
        """Converts a ``DeleteRecordsResponse``."""
        return cls(message.matched, message.deleted, tuple(message.ids), message.ids_truncated)


@dataclass(frozen=True, slots=True)
class RetentionRuleReport:
    """What one configured retention rule selected (``matched``, ``matched_bytes``) and
    deleted (0 on a dry run)."""

    rule: str
    matched: int
    deleted: int
    matched_bytes: int


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """One report per retention rule of the server's configuration, in configuration order
    (empty when none is configured); ``dry_run`` when nothing was deleted because it was asked."""

    rules: tuple[RetentionRuleReport, ...]
    dry_run: bool

    @classmethod
    def from_proto(cls, message: pb.ApplyRetentionResponse) -> RetentionReport:
        """Converts an ``ApplyRetentionResponse``."""
        rules = tuple(
            RetentionRuleReport(r.rule, r.matched, r.deleted, r.matched_bytes)
            for r in message.rules
        )
        return cls(rules, message.dry_run)


class AuditFindingKind(enum.Enum):
    """What kind of problem an audit found (values are the wire numbers)."""

    UNSPECIFIED = 0
    #: A stored object no record references.
    ORPHAN = 1
    #: A record whose bytes are not where its storage_uri points.
    MISSING = 2
    #: A record whose stored bytes differ from its size (or, when re-hashed, its sha256).
    MISMATCH = 3
    #: A record whose storage_uri points outside the provider's storage.
    OUT_OF_SCOPE = 4


@dataclass(frozen=True, slots=True)
class AuditFinding:
    """One problem ``audit_storage`` found: the record (``record_id`` 0 for an orphan), its or
    the object's sha256, storage URI and size, and a human-readable ``message``."""

    kind: AuditFindingKind
    record_id: int
    sha256: str | None
    storage_uri: str | None
    bytes: int
    message: str

    @classmethod
    def from_proto(cls, message: pb.AuditFinding) -> AuditFinding:
        """Converts an ``AuditFinding``."""
        return cls(
            kind=AuditFindingKind(message.kind),
            record_id=message.record_id,
            sha256=_optional(message.sha256),
            storage_uri=_optional(message.storage_uri),
            bytes=message.bytes,
            message=message.message,
        )


@dataclass(frozen=True, slots=True)
class AuditProgress:
    """How far an audit has come: records checked, then stored objects checked (the second
    pass). The server reports it every 1,000 records or objects."""

    records_checked: int
    objects_checked: int


@dataclass(frozen=True, slots=True)
class AuditSummary:
    """Totals of an ``audit_storage`` run: what it checked and re-hashed, and the findings of
    each kind (with the orphans' total size)."""

    records_checked: int
    objects_checked: int
    rehashed: int
    orphans: int
    orphan_bytes: int
    missing: int
    mismatched: int
    out_of_scope: int

    @classmethod
    def from_proto(cls, message: pb.AuditSummary) -> AuditSummary:
        """Converts an ``AuditSummary``."""
        return cls(
            records_checked=message.records_checked,
            objects_checked=message.objects_checked,
            rehashed=message.rehashed,
            orphans=message.orphans,
            orphan_bytes=message.orphan_bytes,
            missing=message.missing,
            mismatched=message.mismatched,
            out_of_scope=message.out_of_scope,
        )
