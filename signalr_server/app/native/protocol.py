"""One TCP connection of the native server: HTTP/1.1 on h11, then maybe a WebSocket.

Requests on a keep-alive connection are served one after another; a
pipelined request waits (reading paused) until the response before it is
complete. A request asking for a WebSocket upgrade runs the app with a
``websocket`` scope; once the app accepts, the connection stops speaking
HTTP and every received byte goes to the WebSocket's frame reader.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import h11

from ...connections.asgi_types import ASGIApp, Receive, Scope, Send
from ...connections.websockets import WRITE_NOWAIT_EXTENSION
from ..reason_phrases import reason_phrase
from .http_cycle import HttpCycle
from .websocket_cycle import WebSocketCycle

if TYPE_CHECKING:
    from .server import NativeLimits, ServerState

__all__ = ["NativeProtocol"]

logger = logging.getLogger("signalr_server.app.native")

_ASGI = {"version": "3.0", "spec_version": "2.4"}
_FLUSH_AT = 64 * 1024
"""Queued bytes that are written at once rather than at the iteration's end."""


def _header_has(headers: list[tuple[bytes, bytes]], name: bytes, token: bytes) -> bool:
    for key, value in headers:
        if key == name and token in [part.strip() for part in value.lower().split(b",")]:
            return True
    return False


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


