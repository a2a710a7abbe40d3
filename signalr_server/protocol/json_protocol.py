"""The ``json`` hub protocol: one UTF-8 JSON object per message, 0x1E-terminated.

Parsing has two paths. The fast path decodes the whole object with the C
scanner and checks only the fields the message type uses. Whenever that path
finds anything wrong (or the object carries properties its type does not
use), the object is re-checked property by property in document order, the
way the reference's streaming reader meets them, so the error reported is the
one the reference would report. Valid traffic never pays for the second pass.

Choices where the reference leaves room (documented here, tested in
``tests/protocol/test_json_protocol.py``):

* Non-ASCII text is written as raw UTF-8, as the reference's payload
  serializer (``UnsafeRelaxedJsonEscaping``) does; strings holding lone
  surrogates, which UTF-8 cannot carry, fall back to ``\\uXXXX`` escapes.
  Control characters, 0x1E included, are always escaped.
* ``invocationId: null`` is accepted and means "no id" (the reference rejects
  it; the checklist and clients treat it as absent).
* Empty ``headers`` and empty ``streamIds`` decode to ``None``.
* ``CloseMessage(error="")`` is written as ``"error":""`` (the reference's own
  vector); a Completion's empty error is left out, as the reference does.
  The hubs layer never sends either (JSON-8).
* Datetimes are written as ISO 8601 (``Z`` for UTC), ``bytes`` as base64,
  enums as their value, UUIDs as strings. NaN and infinities cannot be
  written (``ValueError``), as in the reference.
* Nesting deeper than 64 levels (the envelope counts) is "Error reading JSON.".
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
from typing import Any, ClassVar

from .base import FramedMessageReader, MessageReader
from .errors import ProtocolError
from .framing import RECORD_SEPARATOR, TextMessageParser
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

__all__ = ["JsonHubProtocol", "json_token_name", "load_json_object"]

MAX_DEPTH = 64
ERROR_READING_JSON = "Error reading JSON."
_INT32_FORMAT = (
    "Either the JSON value is not in a supported format, or is out of bounds for an Int32."
)
_INT64_FORMAT = (
    "Either the JSON value is not in a supported format, or is out of bounds for an Int64."
)
_WHITESPACE = " \t\n\r"


# --------------------------------------------------------------------------
# Decoding helpers (shared with the handshake)
# --------------------------------------------------------------------------


def _reject_constant(name: str) -> Any:
    """NaN and Infinity are not JSON; the reference's reader refuses them."""
    raise ValueError(f"invalid JSON literal {name}")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
# Neither name is in typeshed, but both are the stdlib's C implementations.
_scan_once: Callable[[str, int], tuple[Any, int]] = getattr(_DECODER, "scan_once")  # noqa: B009
scanstring: Callable[[str, int], tuple[str, int]] = getattr(json.decoder, "scanstring")  # noqa: B009
_DECODE_ERRORS = (StopIteration, ValueError, RecursionError, IndexError)


def json_token_name(text: str, index: int = 0) -> str | None:
    """The .NET ``JsonTokenType`` name of the value starting at ``index``.

    Used for "Unexpected JSON Token Type '...'" errors; ``None`` when the
    text does not start with any valid token.
    """
    if index >= len(text):
        return None
    first = text[index]
    if first == "{":
        return "Object"
    if first == "[":
        return "Array"
    if first == '"':
        return "String"
    if first == "-" or first.isdigit():
        return "Number"
    for literal, name in (("null", "Null"), ("true", "True"), ("false", "False")):
        if text.startswith(literal, index):
            return name
    return None


def _skip_whitespace(text: str, index: int) -> int:
    end = len(text)
    while index < end and text[index] in _WHITESPACE:
        index += 1
    return index


def _too_deep(payload: bytes, value: Any) -> bool:
    """Whether ``value`` nests more than ``MAX_DEPTH`` containers.

    Counting brackets in the raw bytes is a cheap upper bound, so the walk
    only runs for payloads that could possibly be too deep.
    """
    if payload.count(b"[") + payload.count(b"{") <= MAX_DEPTH:
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if type(item) is dict:
            stack.extend((child, depth + 1) for child in item.values() if _is_container(child))
        elif type(item) is list:
            stack.extend((child, depth + 1) for child in item if _is_container(child))
    return False


