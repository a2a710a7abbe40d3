"""The ``messagepack`` hub protocol: VarInt-framed msgpack arrays (MP-1..MP-11).

Parsing has two paths. The fast path unpacks the whole payload in one C call
and checks the layout. Anything it does not like goes to the slow path, a
streaming reader that consumes element by element exactly as the reference's
``MessagePackReader`` does: it ignores the array length except to decide
whether optional trailing elements exist, so it reports the reference's
error texts (MP-8) and accepts what the reference accepts. Valid traffic
never takes the slow path.

Values: ``bytes`` travel as bin, ``datetime`` as the timestamp extension -1.
Decoded datetimes are always timezone-aware UTC; naive datetimes are written
as UTC and aware ones are converted. The timestamp form follows the spec
(32-bit for whole seconds that fit, 64-bit with a fraction, 96-bit outside
that range). Python datetimes hold microseconds, so a timestamp's
nanoseconds are truncated to microseconds on decode. Other extension types
decode to ``msgpack.ExtType``.

Deviations, all on input the official clients never send: where the
reference turns unreadable arguments into a per-invocation binding failure,
there is no binder here, so it is a ``ProtocolError`` with the reference's
text; Completion results and stream items that cannot be read at all report
the reference's "Deserializing object of the `Object` type ..." text.
"""

from __future__ import annotations

import datetime as _dt
import enum
import threading
import uuid
from collections.abc import Callable, Mapping, Set
from decimal import Decimal
from typing import Any, ClassVar

import msgpack

from .base import FramedMessageReader, MessageReader
from .errors import ProtocolError
from .framing import BinaryMessageParser, read_varint, write_varint
from .messages import (
    PING,
    AckMessage,
    CancelInvocationMessage,
    CloseMessage,
    CompletionMessage,
    HubMessage,
    InvocationMessage,
    PingMessage,
    SequenceMessage,
    StreamInvocationMessage,
    StreamItemMessage,
    TransferFormat,
)

__all__ = ["MessagePackHubProtocol"]

_ERROR_RESULT = 1
_VOID_RESULT = 2
_NON_VOID_RESULT = 3
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_UTC = _dt.UTC
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_UTC)

_UNPACK_OPTIONS: dict[str, Any] = {
    "raw": False,
    "strict_map_key": False,
    "timestamp": 3,
    "use_list": True,
}


# --------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------