class NativeProtocol(asyncio.Protocol):
    """asyncio protocol for one client connection."""

    __slots__ = (
        "_app",
        "_client_address",
        "_closing",
        "_cycle",
        "_drain_waiters",
        "_idle_timer",
        "_pending",
        "_pending_size",
        "_server_address",
        "_state",
        "_upgrade",
        "_websocket",
        "closed",
        "h11",
        "limits",
        "reading_paused",
        "transport",
        "write_paused",
    )

    def __init__(self, state: ServerState) -> None:
        self._state = state
        self._app: ASGIApp = state.app
        self.limits: NativeLimits = state.limits
        self.h11 = h11.Connection(
            h11.SERVER, max_incomplete_event_size=state.limits.max_header_size
        )
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.write_paused = False
        self.reading_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._pending: list[bytes] | None = None
        self._pending_size = 0
        self._cycle: HttpCycle | None = None
        self._upgrade: WebSocketCycle | None = None
        self._websocket: WebSocketCycle | None = None
        self._idle_timer: asyncio.TimerHandle | None = None
        self._closing = False
        """Close after the response in flight (the server is stopping)."""
        self._server_address: list[Any] | None = None
        self._client_address: list[Any] | None = None

    # -- asyncio.Protocol ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment] # uvloop's is not a subclass
        if len(self._state.connections) >= self.limits.max_connections:
            logger.warning("Refusing a connection: %d are open", len(self._state.connections))
            self._plain_response(503, b"Too many connections.")
            return
        self._state.connections.add(self)
        self._server_address = _address(transport.get_extra_info("sockname"))
        self._client_address = _address(transport.get_extra_info("peername"))
        self._arm_idle_timer()

    def data_received(self, data: bytes) -> None:
        websocket = self._websocket
        if websocket is not None:
            websocket.data_received(data)
            return
        self.h11.receive_data(data)
        self._handle_events()

    # eof_received: the default closes the transport. A client that half-closes
    # mid-request is taken as gone, as uvicorn does: a Long Polling client that
    # abandons its poll must end the poll, and the two cannot be told apart.

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._state.connections.discard(self)
        self._cancel_idle_timer()
        if self._cycle is not None:
            self._cycle.connection_lost()
        if self._upgrade is not None:
            self._upgrade.connection_lost()
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(ConnectionResetError("The connection was lost."))

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    # -- used by the cycles ----------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Queue ``data``; it reaches the socket when this loop iteration's
        callbacks are done (``ServerState.flush_all``), or at once past
        ``_FLUSH_AT`` bytes.

        Why not write at once: the replies to one readiness batch then leave
        in one burst. A client blocked in ``epoll_wait`` is woken by the first
        of them only (waking a sleeping peer is the costliest part of a
        loopback ``send`` on a VM), and several frames for one connection in
        one iteration (fan-out) cost one syscall.
        """
        if self.closed:
            return
        pending = self._pending
        if pending is None:
            self._pending = [data]
            self._pending_size = len(data)
            self._state.schedule_flush(self)
        else:
            pending.append(data)
            self._pending_size += len(data)
            if self._pending_size >= _FLUSH_AT:
                self.flush()

    def buffered(self) -> int:
        """Bytes written but not yet sent: queued here and in the transport."""
        if self.closed or self.transport is None:
            return 0
        queued = self._pending_size if self._pending is not None else 0
        return queued + self.transport.get_write_buffer_size()

    def flush(self) -> None:
        """Hand what ``write`` queued to the transport."""
        pending = self._pending
        if pending is None:
            return
        self._pending = None
        if not self.closed:
            assert self.transport is not None
            if len(pending) == 1:
                self.transport.write(pending[0])
            else:
                self.transport.writelines(pending)

    async def drain(self) -> None:
        """Wait until the transport's buffer is below its low-water mark."""
        if self.closed:
            raise ConnectionResetError("The connection was lost.")
        waiter = asyncio.get_running_loop().create_future()
        self._drain_waiters.append(waiter)
        await waiter

    def pause_reading(self) -> None:
        if not self.reading_paused and not self.closed:
            self.reading_paused = True
            assert self.transport is not None
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.reading_paused and not self.closed:
            self.reading_paused = False
            assert self.transport is not None
            self.transport.resume_reading()

    def close(self) -> None:
        """Close after what was written is flushed."""
        if not self.closed:
            self.flush()
            assert self.transport is not None
            self.transport.close()

    def abort(self) -> None:
        self._pending = None
        if not self.closed:
            assert self.transport is not None
            self.transport.abort()

    def encode(
        self, *events: h11.Response | h11.InformationalResponse | h11.Data | h11.EndOfMessage
    ) -> bytes:
        """h11's bytes for response events the app asked for. One that h11
        refuses (bad headers, more body than its Content-Length) aborts the
        connection and raises to the app."""
        try:
            return b"".join(self.h11.send(event) or b"" for event in events)
        except h11.LocalProtocolError as exc:
            self.abort()
            raise RuntimeError(f"Invalid HTTP response from the application: {exc}") from exc

    def start_websocket(self, websocket: WebSocketCycle) -> None:
        """The app accepted: from now on the bytes are WebSocket frames."""
        self._websocket = websocket
        trailing, _ = self.h11.trailing_data
        # HTTP is over on this connection: an idle WebSocket need not keep
        # h11's state machine (a few KiB) alive.
        del self.h11
        self.resume_reading()
        if trailing:
            websocket.data_received(bytes(trailing))

    def response_complete(self) -> None:
        """The response is written: close, or wait for the next request."""
        if self.h11.our_state is h11.MUST_CLOSE or self._closing:
            self.close()
        elif self.h11.their_state is h11.DONE:
            self._next_cycle()
        else:
            # The rest of the request body is read and dropped (HttpCycle),
            # and its EndOfMessage starts the next cycle.
            self.resume_reading()

    def shutdown(self) -> None:
        """The server is stopping: finish what is in flight, then close."""
        self._closing = True
        if self._upgrade is not None:
            self._upgrade.shutdown()
        elif self._cycle is None:
            self.close()

    # -- HTTP --------------------------------------------------------------------------

    def _handle_events(self) -> None:
        connection = self.h11
        while not self.closed:
            try:
                event = connection.next_event()
            except h11.RemoteProtocolError as exc:
                self._bad_request(exc.error_status_hint, str(exc))
                return
            if event is h11.NEED_DATA:
                return
            if event is h11.PAUSED:
                # A pipelined request (or the bytes after an upgrade request)
                # waits for the exchange in flight to end.
                self.pause_reading()
                return
            kind = type(event)
            if kind is h11.Request:
                self._start_request(event)  # type: ignore[arg-type]
            elif kind is h11.Data:
                if self._cycle is not None:
                    self._cycle.body_received(event.data)  # type: ignore[union-attr]
            elif kind is h11.EndOfMessage:
                cycle = self._cycle
                if cycle is not None:
                    cycle.body_complete()
                    if cycle.complete and connection.our_state is h11.DONE:
                        self._next_cycle()
            elif kind is h11.ConnectionClosed:
                if self._cycle is None and self._upgrade is None:
                    self.close()
                return

    def _next_cycle(self) -> None:
        self._cycle = None
        try:
            self.h11.start_next_cycle()
        except h11.LocalProtocolError:
            self.close()
            return
        if self._closing:
            self.close()
            return
        self._arm_idle_timer()
        self.resume_reading()
        if self.h11.trailing_data[0]:
            self._handle_events()  # a pipelined request already arrived

    def _start_request(self, request: h11.Request) -> None:
        self._cancel_idle_timer()
        headers = [(bytes(name), bytes(value)) for name, value in request.headers]
        target = bytes(request.target)
        # h11 bounds only a head that is still incomplete; one that arrived
        # whole in a single read is measured here.
        size = len(target) + sum(len(name) + len(value) + 4 for name, value in headers)
        if size > self.limits.max_header_size:
            self._plain_response(431, b"Request header fields too large.")
            return
        raw_path, _, query = target.partition(b"?")
        try:
            path = unquote(raw_path.decode("ascii"))
        except UnicodeDecodeError:
            path = unquote(raw_path.decode("latin-1"))
        scope: dict[str, Any] = {
            "asgi": _ASGI,
            "http_version": request.http_version.decode("ascii"),
            "path": path,
            "raw_path": raw_path,
            "query_string": query,
            "root_path": "",
            "headers": headers,
            "server": self._server_address,
            "client": self._client_address,
        }
        if self._state.lifespan_state is not None:
            scope["state"] = dict(self._state.lifespan_state)
        if request.method == b"GET" and _header_has(headers, b"upgrade", b"websocket"):
            self._start_websocket(scope, headers)
            return
        scope.update(type="http", scheme="http", method=request.method.decode("ascii"))
        cycle = self._cycle = HttpCycle(self, request.method)
        self._run_app(scope, cycle.receive, cycle.send, cycle)

    def _start_websocket(self, scope: dict[str, Any], headers: list[tuple[bytes, bytes]]) -> None:
        key = _header(headers, b"sec-websocket-key")
        if _header(headers, b"sec-websocket-version") != b"13":
            self._plain_response(
                426, b"Unsupported WebSocket version.", [(b"sec-websocket-version", b"13")]
            )
            return
        if key is None or len(key) != 24 or not _header_has(headers, b"connection", b"upgrade"):
            self._plain_response(400, b"Invalid WebSocket upgrade request.")
            return
        protocols = _header(headers, b"sec-websocket-protocol")
        upgrade = self._upgrade = WebSocketCycle(self, key)
        scope.update(
            type="websocket",
            scheme="ws",
            subprotocols=[p.strip() for p in protocols.decode("latin-1").split(",")]
            if protocols
            else [],
            extensions={
                "websocket.http.response": {},
                WRITE_NOWAIT_EXTENSION: {
                    "write": upgrade.write_nowait,
                    "buffered": upgrade.buffered,
                    "listen": upgrade.listen,
                },
            },
        )
        self._run_app(scope, upgrade.receive, upgrade.send, upgrade)

    def _run_app(
        self, scope: Scope, receive: Receive, send: Send, cycle: HttpCycle | WebSocketCycle
    ) -> None:
        task = asyncio.get_running_loop().create_task(self._call_app(scope, receive, send, cycle))
        self._state.tasks.add(task)
        task.add_done_callback(self._state.tasks.discard)

    async def _call_app(
        self, scope: Scope, receive: Receive, send: Send, cycle: HttpCycle | WebSocketCycle
    ) -> None:
        failed = False
        try:
            await self._app(scope, receive, send)
        except asyncio.CancelledError:
            failed = True
            raise
        except Exception:
            failed = True
            logger.exception("Exception in ASGI application")
        finally:
            if isinstance(cycle, WebSocketCycle):
                if not self.closed:
                    cycle.app_finished(failed)
            elif not cycle.complete and not self.closed:
                if cycle.started:
                    self.abort()  # a response cut short cannot be finished
                else:
                    self._closing = True
                    self.write(cycle.error_response())
                    self.close()

    def _plain_response(
        self, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        """Answer without the app (a malformed request), then close."""
        lines = [b"HTTP/1.1 %d %s\r\n" % (status, reason_phrase(status))]
        for name, value in [
            *(headers or []),
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]:
            lines.append(name + b": " + value + b"\r\n")
        self.write(b"".join(lines) + b"\r\n" + body)
        self.close()

    def _bad_request(self, status: int, reason: str) -> None:
        logger.debug("Malformed HTTP request: %s", reason)
        if self._cycle is None and self._upgrade is None:
            self._plain_response(status, f"Bad request: {reason}".encode())
        else:
            self.abort()

    # -- keep-alive -------------------------------------------------------------------

    def _arm_idle_timer(self) -> None:
        self._cancel_idle_timer()
        self._idle_timer = asyncio.get_running_loop().call_later(
            self.limits.keep_alive_timeout, self._idle_timeout
        )

    def _cancel_idle_timer(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _idle_timeout(self) -> None:
        self._idle_timer = None
        if self._cycle is None and self._upgrade is None:
            self.close()


def _address(info: Any) -> list[Any] | None:
    if isinstance(info, tuple) and len(info) >= 2:
        return [str(info[0]), int(info[1])]
    return None
