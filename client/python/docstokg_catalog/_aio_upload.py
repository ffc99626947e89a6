"""The upload of ``AsyncCatalogClient.put_content``: a client stream written message by message
that stops, without hiding the server's status, when the server ends the call early."""

from __future__ import annotations

import asyncio
from typing import IO, Any

from . import _calls as calls
from ._generated import catalog_pb2 as pb


class _Writer:
    """Writes a client stream's messages one at a time, stopping once the call has ended.

    The write in flight when the call ends is cancelled: failing instead, it would make grpc.aio
    replace the server's status with ``INTERNAL: Internal error from Core`` (grpc/grpc#36066).
    """

    def __init__(self, rpc: Any) -> None:
        """Watches ``rpc`` (a ``grpc.aio.StreamUnaryCall``) for its end."""
        self._rpc = rpc
        self._pending: asyncio.Future[None] | None = None
        rpc.add_done_callback(self._call_ended)

    def _call_ended(self, _call: object) -> None:
        if self._pending is not None:
            self._pending.cancel()

    async def send(self, message: pb.PutContentRequest | None) -> bool:
        """Writes ``message`` (``None``: half-closes); False if the call has ended, whose status
        then says why."""
        if self._rpc.done():
            return False
        operation = self._rpc.done_writing() if message is None else self._rpc.write(message)
        self._pending = pending = asyncio.ensure_future(operation)
        await asyncio.wait([pending])
        return not pending.cancelled() and pending.exception() is None


async def upload(rpc: Any, header: pb.PutContentRequest, stream: IO[bytes], size: int) -> None:
    """Writes an upload: ``header``, ``stream`` in chunks of ``size`` bytes, the finish message
    and the half-close, stopping early if the server ends the call."""
    writer = _Writer(rpc)
    if not await writer.send(header):
        return
    while data := await asyncio.to_thread(stream.read, size):
        if not await writer.send(calls.chunk(data)):
            return
    if await writer.send(calls.FINISH):
        await writer.send(None)
