"""The WebSocket transport on raw ASGI ``websocket`` events (WS-1..WS-11).

The request only pumps bytes: frames in → the connection's inbound channel,
outbound channel → frames out. The handler runs elsewhere (see ``tasks``), so
this request can end, or later be swapped for another, without touching it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from time import monotonic

import anyio

from ..protocol.messages import TransferFormat
from .asgi_types import Receive, Send
from .connection import HttpConnection
from .context import ConnectionClosed
from .options import HttpConnectionOptions

__all__ = ["CLOSE_INTERNAL_ERROR", "CLOSE_NORMAL", "WebSocketTransport"]

logger = logging.getLogger("signalr_server.connections")

CLOSE_NORMAL = 1000
CLOSE_INTERNAL_ERROR = 1011
CLOSE_ABNORMAL = 1006
CLOSE_NO_STATUS = 1005
_DROPPED_CODES = frozenset({CLOSE_NO_STATUS, CLOSE_ABNORMAL})
"""What servers report when the TCP connection ended without a close frame
(hypercorn 1006, uvicorn 1005). Hypercorn also reports 1006 after a client's
close frame, which is why the hub handler withdraws its resume callback when
the client sends a Close message first, as the official clients do."""


class WebSocketTransport:
    """Serves one accepted-or-about-to-be-accepted WebSocket for a connection."""

    def __init__(self, connection: HttpConnection, options: HttpConnectionOptions) -> None:
        self._connection = connection
        self._options = options
        self._client_closed = False
        self._closing = False
        self._receiving = True
        self._receiving_done: anyio.Event | None = None
        """Made only when ``_close`` has to wait for the client's close frame."""
        self.detached = False
        """The socket dropped and the connection waits for a stateful reconnect."""

    async def run(self, receive: Receive, send: Send, on_accepted: Callable[[], None]) -> None:
        """Accept, pump both directions until either ends, then close.

        ``websocket.connect`` must already have been received. Returns once the
        socket is closed (or abandoned after the close timeout, or cancelled
        through the connection's transport scope).
        """
        connection = self._connection
        transport_scope: anyio.CancelScope | None = None
        try:
            async with anyio.create_task_group() as task_group:
                # The group's scope is the transport's: a reconnect (SR-10) or a
                # stalled send cancels this whole request through it.
                transport_scope = connection.begin_transport(task_group.cancel_scope)
                # No subprotocol: official clients offer none, and one must never be
                # sent unasked (WS-2). Long-Running is informational (GEN-7).
                await send({"type": "websocket.accept", "headers": [(b"long-running", b"true")]})
                on_accepted()
                task_group.start_soon(self._receive_loop, receive, task_group.cancel_scope)
                send_failed = await self._send_loop(send)
                if not self._client_closed:
                    await self._close(send, send_failed)
                task_group.cancel_scope.cancel()
        finally:
            if transport_scope is not None:
                connection.end_transport(transport_scope)

    async def _receive_loop(self, receive: Receive, scope: anyio.CancelScope) -> None:
        inbound = self._connection.inbound
        graceful = False
        try:
            while True:
                message = await receive()
                kind = message["type"]
                if kind == "websocket.receive":
                    # Text and binary frames alike extend one byte stream (WS-3).
                    data = message.get("bytes")
                    if data is None:
                        text = message.get("text")
                        data = text.encode("utf-8") if text else b""
                    if data and not inbound.closed:
                        # If the handler is done, keep reading until the close.
                        with contextlib.suppress(ConnectionClosed):
                            await inbound.put(data)
                elif kind == "websocket.disconnect":
                    graceful = message.get("code", CLOSE_ABNORMAL) not in _DROPPED_CODES
                    break
        finally:
            if not self._closing:
                # The client closed or dropped first (WS-8).
                self._client_closed = True
                if not graceful and self._connection.can_resume:
                    # SR-9: keep the connection for a reconnect; stop writing here.
                    self.detached = True
                    self._connection.detach_transport()
                    scope.cancel()
                else:
                    self._connection.transport_lost()
            self._receiving = False
            if self._receiving_done is not None:
                self._receiving_done.set()

    async def _send_loop(self, send: Send) -> bool:
        """Write until the outbound side is finished; True if a send failed."""
        connection = self._connection
        while True:
            try:
                data = await connection.take_outbound()
            except ConnectionClosed:
                return False
            # Several queued chunks become one frame: each chunk holds only
            # complete messages, so the frame does too (WS-5).
            if connection.transfer_format is TransferFormat.BINARY:
                message = {"type": "websocket.send", "bytes": data}
            else:
                try:
                    message = {"type": "websocket.send", "text": data.decode("utf-8")}
                except UnicodeDecodeError:
                    logger.error(
                        "Connection %s queued invalid UTF-8 for a text frame",
                        connection.connection_id,
                    )
                    connection.abort("Invalid UTF-8 in a text frame.")
                    return True
            # The manager's sweep enforces the send timeout by cancelling the
            # request's scope (``HttpConnection.cancel_stalled_send``).
            connection.send_started_at = monotonic()
            try:
                await send(message)
            except Exception:
                if self._client_closed:
                    return False
                logger.debug("Send failed on %s", connection.connection_id, exc_info=True)
                connection.abort("Sending to the client failed.")
                return True
            finally:
                connection.send_started_at = None

    async def _close(self, send: Send, send_failed: bool) -> None:
        """Send our close frame and wait (bounded) for the client's (WS-7, WS-9)."""
        connection = self._connection
        failed = (
            send_failed
            or connection.aborted_reason is not None
            or connection.application_error is not None
        )
        self._closing = True
        code = CLOSE_INTERNAL_ERROR if failed else CLOSE_NORMAL
        with anyio.move_on_after(self._options.websocket_close_timeout):
            try:
                await send({"type": "websocket.close", "code": code, "reason": ""})
            except Exception:
                logger.debug("Close failed on %s", connection.connection_id, exc_info=True)
                return
            if self._receiving:
                if self._receiving_done is None:
                    self._receiving_done = anyio.Event()
                await self._receiving_done.wait()
