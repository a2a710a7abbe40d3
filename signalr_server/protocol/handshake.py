"""The handshake: the client's first JSON record, and the server's answer.

The request is always JSON text, even on MessagePack connections (HS-1), so
the handshake parser is separate from the hub protocols. Bytes that follow
the request's 0x1E in the same read are already hub messages (HS-8); the
parser hands them back untouched through ``remainder``.

Error texts follow the reference's ``HandshakeProtocol``: wrong JSON types
are reported as met, then missing properties with the payload appended as
"Message content: ...".
"""

from __future__ import annotations

import json
from typing import Any

from .errors import HandshakeError, MessageTooLargeError, ProtocolError
from .framing import RECORD_SEPARATOR
from .json_loading import load_json_object
from .messages import HandshakeRequest, HandshakeResponse

__all__ = [
    "HandshakeParser",
    "parse_handshake_request",
    "parse_handshake_response",
    "write_handshake_request",
    "write_handshake_response",
]

SUCCESS_RESPONSE = b"{}" + RECORD_SEPARATOR
_INT32_FORMAT = (
    "Either the JSON value is not in a supported format, or is out of bounds for an Int32."
)


def _load(payload: bytes) -> dict[str, Any]:
    """Decode the record as an object, re-raising any failure as ``HandshakeError``."""
    try:
        return load_json_object(payload)
    except HandshakeError:
        raise
    except ProtocolError as error:
        raise HandshakeError(str(error)) from None


def _check_request_property(key: str, value: Any) -> None:
    if key == "protocol":
        if type(value) is not str:
            raise HandshakeError("Expected 'protocol' to be of type String.")
    elif key == "version" and value is not None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise HandshakeError("Expected 'version' to be of type Number.")
        if type(value) is float or not -(2**31) <= value < 2**31:
            raise HandshakeError(_INT32_FORMAT)


def parse_handshake_request(payload: bytes) -> HandshakeRequest:
    """Parse the request record (without its 0x1E); raises ``HandshakeError`` (HS-2)."""
    request = _load(payload)
    for key, value in request.items():
        _check_request_property(key, value)
    protocol = request.get("protocol")
    version = request.get("version")
    if protocol is None or version is None:
        missing = "protocol" if protocol is None else "version"
        content = payload.decode("utf-8", "replace")
        raise HandshakeError(f"Missing required property '{missing}'. Message content: {content}")
    return HandshakeRequest(protocol, int(version))


def parse_handshake_response(payload: bytes) -> HandshakeResponse:
    """Parse the server's answer (without its 0x1E), as a client would."""
    response = _load(payload)
    for key, value in response.items():
        if key == "type":
            raise HandshakeError("Expected a handshake response from the server.")
        if key == "error" and type(value) is not str:
            raise HandshakeError("Expected 'error' to be of type String.")
    return HandshakeResponse(response.get("error"))


def write_handshake_response(error: str | None = None) -> bytes:
    """``{}`` + 0x1E on success; ``{"error":"..."}`` + 0x1E otherwise (HS-6).

    An empty error is written as success, as the reference does.
    """
    if not error:
        return SUCCESS_RESPONSE
    return b'{"error":' + _dumps(error).encode() + b"}" + RECORD_SEPARATOR


def write_handshake_request(request: HandshakeRequest) -> bytes:
    """The client's first record, e.g. ``{"protocol":"json","version":1}`` + 0x1E."""
    return (
        b'{"protocol":'
        + _dumps(request.protocol).encode()
        + b',"version":'
        + str(int(request.version)).encode()
        + b"}"
        + RECORD_SEPARATOR
    )


def _dumps(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


class HandshakeParser:
    """Buffers the start of a connection until the handshake record is complete.

    The record counts against the maximum message size (HS-11): if no 0x1E
    arrives within the limit, ``MessageTooLargeError`` is raised (the caller
    answers "Handshake was canceled."). After success, ``remainder`` holds
    whatever followed the record; ``feed`` must not be called again.
    """

    __slots__ = ("_buffer", "_max_message_size", "_remainder", "_request")

    def __init__(self, max_message_size: int | None = 32768) -> None:
        self._max_message_size = max_message_size
        self._buffer = bytearray()
        self._remainder = b""
        self._request: HandshakeRequest | None = None

    @property
    def remainder(self) -> bytes:
        """Bytes received after the handshake's 0x1E: the first hub messages."""
        return self._remainder

    @property
    def request(self) -> HandshakeRequest | None:
        """The parsed request, once complete."""
        return self._request

    def feed(self, data: bytes) -> HandshakeRequest | None:
        """Add a chunk; return the request once its record is complete."""
        if self._request is not None:
            raise RuntimeError("the handshake is already complete")
        limit = self._max_message_size
        position = data.find(RECORD_SEPARATOR)
        if position < 0:
            if limit is not None and len(self._buffer) + len(data) > limit:
                raise MessageTooLargeError(limit)
            self._buffer += data
            return None
        if limit is not None and len(self._buffer) + position + 1 > limit:
            raise MessageTooLargeError(limit)
        payload = bytes(self._buffer) + data[:position]
        self._buffer.clear()
        request = parse_handshake_request(payload)
        self._remainder = bytes(data[position + 1 :])
        self._request = request
        return request
