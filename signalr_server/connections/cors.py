"""Browser cross-origin access to a connection endpoint (CORS-1).

Not part of the SignalR protocol, but a browser page served from another
origin cannot negotiate, poll or POST without it. JS clients send credentials
(cookies) by default, which browsers only honour when the answer echoes the
exact origin and allows credentials, so a literal ``*`` is never sent.

Default is deny: with no ``CorsOptions`` (or an origin not listed) responses
carry no CORS headers and the browser blocks the page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .asgi_types import Message, Send

__all__ = [
    "DEFAULT_ALLOWED_HEADERS",
    "DEFAULT_ALLOWED_METHODS",
    "CorsOptions",
    "is_preflight",
    "preflight_headers",
    "response_headers",
    "with_headers",
]

DEFAULT_ALLOWED_METHODS: tuple[str, ...] = ("GET", "POST", "DELETE")
DEFAULT_ALLOWED_HEADERS: tuple[str, ...] = (
    "authorization",
    "content-type",
    "x-requested-with",
    "x-signalr-user-agent",
)
_ANY_ORIGIN = "*"
_VARY = (b"vary", b"Origin")


def _normalize_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


@dataclass(frozen=True, kw_only=True, slots=True)
class CorsOptions:
    """Which browser origins may use the endpoint.

    ``allowed_origins`` holds exact origins (``"https://app.example"``) or
    ``"*"`` for any origin; either way the request's own origin is echoed.
    """

    allowed_origins: Sequence[str] = ()
    allow_credentials: bool = True
    allowed_methods: Sequence[str] = DEFAULT_ALLOWED_METHODS
    allowed_headers: Sequence[str] = DEFAULT_ALLOWED_HEADERS
    exposed_headers: Sequence[str] = ()
    max_age: int | None = None
    """Seconds a browser may cache a preflight answer (omitted when None)."""

    def allows(self, origin: str | None) -> bool:
        if not origin:
            return False
        wanted = _normalize_origin(origin)
        return any(
            allowed == _ANY_ORIGIN or _normalize_origin(allowed) == wanted
            for allowed in self.allowed_origins
        )


def is_preflight(method: str, headers: Mapping[str, str]) -> bool:
    """A browser preflight: OPTIONS with an Origin and the method it wants."""
    return (
        method == "OPTIONS"
        and bool(headers.get("origin"))
        and "access-control-request-method" in headers
    )


def _origin_headers(options: CorsOptions, origin: str) -> list[tuple[bytes, bytes]]:
    headers = [(b"access-control-allow-origin", origin.encode("latin-1"))]
    if options.allow_credentials:
        headers.append((b"access-control-allow-credentials", b"true"))
    return headers


def preflight_headers(options: CorsOptions, origin: str | None) -> list[tuple[bytes, bytes]]:
    """Headers answering a preflight; only ``Vary`` for an origin not allowed,
    so the browser refuses the real request."""
    if origin is None or not options.allows(origin):
        return [_VARY]
    headers = _origin_headers(options, origin)
    headers.append((b"access-control-allow-methods", ", ".join(options.allowed_methods).encode()))
    if options.allowed_headers:
        headers.append(
            (b"access-control-allow-headers", ", ".join(options.allowed_headers).encode())
        )
    if options.max_age is not None:
        headers.append((b"access-control-max-age", str(options.max_age).encode()))
    headers.append(_VARY)
    return headers


def response_headers(options: CorsOptions, origin: str | None) -> list[tuple[bytes, bytes]]:
    """Headers added to an actual (non-preflight) response."""
    if origin is None or not options.allows(origin):
        return [_VARY] if origin else []
    headers = _origin_headers(options, origin)
    if options.exposed_headers:
        headers.append(
            (b"access-control-expose-headers", ", ".join(options.exposed_headers).encode())
        )
    headers.append(_VARY)
    return headers


def with_headers(send: Send, extra: Sequence[tuple[bytes, bytes]]) -> Send:
    """``send`` with ``extra`` appended to the response start."""
    if not extra:
        return send

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = dict(message)
            message["headers"] = [*message.get("headers", ()), *extra]
        await send(message)

    return wrapped
