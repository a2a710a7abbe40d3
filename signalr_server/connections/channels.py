"""A byte FIFO bounded by size, shared by the transport and the handler.

Bounded by bytes rather than by items because the reference's buffer limits
are byte counts, and because one item may be a single ping or a batch of many
messages. Reads return everything queued at once: that is what lets the
WebSocket writer put several queued sends into one frame.
"""

from __future__ import annotations

import anyio

from .context import ConnectionClosed

__all__ = ["ByteChannel"]


class ByteChannel:
    """Single-loop, multi-producer FIFO of byte chunks.

    Waiters share one "something changed" event that is replaced on every
    change; they re-check their condition after waking, so no wake-up is lost
    and no per-waiter bookkeeping survives a cancellation.
    """

    __slots__ = ("_changed", "_chunks", "_closed", "_event_type", "_limit", "_size")

    def __init__(self, limit: int) -> None:
        self._chunks: list[bytes] = []
        # A list, not a deque: reads always take everything, and an empty deque
        # weighs ~600 bytes on every idle connection.
        self._size = 0
        self._limit = limit
        self._closed = False
        self._changed: anyio.Event | None = None
        self._event_type: type[anyio.Event] | None = None
        """The backend's own event class, found by the first wait: ``anyio.Event()``
        looks the running event loop up on every construction, and a busy
        channel makes one per wait."""

    @property
    def size(self) -> int:
        return self._size

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def full(self) -> bool:
        return self._limit > 0 and self._size >= self._limit

    def _notify(self) -> None:
        event = self._changed
        if event is not None:
            self._changed = None
            event.set()

    def _change_event(self) -> anyio.Event:
        """The event the next change sets, made on demand. The backend's event
        class is remembered so later waits skip anyio's backend lookup."""
        event = self._changed
        if event is None:
            event_type = self._event_type
            if event_type is None:
                event = anyio.Event()
                self._event_type = type(event)
            else:
                event = event_type()
            self._changed = event
        return event

    async def _wait_for_change(self) -> None:
        await self._change_event().wait()

    async def put(self, data: bytes) -> None:
        """Append, first waiting while the channel is full (backpressure)."""
        while self.full and not self._closed:
            await self._wait_for_change()
        self.put_nowait(data)

    def put_nowait(self, data: bytes) -> int:
        """Append without waiting, even past the bound; returns the new size so
        the caller can apply its own over-limit policy."""
        if self._closed:
            raise ConnectionClosed
        if data:
            self._chunks.append(bytes(data))
            self._size += len(data)
            self._notify()
        return self._size

    async def take(self) -> bytes:
        """Everything queued, as one non-empty ``bytes``. After ``close()`` the
        remaining data is still delivered, then ``ConnectionClosed`` is raised."""
        while not self._chunks:
            if self._closed:
                raise ConnectionClosed
            # Not ``await self._wait_for_change()``: an idle reader sits here, and
            # each coroutine frame in its await chain is memory held per connection.
            await self._change_event().wait()
        data = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
        self._chunks.clear()
        self._size = 0
        self._notify()
        return data

    def clear(self) -> None:
        """Drop everything queued but stay open (stale output of a lost socket)."""
        self._chunks.clear()
        self._size = 0
        self._notify()

    def close(self, *, discard: bool = False) -> None:
        """No more writes. With ``discard`` the queued data is dropped too (the
        reader is gone or must stop at once)."""
        self._closed = True
        if discard:
            self._chunks.clear()
            self._size = 0
        self._notify()
