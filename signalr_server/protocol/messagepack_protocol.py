"""The ``messagepack`` hub protocol: VarInt-framed msgpack arrays (MP-1..MP-11).

This module ties the pieces together; each piece documents its own choices:

* ``messagepack_layout`` builds the array each message type travels as;
* ``messagepack_writing`` packs it (``bytes`` as bin, other values mapped as
  the reference maps them);
* ``messagepack_timestamps`` carries ``datetime`` as the timestamp extension
  -1, always decoding to timezone-aware UTC, truncated to microseconds;
* ``messagepack_reading`` is the fast path: one C call unpacks the payload
  and the layout is checked;
* ``messagepack_stream_reading`` is the slow path for anything the fast path
  does not like: a streaming reader that reports the reference's error texts
  (MP-8) and accepts what the reference accepts. Valid traffic never takes it.

Deviations, all on input the official clients never send: where the
reference turns unreadable arguments into a per-invocation binding failure,
there is no binder here, so it is a ``ProtocolError`` with the reference's
text; Completion results and stream items that cannot be read at all report
the reference's "Deserializing object of the `Object` type ..." text.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, ClassVar

import msgpack

from .base import FramedMessageReader, MessageReader
from .errors import ProtocolError
from .framing import ONE_BYTE_VARINTS, BinaryMessageParser, read_varint, write_varint
from .messagepack_layout import NON_VOID_RESULT, message_layout
from .messagepack_reading import fast_parse
from .messagepack_stream_reading import slow_parse
from .messagepack_timestamps import DECODE_TIMESTAMPS_AS_DATETIME
from .messagepack_writing import packers
from .messages import HubMessage, PingMessage, TransferFormat

__all__ = ["MessagePackHubProtocol", "MessagePackMessageReader"]

_ONE_BYTE_PREFIX_LIMIT = len(ONE_BYTE_VARINTS)


class MessagePackMessageReader(FramedMessageReader):
    """A ``FramedMessageReader`` that parses the usual chunk directly.

    What clients send, one whole frame of under 128 bytes per chunk (its
    one-byte prefix equals the rest's length) with nothing held from before,
    skips the framing loop; anything else goes through
    ``BinaryMessageParser``. Both ways give the same messages and errors.
    """

    __slots__ = ("_held", "_one_frame_limit")

    def __init__(
        self, parse: Callable[[bytes], HubMessage | None], max_message_size: int | None = 32768
    ) -> None:
        framer = BinaryMessageParser(max_message_size)
        super().__init__(framer, parse)
        self._held = framer.held
        limit = sys.maxsize if max_message_size is None else max_message_size
        self._one_frame_limit = min(limit, _ONE_BYTE_PREFIX_LIMIT)
        """Longest chunk (prefix included) the direct way takes."""

    def feed(self, data: bytes) -> list[HubMessage]:
        size = len(data)
        if 0 < size <= self._one_frame_limit and data[0] == size - 1 and not self._held:
            message = self._parse(data[1:])
            return [] if message is None else [message]
        return super().feed(data)


class MessagePackHubProtocol:
    """SignalR's ``messagepack`` protocol, version 2, Binary transfer format."""

    name: ClassVar[str] = "messagepack"
    version: ClassVar[int] = 2
    transfer_format: ClassVar[TransferFormat] = TransferFormat.BINARY

    def reader(self, max_message_size: int | None = 32768) -> MessageReader:
        return MessagePackMessageReader(self.parse_payload, max_message_size)

    def parse_payload(self, payload: bytes) -> HubMessage | None:
        """Parse one unframed message; ``None`` for a type this server does not know."""
        try:
            # ``UNPACK_OPTIONS`` spelled out: a ``**`` call costs a third more.
            obj = msgpack.unpackb(
                payload,
                raw=False,
                strict_map_key=False,
                timestamp=DECODE_TIMESTAMPS_AS_DATETIME,
                use_list=True,
            )
            return fast_parse(obj)
        except Exception:
            # Covers the fast path giving up and every unpack failure (truncated data, bad
            # UTF-8, unhashable keys, deep nesting, out-of-range timestamps).
            return slow_parse(payload)

    def parse(self, data: bytes) -> list[HubMessage]:
        messages: list[HubMessage] = []
        offset = 0
        end = len(data)
        while offset < end:
            header = read_varint(data, offset)
            if header is None or end - offset - header[1] < header[0]:
                raise ProtocolError("Incomplete message.")
            length, prefix = header
            start = offset + prefix
            message = self.parse_payload(data[start : start + length])
            if message is not None:
                messages.append(message)
            offset = start + length
        return messages

    def write_payload(self, message: HubMessage) -> bytes:
        """Encode one message without the length prefix."""
        data: bytes = packers.pack(message_layout(message))
        return data

    def write(self, message: HubMessage) -> bytes:
        if type(message) is PingMessage:
            return b"\x02\x91\x06"
        payload: bytes = packers.pack(message_layout(message))
        return write_varint(len(payload)) + payload

    def write_result(self, invocation_id: str, result: Any) -> bytes:
        """The framed Completion carrying ``result``, as ``write(CompletionMessage(
        invocation_id, None, result, True))`` writes it, without the message."""
        payload: bytes = packers.pack([3, {}, invocation_id, NON_VOID_RESULT, result])
        return write_varint(len(payload)) + payload

    def __repr__(self) -> str:
        return "MessagePackHubProtocol()"
