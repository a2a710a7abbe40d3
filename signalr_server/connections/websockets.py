"""The WebSocket transport on raw ASGI ``websocket`` events (WS-1..WS-11).

Two ways to run, chosen per connection:

* **direct** (asyncio, no stateful reconnect): the handler calls the ASGI
  ``receive`` and ``send`` itself through ``connection.receive``/``send``.
  An invocation and its Completion then cross no task boundary, and an idle
  connection holds one task (this request, writing what fan-out queued)
  instead of two. Not on trio, where cancelling a send midway can leave half
  a frame on the socket, and not under stateful reconnect, where the handler
  must outlive the socket it reads from.
* **pumped**: this request pumps bytes both ways between the socket and the
  connection's channels, and the handler runs elsewhere (see ``tasks``), so
  the request can end, or be swapped for another, without touching it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from time import monotonic
from typing import Any

import anyio
import sniffio

from ..protocol.messages import TransferFormat
from .asgi_types import Receive, Send
from .connection import HttpConnection
from .context import ConnectionClosed
from .options import HttpConnectionOptions

__all__ = ["CLOSE_INTERNAL_ERROR", "CLOSE_NORMAL", "WRITE_NOWAIT_EXTENSION", "WebSocketTransport"]

WRITE_NOWAIT_EXTENSION = "signalr_server.websocket.write_nowait"
"""ASGI scope extension a server may offer on a WebSocket: ``{"write":
callable(data: bytes, binary: bool) -> bool, "buffered": callable() -> int}``,
optionally with ``"listen": callable(listener | None)``.
``write`` writes one message frame at once if the socket takes it without
waiting (False: nothing written); ``buffered`` is what was written and is not
on the wire yet, so the connection's outbound bound still holds. ``listen``
has the server offer each data message that arrives while nothing is queued
for ``receive`` to ``listener(data: bytes) -> bool`` from its protocol
callback (False: it queues the message for ``receive`` after all). The
native server offers all three; used only in direct mode."""

logger = logging.getLogger("signalr_server.connections")

CLOSE_NORMAL = 1000
CLOSE_INTERNAL_ERROR = 1011
CLOSE_ABNORMAL = 1006
CLOSE_NO_STATUS = 1005
_DROPPED_CODES = frozenset({CLOSE_NO_STATUS, CLOSE_ABNORMAL})
"""What servers report when the TCP connection ended without a close frame
(hypercorn 1006, uvicorn 1005). Hypercorn also reports 1006 after a client's
close frame, which is why the hub handler withdraws its resume callback when
the client sends a Close message first, as the official clients do."""


def _nothing_buffered() -> int:
    return 0


def _payload(message: Any) -> bytes | None:
    """A received frame's bytes (maybe empty), or ``None`` for the disconnect.

    Text and binary frames alike extend one byte stream (WS-3).
    """
    kind = message["type"]
    if kind == "websocket.receive":
        data: bytes | None = message.get("bytes")
        if data is None:
            text = message.get("text")
            data = text.encode("utf-8") if text else b""
        return data
    return None if kind == "websocket.disconnect" else b""


class WebSocketTransport:
    """Serves one accepted-or-about-to-be-accepted WebSocket for a connection."""

    __slots__ = (
        "_buffered",
        "_client_closed",
        "_closing",
        "_connection",
        "_holding",
        "_idle",
        "_listen",
        "_listener",
        "_offered_write_nowait",
        "_options",
        "_reading",
        "_receive",
        "_receiving",
        "_receiving_done",
        "_send",
        "_write_nowait",
        "_writing",
        "detached",
        "readable",
        "writable",
        "writes_at_once",
    )

    def __init__(
        self,
        connection: HttpConnection,
        options: HttpConnectionOptions,
        write_nowait: dict[str, Any] | None = None,
    ) -> None:
        self._connection = connection
        self._options = options
        self._client_closed = False
        self._closing = False
        self.readable = True
        """The handler may read the socket itself (else it reads the channel):
        False once closing or closed by the client, which is never undone."""
        self._receiving = True
        self._receiving_done: anyio.Event | None = None
        """Made only when ``_close`` has to wait for the client's close frame."""
        self._receive: Receive | None = None
        self._send: Send | None = None
        self._reading = False
        """Direct mode: the handler is inside an ASGI ``receive``."""
        self._writing = False
        """An ASGI ``send`` is in flight (from either task)."""
        self._holding = False
        """The request task took data from the outbound channel and waits to
        send it: nothing may overtake it."""
        self.writable = True
        """The handler may write the socket itself right now: no send in flight
        or held, not closing, not closed by the client. Kept as an attribute
        (set wherever one of those four changes) because every reply reads it."""
        self._write_nowait: Callable[[bytes, bool], bool] | None = None
        """Direct mode on a server that writes without waiting (see ``write_now``)."""
        self._buffered: Callable[[], int] = _nothing_buffered
        self._listen: Callable[[Callable[[bytes], bool] | None], None] | None = None
        """Direct mode: the server's ``listen`` (see ``listen``)."""
        self._listener: Callable[[bytes], bool] | None = None
        self._idle: asyncio.Future[None] | None = None
        """Direct mode: resolved when the running read or write returns, for
        whoever waits to take its turn at the socket."""
        self.detached = False
        """The socket dropped and the connection waits for a stateful reconnect."""
        self.writes_at_once = False
        """Direct mode on a server that offers ``write_nowait``: ``write_now`` may succeed."""
        self._offered_write_nowait = write_nowait

    def run(
        self, receive: Receive, send: Send, on_accepted: Callable[[], None]
    ) -> Coroutine[Any, Any, None]:
        """Accept, serve until the socket or the connection ends, then close.

        ``websocket.connect`` must already have been received. The returned
        coroutine ends once the socket is closed (or abandoned after the close
        timeout, or cancelled through the connection's transport scope). It is
        the mode's own coroutine, not one awaiting it: every idle connection
        holds this chain of frames.
        """
        if self._connection.use_stateful_reconnect or sniffio.current_async_library() != "asyncio":
            return self._run_pumped(receive, send, on_accepted)
        return self._run_direct(receive, send, on_accepted)

    @staticmethod
    async def _accept(send: Send) -> None:
        # No subprotocol: official clients offer none, and one must never be
        # sent unasked (WS-2). Long-Running is informational (GEN-7).
        await send({"type": "websocket.accept", "headers": [(b"long-running", b"true")]})

    # -- direct mode -----------------------------------------------------------

    async def _run_direct(
        self, receive: Receive, send: Send, on_accepted: Callable[[], None]
    ) -> None:
        connection = self._connection
        # The request's task is what a stalled send cancels (see the except
        # below): an anyio cancel scope here would hold two sets per connection.
        task = asyncio.current_task()
        assert task is not None
        connection.begin_transport(task)
        try:
            await self._accept(send)
            self._receive, self._send = receive, send
            offered = self._offered_write_nowait
            if offered is not None:
                self._write_nowait, self._buffered = offered["write"], offered["buffered"]
                self._listen = offered.get("listen")
                self.writes_at_once = True
            connection.direct_socket = self
            on_accepted()
            send_failed = await self._send_loop(send)
            if not self._client_closed:
                await self._close(send, send_failed)
        except asyncio.CancelledError:
            # Ours only if the sweep cancelled a stalled send and nobody else
            # (the server shutting down) cancelled this task as well.
            if not connection.send_timed_out or task.uncancel() > 0:
                raise
        finally:
            self._closing = True
            self.readable = self.writable = False
            self._write_nowait = None
            self.writes_at_once = False
            if self._listen is not None:
                self._listen(None)
                self._listen = self._listener = None
            connection.direct_socket = None
            if self._reading or self._writing:
                # The handler still waits on a socket whose request is over
                # (a client that never answered our close, a stalled send).
                connection.interrupt_handler()
            connection.end_transport(task)

    async def read(self) -> bytes:
        """Direct mode: the next non-empty payload, read in the handler's task."""
        assert self._receive is not None
        receive = self._receive
        self._reading = True
        try:
            while True:
                message = await receive()
                # The usual frames first: text (JSON) or binary (MessagePack), not empty.
                text = message.get("text")
                if text:
                    return text.encode()  # type: ignore[no-any-return]
                data = message.get("bytes")
                if data:
                    return data  # type: ignore[no-any-return]
                data = _payload(message)
                if data:
                    return data
                if data is None:
                    # The client closed or dropped first (WS-8).
                    self._client_closed = True
                    self.readable = self.writable = False
                    self._receiving = False
                    self._connection.transport_lost()
                    raise ConnectionClosed
        finally:
            self._reading = False
            if self._idle is not None:
                self._wake()

    def write_now(self, data: bytes) -> bool:
        """Direct mode: send ``data`` without waiting, from any task, when the
        server offers it (``WRITE_NOWAIT_EXTENSION``, the native server) and
        nothing is in flight or held; False (nothing sent) otherwise, and the
        caller takes the ordinary path. A fan-out then costs no task switch on
        the receiving connection, and a reply no coroutine chain."""
        write_nowait = self._write_nowait
        if (
            write_nowait is None
            or self._writing
            or self._holding
            or self._closing
            or self._client_closed
        ):
            return False
        limit = self._connection.outbound.limit
        if limit > 0 and self._buffered() + len(data) > limit:
            return False  # queue it: the outbound bound (and its overflow rules) apply
        if self._connection.transfer_format is TransferFormat.BINARY:
            return write_nowait(data, True)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return False  # the ordinary path reports it and aborts
        return write_nowait(data, False)

    def listen(self, listener: Callable[[bytes], bool] | None) -> bool:
        """Direct mode on a server that offers ``listen``: inbound payloads go
        to ``listener`` as they arrive while the handler waits in ``read``
        (see ``ConnectionContext.listen``). False when the server cannot."""
        offered = self._listen
        if offered is None:
            return False
        self._listener = listener
        offered(None if listener is None else self._offer)
        return True

    def _offer(self, data: bytes) -> bool:
        listener = self._listener
        if listener is None or not self._reading or self._closing or not data:
            return False
        try:
            return listener(data)
        except Exception:
            # It runs in the server's socket callback: a raw handler's listener
            # that raises ends its own connection, nothing else.
            logger.exception("Listener failed on connection %s", self._connection.connection_id)
            self._listener = None
            self._connection.abort("The connection's listener failed.")
            return True

    def _wake(self) -> None:
        idle = self._idle
        if idle is not None:
            self._idle = None
            if not idle.done():
                idle.set_result(None)

    async def _turn(self) -> None:
        """Wait until the handler's read or write in flight has returned."""
        if self._idle is None:
            self._idle = asyncio.get_running_loop().create_future()
        await self._idle

    # -- pumped mode -------------------------------------------------------------

    async def _run_pumped(
        self, receive: Receive, send: Send, on_accepted: Callable[[], None]
    ) -> None:
        connection = self._connection
        transport_scope: anyio.CancelScope | None = None
        self._send = send
        try:
            async with anyio.create_task_group() as task_group:
                # The group's scope is the transport's: a reconnect (SR-10) or a
                # stalled send cancels this whole request through it.
                transport_scope = task_group.cancel_scope
                connection.begin_transport(transport_scope)
                await self._accept(send)
                on_accepted()
                task_group.start_soon(self._receive_loop, receive, task_group.cancel_scope)
                send_failed = await self._send_loop(send)
                if not self._client_closed:
                    await self._close(send, send_failed)
                task_group.cancel_scope.cancel()
        finally:
            if transport_scope is not None:
                connection.end_transport(transport_scope)

    async def _receive_loop(self, receive: Receive, scope: anyio.CancelScope) -> None:
        inbound = self._connection.inbound
        graceful = False
        try:
            while True:
                message = await receive()
                data = _payload(message)
                if data is None:
                    graceful = message.get("code", CLOSE_ABNORMAL) not in _DROPPED_CODES
                    break
                if data and not inbound.closed:
                    # If the handler is done, keep reading until the close.
                    with contextlib.suppress(ConnectionClosed):
                        await inbound.put(data)
        finally:
            if not self._closing:
                # The client closed or dropped first (WS-8).
                self._client_closed = True
                self.readable = self.writable = False
                if not graceful and self._connection.can_resume:
                    # SR-9: keep the connection for a reconnect; stop writing here.
                    self.detached = True
                    self._connection.detach_transport()
                    scope.cancel()
                else:
                    self._connection.transport_lost()
            self._receiving = False
            if self._receiving_done is not None:
                self._receiving_done.set()

    # -- both modes ---------------------------------------------------------------

    async def _send_loop(self, send: Send) -> bool:
        """Write what is queued until the outbound side is finished; True if a send failed."""
        connection = self._connection
        while True:
            try:
                data = await connection.take_outbound()
            except ConnectionClosed:
                return False
            # Until it is sent, nothing may overtake it (``writable``, ``write_now``).
            self._holding = True
            self.writable = False
            try:
                while self._writing:  # the handler is writing directly: keep the order
                    await self._turn()
            finally:
                self._holding = False
                self.writable = not (self._writing or self._closing or self._client_closed)
            try:
                await self.write(data)
            except ConnectionClosed:
                return not self._client_closed

    async def write(self, data: bytes) -> None:
        """One ASGI send; ``ConnectionClosed`` (and the connection aborted) if it failed.

        Direct mode calls it in the handler's task, only when ``writable``;
        the writer loop calls it with queued chunks. Several chunks become one
        frame: each holds only complete messages, so the frame does too (WS-5).
        """
        connection = self._connection
        send = self._send
        assert send is not None
        if connection.transfer_format is TransferFormat.BINARY:
            message = {"type": "websocket.send", "bytes": data}
        else:
            try:
                message = {"type": "websocket.send", "text": data.decode()}
            except UnicodeDecodeError:
                logger.error(
                    "Connection %s queued invalid UTF-8 for a text frame", connection.connection_id
                )
                connection.abort("Invalid UTF-8 in a text frame.")
                raise ConnectionClosed from None
        # The manager's sweep enforces the send timeout by cancelling the
        # request's scope (``HttpConnection.cancel_stalled_send``).
        self._writing = True
        self.writable = False
        connection.send_started_at = monotonic()
        try:
            await send(message)
        except Exception:
            if not self._client_closed:
                logger.debug("Send failed on %s", connection.connection_id, exc_info=True)
                connection.abort("Sending to the client failed.")
            raise ConnectionClosed from None
        finally:
            connection.send_started_at = None
            self._writing = False
            self.writable = not (self._holding or self._closing or self._client_closed)
            if self._idle is not None:
                self._wake()

    async def _close(self, send: Send, send_failed: bool) -> None:
        """Send our close frame and wait (bounded) for the client's (WS-7, WS-9)."""
        connection = self._connection
        failed = (
            send_failed
            or connection.aborted_reason is not None
            or connection.application_error is not None
        )
        self._closing = True
        self.readable = self.writable = False
        code = CLOSE_INTERNAL_ERROR if failed else CLOSE_NORMAL
        with anyio.move_on_after(self._options.websocket_close_timeout):
            while self._writing:
                await self._turn()
            try:
                await send({"type": "websocket.close", "code": code, "reason": ""})
            except Exception:
                logger.debug("Close failed on %s", connection.connection_id, exc_info=True)
                return
            if self._receive is not None:
                await self._drain_direct()
            elif self._receiving:
                if self._receiving_done is None:
                    self._receiving_done = anyio.Event()
                await self._receiving_done.wait()

    async def _drain_direct(self) -> None:
        """Direct mode: read up to the client's close frame. The handler may
        be inside a read already; it finishes it and then reads the (closed)
        inbound channel, so the socket has one reader at a time."""
        self._connection.inbound.close()
        while self._reading:
            await self._turn()
        receive = self._receive
        assert receive is not None
        while self._receiving:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                self._receiving = False
