import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VerificationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERIFICATION_STATUS_UNSPECIFIED: _ClassVar[VerificationStatus]
    VERIFICATION_STATUS_VERIFIED: _ClassVar[VerificationStatus]
    VERIFICATION_STATUS_MISMATCH: _ClassVar[VerificationStatus]
    VERIFICATION_STATUS_MISSING: _ClassVar[VerificationStatus]
    VERIFICATION_STATUS_NO_HASH: _ClassVar[VerificationStatus]
    VERIFICATION_STATUS_OUT_OF_SCOPE: _ClassVar[VerificationStatus]

class HealthState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HEALTH_STATE_UNSPECIFIED: _ClassVar[HealthState]
    HEALTH_STATE_HEALTHY: _ClassVar[HealthState]
    HEALTH_STATE_DEGRADED: _ClassVar[HealthState]
    HEALTH_STATE_UNHEALTHY: _ClassVar[HealthState]

class AuditFindingKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUDIT_FINDING_KIND_UNSPECIFIED: _ClassVar[AuditFindingKind]
    AUDIT_FINDING_KIND_ORPHAN: _ClassVar[AuditFindingKind]
    AUDIT_FINDING_KIND_MISSING: _ClassVar[AuditFindingKind]
    AUDIT_FINDING_KIND_MISMATCH: _ClassVar[AuditFindingKind]
    AUDIT_FINDING_KIND_OUT_OF_SCOPE: _ClassVar[AuditFindingKind]
VERIFICATION_STATUS_UNSPECIFIED: VerificationStatus
VERIFICATION_STATUS_VERIFIED: VerificationStatus
VERIFICATION_STATUS_MISMATCH: VerificationStatus
VERIFICATION_STATUS_MISSING: VerificationStatus
VERIFICATION_STATUS_NO_HASH: VerificationStatus
VERIFICATION_STATUS_OUT_OF_SCOPE: VerificationStatus
HEALTH_STATE_UNSPECIFIED: HealthState
HEALTH_STATE_HEALTHY: HealthState
HEALTH_STATE_DEGRADED: HealthState
HEALTH_STATE_UNHEALTHY: HealthState
AUDIT_FINDING_KIND_UNSPECIFIED: AuditFindingKind
AUDIT_FINDING_KIND_ORPHAN: AuditFindingKind
AUDIT_FINDING_KIND_MISSING: AuditFindingKind
AUDIT_FINDING_KIND_MISMATCH: AuditFindingKind
AUDIT_FINDING_KIND_OUT_OF_SCOPE: AuditFindingKind

