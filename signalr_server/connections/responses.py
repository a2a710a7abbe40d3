"""Plain HTTP answers on raw ASGI, for both ``http`` and ``websocket`` scopes.

Every transport-level error is a status plus a short text body (ID-2..ID-7);
on a WebSocket scope the same answer needs the ``websocket.http.response``
extension, and without it the only option left is closing before accept,
which servers turn into 403.
"""

from __future__ import annotations

from collections.abc import Iterable

from .asgi_types import Scope, Send

__all__ = ["TEXT_PLAIN", "reject_websocket", "send_response"]

TEXT_PLAIN = b"text/plain"

_NO_BODY_STATUSES = frozenset({204, 304})
"""Statuses that must not carry a body nor a Content-Length (RFC 9110)."""


async def send_response(
    send: Send,
    status: int,
    body: bytes = b"",
    *,
    content_type: bytes | None = TEXT_PLAIN,
    headers: Iterable[tuple[bytes, bytes]] = (),
    head: bool = False,
) -> None:
    """Send ``status`` with ``body`` and its length; ``head`` answers a HEAD
    request: the same headers (``Content-Length`` included) but no body."""
    raw_headers = list(headers)
    if content_type is not None:
        raw_headers.append((b"content-type", content_type))
    if status not in _NO_BODY_STATUSES:
        raw_headers.append((b"content-length", str(len(body)).encode("ascii")))
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": b"" if head else body})


def supports_websocket_http_response(scope: Scope) -> bool:
    return "websocket.http.response" in (scope.get("extensions") or {})


async def reject_websocket(scope: Scope, send: Send, status: int, body: bytes = b"") -> None:
    """Refuse an upgrade before accepting it, as close to ``status`` as the
    server allows."""
    if supports_websocket_http_response(scope):
        await send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", TEXT_PLAIN),
                    (b"content-length", str(len(body)).encode("ascii")),
                ],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})
