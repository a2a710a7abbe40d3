"""JSON text for hub messages, in the reference's property order.

Each message type has a writer that builds the envelope by string
concatenation around two reusable C encoders, one for payload values and
one for strings, which is much cheaper than building a dict and calling
``json.dumps``. Two encoder pairs exist: the UTF-8 pair writes non-ASCII
text raw, as the reference's payload serializer (``UnsafeRelaxedJsonEscaping``)
does; the ASCII pair escapes it and is only used to retry a message whose
strings hold lone surrogates, which UTF-8 cannot carry. Control characters,
0x1E included, are always escaped.

Payload values follow the reference's conventions (JSON-10): datetimes as
ISO 8601 (``Z`` for UTC), ``bytes`` as base64, enums as their value, UUIDs
as strings. NaN and infinities cannot be written (``ValueError``).
``CloseMessage(error="")`` is written as ``"error":""`` (the reference's own
vector); a Completion's empty error is left out, as the reference does.
"""

from __future__ import annotations

import base64
import datetime as _dt
import enum
import json
import uuid
from collections.abc import Callable, Mapping, Set
from decimal import Decimal
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any

from .messages import (
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
)

__all__ = [
    "JsonWriter",
    "dumps_ascii",
    "dumps_utf8",
    "escape_ascii",
    "escape_utf8",
    "writer_for",
]


def _json_default(value: Any) -> Any:
    """Conventions of the reference's payload serializer (JSON-10)."""
    if isinstance(value, _dt.datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (Set, tuple)):
        return list(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _make_encoder(escape: Callable[[str], str]) -> Callable[[Any], str]:
    """A reusable C encoder; ``json.dumps`` would rebuild one on every call."""
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if c_make_encoder is not None:
        encode = c_make_encoder(None, _json_default, escape, None, ":", ",", False, False, False)

        def dumps(value: Any) -> str:
            return "".join(encode(value, 0))

        return dumps
    encoder = json.JSONEncoder(  # pragma: no cover - CPython always has the C encoder
        ensure_ascii=escape is encode_basestring_ascii,
        separators=(",", ":"),
        allow_nan=False,
        default=_json_default,
    )
    return encoder.encode  # pragma: no cover


escape_utf8: Callable[[str], str] = encode_basestring
"""A quoted JSON string with non-ASCII text left raw."""
escape_ascii: Callable[[str], str] = encode_basestring_ascii
"""A quoted JSON string with non-ASCII text as ``\\uXXXX`` escapes."""
dumps_utf8 = _make_encoder(escape_utf8)
"""Any payload value as compact JSON, non-ASCII text raw."""
dumps_ascii = _make_encoder(escape_ascii)
"""Any payload value as compact JSON, non-ASCII text escaped."""
_Dumps = Callable[[Any], str]
JsonWriter = Callable[[Any, _Dumps, Callable[[str], str]], str]
"""Writes one message's JSON text with the given value and string encoders."""


def _headers_json(headers: Mapping[str, str] | None, escape: Callable[[str], str]) -> str:
    if not headers:
        return ""
    parts = [escape(key) + ":" + escape(value) for key, value in headers.items()]
    return ',"headers":{' + ",".join(parts) + "}"


def _id_json(invocation_id: str | None, escape: Callable[[str], str]) -> str:
    return ',"invocationId":' + escape(invocation_id) if invocation_id else ""


def _arguments_json(arguments: Any, dumps: _Dumps) -> str:
    if type(arguments) is not list and type(arguments) is not tuple:
        arguments = list(arguments)
    return dumps(arguments)


def _write_invocation(
    message: InvocationMessage | StreamInvocationMessage,
    dumps: _Dumps,
    escape: Callable[[str], str],
) -> str:
    head = '{"type":1' if type(message) is InvocationMessage else '{"type":4'
    text = (
        head
        + _headers_json(message.headers, escape)
        + _id_json(message.invocation_id, escape)
        + ',"target":'
        + escape(message.target)
        + ',"arguments":'
        + _arguments_json(message.arguments, dumps)
    )
    if message.stream_ids:
        text += ',"streamIds":' + dumps(list(message.stream_ids))
    return text + "}"


def _write_stream_item(
    message: StreamItemMessage, dumps: _Dumps, escape: Callable[[str], str]
) -> str:
    return (
        '{"type":2'
        + _headers_json(message.headers, escape)
        + _id_json(message.invocation_id, escape)
        + ',"item":'
        + dumps(message.item)
        + "}"
    )


def _write_completion(
    message: CompletionMessage, dumps: _Dumps, escape: Callable[[str], str]
) -> str:
    text = (
        '{"type":3'
        + _headers_json(message.headers, escape)
        + _id_json(message.invocation_id, escape)
    )
    if message.error:
        return text + ',"error":' + escape(message.error) + "}"
    if message.has_result:
        return text + ',"result":' + dumps(message.result) + "}"
    return text + "}"


def _write_cancel(
    message: CancelInvocationMessage, dumps: _Dumps, escape: Callable[[str], str]
) -> str:
    return (
        '{"type":5'
        + _headers_json(message.headers, escape)
        + _id_json(message.invocation_id, escape)
        + "}"
    )


def _write_ping(message: PingMessage, dumps: _Dumps, escape: Callable[[str], str]) -> str:
    return '{"type":6}'


def _write_close(message: CloseMessage, dumps: _Dumps, escape: Callable[[str], str]) -> str:
    text = '{"type":7'
    if message.error is not None:
        text += ',"error":' + escape(message.error)
    if message.allow_reconnect:
        text += ',"allowReconnect":true'
    return text + "}"


def _write_ack(message: AckMessage, dumps: _Dumps, escape: Callable[[str], str]) -> str:
    return '{"type":8,"sequenceId":' + str(int(message.sequence_id)) + "}"


def _write_sequence(message: SequenceMessage, dumps: _Dumps, escape: Callable[[str], str]) -> str:
    return '{"type":9,"sequenceId":' + str(int(message.sequence_id)) + "}"


_WRITERS: dict[type, JsonWriter] = {
    InvocationMessage: _write_invocation,
    StreamInvocationMessage: _write_invocation,
    StreamItemMessage: _write_stream_item,
    CompletionMessage: _write_completion,
    CancelInvocationMessage: _write_cancel,
    PingMessage: _write_ping,
    CloseMessage: _write_close,
    AckMessage: _write_ack,
    SequenceMessage: _write_sequence,
}


def writer_for(message: HubMessage) -> JsonWriter:
    """The writer for ``message``'s type; a subclass gets its base's writer."""
    writer = _WRITERS.get(type(message))
    if writer is None:
        for cls, candidate in _WRITERS.items():
            if isinstance(message, cls):
                return candidate
        raise TypeError(f"Unsupported message type: {type(message).__name__}")
    return writer
