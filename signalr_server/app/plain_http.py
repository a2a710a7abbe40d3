"""Helpers for the few plain HTTP routes an app serves beside its hubs.

A ``SignalR(fallback=...)`` app often needs only a health check, a page or a
small JSON API, which is not worth a web framework. These helpers are the
raw-ASGI pieces such a fallback repeats: reading a request body without
buffering an unbounded one, and answering with bytes or JSON.

A fallback does not need to handle the ASGI lifespan: ``SignalR`` forwards
lifespan events to it but accepts an app that simply returns for scopes it
does not serve (the ASGI spec's way of saying "no lifespan support").

    from signalr_server.app import SignalR
    from signalr_server.app.plain_http import BodyTooLarge, read_body, send_json

    async def routes(scope, receive, send):
        if scope["type"] != "http":
            return  # lifespan and stray WebSockets: nothing to do
        try:
            body = await read_body(receive, limit=4096)
        except BodyTooLarge as exc:
            await send_json(send, 413, {"error": str(exc)})
            return
        await send_json(send, 200, {"received": len(body)})

    app = SignalR(fallback=routes)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from ..connections.asgi_types import Receive, Send
from ..connections.responses import TEXT_PLAIN, send_response

__all__ = [
    "APPLICATION_JSON",
    "DEFAULT_BODY_LIMIT",
    "TEXT_PLAIN",
    "BodyTooLarge",
    "read_body",
    "send_json",
    "send_response",
]

APPLICATION_JSON = b"application/json"

DEFAULT_BODY_LIMIT = 64 * 1024
"""Bytes ``read_body`` accepts by default; small API bodies fit many times over."""


class BodyTooLarge(ValueError):
    """The request body grew past the limit; answer 413 (or 400) rather than buffer it.

    A ``ValueError``, so a route that already turns unparsable bodies into
    400 answers refuses an oversized one the same way without extra code.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body is larger than {limit} bytes.")
        self.limit = limit


async def read_body(receive: Receive, *, limit: int = DEFAULT_BODY_LIMIT) -> bytes:
    """The whole request body of an ``http`` scope.

    Raises ``BodyTooLarge`` as soon as more than ``limit`` bytes arrived, so a
    client cannot make the server hold an unbounded body. If the client
    disconnects mid-body, what arrived so far is returned (any answer is
    then dropped by the server anyway).
    """
    if limit < 0:
        raise ValueError(f"limit must be zero or more bytes, got {limit}")
    chunks: list[bytes] = []
    size = 0
    while True:
        event = await receive()
        if event["type"] == "http.disconnect":
            break
        chunk: bytes = event.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
        if not event.get("more_body", False):
            break
    return b"".join(chunks)


async def send_json(
    send: Send,
    status: int,
    payload: Any,
    *,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    """Answer ``status`` with ``payload`` as compact UTF-8 JSON.

    ``payload`` must be JSON-serialisable; anything else is a programming
    error and raises ``TypeError`` before a byte is sent.
    """
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    await send_response(send, status, body, content_type=APPLICATION_JSON, headers=headers)