class DocumentRecord(_message.Message):
    __slots__ = ("id", "artifact_id", "source_url", "resolver", "content_type", "bytes", "sha256", "storage_uri", "created_at", "updated_at", "run_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_URL_FIELD_NUMBER: _ClassVar[int]
    RESOLVER_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    STORAGE_URI_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    artifact_id: str
    source_url: str
    resolver: str
    content_type: str
    bytes: int
    sha256: str
    storage_uri: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    run_id: str
    def __init__(self, id: _Optional[int] = ..., artifact_id: _Optional[str] = ..., source_url: _Optional[str] = ..., resolver: _Optional[str] = ..., content_type: _Optional[str] = ..., bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., storage_uri: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., run_id: _Optional[str] = ...) -> None: ...

class NewDocument(_message.Message):
    __slots__ = ("artifact_id", "source_url", "resolver", "content_type", "bytes", "sha256", "storage_uri", "run_id")
    ARTIFACT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_URL_FIELD_NUMBER: _ClassVar[int]
    RESOLVER_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    STORAGE_URI_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    artifact_id: str
    source_url: str
    resolver: str
    content_type: str
    bytes: int
    sha256: str
    storage_uri: str
    run_id: str
    def __init__(self, artifact_id: _Optional[str] = ..., source_url: _Optional[str] = ..., resolver: _Optional[str] = ..., content_type: _Optional[str] = ..., bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., storage_uri: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class RegisterOrGetRequest(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: NewDocument
    def __init__(self, document: _Optional[_Union[NewDocument, _Mapping]] = ...) -> None: ...

class RegisterOrGetResponse(_message.Message):
    __slots__ = ("record", "created", "differing_fields")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    DIFFERING_FIELDS_FIELD_NUMBER: _ClassVar[int]
    record: DocumentRecord
    created: bool
    differing_fields: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, record: _Optional[_Union[DocumentRecord, _Mapping]] = ..., created: _Optional[bool] = ..., differing_fields: _Optional[_Iterable[str]] = ...) -> None: ...

class RegisterOrGetBatchRequest(_message.Message):
    __slots__ = ("documents",)
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    documents: _containers.RepeatedCompositeFieldContainer[NewDocument]
    def __init__(self, documents: _Optional[_Iterable[_Union[NewDocument, _Mapping]]] = ...) -> None: ...

class RegisterOrGetBatchResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[RegisterOrGetResponse]
    def __init__(self, results: _Optional[_Iterable[_Union[RegisterOrGetResponse, _Mapping]]] = ...) -> None: ...

class GetRecordRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: int
    def __init__(self, id: _Optional[int] = ...) -> None: ...

class GetRecordResponse(_message.Message):
    __slots__ = ("record",)
    RECORD_FIELD_NUMBER: _ClassVar[int]
    record: DocumentRecord
    def __init__(self, record: _Optional[_Union[DocumentRecord, _Mapping]] = ...) -> None: ...

class GetByArtifactRequest(_message.Message):
    __slots__ = ("artifact_id",)
    ARTIFACT_ID_FIELD_NUMBER: _ClassVar[int]
    artifact_id: str
    def __init__(self, artifact_id: _Optional[str] = ...) -> None: ...

class GetByArtifactResponse(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[DocumentRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[DocumentRecord, _Mapping]]] = ...) -> None: ...

class GetBySha256Request(_message.Message):
    __slots__ = ("sha256",)
    SHA256_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    def __init__(self, sha256: _Optional[str] = ...) -> None: ...

class GetBySha256Response(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[DocumentRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[DocumentRecord, _Mapping]]] = ...) -> None: ...

class GetByRunRequest(_message.Message):
    __slots__ = ("run_id",)
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    def __init__(self, run_id: _Optional[str] = ...) -> None: ...

class GetByRunResponse(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[DocumentRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[DocumentRecord, _Mapping]]] = ...) -> None: ...

class RecordFilter(_message.Message):
    __slots__ = ("run_id", "resolver", "content_type", "created_after", "created_before", "artifact_id")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RESOLVER_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_ID_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    resolver: str
    content_type: str
    created_after: _timestamp_pb2.Timestamp
    created_before: _timestamp_pb2.Timestamp
    artifact_id: str
    def __init__(self, run_id: _Optional[str] = ..., resolver: _Optional[str] = ..., content_type: _Optional[str] = ..., created_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., artifact_id: _Optional[str] = ...) -> None: ...

class ListRecordsRequest(_message.Message):
    __slots__ = ("filter",)
    FILTER_FIELD_NUMBER: _ClassVar[int]
    filter: RecordFilter
    def __init__(self, filter: _Optional[_Union[RecordFilter, _Mapping]] = ...) -> None: ...

class ListRecordsResponse(_message.Message):
    __slots__ = ("record",)
    RECORD_FIELD_NUMBER: _ClassVar[int]
    record: DocumentRecord
    def __init__(self, record: _Optional[_Union[DocumentRecord, _Mapping]] = ...) -> None: ...

class FindDuplicatesRequest(_message.Message):
    __slots__ = ("min_count", "include_records", "limit")
    MIN_COUNT_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_RECORDS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    min_count: int
    include_records: bool
    limit: int
    def __init__(self, min_count: _Optional[int] = ..., include_records: _Optional[bool] = ..., limit: _Optional[int] = ...) -> None: ...

