"""``HubCallerContext``: what a hub method knows about the connection calling it."""

from __future__ import annotations

from typing import Any

from ..connections.context import RequestInfo
from .connection import HubConnection

__all__ = ["HubCallerContext"]


class HubCallerContext:
    """Identity and per-connection state of the caller, shared by all its invocations.

    ``items`` is the connection's own dictionary, so values stored in one
    invocation (or in ``on_connected``) are there in the next.
    """

    __slots__ = ("_connection",)

    def __init__(self, connection: HubConnection) -> None:
        self._connection = connection

    @property
    def connection_id(self) -> str:
        return self._connection.connection_id

    @property
    def user_identifier(self) -> str | None:
        """The id ``clients.user(...)`` addresses; ``None`` if anonymous."""
        return self._connection.user_identifier

    @property
    def user(self) -> Any:
        """Whatever authentication attached to the connection (``None`` when anonymous)."""
        return self._connection.context.user

    @property
    def items(self) -> dict[str, Any]:
        return self._connection.context.items

    @property
    def request(self) -> RequestInfo:
        """The HTTP request that opened the transport: headers, query, cookies."""
        return self._connection.context.request

    @property
    def transport_name(self) -> str:
        return self._connection.context.transport_name

    def abort(self) -> None:
        """Close this connection: the client gets a Close without error and stops."""
        self._connection.abort()

    def __repr__(self) -> str:
        return f"HubCallerContext(connection_id={self.connection_id!r})"
