"""Client-to-server (upload) streams: what a hub method's ``AsyncIterator[T]`` parameter is.

The client announces stream ids in an invocation's ``streamIds`` and then
sends StreamItems and a final Completion under each id (STR-5). Each stream
has a small bounded buffer (``HubOptions.stream_buffer_capacity``): when the
hub method reads slower than the client writes, the connection's read loop
waits on the full buffer, so the server stops reading from the socket
instead of growing memory (STR-6) — the backpressure the reference applies.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any, Generic, TypeVar

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .conversion import Converter
from .errors import HubException

__all__ = ["ClientStream", "ClientStreamError", "ClientStreamTracker"]

T = TypeVar("T")

BINDING_FAILURE_TEXT = "Failed to bind Stream message."
"""The error a stream ends with when one of its items does not fit the item type."""


class ClientStreamError(HubException):
    """The client ended an upload stream with an error (the text is the client's).

    A ``HubException``, as in the reference: when the hub method lets it
    propagate, the client is told ``HubException: {its own error}``.
    """


class ClientStream(AsyncIterator[T], Generic[T]):
    """One upload stream, iterated by the hub method with ``async for``.

    Iteration ends when the client completes the stream, raises
    ``ClientStreamError`` when the client completed it with an error, and
    ends quietly when the hub method has already returned or the connection
    is gone.
    """

    __slots__ = ("_error", "_receive", "_send", "convert", "stream_id")

    def __init__(self, stream_id: str, capacity: int, convert: Converter) -> None:
        self.stream_id = stream_id
        self.convert = convert
        channel: tuple[MemoryObjectSendStream[Any], MemoryObjectReceiveStream[Any]]
        channel = anyio.create_memory_object_stream(capacity)
        self._send, self._receive = channel
        self._error: str | None = None

    def __aiter__(self) -> ClientStream[T]:
        return self

    async def __anext__(self) -> T:
        try:
            item: T = await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            if self._error is not None:
                raise ClientStreamError(self._error) from None
            raise StopAsyncIteration from None
        return item

    async def put(self, value: Any) -> bool:
        """Add one item, waiting while the buffer is full; False if it did not fit its type.

        An item that cannot be converted ends the stream with
        ``"Failed to bind Stream message."``, as the reference does.
        """
        try:
            item = self.convert(value)
        except (TypeError, ValueError):
            self.complete(BINDING_FAILURE_TEXT)
            return False
        # If the hub method stopped reading, the item is dropped (STR-6).
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            await self._send.send(item)
        return True

    def complete(self, error: str | None = None) -> None:
        """No more items; the reader sees the end (or ``error``) after what is buffered."""
        if error is not None and self._error is None:
            self._error = error
        self._send.close()

    def discard(self) -> None:
        """The hub method is done with the stream: later items are dropped, writers freed."""
        self._send.close()
        self._receive.close()


class ClientStreamTracker:
    """The open upload streams of one connection, by stream id."""

    __slots__ = ("_capacity", "_streams")

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._streams: dict[str, ClientStream[Any]] = {}

    def __contains__(self, stream_id: str) -> bool:
        return stream_id in self._streams

    def open(
        self, stream_ids: Sequence[str], converters: tuple[Converter, ...]
    ) -> list[ClientStream[Any]]:
        """Create the streams of one invocation (ids already checked to be free)."""
        streams = [
            ClientStream[Any](stream_id, self._capacity, convert)
            for stream_id, convert in zip(stream_ids, converters, strict=True)
        ]
        for stream in streams:
            self._streams[stream.stream_id] = stream
        return streams

    def close(self, streams: list[ClientStream[Any]]) -> None:
        """Forget an invocation's streams once its method has ended (STR-6)."""
        for stream in streams:
            if self._streams.get(stream.stream_id) is stream:
                del self._streams[stream.stream_id]
            stream.discard()

    async def put(self, stream_id: str, value: Any) -> bool:
        """Deliver one StreamItem; False for an unknown or finished stream (ignored, STR-6)."""
        stream = self._streams.get(stream_id)
        if stream is None:
            return False
        if not await stream.put(value):
            self._streams.pop(stream_id, None)
        return True

    def complete(self, stream_id: str, error: str | None) -> bool:
        """End a stream from the client's Completion; False if the id is not a stream."""
        stream = self._streams.pop(stream_id, None)
        if stream is None:
            return False
        stream.complete(error)
        return True

    def complete_all(self) -> None:
        """The connection ended: every reader sees the end of its stream."""
        for stream in self._streams.values():
            stream.complete()
        self._streams.clear()
