"""The registry of live connections for one endpoint.

Connections are found by the value clients put in ``id``: the token for
negotiate v1, the id itself for v0 and skipNegotiation (ID-1). The registry
is also where inactive connections expire (ID-8) and where stalled outbound
buffers are noticed, so neither needs a task per connection.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import anyio

from .connection import ConnectionStatus, HttpConnection
from .context import RequestInfo
from .ids import new_connection_id
from .options import HttpConnectionOptions
from .tasks import TaskRunner

__all__ = ["ConnectionManager"]

logger = logging.getLogger("signalr_server.connections")


class ConnectionManager:
    def __init__(
        self,
        options: HttpConnectionOptions,
        runner: TaskRunner | None = None,
        *,
        sweep_interval: float = 1.0,
    ) -> None:
        self.options = options
        self.runner = runner if runner is not None else TaskRunner()
        self.sweep_interval = sweep_interval
        self._connections: dict[str, HttpConnection] = {}
        self._sweep_scope: anyio.CancelScope | None = None

    def __len__(self) -> int:
        return len(self._connections)

    def __iter__(self) -> Iterator[HttpConnection]:
        return iter(list(self._connections.values()))

    def create(
        self,
        request: RequestInfo,
        *,
        connection_id: str | None = None,
        token: str | None = None,
        negotiate_version: int = 0,
        use_stateful_reconnect: bool = False,
    ) -> HttpConnection:
        """Register a new connection. For negotiate v0 the id doubles as the token."""
        connection_id = connection_id or new_connection_id()
        if negotiate_version <= 0:
            token = connection_id
        elif token is None:
            token = new_connection_id()
        connection = HttpConnection(
            connection_id,
            token,
            self.options,
            request,
            negotiate_version=negotiate_version,
            use_stateful_reconnect=use_stateful_reconnect,
            on_dispose=self.dispose,
        )
        self._connections[token] = connection
        self._ensure_sweeping()
        return connection

    def get(self, token: str) -> HttpConnection | None:
        return self._connections.get(token)

    def dispose(self, connection: HttpConnection) -> None:
        """Remove and dispose; repeated calls do nothing."""
        if connection.status is ConnectionStatus.DISPOSED:
            return
        if self._connections.get(connection.token) is connection:
            del self._connections[connection.token]
        connection.dispose()

    def sweep(self, now: float | None = None) -> None:
        """Expire connections with no active transport for longer than the
        disconnect timeout, abort those whose outbound buffer stayed over its
        bound for longer than the send timeout, and stop transport sends that
        have waited longer than the send timeout (the reference checks both on
        its one-second heartbeat too)."""
        now = time.monotonic() if now is None else now
        for connection in list(self._connections.values()):
            if (
                connection.status is not ConnectionStatus.ACTIVE
                and now - connection.last_seen > self.options.disconnect_timeout
            ):
                logger.debug("Connection %s expired", connection.connection_id)
                self.dispose(connection)
            elif connection.over_limit_for(now) > self.options.transport_send_timeout:
                connection.abort("The client did not read its data within the send timeout.")
            elif connection.send_stalled_for(now) > self.options.transport_send_timeout:
                connection.cancel_stalled_send()

    def _ensure_sweeping(self) -> None:
        if self._sweep_scope is None:
            self._sweep_scope = anyio.CancelScope()
            self.runner.start_soon(self._sweep_loop, "signalr-connection-sweep")

    async def _sweep_loop(self) -> None:
        # Runs only while there are connections, so an idle endpoint (or one
        # driven by a short-lived test loop) leaves no task behind.
        scope = self._sweep_scope
        assert scope is not None
        try:
            with scope:
                while self._connections:
                    await anyio.sleep(self.sweep_interval)
                    self.sweep()
        finally:
            if self._sweep_scope is scope:
                self._sweep_scope = None

    async def close_all(self) -> None:
        """Shutdown: dispose every connection and wait for their handlers (each
        is bounded by its disposal grace)."""
        if self._sweep_scope is not None:
            self._sweep_scope.cancel()
            self._sweep_scope = None
        connections = list(self._connections.values())
        for connection in connections:
            self.dispose(connection)
        for connection in connections:
            await connection.wait_handler_finished()