def _is_container(value: Any) -> bool:
    return type(value) is dict or type(value) is list


def load_json_object(
    payload: bytes,
    check_property: Callable[[str, Any], None] | None = None,
) -> dict[str, Any]:
    """Decode one payload that must be a JSON object.

    Raises ``ProtocolError`` with the reference texts: a non-object top level
    gives "Unexpected JSON Token Type '...'. Expected a JSON Object."; any
    syntax error gives "Error reading JSON.". If the JSON is broken but
    ``check_property`` rejects a property that came before the break, that
    error wins, as it would in a streaming reader.
    """
    try:
        text = payload.decode()
    except UnicodeDecodeError:
        raise ProtocolError(ERROR_READING_JSON) from None
    try:
        value, end = _scan_once(text, 0)
    except _DECODE_ERRORS:
        pass
    else:
        if end == len(text) and type(value) is dict:
            if _too_deep(payload, value):
                raise ProtocolError(ERROR_READING_JSON)
            return value
    return _load_json_object_slowly(payload, text, check_property)


def _load_json_object_slowly(
    payload: bytes, text: str, check_property: Callable[[str, Any], None] | None
) -> dict[str, Any]:
    start = _skip_whitespace(text, 0)
    token = json_token_name(text, start)
    if token is None:
        raise ProtocolError(ERROR_READING_JSON)
    if token != "Object":
        raise ProtocolError(f"Unexpected JSON Token Type '{token}'. Expected a JSON Object.")
    try:
        value, end = _scan_once(text, start)
        if _skip_whitespace(text, end) != len(text):
            raise ValueError("trailing data")
    except _DECODE_ERRORS:
        if check_property is not None:
            _check_properties_until_broken(text, start, check_property)
        raise ProtocolError(ERROR_READING_JSON) from None
    if _too_deep(payload, value):
        raise ProtocolError(ERROR_READING_JSON)
    assert type(value) is dict
    return value


def _check_properties_until_broken(
    text: str, index: int, check_property: Callable[[str, Any], None]
) -> None:
    """Walk a broken object's properties in order, checking each complete one.

    Returns at the first syntax error; the caller then reports that.
    """
    try:
        index = _skip_whitespace(text, index + 1)
        while index < len(text) and text[index] == '"':
            key, index = scanstring(text, index + 1)
            index = _skip_whitespace(text, index)
            if text[index] != ":":
                return
            value, index = _scan_once(text, _skip_whitespace(text, index + 1))
            check_property(key, value)
            index = _skip_whitespace(text, index)
            if text[index] != ",":
                return
            index = _skip_whitespace(text, index + 1)
    except _DECODE_ERRORS:
        return


# --------------------------------------------------------------------------
# Property checks, in the reference's words
# --------------------------------------------------------------------------


def _check_number(name: str, value: Any, bits: int) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ProtocolError(f"Expected '{name}' to be of type Number.")
    limit = 1 << (bits - 1)
    if type(value) is float or not -limit <= value < limit:
        raise ProtocolError(_INT32_FORMAT if bits == 32 else _INT64_FORMAT)


def _check_string(name: str, value: Any) -> None:
    if type(value) is not str:
        raise ProtocolError(f"Expected '{name}' to be of type String.")


def _check_headers(value: Any) -> None:
    if type(value) is not dict:
        raise ProtocolError("Expected 'headers' to be of type StartObject.")
    for key, header in value.items():
        if type(header) is not str:
            raise ProtocolError(f"Expected header '{key}' to be of type String.")


def _check_stream_ids(value: Any) -> None:
    if type(value) is not list:
        raise ProtocolError("Expected 'streamIds' to be of type Array.")
    for stream_id in value:
        if stream_id is None:
            raise ProtocolError("Null value for 'streamIds' is not valid.")
        if type(stream_id) is not str:
            raise ProtocolError("Expected 'streamIds' to contain only strings.")


def _check_property(key: str, value: Any) -> None:
    """Reject a known property whose value has the wrong JSON type."""
    if key == "type":
        if value is None:
            raise ProtocolError("Expected 'type' to be of type Number.")
        _check_number("type", value, 32)
    elif key == "invocationId":
        if value is not None:
            _check_string("invocationId", value)
    elif key == "target" or key == "error":
        _check_string(key, value)
    elif key == "allowReconnect":
        if type(value) is not bool:
            raise ProtocolError("Expected 'allowReconnect' to be true or false.")
    elif key == "arguments":
        if type(value) is not list:
            raise ProtocolError("Expected 'arguments' to be of type Array.")
    elif key == "streamIds":
        _check_stream_ids(value)
    elif key == "headers":
        _check_headers(value)
    elif key == "sequenceId":
        _check_number("sequenceId", value, 64)


