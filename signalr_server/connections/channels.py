"""A byte FIFO bounded by size, shared by the transport and the handler.

Bounded by bytes rather than by items because the reference's buffer limits
are byte counts, and because one item may be a single ping or a batch of many
messages. Reads return everything queued at once: that is what lets the
WebSocket writer put several queued sends into one frame.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import anyio

from .context import ConnectionClosed

__all__ = ["ByteChannel"]


class ByteChannel:
    """Single-loop, multi-producer FIFO of byte chunks.

    Waiters are woken on every change and re-check their condition, so no
    wake-up is lost and nothing a cancelled waiter leaves behind matters.
    On asyncio each waiter parks on a bare future (about 100 bytes) rather
    than an ``anyio.Event``, which wraps an ``asyncio.Event`` and its deque
    (about 900 bytes): an idle connection has two readers parked, its handler
    and its transport's writer. On trio a shared event made on demand is
    already small.
    """

    __slots__ = ("_changed", "_chunks", "_futures", "_limit", "_loop", "closed", "size", "takes")

    def __init__(self, limit: int) -> None:
        self._chunks: list[bytes] = []
        # A list, not a deque: reads always take everything, and an empty deque
        # weighs ~600 bytes on every idle connection.
        self.size = 0
        """Bytes queued (read it, never set it: a plain attribute because the
        send path reads it on every message)."""
        self._limit = limit
        self.closed = False
        """Set by ``close``; read-only for everyone else, like ``size``."""
        self._futures: list[asyncio.Future[None]] | None = None
        """asyncio: the parked waiters, resolved by the next change."""
        self._changed: anyio.Event | None = None
        """trio: the event the next change sets, shared by all waiters."""
        self._loop: asyncio.AbstractEventLoop | bool | None = None
        """The asyncio loop, or ``False`` under trio; found by the first wait."""
        self.takes = 0
        """How many times ``take`` has returned data (the reader's progress)."""

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def full(self) -> bool:
        return self._limit > 0 and self.size >= self._limit

    def _notify(self) -> None:
        futures = self._futures
        if futures is not None:
            self._futures = None
            for future in futures:
                if not future.done():  # a cancelled waiter leaves a done future
                    future.set_result(None)
        event = self._changed
        if event is not None:
            self._changed = None
            event.set()

    def _change(self) -> Awaitable[Any]:
        """What a waiter awaits to learn of the next change. Returned rather
        than awaited here: each coroutine frame in an idle reader's await chain
        is memory held per connection."""
        loop = self._loop
        if loop is None:
            try:
                loop = self._loop = asyncio.get_running_loop()
            except RuntimeError:  # trio (anyio supports only the two)
                loop = self._loop = False
        if loop is False:
            event = self._changed
            if event is None:
                event = self._changed = anyio.Event()
            return event.wait()
        assert isinstance(loop, asyncio.AbstractEventLoop)
        future: asyncio.Future[None] = loop.create_future()
        futures = self._futures
        if futures is None:
            self._futures = [future]
        else:
            if len(futures) >= 8:  # drop waiters that were cancelled meanwhile
                futures[:] = [waiter for waiter in futures if not waiter.done()]
            futures.append(future)
        return future

    async def put(self, data: bytes) -> None:
        """Append, first waiting while the channel is full (backpressure)."""
        while self.full and not self.closed:
            await self._change()
        self.put_nowait(data)

    def put_nowait(self, data: bytes) -> int:
        """Append without waiting, even past the bound; returns the new size so
        the caller can apply its own over-limit policy."""
        if self.closed:
            raise ConnectionClosed
        if data:
            self._chunks.append(bytes(data))
            self.size += len(data)
            self._notify()
        return self.size

    async def take(self) -> bytes:
        """Everything queued, as one non-empty ``bytes``. After ``close()`` the
        remaining data is still delivered, then ``ConnectionClosed`` is raised."""
        while not self._chunks:
            if self.closed:
                raise ConnectionClosed
            await self._change()
        data = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
        self._chunks.clear()
        self.size = 0
        self.takes += 1
        self._notify()
        return data

    def clear(self) -> None:
        """Drop everything queued but stay open (stale output of a lost socket)."""
        self._chunks.clear()
        self.size = 0
        self._notify()

    def close(self, *, discard: bool = False) -> None:
        """No more writes. With ``discard`` the queued data is dropped too (the
        reader is gone or must stop at once)."""
        self.closed = True
        if discard:
            self._chunks.clear()
            self.size = 0
        self._notify()