class FindDuplicatesResponse(_message.Message):
    __slots__ = ("sha256", "count", "total_bytes", "records")
    SHA256_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    count: int
    total_bytes: int
    records: _containers.RepeatedCompositeFieldContainer[DocumentRecord]
    def __init__(self, sha256: _Optional[str] = ..., count: _Optional[int] = ..., total_bytes: _Optional[int] = ..., records: _Optional[_Iterable[_Union[DocumentRecord, _Mapping]]] = ...) -> None: ...

class VerificationResult(_message.Message):
    __slots__ = ("record_id", "status", "expected_sha256", "actual_sha256", "expected_bytes", "actual_bytes", "storage_uri", "message")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_SHA256_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_SHA256_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_BYTES_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    STORAGE_URI_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    record_id: int
    status: VerificationStatus
    expected_sha256: str
    actual_sha256: str
    expected_bytes: int
    actual_bytes: int
    storage_uri: str
    message: str
    def __init__(self, record_id: _Optional[int] = ..., status: _Optional[_Union[VerificationStatus, str]] = ..., expected_sha256: _Optional[str] = ..., actual_sha256: _Optional[str] = ..., expected_bytes: _Optional[int] = ..., actual_bytes: _Optional[int] = ..., storage_uri: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class VerifyRequest(_message.Message):
    __slots__ = ("record_id",)
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    record_id: int
    def __init__(self, record_id: _Optional[int] = ...) -> None: ...

class VerifyResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: VerificationResult
    def __init__(self, result: _Optional[_Union[VerificationResult, _Mapping]] = ...) -> None: ...

class VerifyAllRequest(_message.Message):
    __slots__ = ("filter", "sample_rate", "concurrency")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    filter: RecordFilter
    sample_rate: float
    concurrency: int
    def __init__(self, filter: _Optional[_Union[RecordFilter, _Mapping]] = ..., sample_rate: _Optional[float] = ..., concurrency: _Optional[int] = ...) -> None: ...

class VerifyAllStarted(_message.Message):
    __slots__ = ("matching_records",)
    MATCHING_RECORDS_FIELD_NUMBER: _ClassVar[int]
    matching_records: int
    def __init__(self, matching_records: _Optional[int] = ...) -> None: ...

class VerifySummary(_message.Message):
    __slots__ = ("checked", "verified", "mismatched", "missing", "no_hash", "out_of_scope", "skipped")
    CHECKED_FIELD_NUMBER: _ClassVar[int]
    VERIFIED_FIELD_NUMBER: _ClassVar[int]
    MISMATCHED_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    NO_HASH_FIELD_NUMBER: _ClassVar[int]
    OUT_OF_SCOPE_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    checked: int
    verified: int
    mismatched: int
    missing: int
    no_hash: int
    out_of_scope: int
    skipped: int
    def __init__(self, checked: _Optional[int] = ..., verified: _Optional[int] = ..., mismatched: _Optional[int] = ..., missing: _Optional[int] = ..., no_hash: _Optional[int] = ..., out_of_scope: _Optional[int] = ..., skipped: _Optional[int] = ...) -> None: ...

class VerifyAllResponse(_message.Message):
    __slots__ = ("started", "result", "summary")
    STARTED_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    started: VerifyAllStarted
    result: VerificationResult
    summary: VerifySummary
    def __init__(self, started: _Optional[_Union[VerifyAllStarted, _Mapping]] = ..., result: _Optional[_Union[VerificationResult, _Mapping]] = ..., summary: _Optional[_Union[VerifySummary, _Mapping]] = ...) -> None: ...

class PutContentHeader(_message.Message):
    __slots__ = ("artifact_id", "source_url", "resolver", "content_type", "run_id", "expected_sha256", "expected_bytes")
    ARTIFACT_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_URL_FIELD_NUMBER: _ClassVar[int]
    RESOLVER_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_SHA256_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_BYTES_FIELD_NUMBER: _ClassVar[int]
    artifact_id: str
    source_url: str
    resolver: str
    content_type: str
    run_id: str
    expected_sha256: str
    expected_bytes: int
    def __init__(self, artifact_id: _Optional[str] = ..., source_url: _Optional[str] = ..., resolver: _Optional[str] = ..., content_type: _Optional[str] = ..., run_id: _Optional[str] = ..., expected_sha256: _Optional[str] = ..., expected_bytes: _Optional[int] = ...) -> None: ...

class PutContentFinish(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PutContentRequest(_message.Message):
    __slots__ = ("header", "chunk", "finish")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    FINISH_FIELD_NUMBER: _ClassVar[int]
    header: PutContentHeader
    chunk: bytes
    finish: PutContentFinish
    def __init__(self, header: _Optional[_Union[PutContentHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ..., finish: _Optional[_Union[PutContentFinish, _Mapping]] = ...) -> None: ...

class PutContentResponse(_message.Message):
    __slots__ = ("record", "created", "differing_fields", "deduplicated")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    DIFFERING_FIELDS_FIELD_NUMBER: _ClassVar[int]
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    record: DocumentRecord
    created: bool
    differing_fields: _containers.RepeatedScalarFieldContainer[str]
    deduplicated: bool
    def __init__(self, record: _Optional[_Union[DocumentRecord, _Mapping]] = ..., created: _Optional[bool] = ..., differing_fields: _Optional[_Iterable[str]] = ..., deduplicated: _Optional[bool] = ...) -> None: ...

class GetContentRequest(_message.Message):
    __slots__ = ("record_id", "sha256", "offset", "length")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    record_id: int
    sha256: str
    offset: int
    length: int
    def __init__(self, record_id: _Optional[int] = ..., sha256: _Optional[str] = ..., offset: _Optional[int] = ..., length: _Optional[int] = ...) -> None: ...

class ContentInfo(_message.Message):
    __slots__ = ("sha256", "total_bytes", "range_bytes", "storage_uri")
    SHA256_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    RANGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    STORAGE_URI_FIELD_NUMBER: _ClassVar[int]
    sha256: str
    total_bytes: int
    range_bytes: int
    storage_uri: str
    def __init__(self, sha256: _Optional[str] = ..., total_bytes: _Optional[int] = ..., range_bytes: _Optional[int] = ..., storage_uri: _Optional[str] = ...) -> None: ...

class GetContentResponse(_message.Message):
    __slots__ = ("info", "chunk")
    INFO_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    info: ContentInfo
    chunk: bytes
    def __init__(self, info: _Optional[_Union[ContentInfo, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class StatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StorageBackend(_message.Message):
    __slots__ = ("role", "kind", "location")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    role: str
    kind: str
    location: str
    def __init__(self, role: _Optional[str] = ..., kind: _Optional[str] = ..., location: _Optional[str] = ...) -> None: ...

class StatsResponse(_message.Message):
    __slots__ = ("provider", "total_records", "total_bytes", "unique_sha256", "unique_artifacts", "duplicate_groups", "by_resolver", "storage_backends", "details", "hashed_bytes", "unique_bytes", "dedup_saved_bytes", "dedup_ratio", "duplicate_groups_by_resolver")
    class ByResolverEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class DetailsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class DuplicateGroupsByResolverEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    TOTAL_RECORDS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    UNIQUE_SHA256_FIELD_NUMBER: _ClassVar[int]
    UNIQUE_ARTIFACTS_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_GROUPS_FIELD_NUMBER: _ClassVar[int]
    BY_RESOLVER_FIELD_NUMBER: _ClassVar[int]
    STORAGE_BACKENDS_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    HASHED_BYTES_FIELD_NUMBER: _ClassVar[int]
    UNIQUE_BYTES_FIELD_NUMBER: _ClassVar[int]
    DEDUP_SAVED_BYTES_FIELD_NUMBER: _ClassVar[int]
    DEDUP_RATIO_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_GROUPS_BY_RESOLVER_FIELD_NUMBER: _ClassVar[int]
    provider: str
    total_records: int
    total_bytes: int
    unique_sha256: int
    unique_artifacts: int
    duplicate_groups: int
    by_resolver: _containers.ScalarMap[str, int]
    storage_backends: _containers.RepeatedCompositeFieldContainer[StorageBackend]
    details: _containers.ScalarMap[str, str]
    hashed_bytes: int
    unique_bytes: int
    dedup_saved_bytes: int
    dedup_ratio: float
    duplicate_groups_by_resolver: _containers.ScalarMap[str, int]
    def __init__(self, provider: _Optional[str] = ..., total_records: _Optional[int] = ..., total_bytes: _Optional[int] = ..., unique_sha256: _Optional[int] = ..., unique_artifacts: _Optional[int] = ..., duplicate_groups: _Optional[int] = ..., by_resolver: _Optional[_Mapping[str, int]] = ..., storage_backends: _Optional[_Iterable[_Union[StorageBackend, _Mapping]]] = ..., details: _Optional[_Mapping[str, str]] = ..., hashed_bytes: _Optional[int] = ..., unique_bytes: _Optional[int] = ..., dedup_saved_bytes: _Optional[int] = ..., dedup_ratio: _Optional[float] = ..., duplicate_groups_by_resolver: _Optional[_Mapping[str, int]] = ...) -> None: ...

class BackendHealth(_message.Message):
    __slots__ = ("name", "state", "message", "latency_ms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    name: str
    state: HealthState
    message: str
    latency_ms: float
    def __init__(self, name: _Optional[str] = ..., state: _Optional[_Union[HealthState, str]] = ..., message: _Optional[str] = ..., latency_ms: _Optional[float] = ...) -> None: ...

class ProviderHealthRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ProviderHealthResponse(_message.Message):
    __slots__ = ("state", "message", "backends")
    STATE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    BACKENDS_FIELD_NUMBER: _ClassVar[int]
    state: HealthState
    message: str
    backends: _containers.RepeatedCompositeFieldContainer[BackendHealth]
    def __init__(self, state: _Optional[_Union[HealthState, str]] = ..., message: _Optional[str] = ..., backends: _Optional[_Iterable[_Union[BackendHealth, _Mapping]]] = ...) -> None: ...

class ImportRecordsRequest(_message.Message):
    __slots__ = ("records", "keep_ids")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    KEEP_IDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[DocumentRecord]
    keep_ids: bool
    def __init__(self, records: _Optional[_Iterable[_Union[DocumentRecord, _Mapping]]] = ..., keep_ids: _Optional[bool] = ...) -> None: ...

class ImportRecordsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[RegisterOrGetResponse]
    def __init__(self, results: _Optional[_Iterable[_Union[RegisterOrGetResponse, _Mapping]]] = ...) -> None: ...

class DeleteRecordsRequest(_message.Message):
    __slots__ = ("ids", "filter", "dry_run")
    IDS_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[int]
    filter: RecordFilter
    dry_run: bool
    def __init__(self, ids: _Optional[_Iterable[int]] = ..., filter: _Optional[_Union[RecordFilter, _Mapping]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class DeleteRecordsResponse(_message.Message):
    __slots__ = ("matched", "deleted", "ids", "ids_truncated")
    MATCHED_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    IDS_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    matched: int
    deleted: int
    ids: _containers.RepeatedScalarFieldContainer[int]
    ids_truncated: bool
    def __init__(self, matched: _Optional[int] = ..., deleted: _Optional[int] = ..., ids: _Optional[_Iterable[int]] = ..., ids_truncated: _Optional[bool] = ...) -> None: ...

class ApplyRetentionRequest(_message.Message):
    __slots__ = ("dry_run",)
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    dry_run: bool
    def __init__(self, dry_run: _Optional[bool] = ...) -> None: ...

class RetentionRuleReport(_message.Message):
    __slots__ = ("rule", "matched", "deleted", "matched_bytes")
    RULE_FIELD_NUMBER: _ClassVar[int]
    MATCHED_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    MATCHED_BYTES_FIELD_NUMBER: _ClassVar[int]
    rule: str
    matched: int
    deleted: int
    matched_bytes: int
    def __init__(self, rule: _Optional[str] = ..., matched: _Optional[int] = ..., deleted: _Optional[int] = ..., matched_bytes: _Optional[int] = ...) -> None: ...

class ApplyRetentionResponse(_message.Message):
    __slots__ = ("rules", "dry_run")
    RULES_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    rules: _containers.RepeatedCompositeFieldContainer[RetentionRuleReport]
    dry_run: bool
    def __init__(self, rules: _Optional[_Iterable[_Union[RetentionRuleReport, _Mapping]]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class AuditStorageRequest(_message.Message):
    __slots__ = ("rehash_rate",)
    REHASH_RATE_FIELD_NUMBER: _ClassVar[int]
    rehash_rate: float
    def __init__(self, rehash_rate: _Optional[float] = ...) -> None: ...

class AuditFinding(_message.Message):
    __slots__ = ("kind", "record_id", "sha256", "storage_uri", "bytes", "message")
    KIND_FIELD_NUMBER: _ClassVar[int]
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    STORAGE_URI_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    kind: AuditFindingKind
    record_id: int
    sha256: str
    storage_uri: str
    bytes: int
    message: str
    def __init__(self, kind: _Optional[_Union[AuditFindingKind, str]] = ..., record_id: _Optional[int] = ..., sha256: _Optional[str] = ..., storage_uri: _Optional[str] = ..., bytes: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class AuditStarted(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: int
    def __init__(self, records: _Optional[int] = ...) -> None: ...

class AuditProgress(_message.Message):
    __slots__ = ("records_checked", "objects_checked")
    RECORDS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    OBJECTS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    records_checked: int
    objects_checked: int
    def __init__(self, records_checked: _Optional[int] = ..., objects_checked: _Optional[int] = ...) -> None: ...

class AuditSummary(_message.Message):
    __slots__ = ("records_checked", "objects_checked", "rehashed", "orphans", "orphan_bytes", "missing", "mismatched", "out_of_scope")
    RECORDS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    OBJECTS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    REHASHED_FIELD_NUMBER: _ClassVar[int]
    ORPHANS_FIELD_NUMBER: _ClassVar[int]
    ORPHAN_BYTES_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    MISMATCHED_FIELD_NUMBER: _ClassVar[int]
    OUT_OF_SCOPE_FIELD_NUMBER: _ClassVar[int]
    records_checked: int
    objects_checked: int
    rehashed: int
    orphans: int
    orphan_bytes: int
    missing: int
    mismatched: int
    out_of_scope: int
    def __init__(self, records_checked: _Optional[int] = ..., objects_checked: _Optional[int] = ..., rehashed: _Optional[int] = ..., orphans: _Optional[int] = ..., orphan_bytes: _Optional[int] = ..., missing: _Optional[int] = ..., mismatched: _Optional[int] = ..., out_of_scope: _Optional[int] = ...) -> None: ...

class AuditStorageResponse(_message.Message):
    __slots__ = ("started", "progress", "finding", "summary")
    STARTED_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    FINDING_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    started: AuditStarted
    progress: AuditProgress
    finding: AuditFinding
    summary: AuditSummary
    def __init__(self, started: _Optional[_Union[AuditStarted, _Mapping]] = ..., progress: _Optional[_Union[AuditProgress, _Mapping]] = ..., finding: _Optional[_Union[AuditFinding, _Mapping]] = ..., summary: _Optional[_Union[AuditSummary, _Mapping]] = ...) -> None: ...