def _check_all_properties(obj: dict[str, Any]) -> None:
    for key, value in obj.items():
        _check_property(key, value)


# --------------------------------------------------------------------------
# Per-type construction (fast path: only the fields the type uses)
# --------------------------------------------------------------------------


def _missing(name: str) -> ProtocolError:
    return ProtocolError(f"Missing required property '{name}'.")


def _headers(obj: dict[str, Any]) -> dict[str, str] | None:
    headers = obj.get("headers")
    if headers is None:
        return None
    _check_headers(headers)
    return headers or None


def _stream_ids(obj: dict[str, Any]) -> list[str] | None:
    stream_ids = obj.get("streamIds")
    if stream_ids is None:
        return None
    _check_stream_ids(stream_ids)
    return stream_ids or None


def _optional_id(obj: dict[str, Any]) -> str | None:
    invocation_id = obj.get("invocationId")
    if invocation_id is not None and type(invocation_id) is not str:
        _check_string("invocationId", invocation_id)
    return invocation_id


def _required_id(obj: dict[str, Any]) -> str:
    invocation_id = _optional_id(obj)
    if not invocation_id:
        raise _missing("invocationId")
    return invocation_id


def _target(obj: dict[str, Any]) -> str:
    target = obj.get("target")
    if type(target) is not str:
        if target is None:
            raise _missing("target")
        _check_string("target", target)
    return target


def _arguments(obj: dict[str, Any]) -> list[Any]:
    arguments = obj.get("arguments")
    if type(arguments) is not list:
        if arguments is None and "arguments" not in obj:
            raise _missing("arguments")
        raise ProtocolError("Expected 'arguments' to be of type Array.")
    return arguments


def _parse_invocation(obj: dict[str, Any]) -> HubMessage:
    target = _target(obj)
    invocation_id = _optional_id(obj) or None
    if not target:
        raise _missing("target")
    arguments = _arguments(obj)
    return InvocationMessage(invocation_id, target, arguments, _stream_ids(obj), _headers(obj))


def _parse_stream_invocation(obj: dict[str, Any]) -> HubMessage:
    target = _target(obj)
    invocation_id = _required_id(obj)
    arguments = _arguments(obj)
    if not target:
        raise _missing("target")
    return StreamInvocationMessage(
        invocation_id, target, arguments, _stream_ids(obj), _headers(obj)
    )


def _parse_stream_item(obj: dict[str, Any]) -> HubMessage:
    invocation_id = _required_id(obj)
    if "item" not in obj:
        raise _missing("item")
    return StreamItemMessage(invocation_id, obj["item"], _headers(obj))


def _parse_completion(obj: dict[str, Any]) -> HubMessage:
    invocation_id = _required_id(obj)
    error = obj.get("error")
    if error is not None or "error" in obj:
        _check_string("error", error)
    has_result = "result" in obj
    if error is not None and has_result:
        raise ProtocolError("The 'error' and 'result' properties are mutually exclusive.")
    return CompletionMessage(invocation_id, error, obj.get("result"), has_result, _headers(obj))


def _parse_cancel(obj: dict[str, Any]) -> HubMessage:
    return CancelInvocationMessage(_required_id(obj), _headers(obj))


def _parse_ping(obj: dict[str, Any]) -> HubMessage:
    return PING


def _parse_close(obj: dict[str, Any]) -> HubMessage:
    error = obj.get("error")
    if error is not None or "error" in obj:
        _check_string("error", error)
    allow_reconnect = obj.get("allowReconnect", False)
    if type(allow_reconnect) is not bool:
        raise ProtocolError("Expected 'allowReconnect' to be true or false.")
    return CloseMessage(error, allow_reconnect)


def _sequence_id(obj: dict[str, Any]) -> int:
    sequence_id = obj.get("sequenceId")
    _check_number("sequenceId", sequence_id, 64)
    if sequence_id is None:
        raise _missing("sequenceId")
    return int(sequence_id)


