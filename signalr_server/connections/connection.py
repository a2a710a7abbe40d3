"""One logical connection: the state the transports and the handler share.

A connection outlives the requests that carry it (negotiate, then a WebSocket,
or many polls), so it owns the buffers and the handler's lifetime, and the
transports pump bytes in and out of it. The one shortcut: while a WebSocket
runs in direct mode (see ``websockets``), ``receive`` and ``send`` reach its
socket from the handler's task instead of going through the channels.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import sniffio

from ..protocol.messages import TransferFormat
from .channels import ByteChannel
from .context import ConnectionClosed, ConnectionHandler, RequestInfo
from .options import HttpConnectionOptions, HttpTransportType
from .tasks import TaskRunner

if TYPE_CHECKING:
    from .long_polling import PollSlot
    from .websockets import WebSocketTransport

__all__ = [
    "HARD_CAP_FACTOR",
    "ConnectionStatus",
    "HttpConnection",
    "SetTransportResult",
]

logger = logging.getLogger("signalr_server.connections")

HARD_CAP_FACTOR = 4
"""``send_nowait`` may overfill the outbound buffer up to this many times its
bound (a slow consumer gets the send timeout to catch up); past it the
connection is aborted at once so memory stays bounded."""


async def _done() -> None:
    """What ``send`` hands back when the data went out before it returned."""


class Cancellable(Protocol):
    """What stops a transport request: its anyio cancel scope, or (direct
    WebSockets on asyncio) the request's task itself."""

    def cancel(self) -> Any: ...


class ConnectionStatus(enum.Enum):
    NEW = "new"
    """Negotiated; no transport request has arrived yet."""
    ACTIVE = "active"
    """A transport request is running."""
    INACTIVE = "inactive"
    """Between long polls, or after an unclean drop under stateful reconnect."""
    DISPOSED = "disposed"


class SetTransportResult(enum.Enum):
    SUCCESS = "success"
    ALREADY_ACTIVE = "already_active"
    CANNOT_CHANGE = "cannot_change"


