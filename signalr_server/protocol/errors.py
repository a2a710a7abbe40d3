"""One exception family for malformed input.

The message of every ``ProtocolError`` is the text the reference server would
report, so the layers above can put it in a Close message (with detailed
errors on) or a log line without rewording it.
"""

from __future__ import annotations

__all__ = ["HandshakeError", "MessageTooLargeError", "ProtocolError"]


class ProtocolError(Exception):
    """Input that no SignalR peer should send; the connection must close."""

    @property
    def reference_type(self) -> str:
        """The .NET exception name the reference would show in detailed errors."""
        return "InvalidDataException"


class MessageTooLargeError(ProtocolError):
    """A framed message grew past the configured maximum (LIM-1)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"The maximum message size of {limit}B was exceeded. "
            "The message size can be configured in AddHubOptions."
        )
        self.limit = limit


class HandshakeError(ProtocolError):
    """The handshake request was malformed (HS-2)."""
