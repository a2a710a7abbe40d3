"""The seam between transports and whatever runs on a connection.

A transport (WebSockets, SSE, Long Polling) starts a *connection handler* with
a ``ConnectionContext``; the handler reads and writes bytes through it and
never learns which transport is underneath. The hub layer's handler and the
raw ``map_connection`` handlers both sit on this interface.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any, Protocol
from urllib.parse import parse_qs

from ..protocol.messages import TransferFormat

__all__ = [
    "ConnectionClosed",
    "ConnectionContext",
    "ConnectionHandler",
    "RequestInfo",
]


class ConnectionClosed(Exception):
    """Raised by ``receive``/``send`` once the transport has ended."""


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """The HTTP request that opened (or last resumed) the transport.

    Header names are lower-cased; query keys keep their case (look-ups that
    must ignore case use ``query_value``).
    """

    path: str
    headers: Mapping[str, str]
    query: Mapping[str, list[str]]
    client: tuple[str, int] | None = None
    scheme: str = "http"
    scope: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_scope(cls, scope: Mapping[str, Any]) -> RequestInfo:
        headers: dict[str, str] = {}
        for raw_name, raw_value in scope.get("headers", ()):
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        client = scope.get("client")
        return cls(
            path=scope.get("path", ""),
            headers=headers,
            query=query,
            client=tuple(client) if client else None,
            scheme=scope.get("scheme", "http"),
            scope=scope,
        )

    def query_value(self, name: str) -> str | None:
        """First value of a query key, matched case-insensitively (GEN-4)."""
        values = self.query.get(name)
        if values is None:
            lowered = name.lower()
            for key, candidates in self.query.items():
                if key.lower() == lowered:
                    values = candidates
                    break
        return values[0] if values else None

    @property
    def cookies(self) -> dict[str, str]:
        jar: SimpleCookie = SimpleCookie()
        raw = self.headers.get("cookie")
        if raw:
            try:
                jar.load(raw)
            except Exception:  # a malformed cookie header is the client's problem
                return {}
        return {key: morsel.value for key, morsel in jar.items()}


class ConnectionContext(Protocol):
    """One logical SignalR connection as its handler sees it."""

    connection_id: str
    """Public id (never the secret connection token)."""
    transport_name: str
    """``WebSockets``, ``ServerSentEvents`` or ``LongPolling``."""
    request: RequestInfo
    items: dict[str, Any]
    """Free per-connection state for the layers above."""
    user: Any
    """Set by authentication (``None`` when anonymous)."""
    supported_formats: frozenset[TransferFormat]
    """Formats the transport can carry (SSE: Text only)."""
    transfer_format: TransferFormat
    """Chosen by the handler after its handshake; WebSockets picks frame type by it."""
    has_inherent_keep_alive: bool
    """True on Long Polling: the server sends no pings there (LP-10)."""

    async def receive(self) -> bytes:
        """Next chunk of inbound bytes (not aligned to messages). Raises
        ``ConnectionClosed`` when the transport has ended. Call it from one
        task at a time: a WebSocket may be read directly, without a buffer."""
        ...

    async def send(self, data: bytes) -> None:
        """Queue bytes holding one or more *complete* messages; waits while the
        outbound buffer is full (backpressure on this connection only)."""
        ...

    def listen(self, listener: Callable[[bytes], bool] | None) -> bool:
        """Have inbound bytes offered to ``listener`` as they arrive, outside any
        task, while the handler waits in ``receive`` and nothing is queued for
        it; True from the listener means it took them, False leaves them to
        ``receive``. Returns whether this transport does that at all (False:
        only ``receive`` delivers). ``None`` stops it. A listener that raises
        aborts this connection. Lets a handler answer a message without its task waking (the
        native server); elsewhere it may always return False."""
        ...

    def send_now(self, data: bytes) -> bool:
        """Write bytes at once if that needs no waiting and nothing queued is
        overtaken; False means nothing was sent, and the caller uses ``send``.
        Lets a listener answer without a task (the native server); elsewhere
        it may always be False."""
        ...

    def begin_send(self, data: bytes) -> Awaitable[None] | None:
        """``send``, finished at once where that needs no waiting: ``None`` then
        (the bytes are written), else what ``send`` would return, to be awaited.
        Lets a reply skip a coroutine where the server writes without waiting
        (the native server) and the extra call of ``send`` everywhere else."""
        ...

    def send_nowait(self, data: bytes) -> None:
        """Queue bytes without waiting (fan-out). A connection that stays over its
        buffer bound is closed after the send timeout instead of delaying senders.
        Never raises: data for a connection that has already ended is dropped."""
        ...

    def abort(self, reason: str | None = None) -> None:
        """End the connection from the application side."""
        ...


ConnectionHandler = Callable[[ConnectionContext], Awaitable[None]]
"""Runs for the life of a connection; when it returns the transport closes."""