class HttpConnection:
    """Implements ``ConnectionContext`` for every HTTP transport."""

    # Slots: one instance per connection, and its ~30 attributes would
    # otherwise cost a ~1.5 KB ``__dict__`` on every idle connection.
    __slots__ = (
        "_detached",
        "_handler_done",
        "_handler_scope",
        "_on_dispose",
        "_over_limit_mark",
        "_over_limit_since",
        "_reconnect_callback",
        "_transport_ended",
        "_transport_scope",
        "aborted_reason",
        "application_error",
        "connection_id",
        "current_poll",
        "direct_socket",
        "handler_finished",
        "has_inherent_keep_alive",
        "inbound",
        "items",
        "last_seen",
        "negotiate_version",
        "options",
        "outbound",
        "owner_identity",
        "post_lock",
        "request",
        "send_started_at",
        "send_timed_out",
        "status",
        "supported_formats",
        "token",
        "transfer_format",
        "transport_name",
        "transport_type",
        "use_stateful_reconnect",
        "user",
        "writer_scope",
    )

    def __init__(
        self,
        connection_id: str,
        token: str,
        options: HttpConnectionOptions,
        request: RequestInfo,
        *,
        negotiate_version: int = 0,
        use_stateful_reconnect: bool = False,
        on_dispose: Callable[[HttpConnection], None] | None = None,
    ) -> None:
        self.connection_id = connection_id
        self.token = token
        self.options = options
        self.request = request
        self.negotiate_version = negotiate_version
        self.use_stateful_reconnect = use_stateful_reconnect
        self.transport_name = ""
        self.transport_type = HttpTransportType.NONE
        self.items: dict[str, Any] = {}
        self.user: Any = None
        self.owner_identity: str | None = None
        """Identity of the user who opened the connection (see ``authentication``)."""
        self.supported_formats: frozenset[TransferFormat] = frozenset(TransferFormat)
        self.transfer_format = TransferFormat.TEXT
        self.has_inherent_keep_alive = False

        self.status = ConnectionStatus.NEW
        self.last_seen = time.monotonic()
        self.inbound = ByteChannel(options.transport_max_buffer_size)
        self.outbound = ByteChannel(options.application_max_buffer_size)
        self.aborted_reason: str | None = None
        self.application_error: BaseException | None = None
        self.handler_finished = False
        self.post_lock: anyio.Lock | None = None
        """Serializes POST bodies (created lazily inside the event loop)."""
        self.current_poll: PollSlot | None = None
        """The Long Polling request that owns the outbound side, if any."""
        self.direct_socket: WebSocketTransport | None = None
        """A WebSocket the handler reads and writes itself (see ``websockets``)."""

        self._on_dispose = on_dispose
        self._reconnect_callback: Callable[[], None] | None = None
        self._transport_scope: Cancellable | None = None
        self._transport_ended: anyio.Event | None = None
        self._detached = False
        """True while a stateful-reconnect connection has no socket: output is dropped."""
        self._over_limit_since: float | None = None
        self._over_limit_mark = 0
        """``outbound.takes`` when the buffer went over its bound: a take since
        then means the transport is draining it."""
        self._handler_scope: anyio.CancelScope | None = None
        self._handler_done: anyio.Event | None = None
        self.send_started_at: float | None = None
        """``time.monotonic()`` when the transport's current ASGI send began
        (``None`` between sends). The manager's sweep compares it with
        ``transport_send_timeout``, so a send needs no timer of its own."""
        self.writer_scope: Cancellable | None = None
        """Set by the transport that writes: cancelling it stops a stalled send."""
        self.send_timed_out = False
        """Set just before ``cancel_stalled_send`` cancels ``writer_scope``."""

    def __repr__(self) -> str:
        return f"<HttpConnection {self.connection_id} {self.status.value} {self.transport_name}>"

    # -- ConnectionContext -------------------------------------------------

    def receive(self) -> Coroutine[Any, Any, bytes]:
        # Hands back the coroutine instead of awaiting it in a frame of its
        # own: one frame less held by every idle connection.
        socket = self.direct_socket
        if socket is not None and socket.readable and not self.inbound.closed:
            return socket.read()
        # Also after an abort, a lost transport or dispose, which close the
        # inbound side: ConnectionClosed at once, as the channel raises it.
        return self.inbound.take()

    def listen(self, listener: Callable[[bytes], bool] | None) -> bool:
        socket = self.direct_socket
        return socket is not None and socket.listen(listener)

    def send(self, data: bytes) -> Coroutine[Any, Any, None]:
        # Like ``receive``, hands back the coroutine that does the work, so a
        # direct write awaits the server's ``send`` with no frame of ours between.
        sending = self.begin_send(data)
        return _done() if sending is None else sending

    def send_now(self, data: bytes) -> bool:
        socket = self.direct_socket
        if socket is None or not socket.writes_at_once:
            return False  # the usual case on ASGI servers: said without a call
        outbound = self.outbound
        return (
            not outbound.size
            and not outbound.closed
            and not self._detached
            and socket.write_now(data)  # checks that no send is in flight or held
        )

    def begin_send(self, data: bytes) -> Coroutine[Any, Any, None] | None:
        socket = self.direct_socket
        outbound = self.outbound
        if (
            socket is not None
            and socket.writable
            and not outbound.size
            and not outbound.closed
            and not self._detached
        ):
            # Nothing queued ahead of it and no send in flight: straight to the
            # socket, without waking the transport's writer; on a server that
            # writes without waiting (the native one), with no coroutine at all.
            if socket.writes_at_once and socket.write_now(data):
                return None
            return socket.write(data)
        return self._send_queued(data)

    async def _send_queued(self, data: bytes) -> None:
        if self._detached:
            return  # the handler's replay buffer resends it after the reconnect
        await self.outbound.put(data)

    def send_nowait(self, data: bytes) -> None:
        """Never waits and never raises: fan-out senders must not be slowed or
        broken by one connection. Data for a closed connection is dropped."""
        if self.outbound.closed or self._detached:
            return
        socket = self.direct_socket
        if (
            socket is not None
            and socket.writes_at_once
            and not self.outbound.size
            and socket.write_now(data)
        ):
            return  # written at once: the transport's writer need not wake
        size = self.outbound.put_nowait(data)
        limit = self.outbound.limit
        if limit <= 0 or size <= limit:
            return
        if size > limit * HARD_CAP_FACTOR:
            self.abort("The outbound buffer exceeded its hard limit.")
        elif self._over_limit_since is None:
            self._over_limit_since = time.monotonic()
            self._over_limit_mark = self.outbound.takes

    def abort(self, reason: str | None = None) -> None:
        if self.status is ConnectionStatus.DISPOSED or self.aborted_reason is not None:
            return
        self.aborted_reason = reason or "The connection was aborted."
        self.inbound.close(discard=True)
        self.outbound.close(discard=True)
        if self._on_dispose is not None:
            self._on_dispose(self)

    # -- stateful reconnect (SR-9, SR-10) ----------------------------------------

    def on_reconnected(self, callback: Callable[[], None] | None) -> None:
        """Register the handler's resend step; without one, a drop ends the connection.

        The hub handler registers it only when the client negotiated stateful
        reconnect *and* handshook at version 2 (SR-3), and withdraws it
        (``None``) when the client says goodbye with a Close message: some
        servers (hypercorn) report a client's close frame like a dropped socket.
        """
        self._reconnect_callback = callback

    @property
    def can_resume(self) -> bool:
        """An ungraceful WebSocket drop keeps this connection for a reconnect."""
        return (
            self.use_stateful_reconnect
            and self._reconnect_callback is not None
            and self.transport_type is HttpTransportType.WebSockets
            and not self.handler_finished
            and self.status is not ConnectionStatus.DISPOSED
            and self.aborted_reason is None
        )

    def detach_transport(self) -> None:
        """The socket dropped without a close frame: wait (inactive) for the client.

        Input stays open so the handler keeps running; output is discarded
        until the next socket, because the handler resends what the client has
        not acknowledged. The manager ends the connection if nobody comes back
        within ``disconnect_timeout``.
        """
        self._detached = True
        self.outbound.clear()
        self.mark_inactive()

    def attach_transport(self) -> None:
        """A new socket replaced the lost one: the handler's resend goes out first (SR-11).

        Runs before the new socket's writer starts; the callback queues the
        Sequence message and the replay synchronously, so nothing overtakes them.
        """
        self._detached = False
        self.outbound.clear()
        self._over_limit_since = None
        if self._reconnect_callback is not None:
            self._reconnect_callback()

    def begin_transport(self, scope: Cancellable | None = None) -> Cancellable:
        """What stops a WebSocket request, so a reconnect (SR-10) or a stalled
        send can end it; pair with ``end_transport`` in a ``finally``.

        The pumped transport passes the cancel scope of the task group it
        already runs in, the direct one its own asyncio task, so an idle
        connection holds no scope of its own for this (each anyio scope
        carries two sets). Plain methods rather than a
        context manager, and the event that ``stop_transport`` waits on is
        made only when someone waits: every idle connection would otherwise
        hold a suspended generator and an event.
        """
        if scope is None:
            scope = anyio.CancelScope()
        self._transport_scope, self._transport_ended = scope, None
        self.writer_scope = scope
        return scope

    def end_transport(self, scope: Cancellable) -> None:
        if self.writer_scope is scope:
            self.writer_scope = None
            self.send_started_at = None
        if self._transport_scope is scope:
            ended = self._transport_ended
            self._transport_scope = self._transport_ended = None
            if ended is not None:
                ended.set()

    async def stop_transport(self) -> None:
        """Cancel the running socket request and wait until it has let go."""
        scope = self._transport_scope
        if scope is None:
            return
        ended = self._transport_ended
        if ended is None:
            ended = self._transport_ended = anyio.Event()
        scope.cancel()
        await ended.wait()

    # -- transport side ------------------------------------------------------

    def send_stalled_for(self, now: float) -> float:
        """Seconds the transport's current send has been waiting (0 if none is).

        A cancel scope per send would cost more than the send itself on a busy
        connection; instead the writer stamps ``send_started_at`` around each
        send and the manager's sweep calls ``cancel_stalled_send``.
        """
        started = self.send_started_at
        return 0.0 if started is None else now - started

    def cancel_stalled_send(self) -> None:
        """A send exceeded the send timeout: abort, and stop the writing request."""
        self.abort("A send to the client exceeded the send timeout.")
        scope = self.writer_scope
        if scope is not None:
            self.send_timed_out = True
            scope.cancel()

    def take_outbound(self) -> Coroutine[Any, Any, bytes]:
        """What a transport writes next: every queued chunk, joined.

        The channel's own coroutine, not one wrapping it: a transport's writer
        waits here for the whole life of an idle connection.
        """
        return self.outbound.take()

    def try_set_transport(self, transport: HttpTransportType) -> SetTransportResult:
        """Bind the first transport for good (ID-9) and mark a request active."""
        if self.status is ConnectionStatus.DISPOSED:
            return SetTransportResult.ALREADY_ACTIVE
        if self.transport_type is HttpTransportType.NONE:
            self.transport_type = transport
            self.transport_name = transport.wire_name
        elif self.transport_type is not transport:
            return SetTransportResult.CANNOT_CHANGE
        elif self.status is ConnectionStatus.ACTIVE:
            return SetTransportResult.ALREADY_ACTIVE
        self.status = ConnectionStatus.ACTIVE
        self.last_seen = time.monotonic()
        return SetTransportResult.SUCCESS

    def mark_inactive(self) -> None:
        """The transport request ended but the connection lives on (LP, SR)."""
        if self.status is not ConnectionStatus.DISPOSED:
            self.status = ConnectionStatus.INACTIVE
            self.last_seen = time.monotonic()

    def transport_lost(self) -> None:
        """The client side is gone: the handler sees the end of input (after
        what was already received) and nothing more can be delivered."""
        self.inbound.close()
        self.outbound.close(discard=True)

    # -- handler lifetime --------------------------------------------------

    @property
    def handler_started(self) -> bool:
        return self._handler_scope is not None

    def start_handler(self, handler: ConnectionHandler, runner: TaskRunner) -> None:
        """Start the handler once, outside the current request (see ``tasks``)."""
        if self._handler_scope is not None:
            return
        self._handler_scope = anyio.CancelScope()
        name = f"signalr-handler-{self.connection_id}"
        # Unguarded: ``_run_handler`` handles the handler's errors itself, and
        # a wrapper would be one more frame held by every idle connection.
        runner.start_soon(self._run_handler, name, handler, guarded=False)

    async def _run_handler(self, handler: ConnectionHandler) -> None:
        assert self._handler_scope is not None
        try:
            with self._handler_scope:
                try:
                    await handler(self)
                except ConnectionClosed:
                    pass
                except Exception as exc:
                    logger.exception("Connection handler failed for %s", self.connection_id)
                    self.application_error = exc
        finally:
            self.handler_finished = True
            if self._detached and self._on_dispose is not None:
                self._on_dispose(self)  # nobody to resume for any more
            self.inbound.close(discard=True)
            # Completing (not discarding) lets the transport flush what the
            # handler queued last, such as a Close message, before closing.
            self.outbound.close()
            if self._handler_done is not None:
                self._handler_done.set()

    def interrupt_handler(self) -> None:
        """Cancel a running handler now: it waits on a socket that is gone."""
        scope = self._handler_scope
        if scope is not None and not self.handler_finished:
            scope.cancel()

    async def wait_handler_finished(self) -> None:
        """Wait for a started handler to return (the event exists only while
        someone waits, which is at shutdown)."""
        if self._handler_scope is None or self.handler_finished:
            return
        if self._handler_done is None:
            self._handler_done = anyio.Event()
        await self._handler_done.wait()

    def over_limit_for(self, now: float) -> float:
        """Seconds the outbound buffer has stayed over its bound (0 if it is not,
        or if the transport has taken from it since it went over)."""
        since = self._over_limit_since
        if since is None:
            return 0.0
        outbound = self.outbound
        if outbound.takes != self._over_limit_mark:
            # Drained since; the clock restarts if it is over the bound again.
            over = 0 < outbound.limit < outbound.size
            self._over_limit_since = now if over else None
            self._over_limit_mark = outbound.takes
            return 0.0
        return now - since

    def dispose(self) -> None:
        """Called once by the manager. Ends both channels and gives a running
        handler ``disconnect_timeout`` seconds to return before it is cancelled."""
        self.status = ConnectionStatus.DISPOSED
        self.inbound.close()
        self.outbound.close(discard=True)
        scope = self._handler_scope
        if scope is not None and not self.handler_finished:
            try:
                sniffio.current_async_library()
            except sniffio.AsyncLibraryNotFoundError:
                scope.cancel()
            else:
                scope.deadline = min(
                    scope.deadline, anyio.current_time() + self.options.disconnect_timeout
                )
