"""The nine hub messages and the handshake, as slotted data classes.

Treat them as immutable: a broadcast shares one message among all its
recipients. They are not ``frozen`` because a frozen data class sets each
field through ``object.__setattr__``, which made building a message four
times slower (0.55 against 0.14 µs for an Invocation), and every echo builds
two.

Arguments, items and results stay plain wire values (str, int, float, bool,
None, list, dict, bytes, datetime): turning them into annotated Python types
is the hubs layer's job, so the codecs never need to know about hub methods.

Headers are ``None`` when absent *or* empty, on every path, so that a message
decoded from either protocol compares equal to the one that was written.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "PING",
    "AckMessage",
    "CancelInvocationMessage",
    "CloseMessage",
    "CompletionMessage",
    "HandshakeRequest",
    "HandshakeResponse",
    "HubInvocationMessage",
    "HubMessage",
    "InvocationMessage",
    "MessageType",
    "PingMessage",
    "SequenceMessage",
    "StreamInvocationMessage",
    "StreamItemMessage",
    "TransferFormat",
]


class MessageType(enum.IntEnum):
    """The ``type`` discriminator of every hub message (HubProtocol.md)."""

    INVOCATION = 1
    STREAM_ITEM = 2
    COMPLETION = 3
    STREAM_INVOCATION = 4
    CANCEL_INVOCATION = 5
    PING = 6
    CLOSE = 7
    ACK = 8
    SEQUENCE = 9


class TransferFormat(enum.Enum):
    """Whether a protocol's bytes may travel in text-only transports (SSE)."""

    TEXT = "Text"
    BINARY = "Binary"


class HubMessage:
    """Base of every hub message; ``message_type`` is the wire discriminator."""

    __slots__ = ()
    message_type: ClassVar[MessageType]


class HubInvocationMessage(HubMessage):
    """Messages that carry headers and an invocation id (types 1-5).

    These are also exactly the messages that stateful reconnect numbers (SR-4).
    """

    __slots__ = ()
    invocation_id: str | None
    headers: Mapping[str, str] | None


@dataclass(slots=True)
class InvocationMessage(HubInvocationMessage):
    """Type 1. ``invocation_id`` of ``None`` means a non-blocking call."""

    message_type: ClassVar[MessageType] = MessageType.INVOCATION
    invocation_id: str | None
    target: str
    arguments: Sequence[Any]
    stream_ids: Sequence[str] | None = None
    headers: Mapping[str, str] | None = None


@dataclass(slots=True)
class StreamInvocationMessage(HubInvocationMessage):
    """Type 4: a call whose results come back as stream items."""

    message_type: ClassVar[MessageType] = MessageType.STREAM_INVOCATION
    invocation_id: str
    target: str
    arguments: Sequence[Any]
    stream_ids: Sequence[str] | None = None
    headers: Mapping[str, str] | None = None


@dataclass(slots=True)
class StreamItemMessage(HubInvocationMessage):
    """Type 2: one item of a stream (either direction)."""

    message_type: ClassVar[MessageType] = MessageType.STREAM_ITEM
    invocation_id: str
    item: Any
    headers: Mapping[str, str] | None = None


@dataclass(slots=True)
class CompletionMessage(HubInvocationMessage):
    """Type 3. ``has_result`` tells a ``None`` result from no result at all.

    The three wire shapes (error, void, result) map to msgpack result kinds
    1, 2 and 3; use the class methods to build them so the fields agree.
    """

    message_type: ClassVar[MessageType] = MessageType.COMPLETION
    invocation_id: str
    error: str | None = None
    result: Any = None
    has_result: bool = False
    headers: Mapping[str, str] | None = None

    @classmethod
    def with_result(
        cls, invocation_id: str, result: Any, headers: Mapping[str, str] | None = None
    ) -> CompletionMessage:
        return cls(invocation_id, None, result, True, headers)

    @classmethod
    def with_error(
        cls, invocation_id: str, error: str, headers: Mapping[str, str] | None = None
    ) -> CompletionMessage:
        return cls(invocation_id, error, None, False, headers)

    @classmethod
    def empty(
        cls, invocation_id: str, headers: Mapping[str, str] | None = None
    ) -> CompletionMessage:
        return cls(invocation_id, None, None, False, headers)


@dataclass(slots=True)
class CancelInvocationMessage(HubInvocationMessage):
    """Type 5: the client no longer wants a stream's items."""

    message_type: ClassVar[MessageType] = MessageType.CANCEL_INVOCATION
    invocation_id: str
    headers: Mapping[str, str] | None = None


@dataclass(slots=True)
class PingMessage(HubMessage):
    """Type 6: keep-alive; no fields. Use the ``PING`` singleton."""

    message_type: ClassVar[MessageType] = MessageType.PING


@dataclass(slots=True)
class CloseMessage(HubMessage):
    """Type 7: the last message of a connection.

    ``error`` of ``""`` still counts as an error on input; the server never
    writes an empty error (JSON-8).
    """

    message_type: ClassVar[MessageType] = MessageType.CLOSE
    error: str | None = None
    allow_reconnect: bool = False


@dataclass(slots=True)
class AckMessage(HubMessage):
    """Type 8 (stateful reconnect): highest sequence id received."""

    message_type: ClassVar[MessageType] = MessageType.ACK
    sequence_id: int


@dataclass(slots=True)
class SequenceMessage(HubMessage):
    """Type 9 (stateful reconnect): the id of the next message to be resent."""

    message_type: ClassVar[MessageType] = MessageType.SEQUENCE
    sequence_id: int


PING = PingMessage()
"""The one Ping instance; a Ping has no state worth allocating again."""


@dataclass(slots=True)
class HandshakeRequest:
    """The client's first message: ``{"protocol":"json","version":1}``."""

    protocol: str
    version: int


@dataclass(slots=True)
class HandshakeResponse:
    """``{}`` on success, ``{"error": ...}`` on failure."""

    error: str | None = None
