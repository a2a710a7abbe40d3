"""A connection after a successful handshake, as the lifetime managers see it.

It pairs the transport's ``ConnectionContext`` with the negotiated protocol,
so a broadcast can ask each recipient for the bytes of *its* protocol from a
shared ``SerializedMessage`` and encode once per protocol, not per recipient.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ..connections.context import ConnectionContext
from ..protocol.base import HubProtocol, SerializedMessage
from ..protocol.messages import PING, HubInvocationMessage, HubMessage, SequenceMessage
from .message_buffer import MessageBuffer

__all__ = ["HubConnection"]

logger = logging.getLogger("signalr_server.hubs.connection")


class HubConnection:
    """One hub connection: transport context, protocol and identity."""

    __slots__ = (
        "_abort_callback",
        "_ping",
        "context",
        "last_sent",
        "message_buffer",
        "protocol",
        "user_identifier",
    )

    def __init__(
        self,
        context: ConnectionContext,
        protocol: HubProtocol,
        user_identifier: str | None = None,
    ) -> None:
        self.context = context
        self.protocol = protocol
        self.user_identifier = user_identifier
        self.last_sent = time.monotonic()
        """``time.monotonic()`` of the last write; the keep-alive check reads it.
        Plain ``time.monotonic`` rather than ``anyio.current_time`` because this
        runs once per message and anyio resolves the event loop on every call."""
        self._abort_callback: Callable[[], None] | None = None
        self._ping: bytes | None = None
        self.message_buffer: MessageBuffer | None = None
        """Set when stateful reconnect is on: trackable messages are numbered and kept."""

    @property
    def connection_id(self) -> str:
        return self.context.connection_id

    async def write(self, message: HubMessage) -> None:
        """Encode and send one message, waiting while this connection's buffer is full.

        Raises ``ConnectionClosed`` if the transport is gone.
        """
        data = self.protocol.write(message)
        buffer = self.message_buffer
        if buffer is not None and isinstance(message, HubInvocationMessage):
            await buffer.wait_for_room()
            # Numbering and queueing in one synchronous step keeps the wire
            # order equal to the id order, which the peer relies on.
            buffer.record(data)
            self.context.send_nowait(data)
        else:
            await self.context.send(data)
        self.last_sent = time.monotonic()

    def write_nowait(self, message: SerializedMessage) -> None:
        """Queue a shared message without waiting; never raises.

        Fan-out must not be held up or broken by one recipient, so a failure
        here (typically a connection that just closed) is logged and dropped.
        """
        try:
            data = message.get(self.protocol)
            buffer = self.message_buffer
            if buffer is not None and isinstance(message.message, HubInvocationMessage):
                buffer.record(data)
                if buffer.over_hard_limit:
                    self.context.abort("The stateful reconnect buffer exceeded its hard limit.")
                    return
            self.context.send_nowait(data)
        except Exception as exc:
            logger.debug(
                "Dropped a message for connection %s: %s", self.connection_id, type(exc).__name__
            )
            return
        self.last_sent = time.monotonic()

    def send_ping(self) -> None:
        """Queue a keep-alive Ping without waiting (the heartbeat must not block).

        A connection whose buffer is full gets it anyway, past the bound: the
        transport's overfill rules then apply, as for any ``send_nowait``.
        """
        data = self._ping
        if data is None:
            data = self._ping = self.protocol.write(PING)
        self.context.send_nowait(data)
        self.last_sent = time.monotonic()

    def resend_after_reconnect(self) -> None:
        """Queue Sequence and every unacknowledged message on a new socket (SR-11).

        Called synchronously by the transport before it writes anything else,
        so nothing can slip in ahead of the Sequence message.
        """
        buffer = self.message_buffer
        if buffer is None:
            return
        head = self.protocol.write(SequenceMessage(buffer.resend_start()))
        self.context.send_nowait(b"".join([head, *buffer.unacked()]))
        self.last_sent = time.monotonic()

    def set_abort_callback(self, callback: Callable[[], None] | None) -> None:
        """Let the connection handler decide what aborting means (send Close, stop reading)."""
        self._abort_callback = callback

    def abort(self) -> None:
        """End the connection from the server side with a plain Close (CLOSE-2)."""
        if self._abort_callback is not None:
            self._abort_callback()
        else:
            self.context.abort()
