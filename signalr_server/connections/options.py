"""Options of one connection endpoint, with the reference's defaults (OPT-1, OPT-2).

Kept apart from the hub options because a raw ``map_connection`` endpoint has
these and nothing else; the hub layer adds its own on top.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .cors import CorsOptions

__all__ = [
    "IMPLEMENTED_TRANSPORTS",
    "TRANSPORT_ORDER",
    "HttpConnectionOptions",
    "HttpTransportType",
]


class HttpTransportType(enum.Flag):
    """Transport kinds as flags, so an endpoint can enable any subset.

    Member names are the exact wire names used in negotiate and error texts
    (NEG-7, ID-5), which is why they are not upper-case.
    """

    NONE = 0
    WebSockets = 1
    ServerSentEvents = 2
    LongPolling = 4

    @property
    def wire_name(self) -> str:
        """The name clients compare case-sensitively (single flags only)."""
        return self.name or ""


ALL_TRANSPORTS = (
    HttpTransportType.WebSockets
    | HttpTransportType.ServerSentEvents
    | HttpTransportType.LongPolling
)

TRANSPORT_ORDER: tuple[HttpTransportType, ...] = (
    HttpTransportType.WebSockets,
    HttpTransportType.ServerSentEvents,
    HttpTransportType.LongPolling,
)
"""Reference order of ``availableTransports``; clients try entries in this order."""

IMPLEMENTED_TRANSPORTS = ALL_TRANSPORTS
"""Transports this package can serve. Negotiate offers only transports that are
both implemented and enabled, so a client never picks one that would 404."""


@dataclass(kw_only=True, slots=True)
class HttpConnectionOptions:
    """Per-endpoint transport settings. Times are seconds, sizes are bytes; a
    buffer size of 0 means unbounded, as in the reference."""

    transports: HttpTransportType = field(default=ALL_TRANSPORTS)
    disconnect_timeout: float = 15.0
    """How long a connection may have no active transport request before it is
    disposed (ID-8). Also the grace a handler gets to finish after disposal."""
    websocket_close_timeout: float = 5.0
    """After one direction of a WebSocket ends, how long to wait for the other (WS-9)."""
    transport_send_timeout: float = 10.0
    """How long one send to the client, or an over-full outbound buffer, may stall
    before the connection is closed (WS-11)."""
    transport_max_buffer_size: int = 65536
    """Inbound bound: the transport stops reading from the client while this much
    is waiting for the handler."""
    application_max_buffer_size: int = 65536
    """Outbound bound: ``send()`` waits while this much is waiting for the transport."""
    long_polling_poll_timeout: float = 90.0
    """How long a poll waits for data before an empty 200 (LP-4); must stay under
    the clients' HTTP timeouts (JS 100 s, .NET 120 s)."""
    allow_stateful_reconnects: bool = False
    minimum_protocol_version: int = 0
    cors: CorsOptions | None = None
    """Browser cross-origin access (CORS-1). ``None`` denies every other origin:
    no CORS headers are sent and preflights get 405 like any other OPTIONS."""

    @property
    def offered_transports(self) -> HttpTransportType:
        """Transports that are enabled here and implemented by this package."""
        return self.transports & IMPLEMENTED_TRANSPORTS
