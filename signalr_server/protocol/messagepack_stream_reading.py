"""Reading ``messagepack`` payloads: the slow path, in the reference's words.

A streaming reader that consumes the payload element by element exactly as
the reference's ``MessagePackReader`` does: it ignores the array length
except to decide whether optional trailing elements exist, so it reports the
reference's error texts (MP-8) and accepts what the reference accepts. Only
payloads the fast path in ``messagepack_reading`` gives up on come here.

Deviations, all on input the official clients never send: where the
reference turns unreadable arguments into a per-invocation binding failure,
there is no binder here, so it is a ``ProtocolError`` with the reference's
text; Completion results and stream items that cannot be read at all report
the reference's "Deserializing object of the `Object` type ..." text.
"""

from __future__ import annotations

from typing import Any

import msgpack

from .errors import ProtocolError
from .messagepack_layout import ERROR_RESULT, NON_VOID_RESULT, VOID_RESULT
from .messagepack_reading import UNPACK_OPTIONS
from .messages import (
    PING,
    AckMessage,
    CancelInvocationMessage,
    CloseMessage,
    CompletionMessage,
    HubMessage,
    InvocationMessage,
    SequenceMessage,
    StreamInvocationMessage,
    StreamItemMessage,
)

__all__ = ["slow_parse"]


class _StreamReader:
    """Reads one payload element by element, whatever the array header said."""

    __slots__ = ("_unpacker",)

    def __init__(self, payload: bytes) -> None:
        unpacker = msgpack.Unpacker(**UNPACK_OPTIONS, max_buffer_size=max(len(payload), 1))
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


def slow_parse(payload: bytes) -> HubMessage | None:
    """Parse ``payload`` as the reference would; ``None`` for an unknown type."""
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
        if kind == ERROR_RESULT:
            return CompletionMessage(invocation_id, reader.string("error"), None, False, headers)
        if kind == NON_VOID_RESULT:
            result = reader.value(
                "Deserializing object of the `Object` type for 'argument' failed."
            )
            return CompletionMessage(invocation_id, None, result, True, headers)
        if kind == VOID_RESULT:
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
