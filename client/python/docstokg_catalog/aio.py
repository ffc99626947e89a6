"""``AsyncCatalogClient``: the catalog's RPCs as coroutines and async iterators over one
``grpc.aio`` channel, with the requests, values and errors of :class:`CatalogClient`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from contextlib import aclosing
from typing import Any, TypeVar, Unpack

import grpc
import grpc.aio

from . import _calls as calls
from ._aio_upload import upload
from ._calls import (
    CHUNK_SIZE,
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
from .errors import catalog_error
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

T = TypeVar("T")


class AsyncVerifyAllRun(VerifyAllProgress, AsyncIterator[VerificationResult]):
    """The results of a ``verify_all`` stream for ``async for``, one per verified record, in id
    order. ``matching_records`` is set once the stream has started and ``summary`` once it has
    ended; ``aclose()`` cancels a run still going."""

    def __init__(self, responses: AsyncGenerator[pb.VerifyAllResponse, None]) -> None:
        """Wraps the raw ``VerifyAllResponse`` stream."""
        super().__init__()
        self._responses = responses

    async def __anext__(self) -> VerificationResult:
        """The next result; records the started and summary events on the way."""
        async for response in self._responses:
            if (result := self._result(response)) is not None:
                return result
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Cancels the call if it is still running."""
        await self._responses.aclose()


