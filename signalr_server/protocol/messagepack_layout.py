"""The array each hub message travels as in the ``messagepack`` protocol (MP-2).

Every message is a msgpack array whose first element is the message type;
the rest is positional, in the reference's order. This module builds those
arrays for the writer and names the Completion result kinds the readers
share.
"""

from __future__ import annotations

from collections.abc import Mapping
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

__all__ = ["ERROR_RESULT", "NON_VOID_RESULT", "VOID_RESULT", "message_layout"]

ERROR_RESULT = 1
"""Completion result kind: an error text follows."""
VOID_RESULT = 2
"""Completion result kind: nothing follows."""
NON_VOID_RESULT = 3
"""Completion result kind: a result value follows."""


def _headers_map(headers: Mapping[str, str] | None) -> Mapping[str, str]:
    if not headers:
        return {}
    return headers if type(headers) is dict else dict(headers)


def _arguments_list(arguments: Any) -> Any:
    return arguments if type(arguments) is list or type(arguments) is tuple else list(arguments)


def message_layout(message: HubMessage) -> list[Any]:
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
            return [*head, ERROR_RESULT, message.error]
        if message.has_result:
            return [*head, NON_VOID_RESULT, message.result]
        return [*head, VOID_RESULT]
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
            return message_layout(_as_base(message, cls))
    raise TypeError(f"Unsupported message type: {type(message).__name__}")


def _as_base(message: HubMessage, cls: type) -> HubMessage:
    fields = getattr(cls, "__dataclass_fields__", {})
    base: HubMessage = cls(**{name: getattr(message, name) for name in fields})
    return base