def _parse_ack(obj: dict[str, Any]) -> HubMessage:
    return AckMessage(_sequence_id(obj))


def _parse_sequence(obj: dict[str, Any]) -> HubMessage:
    return SequenceMessage(_sequence_id(obj))


_Parser = Callable[[dict[str, Any]], HubMessage]

# type -> (builder, the properties it reads). An object with any other known
# property still gets that property type-checked, as the reference would.
_PARSERS: dict[int, tuple[_Parser, frozenset[str]]] = {
    1: (
        _parse_invocation,
        frozenset({"type", "headers", "invocationId", "target", "arguments", "streamIds"}),
    ),
    2: (_parse_stream_item, frozenset({"type", "headers", "invocationId", "item"})),
    3: (_parse_completion, frozenset({"type", "headers", "invocationId", "error", "result"})),
    4: (
        _parse_stream_invocation,
        frozenset({"type", "headers", "invocationId", "target", "arguments", "streamIds"}),
    ),
    5: (_parse_cancel, frozenset({"type", "headers", "invocationId"})),
    6: (_parse_ping, frozenset({"type"})),
    7: (_parse_close, frozenset({"type", "error", "allowReconnect"})),
    8: (_parse_ack, frozenset({"type", "sequenceId"})),
    9: (_parse_sequence, frozenset({"type", "sequenceId"})),
}


def _parse_object(obj: dict[str, Any]) -> HubMessage | None:
    message_type = obj.get("type")
    entry = _PARSERS.get(message_type) if type(message_type) is int else None
    if entry is None:
        # Unknown, missing or mistyped type: every known property is still
        # checked first, then a missing type is reported; unknown types skip.
        _check_all_properties(obj)
        if message_type is None:
            raise _missing("type")
        return None
    parser, used = entry
    try:
        message = parser(obj)
    except ProtocolError:
        _check_all_properties(obj)
        raise
    if not obj.keys() <= used:
        _check_all_properties(obj)
    return message


# --------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------


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


_dumps_utf8 = _make_encoder(encode_basestring)
_dumps_ascii = _make_encoder(encode_basestring_ascii)
_Dumps = Callable[[Any], str]


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


_WRITERS: dict[type, Callable[[Any, _Dumps, Callable[[str], str]], str]] = {
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


def _writer_for(message: HubMessage) -> Callable[[Any, _Dumps, Callable[[str], str]], str]:
    writer = _WRITERS.get(type(message))
    if writer is None:
        for cls, candidate in _WRITERS.items():
            if isinstance(message, cls):
                return candidate
        raise TypeError(f"Unsupported message type: {type(message).__name__}")
    return writer


# --------------------------------------------------------------------------
# The protocol
# --------------------------------------------------------------------------


class JsonHubProtocol:
    """SignalR's ``json`` protocol, version 2, Text transfer format."""

    name: ClassVar[str] = "json"
    version: ClassVar[int] = 2
    transfer_format: ClassVar[TransferFormat] = TransferFormat.TEXT

    def reader(self, max_message_size: int | None = 32768) -> MessageReader:
        return FramedMessageReader(TextMessageParser(max_message_size), self.parse_payload)

    def parse_payload(self, payload: bytes) -> HubMessage | None:
        """Parse one unframed message; ``None`` for a type this server does not know."""
        return _parse_object(load_json_object(payload, _check_property))

    def parse(self, data: bytes) -> list[HubMessage]:
        if data and not data.endswith(RECORD_SEPARATOR):
            raise ProtocolError("Message is incomplete.")
        messages: list[HubMessage] = []
        for payload in data.split(RECORD_SEPARATOR)[:-1]:
            message = self.parse_payload(payload)
            if message is not None:
                messages.append(message)
        return messages

    def write_payload(self, message: HubMessage) -> bytes:
        """Encode one message without the record separator."""
        writer = _writer_for(message)
        text = writer(message, _dumps_utf8, encode_basestring)
        try:
            return text.encode()
        except UnicodeEncodeError:
            # Lone surrogates cannot be UTF-8; escaped, they are valid JSON.
            return writer(message, _dumps_ascii, encode_basestring_ascii).encode()

    def write(self, message: HubMessage) -> bytes:
        return self.write_payload(message) + RECORD_SEPARATOR

    def __repr__(self) -> str:
        return "JsonHubProtocol()"