class AsyncAuditStorageRun(AuditStorageProgress, AsyncIterator[AuditFinding]):
    """The findings of an ``audit_storage`` stream for ``async for``, one per problem. ``records``
    is set once the stream has started, ``progress`` holds the latest progress report and
    ``summary`` is set once it has ended; ``aclose()`` cancels a run still going."""

    def __init__(self, responses: AsyncGenerator[pb.AuditStorageResponse, None]) -> None:
        """Wraps the raw ``AuditStorageResponse`` stream."""
        super().__init__()
        self._responses = responses

    async def __anext__(self) -> AuditFinding:
        """The next finding; records the started, progress and summary events on the way."""
        async for response in self._responses:
            if (finding := self._finding(response)) is not None:
                return finding
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Cancels the call if it is still running."""
        await self._responses.aclose()


class AsyncCatalogClient:
    """The asyncio twin of :class:`~docstokg_catalog.CatalogClient`: the same options, method
    names, values and exceptions, with unary calls as coroutines and server streams as async
    iterators. Create and use it in one event loop; ``async with`` closes it.

    Leaving an ``async for`` early cancels the stream's call once the loop drops the iterator
    (``contextlib.aclosing`` cancels it at once). Files are read and written in worker threads.
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
        self._channel: grpc.aio.Channel = open_channel(
            grpc.aio,
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

    async def __aenter__(self) -> AsyncCatalogClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Closes the channel; calls in flight are cancelled."""
        await self._channel.close()

    async def _unary(self, call: Call[T]) -> T:
        """Makes a unary call and converts the answer."""
        try:
            response = await call.bind(self._stubs)(
                call.request, timeout=self._timeout, metadata=self._metadata
            )
        except grpc.RpcError as error:
            raise catalog_error(error) from error
        return call.convert(response)

    async def _stream(self, call: Call[T]) -> AsyncGenerator[T, None]:
        """Yields a server stream's converted messages; the call starts on the first ``anext``
        and is cancelled when the generator is closed early."""
        rpc = call.bind(self._stubs)(
            call.request, timeout=self._stream_timeout, metadata=self._metadata
        )
        try:
            while (message := await rpc.read()) is not grpc.aio.EOF:
                yield call.convert(message)
        except grpc.RpcError as error:
            raise catalog_error(error) from error
        finally:
            rpc.cancel()

    async def register_or_get(self, **document: Unpack[NewDocument]) -> RegisterOutcome:
        """Registers a document, or returns the record already stored under its key."""
        return await self._unary(calls.register_or_get(document))

    async def register_or_get_batch(
        self, documents: Iterable[NewDocument]
    ) -> list[RegisterOutcome]:
        """Registers documents in one transaction; one outcome per document, in order."""
        return await self._unary(calls.register_or_get_batch(documents))

    async def get_record(self, record_id: int) -> DocumentRecord:
        """The record with this id; raises ``NotFound`` if there is none."""
        return await self._unary(calls.get_record(record_id))

    async def get_by_artifact(self, artifact_id: str) -> list[DocumentRecord]:
        """Every record of an artifact, newest first."""
        return await self._unary(calls.get_by_artifact(artifact_id))

    async def get_by_sha256(self, sha256: str) -> list[DocumentRecord]:
        """Every record with this content hash, newest first."""
        return await self._unary(calls.get_by_sha256(sha256))

    async def get_by_run(self, run_id: str) -> list[DocumentRecord]:
        """Every record fetched by a pipeline run, newest first."""
        return await self._unary(calls.get_by_run(run_id))

    def list_records(self, **filters: Unpack[RecordFilter]) -> AsyncGenerator[DocumentRecord, None]:
        """Streams the matching records, by id (see :meth:`CatalogClient.list_records`)."""
        return self._stream(calls.list_records(filters))

    def find_duplicates(
        self, min_count: int = 2, include_records: bool = False, limit: int = 0
    ) -> AsyncGenerator[DuplicateGroup, None]:
        """Streams duplicate groups, largest first, at most ``limit`` unless 0 (see
        :meth:`CatalogClient.find_duplicates`)."""
        return self._stream(calls.find_duplicates(min_count, include_records, limit))

    async def verify(self, record_id: int) -> VerificationResult:
        """Re-hashes the stored bytes of one record."""
        return await self._unary(calls.verify(record_id))

    def verify_all(
        self, *, sample_rate: float = 1.0, concurrency: int = 0, **filters: Unpack[RecordFilter]
    ) -> AsyncVerifyAllRun:
        """A run to iterate with ``async for`` (see :meth:`CatalogClient.verify_all`)."""
        call = calls.verify_all(sample_rate, concurrency, filters)
        return AsyncVerifyAllRun(self._stream(call))

    async def put_content(
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
        """Uploads a path or an open binary file in chunks (see
        :meth:`CatalogClient.put_content`). An upload that fails or is cancelled before its end
        stores nothing; an error reading ``source`` is raised as it was."""
        call = calls.put_content(
            artifact_id=artifact_id,
            source_url=source_url,
            resolver=resolver,
            content_type=content_type,
            run_id=run_id,
            expected_sha256=expected_sha256,
            expected_bytes=expected_bytes,
        )
        with opened(source, "rb") as stream:
            rpc = call.bind(self._stubs)(timeout=self._stream_timeout, metadata=self._metadata)
            try:
                await upload(rpc, call.request, stream, chunk_size)
                return call.convert(await rpc)
            except grpc.RpcError as error:
                raise catalog_error(error) from error
            finally:
                rpc.cancel()  # a no-op once the call has ended; before that, nothing is stored

    async def get_content(
        self,
        dest: Source,
        *,
        record_id: int | None = None,
        sha256: str | None = None,
        offset: int = 0,
        length: int = 0,
    ) -> ContentInfo:
        """Streams stored bytes into a path or an open binary file (see
        :meth:`CatalogClient.get_content`)."""
        call = calls.get_content(record_id, sha256, offset, length)
        async with aclosing(self._stream(call)) as responses:
            info = ContentInfo.from_proto((await anext(responses)).info)
            with opened(dest, "wb") as sink:
                async for response in responses:
                    await asyncio.to_thread(sink.write, response.chunk)
        return info

    async def import_records(
        self, records: Iterable[DocumentRecord], keep_ids: bool = False
    ) -> list[RegisterOutcome]:
        """Imports complete records in one transaction (for restoring an export)."""
        return await self._unary(calls.import_records(records, keep_ids))

    async def delete_records(
        self,
        ids: Iterable[int] = (),
        *,
        dry_run: bool = False,
        **filters: Unpack[RecordFilter],
    ) -> DeleteReport:
        """Deletes records by ids or by filter, idempotently (see
        :meth:`CatalogClient.delete_records`)."""
        return await self._unary(calls.delete_records(ids, dry_run, filters))

    async def apply_retention(self, *, dry_run: bool = False) -> RetentionReport:
        """Applies (or with ``dry_run`` reports) the server's retention rules (see
        :meth:`CatalogClient.apply_retention`)."""
        return await self._unary(calls.apply_retention(dry_run))

    def audit_storage(self, *, rehash_rate: float = 0.0) -> AsyncAuditStorageRun:
        """A run to iterate with ``async for`` (see :meth:`CatalogClient.audit_storage`)."""
        return AsyncAuditStorageRun(self._stream(calls.audit_storage(rehash_rate)))

    async def stats(self) -> Stats:
        """Counts and sizes of the catalog and its storage backends."""
        return await self._unary(calls.stats())

    async def provider_health(self) -> ProviderHealth:
        """The health of each backend of the server's provider."""
        return await self._unary(calls.provider_health())

    async def health_check(self, service: str = "") -> bool:
        """Whether the ``grpc.health.v1`` service reports ``service`` as SERVING; needs no token."""
        return await self._unary(calls.health_check(service))