def _timestamp(value: _dt.datetime) -> msgpack.Timestamp:
    """Exact conversion (``Timestamp.from_datetime`` goes through a float)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_UTC)
    delta = value - _EPOCH
    seconds = delta.days * 86400 + delta.seconds
    return msgpack.Timestamp(seconds, delta.microseconds * 1000)


def _msgpack_default(value: Any) -> Any:
    """Values msgpack has no native form for, mapped as the reference maps them."""
    if isinstance(value, _dt.datetime):
        return _timestamp(value)
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, memoryview):
        return value.tobytes()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Set):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not MessagePack serializable")


class _PackerPerThread(threading.local):
    """A ``Packer`` keeps an internal buffer, so each thread gets its own."""

    def __init__(self) -> None:
        self.pack: Callable[[Any], bytes] = msgpack.Packer(
            use_bin_type=True, datetime=False, default=_msgpack_default, autoreset=True
        ).pack


_packers = _PackerPerThread()


def _headers_map(headers: Mapping[str, str] | None) -> Mapping[str, str]:
    if not headers:
        return {}
    return headers if type(headers) is dict else dict(headers)


def _arguments_list(arguments: Any) -> Any:
    return arguments if type(arguments) is list or type(arguments) is tuple else list(arguments)


def _layout(message: HubMessage) -> list[Any]:
    """The array the reference writes for ``message`` (MP-2)."""
    kind = type(message)
    if kind is InvocationMessage or kind is StreamInvocationMessage:
        assert isinstance(message, (InvocationMessage, StreamInvocationMessage))
        return [
            message.message_type,
            _headers_map(message.headers),
            message.invocation_id or None,
            message.target,
            _arguments_list(message.arguments),
            list(message.stream_ids) if message.stream_ids else [],
        ]
    if kind is CompletionMessage:
        assert isinstance(message, CompletionMessage)
        head = [3, _headers_map(message.headers), message.invocation_id]
        if message.error is not None:
            return [*head, _ERROR_RESULT, message.error]
        if message.has_result:
            return [*head, _NON_VOID_RESULT, message.result]
        return [*head, _VOID_RESULT]
    if kind is StreamItemMessage:
        assert isinstance(message, StreamItemMessage)
        return [2, _headers_map(message.headers), message.invocation_id, message.item]
    if kind is CancelInvocationMessage:
        assert isinstance(message, CancelInvocationMessage)
        return [5, _headers_map(message.headers), message.invocation_id]
    if kind is PingMessage:
        return [6]
    if kind is CloseMessage:
        assert isinstance(message, CloseMessage)
        return [7, message.error or None, bool(message.allow_reconnect)]
    if kind is AckMessage or kind is SequenceMessage:
        assert isinstance(message, (AckMessage, SequenceMessage))
        return [message.message_type, int(message.sequence_id)]
    for cls in (
        InvocationMessage,
        StreamInvocationMessage,
        CompletionMessage,
        StreamItemMessage,
        CancelInvocationMessage,
        PingMessage,
        CloseMessage,
        AckMessage,
        SequenceMessage,
    ):
        if isinstance(message, cls):  # a subclass: re-dispatch on the base
            return _layout(_as_base(message, cls))
    raise TypeError(f"Unsupported message type: {type(message).__name__}")


def _as_base(message: HubMessage, cls: type) -> HubMessage:
    fields = getattr(cls, "__dataclass_fields__", {})
    base: HubMessage = cls(**{name: getattr(message, name) for name in fields})
    return base


# --------------------------------------------------------------------------
# Decoding: fast path
# --------------------------------------------------------------------------


class _Slow(Exception):
    """The fast path gives up; the streaming reader decides."""


def _fast_headers(value: Any) -> dict[str, str] | None:
    if type(value) is not dict:
        raise _Slow
    if not value:
        return None
    for key, header in value.items():
        if type(key) is not str or not key or type(header) is not str or not header:
            raise _Slow
    return value


def _fast_stream_ids(value: Any) -> list[str] | None:
    if type(value) is not list:
        raise _Slow
    for stream_id in value:
        if type(stream_id) is not str or not stream_id:
            raise _Slow
    return value or None


def _fast_id(value: Any) -> str:
    if type(value) is not str or not value:
        raise _Slow
    return value


def _fast_parse(obj: Any) -> HubMessage | None:
    if type(obj) is not list or not obj:
        raise _Slow
    message_type = obj[0]
    if type(message_type) is not int:
        raise _Slow
    count = len(obj)
    if message_type == 1 or message_type == 4:
        if count < 5:
            raise _Slow
        headers = obj[1]
        headers = _fast_headers(headers) if headers or type(headers) is not dict else None
        invocation_id = obj[2]
        target = obj[3]
        arguments = obj[4]
        if type(target) is not str or not target or type(arguments) is not list:
            raise _Slow
        if count > 5:
            stream_ids = obj[5]
            if stream_ids or type(stream_ids) is not list:
                stream_ids = _fast_stream_ids(stream_ids)
            else:
                stream_ids = None
        else:
            stream_ids = None
        if message_type == 1:
            if invocation_id is not None and type(invocation_id) is not str:
                raise _Slow
            return InvocationMessage(invocation_id or None, target, arguments, stream_ids, headers)
        return StreamInvocationMessage(
            _fast_id(invocation_id), target, arguments, stream_ids, headers
        )
    if message_type == 3:
        if count < 4:
            raise _Slow
        headers = _fast_headers(obj[1])
        invocation_id = _fast_id(obj[2])
        kind = obj[3]
        if kind == _VOID_RESULT and type(kind) is int:
            return CompletionMessage(invocation_id, None, None, False, headers)
        if count < 5 or type(kind) is not int:
            raise _Slow
        if kind == _NON_VOID_RESULT:
            return CompletionMessage(invocation_id, None, obj[4], True, headers)
        error = obj[4]
        if kind != _ERROR_RESULT or (error is not None and type(error) is not str):
            raise _Slow
        return CompletionMessage(invocation_id, error, None, False, headers)
    if message_type == 2:
        if count < 4:
            raise _Slow
        headers = _fast_headers(obj[1])
        return StreamItemMessage(_fast_id(obj[2]), obj[3], headers)
    if message_type == 6:
        return PING
    if message_type == 5:
        if count < 3:
            raise _Slow
        headers = _fast_headers(obj[1])
        return CancelInvocationMessage(_fast_id(obj[2]), headers)
    if message_type == 7:
        if count < 2:
            raise _Slow
        error = obj[1]
        if error is not None and type(error) is not str:
            raise _Slow
        allow_reconnect = obj[2] if count > 2 else False
        if type(allow_reconnect) is not bool:
            raise _Slow
        return CloseMessage(error, allow_reconnect)
    if message_type == 8 or message_type == 9:
        if count < 2:
            raise _Slow
        sequence_id = obj[1]
        if type(sequence_id) is not int or not _INT64_MIN <= sequence_id <= _INT64_MAX:
            raise _Slow
        return AckMessage(sequence_id) if message_type == 8 else SequenceMessage(sequence_id)
    if not _INT32_MIN <= message_type <= _INT32_MAX:
        raise _Slow
    return None


# --------------------------------------------------------------------------
# Decoding: slow path, a streaming reader in the reference's words
# --------------------------------------------------------------------------


class _StreamReader:
    """Reads one payload element by element, whatever the array header said."""

    __slots__ = ("_unpacker",)

    def __init__(self, payload: bytes) -> None:
        unpacker = msgpack.Unpacker(**_UNPACK_OPTIONS, max_buffer_size=max(len(payload), 1))
        unpacker.feed(payload)
        self._unpacker = unpacker

    def array_header(self, failure: str) -> int:
        try:
            return int(self._unpacker.read_array_header())
        except Exception:
            raise ProtocolError(failure) from None

    def map_header(self, failure: str) -> int:
        try:
            return int(self._unpacker.read_map_header())
        except Exception:
            raise ProtocolError(failure) from None

    def value(self, failure: str) -> Any:
        try:
            return self._unpacker.unpack()
        except Exception:
            raise ProtocolError(failure) from None

    def integer(self, field: str, bits: int) -> int:
        failure = f"Reading '{field}' as Int{bits} failed."
        value = self.value(failure)
        limit = 1 << (bits - 1)
        if type(value) is not int or not -limit <= value < limit:
            raise ProtocolError(failure)
        return value

    def string(self, field: str) -> str | None:
        failure = f"Reading '{field}' as String failed."
        value = self.value(failure)
        if value is not None and type(value) is not str:
            raise ProtocolError(failure)
        return value

    def boolean(self, field: str) -> bool:
        failure = f"Reading '{field}' as Boolean failed."
        value = self.value(failure)
        if type(value) is not bool:
            raise ProtocolError(failure)
        return value

    def headers(self) -> dict[str, str] | None:
        count = self.map_header("Reading map length for 'headers' failed.")
        if count == 0:
            return None
        headers: dict[str, str] = {}
        for index in range(count):
            key = self.string(f"headers[{index}].Key")
            if not key:
                raise ProtocolError("Null or empty key in header.")
            value = self.string(f"headers[{index}].Value")
            if not value:
                raise ProtocolError("Null or empty value in header.")
            headers[key] = value
        return headers

    def arguments(self) -> list[Any]:
        count = self.array_header("Reading array length for 'arguments' failed.")
        arguments = []
        for index in range(count):
            arguments.append(
                self.value(
                    f"Error binding argument {index + 1}. Make sure that the types of the "
                    "provided values match the types of the hub method being invoked."
                )
            )
        return arguments

    def stream_ids(self) -> list[str] | None:
        count = self.array_header("Reading array length for 'streamIds' failed.")
        stream_ids = []
        for index in range(count):
            stream_id = self.string(f"streamIds[{index}]")
            if not stream_id:
                raise ProtocolError("Null or empty value in streamIds received.")
            stream_ids.append(stream_id)
        return stream_ids or None


def _required(value: str | None, what: str) -> str:
    if not value:
        raise ProtocolError(f"Null or empty {what}.")
    return value


def _slow_parse(payload: bytes) -> HubMessage | None:
    reader = _StreamReader(payload)
    count = reader.array_header("Reading array length for 'message' failed.")
    message_type = reader.integer("messageType", 32)
    if message_type == 1 or message_type == 4:
        headers = reader.headers()
        invocation_id = reader.string("invocationId")
        if message_type == 4:
            invocation_id = _required(invocation_id, "invocation ID for StreamInvocation message")
        target = _required(
            reader.string("target"),
            "target for Invocation message"
            if message_type == 1
            else "target for StreamInvocation message",
        )
        arguments = reader.arguments()
        stream_ids = reader.stream_ids() if count > 5 else None
        if message_type == 1:
            return InvocationMessage(invocation_id or None, target, arguments, stream_ids, headers)
        assert invocation_id is not None
        return StreamInvocationMessage(invocation_id, target, arguments, stream_ids, headers)
    if message_type == 2:
        headers = reader.headers()
        invocation_id = _required(
            reader.string("invocationId"), "invocation ID for StreamItem message"
        )
        item = reader.value("Deserializing object of the `Object` type for 'item' failed.")
        return StreamItemMessage(invocation_id, item, headers)
    if message_type == 3:
        headers = reader.headers()
        invocation_id = _required(
            reader.string("invocationId"), "invocation ID for Completion message"
        )
        kind = reader.integer("resultKind", 32)
        if kind == _ERROR_RESULT:
            return CompletionMessage(invocation_id, reader.string("error"), None, False, headers)
        if kind == _NON_VOID_RESULT:
            result = reader.value(
                "Deserializing object of the `Object` type for 'argument' failed."
            )
            return CompletionMessage(invocation_id, None, result, True, headers)
        if kind == _VOID_RESULT:
            return CompletionMessage(invocation_id, None, None, False, headers)
        raise ProtocolError("Invalid invocation result kind.")
    if message_type == 5:
        headers = reader.headers()
        invocation_id = _required(
            reader.string("invocationId"), "invocation ID for CancelInvocation message"
        )
        return CancelInvocationMessage(invocation_id, headers)
    if message_type == 6:
        return PING
    if message_type == 7:
        error = reader.string("error")
        allow_reconnect = reader.boolean("allowReconnect") if count > 2 else False
        return CloseMessage(error, allow_reconnect)
    if message_type == 8:
        return AckMessage(reader.integer("sequenceId", 64))
    if message_type == 9:
        return SequenceMessage(reader.integer("sequenceId", 64))
    return None


# --------------------------------------------------------------------------
# The protocol
# --------------------------------------------------------------------------


class MessagePackHubProtocol:
    """SignalR's ``messagepack`` protocol, version 2, Binary transfer format."""

    name: ClassVar[str] = "messagepack"
    version: ClassVar[int] = 2
    transfer_format: ClassVar[TransferFormat] = TransferFormat.BINARY

    def reader(self, max_message_size: int | None = 32768) -> MessageReader:
        return FramedMessageReader(BinaryMessageParser(max_message_size), self.parse_payload)

    def parse_payload(self, payload: bytes) -> HubMessage | None:
        """Parse one unframed message; ``None`` for a type this server does not know."""
        try:
            return _fast_parse(msgpack.unpackb(payload, **_UNPACK_OPTIONS))
        except Exception:
            # Covers _Slow and every unpack failure (truncated data, bad
            # UTF-8, unhashable keys, deep nesting, out-of-range timestamps).
            return _slow_parse(payload)

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
        data: bytes = _packers.pack(_layout(message))
        return data

    def write(self, message: HubMessage) -> bytes:
        if type(message) is PingMessage:
            return b"\x02\x91\x06"
        payload: bytes = _packers.pack(_layout(message))
        return write_varint(len(payload)) + payload

    def __repr__(self) -> str:
        return "MessagePackHubProtocol()"
