"""Per-hub options, named after ASP.NET Core's ``HubOptions`` with its defaults.

Times are in seconds (floats) rather than ``TimeSpan``s; ``None`` for the
message size means "no limit", as ``null`` does in the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["HubOptions"]


@dataclass(kw_only=True)
class HubOptions:
    """Options of one hub endpoint; every default is the reference's (OPT-1, OPT-2)."""

    keep_alive_interval: float = 15.0
    """Send a Ping when nothing was sent for this long (PING-1)."""
    client_timeout_interval: float = 30.0
    """Close when nothing was received for this long, once the client has pinged (PING-3)."""
    handshake_timeout: float = 15.0
    """Give up on a handshake that has not completed in this time (HS-9)."""
    maximum_receive_message_size: int | None = 32768
    """Largest incoming framed message in bytes; ``None`` disables the check (LIM-1)."""
    maximum_parallel_invocations_per_client: int = 1
    """How many non-streaming invocations of one connection may run at once (INV-11)."""
    enable_detailed_errors: bool = False
    """Append exception type and message to error texts sent to clients (INV-7)."""
    supported_protocols: Sequence[str] | None = None
    """Names of the hub protocols this hub accepts; ``None`` means every registered one."""
    stream_buffer_capacity: int = 10
    """Items buffered per client-to-server stream before reading pauses (STR-6)."""
    stateful_reconnect_buffer_size: int = 100_000
    """Bytes of unacknowledged messages kept for stateful reconnect; sends wait when full (SR-8)."""
    close_on_authentication_expiration: bool = False
    """Close a connection when its user's credential expires (the JWT ``exp``),
    with ``allowReconnect`` and no error (CLOSE-5). Off by default, as in the
    reference; without it an authenticated connection outlives its token."""

    def __post_init__(self) -> None:
        if self.keep_alive_interval <= 0:
            raise ValueError("keep_alive_interval must be positive")
        if self.client_timeout_interval <= 0:
            raise ValueError("client_timeout_interval must be positive")
        if self.handshake_timeout <= 0:
            raise ValueError("handshake_timeout must be positive")
        if self.maximum_receive_message_size is not None and self.maximum_receive_message_size < 1:
            raise ValueError("maximum_receive_message_size must be positive or None")
        if self.maximum_parallel_invocations_per_client < 1:
            raise ValueError("maximum_parallel_invocations_per_client must be at least 1")
        if self.stream_buffer_capacity < 1:
            raise ValueError("stream_buffer_capacity must be at least 1")
        if self.stateful_reconnect_buffer_size < 1:
            raise ValueError("stateful_reconnect_buffer_size must be at least 1")
