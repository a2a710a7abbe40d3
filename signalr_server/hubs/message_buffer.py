"""Stateful reconnect bookkeeping for one hub connection (SR-4 … SR-12).

Both sides number the trackable messages they send (Invocation, StreamItem,
Completion, StreamInvocation, CancelInvocation) 1, 2, 3, … and keep the
serialized bytes of every message the peer has not acknowledged yet. When a
WebSocket drops without a close frame and the client comes back on a new one,
each side first sends ``Sequence`` with the id of its oldest unacknowledged
message and then resends those messages; the receiver uses the sequence id to
recognise and drop the ones it had already processed.

The numbering is implicit on the wire (messages carry no ids), so the bytes
must reach the transport in exactly the order the ids were given:
``HubConnection`` therefore records a message and queues it in one
synchronous step.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import anyio

from .errors import InvalidOperationError

__all__ = [
    "HARD_LIMIT_FACTOR",
    "MessageBuffer",
    "SequenceError",
    "StatefulReconnectTransport",
]

HARD_LIMIT_FACTOR = 4
"""Fan-out cannot wait for room, so it may overfill the buffer; past this many
times the limit the connection is aborted instead of growing without bound."""


@runtime_checkable
class StatefulReconnectTransport(Protocol):
    """What the hub layer needs from a connection to offer stateful reconnect.

    ``use_stateful_reconnect`` says the client asked for it in negotiate and
    the endpoint allows it; ``on_reconnected`` registers the callback the
    transport runs when a new WebSocket replaces one that dropped. The
    callback runs synchronously, after stale queued output is discarded and
    before anything is written to the new socket, so what it queues goes
    first (SR-11). A connection whose handler registers no callback ends on
    an ungraceful drop, as without stateful reconnect; ``None`` withdraws it
    (the client closed deliberately).
    """

    use_stateful_reconnect: bool

    def on_reconnected(self, callback: Callable[[], None] | None) -> None: ...


class SequenceError(InvalidOperationError):
    """The peer's Sequence id lies beyond what was received: messages were lost (SR-12)."""

    def __init__(self) -> None:
        super().__init__("Sequence ID greater than amount of messages we've received.")


class MessageBuffer:
    """Outgoing replay buffer and incoming de-duplication of one connection.

    ``limit`` bounds the bytes kept for replay (the reference's
    ``StatefulReconnectBufferSize``, 100 000 by default): senders wait for
    Acks when it is full (SR-8).
    """

    __slots__ = (
        "_acked_up_to",
        "_changed",
        "_entries",
        "_latest_processed",
        "_next_receive_id",
        "_next_send_id",
        "_size",
        "limit",
    )

    def __init__(self, limit: int = 100_000) -> None:
        if limit < 1:
            raise ValueError("the stateful reconnect buffer limit must be positive")
        self.limit = limit
        self._entries: deque[tuple[int, bytes]] = deque()
        self._size = 0
        self._next_send_id = 1
        self._changed: anyio.Event | None = None
        self._next_receive_id = 1
        self._latest_processed = 0
        self._acked_up_to = 0

    # -- sending ---------------------------------------------------------------

    @property
    def size(self) -> int:
        """Bytes waiting for an Ack."""
        return self._size

    @property
    def over_hard_limit(self) -> bool:
        return self._size > self.limit * HARD_LIMIT_FACTOR

    def __len__(self) -> int:
        return len(self._entries)

    async def wait_for_room(self) -> None:
        """Wait until the buffered bytes are under the limit (backpressure, SR-8)."""
        while self._size >= self.limit:
            if self._changed is None:
                self._changed = anyio.Event()
            await self._changed.wait()

    def record(self, data: bytes) -> int:
        """Keep one trackable message's bytes; returns its sequence id."""
        sequence_id = self._next_send_id
        self._next_send_id += 1
        self._entries.append((sequence_id, data))
        self._size += len(data)
        return sequence_id

    def ack(self, sequence_id: int) -> None:
        """The peer has everything up to ``sequence_id``: forget those bytes (SR-7)."""
        entries = self._entries
        while entries and entries[0][0] <= sequence_id:
            self._size -= len(entries.popleft()[1])
        event = self._changed
        if event is not None:
            self._changed = None
            event.set()

    def resend_start(self) -> int:
        """The Sequence id to announce on a new socket: the oldest unacked id, or the next id."""
        return self._entries[0][0] if self._entries else self._next_send_id

    def unacked(self) -> list[bytes]:
        """The bytes to resend after the Sequence message, oldest first (SR-11)."""
        return [data for _, data in self._entries]

    # -- receiving -------------------------------------------------------------

    def should_process(self) -> bool:
        """Count one incoming trackable message; False for a resent duplicate (SR-12)."""
        current = self._next_receive_id
        self._next_receive_id += 1
        if current <= self._latest_processed:
            return False
        self._latest_processed = current
        return True

    def on_sequence(self, sequence_id: int) -> None:
        """The peer restarts its numbering at ``sequence_id`` (after a reconnect)."""
        if sequence_id > self._latest_processed + 1:
            raise SequenceError()
        self._next_receive_id = sequence_id

    def ack_due(self) -> int | None:
        """The id to acknowledge, when it moved since the last Ack; marks it sent."""
        if self._latest_processed <= self._acked_up_to:
            return None
        self._acked_up_to = self._latest_processed
        return self._latest_processed

    def reset_ack(self) -> None:
        """After a reconnect the last Ack may have been lost: send it again."""
        self._acked_up_to = 0
