"""The native server: listen, run the app's lifespan, shut down gracefully.

Why a server of our own: an ASGI server's WebSocket path costs more per
message than all of our hub code (see docs/benchmarks.md). This one is an
asyncio protocol that parses frames in ``data_received`` and writes them
straight to the transport: one task switch per received message and none per
sent one. HTTP stays on h11, as in hypercorn and uvicorn; asyncio and uvloop
only (no trio), HTTP/1.1 only, no TLS (put a proxy in front, as usual).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ...connections.asgi_types import ASGIApp, Message
from .protocol import NativeProtocol

__all__ = ["NativeLimits", "ServerState", "serve_native"]

logger = logging.getLogger("signalr_server.app.native")


@dataclass(frozen=True, slots=True, kw_only=True)
class NativeLimits:
    """Bounds and timeouts of the native server; each has a test."""

    max_header_size: int = 16 * 1024
    """Largest request line plus headers, in bytes (larger: 431/400 and close)."""
    request_buffer: int = 64 * 1024
    """Request body bytes held for an app that has not read them; above it
    the socket is not read until the app catches up."""
    websocket_max_message: int = 16 * 1024 * 1024
    """Largest WebSocket message, fragments included (larger: close 1009)."""
    websocket_buffer: int = 1024 * 1024
    """Received WebSocket bytes held for an app that has not read them; above
    it the socket is not read until the app catches up."""
    websocket_close_timeout: float = 5.0
    """How long to wait for the client's close frame after ours."""
    keep_alive_timeout: float = 5.0
    """An idle HTTP connection (no request in flight) is closed after this."""
    graceful_timeout: float = 3.0
    """At shutdown, how long requests in flight may run before being cancelled."""
    max_connections: int = 100_000
    """Open TCP connections (WebSockets included); one more is answered 503
    and closed, so a flood fails fast instead of exhausting file descriptors."""


@dataclass(slots=True)
class ServerState:
    """What every connection of one server shares."""

    app: ASGIApp
    limits: NativeLimits
    connections: set[NativeProtocol] = field(default_factory=set)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    lifespan_state: dict[str, Any] | None = None
    addresses: list[Any] = field(default_factory=list)
    """The bound ``(host, port, ...)`` addresses, once listening."""
    to_flush: list[NativeProtocol] = field(default_factory=list)
    flush_scheduled: bool = False

    def schedule_flush(self, protocol: NativeProtocol) -> None:
        """Flush ``protocol``'s queued writes once this loop iteration is done."""
        self.to_flush.append(protocol)
        if not self.flush_scheduled:
            self.flush_scheduled = True
            asyncio.get_running_loop().call_soon(self.flush_all)

    def flush_all(self) -> None:
        self.flush_scheduled = False
        protocols, self.to_flush = self.to_flush, []
        for protocol in protocols:
            protocol.flush()


async def serve_native(
    app: ASGIApp,
    *,
    host: str = "127.0.0.1",
    port: int = 5000,
    backlog: int = 2048,
    limits: NativeLimits | None = None,
    shutdown_trigger: Callable[[], Awaitable[Any]],
    on_listening: Callable[[ServerState], None] | None = None,
) -> None:
    """Serve ``app`` until ``shutdown_trigger()`` returns, then stop gracefully:
    stop listening, close idle connections and WebSockets (1012), give requests
    in flight ``graceful_timeout`` seconds, cancel the rest, end the lifespan."""
    state = ServerState(app, limits or NativeLimits())
    lifespan = _Lifespan(app)
    state.lifespan_state = await lifespan.startup()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: NativeProtocol(state), host, port, backlog=backlog, reuse_address=True
    )
    state.addresses = [sock.getsockname() for sock in server.sockets]
    logger.info("Listening on %s", ", ".join(f"http://{a[0]}:{a[1]}" for a in state.addresses))
    if on_listening is not None:
        on_listening(state)
    try:
        await shutdown_trigger()
    finally:
        server.close()
        await _finish_connections(state)
        await lifespan.shutdown(state.limits.graceful_timeout)


async def _finish_connections(state: ServerState) -> None:
    for connection in list(state.connections):
        connection.shutdown()
    if state.tasks:
        _, pending = await asyncio.wait(set(state.tasks), timeout=state.limits.graceful_timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=1.0)
    for connection in list(state.connections):
        connection.abort()


class _Lifespan:
    """The ASGI lifespan protocol; an app without one is served all the same."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app
        self._events: asyncio.Queue[Message] = asyncio.Queue()
        self._answers: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._supported = True
        self._started = False

    async def startup(self) -> dict[str, Any] | None:
        state: dict[str, Any] = {}
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        scope["state"] = state
        self._task = asyncio.get_running_loop().create_task(self._run(scope))
        await self._events.put({"type": "lifespan.startup"})
        answer = await self._answer()
        if answer is None:
            return None
        if answer["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"Application startup failed: {answer.get('message', '')}")
        self._started = True
        return state

    async def _answer(self) -> Message | None:
        assert self._task is not None
        getter = asyncio.ensure_future(self._answers.get())
        await asyncio.wait({getter, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if getter.done():
            return getter.result()
        getter.cancel()
        self._supported = False
        return None

    async def _run(self, scope: dict[str, Any]) -> None:
        try:
            await self._app(scope, self._events.get, self._answers.put)
        except Exception:
            if self._started:
                logger.exception("Exception in the app's lifespan")
            else:
                logger.debug("The app does not run the ASGI lifespan", exc_info=True)
                self._supported = False

    async def shutdown(self, timeout: float) -> None:
        if not self._supported or self._task is None or self._task.done():
            return
        await self._events.put({"type": "lifespan.shutdown"})
        try:
            answer = await asyncio.wait_for(self._answer(), timeout)
        except TimeoutError:
            logger.warning("The app's lifespan shutdown did not finish within %s s", timeout)
            self._task.cancel()
            return
        if answer is not None and answer["type"] == "lifespan.shutdown.failed":
            logger.error("Application shutdown failed: %s", answer.get("message", ""))
