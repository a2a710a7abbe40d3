"""Hub messages from decoded JSON objects, with the reference's error texts.

The fast path reads only the properties the message type uses. Whenever it
finds anything wrong, or the object carries known properties its type does
not use, every property is checked again in document order (a decoded
``dict`` keeps that order), the way the reference's streaming reader meets
them, so the error reported is the one the reference would report. Valid
traffic never pays for the second pass.

``invocationId: null`` is accepted and means "no id" (the reference rejects
it; the checklist and clients treat it as absent). Empty ``headers`` and
empty ``streamIds`` decode to ``None``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import ProtocolError
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

__all__ = ["check_property", "parse_json_object"]

_INT32_FORMAT = (
    "Either the JSON value is not in a supported format, or is out of bounds for an Int32."
)
_INT64_FORMAT = (
    "Either the JSON value is not in a supported format, or is out of bounds for an Int64."
)


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


def check_property(key: str, value: Any) -> None:
    """Reject a known property whose value has the wrong JSON type.

    Unknown properties pass: the reference ignores them.
    """
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
        check_property(key, value)


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
    # The usual shape, checked in one go: string target and id (or no id),
    # an array of arguments, no stream ids or headers. Anything else takes
    # the checks below, which know the reference's error for each property.
    get = obj.get
    target = get("target")
    invocation_id = get("invocationId")
    arguments = get("arguments")
    if (
        type(target) is str
        and target
        and type(arguments) is list
        and (invocation_id is None or type(invocation_id) is str)
        and get("streamIds") is None
        and get("headers") is None
    ):
        return InvocationMessage(invocation_id or None, target, arguments, None, None)
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


_CALL_PROPERTIES = 4
"""How many properties the usual message has: ``type``, ``invocationId``,
``target`` and ``arguments`` (an invocation that wants an answer)."""


def parse_json_object(obj: dict[str, Any]) -> HubMessage | None:
    """The message ``obj`` describes; ``None`` for a type this server does not know."""
    if len(obj) == _CALL_PROPERTIES:
        # The usual message in one go (every echo is one): these four
        # properties, none null, so no other property can be there either;
        # each of the expected type. Anything else, an empty target
        # included, is left to the general path and its errors.
        get = obj.get
        message_type = get("type")
        target = get("target")
        arguments = get("arguments")
        invocation_id = get("invocationId")
        if (
            type(message_type) is int
            and message_type == 1
            and type(target) is str
            and target
            and type(arguments) is list
            and type(invocation_id) is str
        ):
            return InvocationMessage(invocation_id or None, target, arguments, None, None)
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
    if not used.issuperset(obj):
        _check_all_properties(obj)
    return message
