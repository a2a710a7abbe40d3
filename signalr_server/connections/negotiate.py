"""The negotiate response (NEG-1..NEG-15) as a pure function.

No I/O and no registry here, so every branch can be tested byte for byte; the
dispatcher registers the connection only when the outcome has no error.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .context import RequestInfo
from .options import TRANSPORT_ORDER, HttpConnectionOptions, HttpTransportType

__all__ = [
    "LATEST_NEGOTIATE_VERSION",
    "NegotiateOutcome",
    "negotiate",
    "select_negotiate_version",
    "wants_stateful_reconnect",
]

LATEST_NEGOTIATE_VERSION = 1

_TRANSFER_FORMATS: dict[HttpTransportType, list[str]] = {
    HttpTransportType.WebSockets: ["Text", "Binary"],
    HttpTransportType.ServerSentEvents: ["Text"],
    HttpTransportType.LongPolling: ["Text", "Binary"],
}

# What .NET's int.TryParse accepts: optional surrounding blanks and one sign.
_INTEGER = re.compile(r"[ \t\n\v\f\r]*[+-]?[0-9]+[ \t\n\v\f\r]*")
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


@dataclass(frozen=True, slots=True)
class NegotiateOutcome:
    status: int
    body: bytes
    version: int
    """Negotiate version chosen (meaningless when ``error`` is set)."""
    use_stateful_reconnect: bool
    error: str | None = None

    @property
    def content_type(self) -> bytes:
        return b"application/json"


def _unsupported(version: int) -> str:
    return (
        f"The client requested version '{version}', but the server does not support this version."
    )


def select_negotiate_version(
    request: RequestInfo, options: HttpConnectionOptions
) -> tuple[int, str | None]:
    """``(version, error)`` following NEG-2."""
    raw = request.query_value("negotiateVersion")
    if raw is None:
        if options.minimum_protocol_version > 0:
            return 0, _unsupported(0)
        return 0, None
    if not _INTEGER.fullmatch(raw):
        return 0, "The client requested a non-integer protocol version."
    version = int(raw)
    if not _INT32_MIN <= version <= _INT32_MAX:
        return 0, "The client requested a non-integer protocol version."
    if version < options.minimum_protocol_version:
        return version, _unsupported(version)
    return min(version, LATEST_NEGOTIATE_VERSION), None


def wants_stateful_reconnect(request: RequestInfo, options: HttpConnectionOptions) -> bool:
    """NEG-9: only when the server allows it AND the client asked for it."""
    if not options.allow_stateful_reconnects:
        return False
    raw = request.query_value("useStatefulReconnect")
    return raw is not None and raw.strip().lower() == "true"


def available_transports(transports: HttpTransportType) -> list[dict[str, Any]]:
    return [
        {"transport": kind.wire_name, "transferFormats": list(_TRANSFER_FORMATS[kind])}
        for kind in TRANSPORT_ORDER
        if kind in transports
    ]


def _compact(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def negotiate(
    request: RequestInfo,
    options: HttpConnectionOptions,
    connection_id: str,
    connection_token: str,
) -> NegotiateOutcome:
    """Build the negotiate answer for a new connection with the given id/token.

    Errors are 200 responses with an ``error`` body (NEG-1, NEG-11). Version 0
    omits the token: the client then uses the id as ``id`` (NEG-5).
    """
    version, error = select_negotiate_version(request, options)
    if error is not None:
        return NegotiateOutcome(200, _compact({"error": error}), version, False, error)
    stateful = wants_stateful_reconnect(request, options)
    payload: dict[str, Any] = {"negotiateVersion": version, "connectionId": connection_id}
    if version > 0:
        payload["connectionToken"] = connection_token
    payload["availableTransports"] = available_transports(options.offered_transports)
    if stateful:
        payload["useStatefulReconnect"] = True
    return NegotiateOutcome(200, _compact(payload), version, stateful)
