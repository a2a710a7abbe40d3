"""The Server-Sent Events transport (SSE-1..SSE-10): server to client only.

The response is one long ``text/event-stream`` body; every chunk the handler
queued becomes one event. Client-to-server bytes come by POST
(``send_endpoint``), so this request only writes and watches for the client
going away.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from time import monotonic

import anyio

from ..protocol.messages import TransferFormat
from .asgi_types import Receive, Send
from .connection import HttpConnection
from .context import ConnectionClosed
from .options import HttpConnectionOptions

__all__ = [
    "SSE_OPENING_COMMENT",
    "SSE_RESPONSE_HEADERS",
    "ServerSentEventsTransport",
    "format_sse_event",
]

logger = logging.getLogger("signalr_server.connections")

SSE_OPENING_COMMENT = b":\r\n"
"""Sent before any data: some browsers fire EventSource ``open`` (which JS
``connect()`` waits for) only once the first bytes arrive (SSE-3)."""

SSE_RESPONSE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache,no-store"),
    (b"pragma", b"no-cache"),
    # Compression middleware would hold events back until its buffer fills.
    (b"content-encoding", b"identity"),
    (b"long-running", b"true"),
)

_DATA_PREFIX = b"data: "
_CRLF = b"\r\n"


def format_sse_event(payload: bytes) -> bytes:
    """One SSE event carrying ``payload`` (SSE-4), as pure bytes-in/bytes-out.

    Each LF-separated line becomes its own ``data: `` field, because a raw LF
    inside a field would end it; a CR right before an LF is dropped so CRLF
    and LF payloads read back the same. An empty payload is a bare blank line.
    """
    if not payload:
        return _CRLF
    parts: list[bytes] = []
    for line in payload.split(b"\n"):
        if line.endswith(b"\r"):
            line = line[:-1]
        parts.append(_DATA_PREFIX + line + _CRLF)
    parts.append(_CRLF)
    return b"".join(parts)


class ServerSentEventsTransport:
    """Serves one SSE GET for a connection until either side ends."""

    def __init__(self, connection: HttpConnection, options: HttpConnectionOptions) -> None:
        self._connection = connection
        self._options = options

    @staticmethod
    def prepare(connection: HttpConnection) -> None:
        """Transport features the handler must see before it starts: SSE
        carries text only, so a binary protocol is refused at handshake."""
        connection.supported_formats = frozenset({TransferFormat.TEXT})
        connection.has_inherent_keep_alive = False

    async def run(self, receive: Receive, send: Send, on_started: Callable[[], None]) -> None:
        """Open the stream, start the handler, then write events until the
        connection ends (response completed) or the client drops (no more
        writes; the caller disposes the connection either way)."""
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": list(SSE_RESPONSE_HEADERS),
            }
        )
        await send({"type": "http.response.body", "body": SSE_OPENING_COMMENT, "more_body": True})
        on_started()
        client_gone = False
        async with anyio.create_task_group() as task_group:

            async def watch_disconnect() -> None:
                nonlocal client_gone
                while (await receive())["type"] != "http.disconnect":
                    pass
                client_gone = True
                self._connection.transport_lost()
                task_group.cancel_scope.cancel()

            task_group.start_soon(watch_disconnect)
            writer = anyio.CancelScope()
            self._connection.writer_scope = writer
            try:
                with writer:
                    finished = await self._write_events(send)
            finally:
                self._connection.writer_scope = None
                self._connection.send_started_at = None
            if writer.cancelled_caught:
                finished = False  # aborted by the sweep (``cancel_stalled_send``)
            task_group.cancel_scope.cancel()
        if finished and not client_gone:
            try:
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            except Exception:
                logger.debug("Ending the SSE response failed", exc_info=True)

    async def _write_events(self, send: Send) -> bool:
        """Write until the outbound side ends; False when a write failed."""
        connection = self._connection
        while True:
            try:
                data = await connection.take_outbound()
            except ConnectionClosed:
                return True
            # Each chunk holds complete messages only, so one event never
            # splits a message (SSE-5).
            message = {
                "type": "http.response.body",
                "body": format_sse_event(data),
                "more_body": True,
            }
            # The manager's sweep enforces the send timeout (``cancel_stalled_send``).
            connection.send_started_at = monotonic()
            try:
                await send(message)
            except Exception:
                logger.debug("SSE write failed on %s", connection.connection_id, exc_info=True)
                connection.abort("Sending to the client failed.")
                return False
            finally:
                connection.send_started_at = None
