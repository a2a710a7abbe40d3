"""RFC 6455 frames for the native server, sans-IO: bytes in, messages out.

Server side only: every client frame must be masked, the server's are not.
The reader reassembles fragmented messages, answers nothing itself (the
caller writes pongs and close replies), and enforces the message size limit
*before* buffering a frame's payload, so a hostile length field costs nothing.
"""

from __future__ import annotations

from base64 import b64encode
from hashlib import sha1

__all__ = [
    "OP_BINARY",
    "OP_CLOSE",
    "OP_PING",
    "OP_PONG",
    "OP_TEXT",
    "FrameReader",
    "WebSocketProtocolError",
    "accept_key",
    "close_payload",
    "encode_frame",
    "parse_close",
]

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
_DATA_OPCODES = frozenset({OP_TEXT, OP_BINARY})
_CONTROL_OPCODES = frozenset({OP_CLOSE, OP_PING, OP_PONG})

CLOSE_PROTOCOL_ERROR = 1002
CLOSE_NO_STATUS = 1005
CLOSE_INVALID_DATA = 1007
CLOSE_TOO_BIG = 1009

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_RESERVED_CODES = frozenset({1004, 1005, 1006, 1015})


class WebSocketProtocolError(Exception):
    """The peer broke RFC 6455; ``code`` is the close code to answer with."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def accept_key(key: bytes) -> bytes:
    """``Sec-WebSocket-Accept`` for a client's ``Sec-WebSocket-Key``."""
    return b64encode(sha1(key + _GUID).digest())


def encode_frame(opcode: int, payload: bytes) -> bytes:
    """One unfragmented, unmasked server frame."""
    length = len(payload)
    if length < 126:
        return bytes((0x80 | opcode, length)) + payload
    if length < 0x10000:
        return bytes((0x80 | opcode, 126)) + length.to_bytes(2, "big") + payload
    return bytes((0x80 | opcode, 127)) + length.to_bytes(8, "big") + payload


def close_payload(code: int, reason: str = "") -> bytes:
    """A close frame's payload; a reason is cut to fit a control frame."""
    return code.to_bytes(2, "big") + reason.encode("utf-8")[:123]


def parse_close(payload: bytes) -> tuple[int, str]:
    """The code and reason of a client's close frame (1005 when it has none)."""
    if not payload:
        return CLOSE_NO_STATUS, ""
    if len(payload) == 1:
        raise WebSocketProtocolError(CLOSE_PROTOCOL_ERROR, "Close frame with a one-byte payload.")
    code = int.from_bytes(payload[:2], "big")
    if code < 1000 or code in _RESERVED_CODES or 1016 <= code < 3000 or code >= 5000:
        raise WebSocketProtocolError(CLOSE_PROTOCOL_ERROR, f"Invalid close code {code}.")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise WebSocketProtocolError(CLOSE_INVALID_DATA, "Close reason is not UTF-8.") from None
    return code, reason


def _unmask(data: bytes | bytearray, mask: bytes | bytearray) -> bytes:
    # One big-integer XOR: linear C code, no per-byte Python loop.
    length = len(data)
    if not length:
        return b""
    key = (bytes(mask) * ((length >> 2) + 1))[:length]
    return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(
        length, "little"
    )


class FrameReader:
    """Feed received bytes; get complete messages and control frames back.

    ``feed`` returns ``(opcode, payload)`` pairs in arrival order: text
    messages as ``str`` (validated UTF-8), binary messages and control-frame
    payloads as ``bytes``.
    """

    __slots__ = ("_buffer", "_fragment_opcode", "_fragments", "_fragments_size", "max_size")

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        """Largest message (all fragments together) accepted, in bytes."""
        self._buffer: bytes | bytearray = b""
        self._fragments: list[bytes] = []
        self._fragments_size = 0
        self._fragment_opcode = 0

    def feed(self, data: bytes) -> list[tuple[int, str | bytes]]:
        if self._buffer:
            buffer = self._buffer
            if isinstance(buffer, bytes):
                buffer = bytearray(buffer)
            buffer += data
        else:
            buffer = data
        out: list[tuple[int, str | bytes]] = []
        end = len(buffer)
        pos = 0
        while end - pos >= 2:
            first = buffer[pos]
            second = buffer[pos + 1]
            if first & 0x70:
                raise WebSocketProtocolError(CLOSE_PROTOCOL_ERROR, "Reserved bits are set.")
            if not second & 0x80:
                raise WebSocketProtocolError(CLOSE_PROTOCOL_ERROR, "Client frames must be masked.")
            opcode = first & 0x0F
            length = second & 0x7F
            head = pos + 2
            if length == 126:
                if end - head < 2:
                    break
                length = int.from_bytes(buffer[head : head + 2], "big")
                head += 2
            elif length == 127:
                if end - head < 8:
                    break
                length = int.from_bytes(buffer[head : head + 8], "big")
                head += 8
            fin = first & 0x80
            self._check_header(opcode, fin, length)
            start = head + 4
            if end - start < length:
                break
            payload = _unmask(buffer[start : start + length], buffer[head:start])
            pos = start + length
            message = self._frame(opcode, fin, payload)
            if message is not None:
                out.append(message)
        if pos == end:
            self._buffer = b""
        elif pos:
            self._buffer = bytearray(buffer[pos:])
        else:
            self._buffer = buffer
        return out

    def _check_header(self, opcode: int, fin: int, length: int) -> None:
        if opcode in _CONTROL_OPCODES:
            if length > 125 or not fin:
                raise WebSocketProtocolError(
                    CLOSE_PROTOCOL_ERROR, "Control frames must be short and unfragmented."
                )
            return
        if opcode == OP_CONTINUATION:
            if not self._fragments:
                raise WebSocketProtocolError(
                    CLOSE_PROTOCOL_ERROR, "Continuation frame without a message to continue."
                )
        elif opcode in _DATA_OPCODES:
            if self._fragments:
                raise WebSocketProtocolError(
                    CLOSE_PROTOCOL_ERROR, "New message before the fragmented one ended."
                )
        else:
            raise WebSocketProtocolError(CLOSE_PROTOCOL_ERROR, f"Unknown opcode {opcode}.")
        if self._fragments_size + length > self.max_size:
            raise WebSocketProtocolError(
                CLOSE_TOO_BIG, f"Message exceeds the limit of {self.max_size} bytes."
            )

    def _frame(self, opcode: int, fin: int, payload: bytes) -> tuple[int, str | bytes] | None:
        if opcode in _CONTROL_OPCODES:
            return opcode, payload
        if opcode == OP_CONTINUATION:
            self._fragments.append(payload)
            self._fragments_size += len(payload)
            if not fin:
                return None
            opcode = self._fragment_opcode
            payload = b"".join(self._fragments)
            self._fragments = []
            self._fragments_size = 0
        elif not fin:
            self._fragment_opcode = opcode
            self._fragments = [payload]
            self._fragments_size = len(payload)
            return None
        if opcode == OP_TEXT:
            try:
                return OP_TEXT, payload.decode("utf-8")
            except UnicodeDecodeError:
                raise WebSocketProtocolError(
                    CLOSE_INVALID_DATA, "Text message is not valid UTF-8."
                ) from None
        return opcode, payload
