"""The interface every hub protocol implements, and the per-message byte cache.

A protocol object is stateless and shared by all connections; per-connection
state (partially received frames) lives in the ``MessageReader`` it creates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol, runtime_checkable

from .messages import CompletionMessage, HubMessage, TransferFormat

__all__ = [
    "FramedMessageReader",
    "HubProtocol",
    "MessageReader",
    "SerializedMessage",
    "result_writer",
]


class MessageReader(Protocol):
    """Incremental, bounded parser for one connection's inbound byte stream."""

    def feed(self, data: bytes) -> list[HubMessage]:
        """Add a chunk; return every message completed by it, in order.

        Partial data is kept for the next call. Messages of unknown type are
        skipped. Raises ``ProtocolError`` (or ``MessageTooLargeError``) on bad
        input; after that the reader must not be used again.
        """
        ...


class _Framer(Protocol):
    def feed(self, data: bytes) -> list[bytes]: ...


class FramedMessageReader:
    """A ``MessageReader`` made of a frame parser and a one-payload parser.

    Both hub protocols read the same way: cut frames, parse each, skip the
    ``None`` an unknown message type yields.
    """

    __slots__ = ("_framer", "_parse")

    def __init__(self, framer: _Framer, parse: Callable[[bytes], HubMessage | None]) -> None:
        self._framer = framer
        self._parse = parse

    def feed(self, data: bytes) -> list[HubMessage]:
        messages: list[HubMessage] = []
        for payload in self._framer.feed(data):
            message = self._parse(payload)
            if message is not None:
                messages.append(message)
        return messages


@runtime_checkable
class HubProtocol(Protocol):
    """A hub protocol: ``json`` (Text, 0x1E framing) or ``messagepack`` (Binary, VarInt)."""

    name: ClassVar[str]
    version: ClassVar[int]
    transfer_format: ClassVar[TransferFormat]

    def reader(self, max_message_size: int | None = 32768) -> MessageReader:
        """A new incremental reader; ``None`` means no size limit."""
        ...

    def parse(self, data: bytes) -> list[HubMessage]:
        """Parse a buffer of complete framed messages (no partial data allowed)."""
        ...

    def write(self, message: HubMessage) -> bytes:
        """Encode one message, framed (separator or length prefix included)."""
        ...


def result_writer(protocol: HubProtocol) -> Callable[[str, Any], bytes]:
    """``write(invocation_id, result)``: the framed Completion carrying a result.

    The built-in protocols write it without building a ``CompletionMessage``
    (``write_result``); a protocol without that method gets the same bytes
    through ``write``. Not part of ``HubProtocol``, so protocols written
    before it still qualify.
    """
    fast: Callable[[str, Any], bytes] | None = getattr(protocol, "write_result", None)
    if fast is not None:
        return fast

    def write(invocation_id: str, result: Any) -> bytes:
        return protocol.write(CompletionMessage(invocation_id, None, result, True))

    return write


class SerializedMessage:
    """A message plus its framed bytes per protocol, so a broadcast is encoded
    once per protocol in use rather than once per recipient."""

    __slots__ = ("_cache", "message")

    def __init__(self, message: HubMessage) -> None:
        self.message = message
        self._cache: dict[str, bytes] = {}

    def get(self, protocol: HubProtocol) -> bytes:
        data = self._cache.get(protocol.name)
        if data is None:
            data = self._cache[protocol.name] = protocol.write(self.message)
        return data
