"""Reading ``messagepack`` payloads: the fast path.

The whole payload is unpacked in one C call and the resulting array's layout
checked. Anything the fast path does not like, from a mistyped field to a
payload msgpack cannot unpack, is handed to the streaming reader in
``messagepack_stream_reading``, which decides the way the reference does.
Valid traffic never takes that slow path.

Other extension types than the timestamp decode to ``msgpack.ExtType``.
"""

from __future__ import annotations

from typing import Any

from .messagepack_layout import ERROR_RESULT, NON_VOID_RESULT, VOID_RESULT
from .messagepack_timestamps import DECODE_TIMESTAMPS_AS_DATETIME
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

__all__ = ["UNPACK_OPTIONS", "fast_parse"]

_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

UNPACK_OPTIONS: dict[str, Any] = {
    "raw": False,
    "strict_map_key": False,
    "timestamp": DECODE_TIMESTAMPS_AS_DATETIME,
    "use_list": True,
}
"""How both readers unpack: str as text, any map key, lists for arrays."""


_CALL_LENGTH = 5
"""The array length of the usual message: an invocation without stream ids."""


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


def fast_parse(obj: Any) -> HubMessage | None:
    """The message the unpacked ``obj`` describes; ``None`` for an unknown type.

    Raises for anything it does not accept outright; the caller then hands
    the payload to ``slow_parse``, which reports what the reference reports.
    """
    if type(obj) is not list or not obj:
        raise _Slow
    if len(obj) == _CALL_LENGTH:
        # The usual message in one go: an invocation with an id and no headers.
        message_type, headers, invocation_id, target, arguments = obj
        if (
            type(message_type) is int
            and message_type == 1
            and type(headers) is dict
            and not headers
            and type(invocation_id) is str
            and type(target) is str
            and target
            and type(arguments) is list
        ):
            return InvocationMessage(invocation_id or None, target, arguments, None, None)
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
        if kind == VOID_RESULT and type(kind) is int:
            return CompletionMessage(invocation_id, None, None, False, headers)
        if count < 5 or type(kind) is not int:
            raise _Slow
        if kind == NON_VOID_RESULT:
            return CompletionMessage(invocation_id, None, obj[4], True, headers)
        error = obj[4]
        if kind != ERROR_RESULT or (error is not None and type(error) is not str):
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
