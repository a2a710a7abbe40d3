"""``POST {base}?id=...``: client-to-server bytes for SSE and Long Polling (§7).

The body is copied into the connection's inbound channel as it arrives, so a
large POST is backpressured by the handler rather than buffered whole.
"""

from __future__ import annotations

import anyio

from .asgi_types import Receive, Send
from .connection import ConnectionStatus, HttpConnection
from .context import ConnectionClosed
from .responses import send_response

__all__ = ["handle_send"]


async def handle_send(connection: HttpConnection, receive: Receive, send: Send) -> None:
    """Feed one POST body into the connection (SEND-2..SEND-4).

    Concurrent POSTs on one connection run one after another, as in the
    reference, so their bytes never interleave.
    """
    if connection.post_lock is None:
        connection.post_lock = anyio.Lock()
    async with connection.post_lock:
        if connection.status is ConnectionStatus.DISPOSED or connection.inbound.closed:
            # Disposed, or closing: the handler has ended or the client's
            # stream dropped, so nothing would ever read these bytes.
            await send_response(send, 404)
            return
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                await send_response(send, 400)
                return
            body = message.get("body", b"")
            if body:
                try:
                    await connection.inbound.put(body)
                except ConnectionClosed:
                    await send_response(send, 404)
                    return
            if not message.get("more_body", False):
                break
    await send_response(send, 200)
