"""Message framing: 0x1E-terminated text records and VarInt-prefixed binary frames.

Transports deliver arbitrary chunks (a WebSocket frame, a POST body) that may
hold several messages or part of one (FR-4), so both parsers keep partial data
between calls. The size limit (LIM-1) is checked while buffering, so a peer
that never finishes a message cannot make us hold more than the limit.
"""

from __future__ import annotations

from .errors import MessageTooLargeError, ProtocolError

__all__ = [
    "MAX_VARINT_LENGTH",
    "ONE_BYTE_VARINTS",
    "RECORD_SEPARATOR",
    "BinaryMessageParser",
    "TextMessageParser",
    "read_varint",
    "write_binary_frame",
    "write_text_frame",
    "write_varint",
]

RECORD_SEPARATOR = b"\x1e"
MAX_VARINT_LENGTH = 5
"""2**31-1 needs five 7-bit groups; anything longer is not a SignalR length."""

_MAX_FRAME_LENGTH = 0x7FFFFFFF
_TOO_LARGE_TEXT = "Messages over 2GB in size are not supported."


ONE_BYTE_VARINTS = tuple(bytes((n,)) for n in range(0x80))
"""The prefixes of frames shorter than 128 bytes, by length."""


def write_varint(n: int) -> bytes:
    """Encode a frame length: 7 bits per byte, least significant group first."""
    if n < 0 or n > _MAX_FRAME_LENGTH:
        raise ValueError(f"frame length {n} is outside 0..2**31-1")
    if n < 0x80:
        return ONE_BYTE_VARINTS[n]
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def read_varint(data: bytes | bytearray, offset: int = 0) -> tuple[int, int] | None:
    """Decode a frame length at ``offset``: ``(value, bytes consumed)``.

    ``None`` means the prefix is not complete yet. A prefix longer than five
    bytes, or a value above 2**31-1, raises ``ProtocolError`` (FR-3).
    """
    value = 0
    shift = 0
    end = len(data)
    index = offset
    while True:
        if index >= end:
            return None
        byte = data[index]
        index += 1
        consumed = index - offset
        if consumed == MAX_VARINT_LENGTH and (byte & 0x80 or byte > 0x07):
            raise ProtocolError(_TOO_LARGE_TEXT)
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, consumed
        shift += 7


def write_text_frame(payload: bytes) -> bytes:
    """Terminate one JSON payload with the record separator."""
    return payload + RECORD_SEPARATOR


def write_binary_frame(payload: bytes) -> bytes:
    """Prefix one MessagePack payload with its VarInt length."""
    return write_varint(len(payload)) + payload


class TextMessageParser:
    """Splits a text stream on 0x1E, keeping the unterminated tail.

    The kept tail never contains a separator, so each call searches only the
    new chunk: a message trickling in byte by byte costs O(n) in total, not
    O(n**2).
    """

    __slots__ = ("_buffer", "_max_message_size", "held")

    def __init__(self, max_message_size: int | None = 32768) -> None:
        self._max_message_size = max_message_size
        self._buffer = bytearray()
        self.held = self._buffer
        """The bytes kept for an incomplete message; always this one object,
        so a reader may keep a reference and test it. Never change it."""

    @property
    def buffered(self) -> int:
        """Bytes held for a message that is not complete yet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """Add a chunk; return the payloads it completed, separators stripped."""
        limit = self._max_message_size
        buffer = self._buffer
        if not buffer:
            # Common cases: the chunk holds whole messages; skip the copy.
            if data.endswith(RECORD_SEPARATOR):
                if limit is None:
                    return data.split(RECORD_SEPARATOR)[:-1]
                end = len(data) - 1
                if data.find(RECORD_SEPARATOR) == end and end < limit:
                    return [data[:end]]  # exactly one message, within the limit
            return self._split_fresh(data, limit)

        messages: list[bytes] = []
        position = data.find(RECORD_SEPARATOR)
        if position < 0:
            if limit is not None and len(buffer) + len(data) > limit:
                raise MessageTooLargeError(limit)
            buffer += data
            return messages
        # The first separator completes the buffered message.
        if limit is not None and len(buffer) + position + 1 > limit:
            raise MessageTooLargeError(limit)
        buffer += data[:position]
        messages.append(bytes(buffer))
        buffer.clear()
        messages.extend(self._split_fresh(data[position + 1 :], limit))
        return messages

    def _split_fresh(self, data: bytes, limit: int | None) -> list[bytes]:
        """Split a chunk that starts at a message boundary; buffer its tail."""
        messages: list[bytes] = []
        start = 0
        end = len(data)
        find = data.find
        while start < end:
            position = find(RECORD_SEPARATOR, start)
            if position < 0:
                if limit is not None and end - start > limit:
                    raise MessageTooLargeError(limit)
                self._buffer += data[start:]
                break
            if limit is not None and position + 1 - start > limit:
                raise MessageTooLargeError(limit)
            messages.append(data[start:position])
            start = position + 1
        return messages


class BinaryMessageParser:
    """Splits a binary stream into VarInt-prefixed frames, keeping the tail.

    The limit is checked against the declared length as soon as the prefix
    is complete, so an oversized frame fails before its body arrives.
    """

    __slots__ = ("_buffer", "_max_message_size", "held")

    def __init__(self, max_message_size: int | None = 32768) -> None:
        self._max_message_size = max_message_size
        self._buffer = bytearray()
        self.held = self._buffer
        """The bytes kept for an incomplete frame; always this one object,
        so a reader may keep a reference and test it. Never change it."""

    @property
    def buffered(self) -> int:
        """Bytes held for a frame that is not complete yet."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[bytes]:
        """Add a chunk; return the frame payloads it completed, prefixes stripped."""
        try:
            return self._feed(data)
        except ProtocolError:
            # The parser is dead after an error; drop what it held so a rejected
            # oversize chunk does not stay alive with it.
            self._buffer.clear()
            raise

    def _feed(self, data: bytes) -> list[bytes]:
        if self._buffer:
            self._buffer += data
            view: bytes | bytearray = self._buffer
        else:
            view = data
        limit = self._max_message_size
        messages: list[bytes] = []
        offset = 0
        end = len(view)
        while offset < end:
            header = read_varint(view, offset)
            if header is None:
                if limit is not None and end - offset > limit:
                    raise MessageTooLargeError(limit)
                break
            length, prefix = header
            total = prefix + length
            if limit is not None and total > limit:
                raise MessageTooLargeError(limit)
            if end - offset < total:
                break
            start = offset + prefix
            messages.append(bytes(view[start : start + length]))
            offset += total
        if view is self._buffer:
            del self._buffer[:offset]
        elif offset < end:
            self._buffer += view[offset:]
        return messages
