"""``HubConnectionHandler``: one hub conversation, from handshake to disconnect.

Concurrency per connection (all inside one anyio task group, so every task
ends with the connection):

* the read loop parses messages and dispatches them in arrival order;
* each non-streaming invocation runs in its own task once one of
  ``maximum_parallel_invocations_per_client`` slots is free. Like the
  reference, the read loop waits only for a *slot*, never for the invocation:
  with the default of 1, a second invocation holds the loop until the first
  finishes, but a Ping or Close arriving while one invocation runs is handled
  at once. While the loop waits for a slot the client timeout is paused, as
  the reference pauses it during dispatch;
* server streams run in their own tasks and never take a slot (INV-11);
* client upload streams are fed by the read loop into small bounded buffers;
  a full buffer makes the loop wait, which stops reading from the transport
  (backpressure, STR-6);
* client results: a Completion that is not for an upload stream goes to the
  lifetime manager, which wakes the server code waiting in ``invoke``;
* with stateful reconnect, an Ack task acknowledges received messages at
  most once per second (SR-7) and the message buffer drops resent
  duplicates (SR-12);
* a keep-alive task sends Ping when nothing was sent for
  ``keep_alive_interval`` (not on transports with inherent keep-alive);
* a watchdog closes the connection when the client, once it has pinged,
  sends nothing for ``client_timeout_interval`` (PING-3).

When the conversation ends, in-flight invocations and streams are
cancelled, a Close goes out if the transport is still there, then
``on_disconnected`` runs and the lifetime manager forgets the connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio
import anyio.abc

from ..connections.context import ConnectionClosed, ConnectionContext
from ..protocol.base import HubProtocol
from ..protocol.errors import MessageTooLargeError, ProtocolError
from ..protocol.handshake import HandshakeParser, write_handshake_response
from ..protocol.messages import (
    PING,
    AckMessage,
    CancelInvocationMessage,
    CloseMessage,
    CompletionMessage,
    HubInvocationMessage,
    HubMessage,
    InvocationMessage,
    PingMessage,
    SequenceMessage,
    StreamInvocationMessage,
    StreamItemMessage,
    TransferFormat,
)
from ..protocol.registry import get_protocol
from .connection import HubConnection
from .dispatcher import HubCaller, HubDispatcher, PreparedInvocation
from .errors import ClientClosedError, ClientTimeoutError
from .hub import Hub
from .lifetime import HubLifetimeManager, InMemoryHubLifetimeManager
from .message_buffer import MessageBuffer, StatefulReconnectTransport
from .options import HubOptions
from .services import ServiceRegistry
from .streams import ClientStream, ClientStreamTracker

__all__ = ["HubConnectionHandler", "UserIdProvider", "default_user_identifier"]

logger = logging.getLogger("signalr_server.hubs.handler")

UserIdProvider = Callable[[ConnectionContext], "str | None"]

_CLEANUP_TIMEOUT = 30.0
"""Upper bound for Close + on_disconnected once the conversation is over."""
_CLOSE_SEND_TIMEOUT = 5.0
"""How long a final Close may wait for room in the outbound buffer."""
_ACK_INTERVAL = 1.0
"""Stateful reconnect: at most one Ack per this many seconds, as the reference (SR-7)."""


_NAME_IDENTIFIER_URI = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier"


def default_user_identifier(connection: ConnectionContext) -> str | None:
    """The user id for ``clients.user(...)``, read from ``connection.user``.

    Accepts a plain string, an object with an ``identifier`` attribute (the
    ``signalr_server.auth.User``: ``sub``, then ``nameid``, then the .NET
    NameIdentifier claim), or a mapping of claims with those keys; ``None``
    otherwise.
    Authentication layers that use another shape pass their own provider.
    """
    user = connection.user
    if user is None:
        return None
    if isinstance(user, str):
        return user or None
    identifier = getattr(user, "identifier", None)
    if isinstance(identifier, str) and identifier:
        return identifier
    if isinstance(user, Mapping):
        for claim in ("sub", "nameid", _NAME_IDENTIFIER_URI):
            value = user.get(claim)
            if isinstance(value, str) and value:
                return value
    return None


@dataclass(frozen=True, slots=True)
class _Ending:
    """Why the read loop stopped, and what the client is told."""

    error: Exception | None = None
    """Passed to ``on_disconnected``."""
    send_close: bool = True
    close_error: str | None = None
    allow_reconnect: bool = False


_TRANSPORT_ENDED = _Ending(send_close=False)
_ABORTED = _Ending()


class HubConnectionHandler:
    """The ``ConnectionHandler`` that runs ``hub_type`` on each connection it is given."""

    def __init__(
        self,
        hub_type: type[Hub],
        options: HubOptions | None = None,
        lifetime_manager: HubLifetimeManager | None = None,
        services: ServiceRegistry | None = None,
        *,
        user_id_provider: UserIdProvider = default_user_identifier,
    ) -> None:
        self.options = options or HubOptions()
        self.lifetime_manager = lifetime_manager or InMemoryHubLifetimeManager()
        self.services = services or ServiceRegistry()
        self.dispatcher = HubDispatcher(
            hub_type, self.options, self.lifetime_manager, self.services
        )
        self.user_id_provider = user_id_provider
        allowed = self.options.supported_protocols
        self._allowed_protocols = None if allowed is None else frozenset(allowed)

    async def __call__(self, connection: ConnectionContext) -> None:
        logger.debug("Connection %s started", connection.connection_id)
        if self.dispatcher.hub_rules and not await self.dispatcher.authorize_connection(
            connection.user, connection.request
        ):
            # The endpoint normally refuses such requests with 401/403 before a
            # handler starts; this is the backstop for any other way in.
            logger.warning("Connection %s refused: user is unauthorized", connection.connection_id)
            return
        try:
            handshake = await self._handshake(connection)
            if handshake is not None:
                protocol, remainder, version = handshake
                await _Session(self, connection, protocol, version).run(remainder)
        finally:
            logger.debug("Connection %s ended", connection.connection_id)

    # -- handshake -------------------------------------------------------------

    def _protocol_error(
        self, connection: ConnectionContext, name: str, version: int
    ) -> tuple[HubProtocol | None, str | None]:
        protocol = None
        if self._allowed_protocols is None or name in self._allowed_protocols:
            protocol = get_protocol(name)
        if protocol is None:
            return None, f"The protocol '{name}' is not supported."
        if version > protocol.version:
            return None, f"The server does not support version {version} of the '{name}' protocol."
        if protocol.transfer_format not in connection.supported_formats:
            return None, (
                f"Cannot use the '{name}' protocol on the current transport. The transport "
                f"does not support '{protocol.transfer_format.value}' transfer format."
            )
        return protocol, None

    async def _handshake(
        self, connection: ConnectionContext
    ) -> tuple[HubProtocol, bytes, int] | None:
        """Read and answer the handshake (HS-1 … HS-13); ``None`` means the connection is over."""
        parser = HandshakeParser(self.options.maximum_receive_message_size)
        error: str | None = None
        protocol: HubProtocol | None = None
        version = 0
        with anyio.move_on_after(self.options.handshake_timeout):
            try:
                request = None
                while request is None:
                    request = parser.feed(await connection.receive())
            except ConnectionClosed:
                logger.debug("Connection %s closed during the handshake", connection.connection_id)
                return None
            except MessageTooLargeError:
                error = "Handshake was canceled."
            except ProtocolError as exc:
                error = self.dispatcher.error_text(
                    "An unexpected error occurred during connection handshake.", exc
                )
            else:
                version = request.version
                protocol, error = self._protocol_error(
                    connection, request.protocol, request.version
                )
        if protocol is None and error is None:
            error = "Handshake was canceled."
        if error is not None or protocol is None:
            logger.warning("Handshake failed on connection %s: %s", connection.connection_id, error)
            await self._send_quietly(connection, write_handshake_response(error))
            return None
        connection.transfer_format = protocol.transfer_format
        if not await self._send_quietly(connection, write_handshake_response(None)):
            return None
        return protocol, parser.remainder, version

    @staticmethod
    async def _send_quietly(connection: ConnectionContext, data: bytes) -> bool:
        try:
            await connection.send(data)
        except ConnectionClosed:
            return False
        return True


class _Session:
    """State of one connection after its handshake."""

    def __init__(
        self,
        handler: HubConnectionHandler,
        context: ConnectionContext,
        protocol: HubProtocol,
        version: int = 1,
    ) -> None:
        self.handler = handler
        self.options = handler.options
        self.dispatcher = handler.dispatcher
        self.context = context
        self.protocol = protocol
        self.connection = HubConnection(context, protocol, handler.user_id_provider(context))
        self.connection.set_abort_callback(lambda: self._stop(_ABORTED))
        parallel = self.options.maximum_parallel_invocations_per_client
        self.caller = HubCaller(
            self.connection, handler.lifetime_manager, parallel_invocations=parallel
        )
        self.binary = protocol.transfer_format is TransferFormat.BINARY
        self.slots = anyio.Semaphore(parallel)
        self.streams: dict[str, anyio.CancelScope] = {}
        self.uploads = ClientStreamTracker(self.options.stream_buffer_capacity)
        self.buffer: MessageBuffer | None = None
        self.ack_wanted = anyio.Event()
        # Stateful reconnect needs both the negotiate opt-in and a version 2
        # handshake; otherwise it stays off for this connection (SR-3).
        if (
            version >= 2
            and isinstance(context, StatefulReconnectTransport)
            and context.use_stateful_reconnect
        ):
            self.buffer = MessageBuffer(self.options.stateful_reconnect_buffer_size)
            self.connection.message_buffer = self.buffer
            context.on_reconnected(self._on_reconnected)
        self.ending: _Ending | None = None
        self.read_scope: anyio.CancelScope | None = None
        self.last_received = anyio.current_time()
        self.dispatching = False
        self.client_pinged = anyio.Event()
        self.task_group: anyio.abc.TaskGroup | None = None

    @property
    def connection_id(self) -> str:
        return self.context.connection_id

    def _stop(self, ending: _Ending) -> None:
        """End the conversation from a timer or ``abort()``; the first reason wins."""
        if self.ending is None:
            self.ending = ending
        if self.read_scope is not None:
            self.read_scope.cancel()

    async def run(self, remainder: bytes) -> None:
        lifetime = self.handler.lifetime_manager
        await lifetime.on_connected(self.connection)
        ending: _Ending | None = None
        hub_connected = False
        try:
            try:
                await self.dispatcher.on_connected(self.caller)
                hub_connected = True
            except Exception as exc:
                logger.warning(
                    "on_connected failed for connection %s: %s",
                    self.connection_id,
                    type(exc).__name__,
                    exc_info=True,
                )
                text = self.dispatcher.error_text("Connection closed with an error.", exc)
                await self._send_close(text, allow_reconnect=False)
                return
            ending = await self._serve(remainder)
        finally:
            with anyio.move_on_after(_CLEANUP_TIMEOUT, shield=True):
                try:
                    # ``ending`` stays None when we were cancelled from outside (the
                    # transport went away): there is nobody left to send a Close to.
                    if ending is not None and ending.send_close:
                        await self._send_close(ending.close_error, ending.allow_reconnect)
                    if hub_connected:
                        error = ending.error if ending is not None else None
                        await self.dispatcher.on_disconnected(self.caller, error)
                finally:
                    await lifetime.on_disconnected(self.connection)

    async def _send_close(self, error: str | None, allow_reconnect: bool) -> None:
        with anyio.move_on_after(_CLOSE_SEND_TIMEOUT):
            try:
                await self.connection.write(CloseMessage(error, allow_reconnect))
            except Exception as exc:
                logger.debug(
                    "Could not send Close to connection %s: %s",
                    self.connection_id,
                    type(exc).__name__,
                )

    async def _serve(self, remainder: bytes) -> _Ending:
        async with anyio.create_task_group() as task_group:
            self.task_group = task_group
            if not self.context.has_inherent_keep_alive:
                task_group.start_soon(self._keep_alive)
            task_group.start_soon(self._watch_client_timeout)
            if self.buffer is not None:
                task_group.start_soon(self._send_acks, self.buffer)
            if self.options.close_on_authentication_expiration:
                task_group.start_soon(self._watch_authentication_expiry)
            with anyio.CancelScope() as self.read_scope:
                if self.ending is None:  # abort() may have come from on_connected
                    ending = await self._read_loop(remainder)
                    if self.ending is None:
                        self.ending = ending
            self.uploads.complete_all()
            task_group.cancel_scope.cancel()
        assert self.ending is not None
        return self.ending

    # -- reading ---------------------------------------------------------------

    async def _read_loop(self, data: bytes) -> _Ending:
        reader = self.protocol.reader(self.options.maximum_receive_message_size)
        while True:
            if data:
                self.last_received = anyio.current_time()
                try:
                    messages = reader.feed(data)
                except Exception as exc:
                    return self._protocol_failure(exc)
                for message in messages:
                    self.dispatching = True
                    try:
                        ending = await self._dispatch(message)
                    except Exception as exc:
                        return self._protocol_failure(exc)
                    finally:
                        self.dispatching = False
                        self.last_received = anyio.current_time()
                    if ending is not None:
                        return ending
            try:
                data = await self.context.receive()
            except ConnectionClosed:
                return _TRANSPORT_ENDED

    def _protocol_failure(self, exc: Exception) -> _Ending:
        logger.warning(
            "Closing connection %s after a protocol error: %s: %s",
            self.connection_id,
            type(exc).__name__,
            exc,
        )
        return _Ending(
            error=exc,
            close_error=self.dispatcher.error_text("Connection closed with an error.", exc),
            allow_reconnect=True,
        )

    async def _dispatch(self, message: HubMessage) -> _Ending | None:
        buffer = self.buffer
        if buffer is not None:
            if isinstance(message, HubInvocationMessage):
                if not buffer.should_process():
                    return None  # resent after a reconnect, already handled (SR-12)
                self.ack_wanted.set()
            elif isinstance(message, AckMessage):
                buffer.ack(message.sequence_id)
                return None
            elif isinstance(message, SequenceMessage):
                buffer.on_sequence(message.sequence_id)  # SequenceError closes (SR-12)
                return None
        if isinstance(message, StreamItemMessage):
            await self.uploads.put(message.invocation_id, message.item)
        elif isinstance(message, CompletionMessage):
            await self._on_completion(message)
        elif isinstance(message, InvocationMessage):
            await self._on_invocation(message)
        elif isinstance(message, StreamInvocationMessage):
            await self._on_stream_invocation(message)
        elif isinstance(message, PingMessage):
            self.client_pinged.set()
        elif isinstance(message, CancelInvocationMessage):
            scope = self.streams.get(message.invocation_id)
            if scope is not None:
                scope.cancel()
        elif isinstance(message, CloseMessage):
            if buffer is not None and isinstance(self.context, StatefulReconnectTransport):
                self.context.on_reconnected(None)  # a goodbye, not a drop (SR-9)
            error = None if message.error is None else ClientClosedError(message.error)
            return _Ending(error=error)
        # Ack and Sequence without stateful reconnect: ignored (SR-13, ERR-2).
        return None

    async def _on_completion(self, message: CompletionMessage) -> None:
        """End an upload stream, or answer a client-result invocation; else ignore (INV-13)."""
        if self.uploads.complete(message.invocation_id, message.error):
            return
        await self.handler.lifetime_manager.set_connection_result(self.connection_id, message)

    def _open_uploads(self, prepared: PreparedInvocation) -> list[ClientStream[Any]]:
        if not prepared.stream_ids:
            return []
        streams = self.uploads.open(prepared.stream_ids, prepared.method.stream_converters)
        prepared.attach_streams(streams)
        return streams

    async def _on_invocation(self, message: InvocationMessage) -> None:
        prepared = self.dispatcher.prepare(
            message.target,
            message.arguments,
            message.stream_ids,
            message.invocation_id,
            streaming=False,
            binary=self.binary,
        )
        if isinstance(prepared, str):
            await self.dispatcher.send_error(self.connection, message.invocation_id, prepared)
            return
        assert self.task_group is not None
        if prepared.stream_ids:
            # Methods with upload streams run in the background and take no
            # slot, or the stream items they wait for could never be read (INV-11).
            # The streams open now, before the next message is read.
            streams = self._open_uploads(prepared)
            self.task_group.start_soon(self._run_invocation, prepared, streams, False)
            return
        await self.slots.acquire()
        self.task_group.start_soon(self._run_invocation, prepared, [], True)

    async def _run_invocation(
        self, prepared: PreparedInvocation, streams: list[ClientStream[Any]], holds_slot: bool
    ) -> None:
        try:
            await self.dispatcher.invoke(self.caller, prepared)
        finally:
            self.uploads.close(streams)
            if holds_slot:
                self.slots.release()

    async def _on_stream_invocation(self, message: StreamInvocationMessage) -> None:
        invocation_id = message.invocation_id
        if invocation_id in self.streams:
            text = f"Invocation ID '{invocation_id}' is already in use."
            await self.dispatcher.send_error(self.connection, invocation_id, text)
            return
        prepared = self.dispatcher.prepare(
            message.target,
            message.arguments,
            message.stream_ids,
            invocation_id,
            streaming=True,
            binary=self.binary,
        )
        if isinstance(prepared, str):
            await self.dispatcher.send_error(self.connection, invocation_id, prepared)
            return
        scope = anyio.CancelScope()
        self.streams[invocation_id] = scope
        assert self.task_group is not None
        streams = self._open_uploads(prepared)
        self.task_group.start_soon(self._run_stream, prepared, scope, streams)

    async def _run_stream(
        self,
        prepared: PreparedInvocation,
        scope: anyio.CancelScope,
        streams: list[ClientStream[Any]],
    ) -> None:
        try:
            await self.dispatcher.stream(self.caller, prepared, scope)
        finally:
            self.uploads.close(streams)
            self.streams.pop(prepared.invocation_id or "", None)

    # -- stateful reconnect -----------------------------------------------------

    def _on_reconnected(self) -> None:
        """The transport swapped in a new WebSocket (SR-10): resend, then ack again."""
        logger.debug("Connection %s reconnected", self.connection_id)
        self.connection.resend_after_reconnect()
        if self.buffer is not None:
            self.buffer.reset_ack()
            self.ack_wanted.set()

    async def _send_acks(self, buffer: MessageBuffer) -> None:
        while True:
            await self.ack_wanted.wait()
            self.ack_wanted = anyio.Event()
            sequence_id = buffer.ack_due()
            if sequence_id is not None:
                try:
                    await self.connection.write(AckMessage(sequence_id))
                except Exception as exc:
                    logger.debug("Acks stopped on %s: %s", self.connection_id, type(exc).__name__)
                    return
            await anyio.sleep(_ACK_INTERVAL)

    # -- timers ----------------------------------------------------------------

    async def _keep_alive(self) -> None:
        interval = self.options.keep_alive_interval
        while True:
            due = self.connection.last_sent + interval
            now = anyio.current_time()
            if now < due:
                await anyio.sleep(due - now)
                continue
            try:
                await self.connection.write(PING)
            except Exception as exc:
                logger.debug("Keep-alive stopped on %s: %s", self.connection_id, type(exc).__name__)
                return

    async def _watch_client_timeout(self) -> None:
        await self.client_pinged.wait()
        interval = self.options.client_timeout_interval
        while True:
            if self.dispatching:
                await anyio.sleep(interval)
                continue
            now = anyio.current_time()
            due = self.last_received + interval
            if now >= due:
                error = ClientTimeoutError()
                logger.warning("Connection %s timed out", self.connection_id)
                self._stop(
                    _Ending(
                        error=error,
                        close_error=self.dispatcher.error_text(
                            "Connection closed with an error.", error
                        ),
                        allow_reconnect=True,
                    )
                )
                return
            await anyio.sleep(due - now)

    async def _watch_authentication_expiry(self) -> None:
        """Close when the user's credential expires (CLOSE-5): a Close with
        ``allowReconnect`` and no error, so the client may come back with a
        fresh token. ``expires_at`` is re-read after each wait because a Long
        Polling request with a newer token replaces the connection's user."""
        while True:
            expires_at = getattr(self.context.user, "expires_at", None)
            if not isinstance(expires_at, datetime):
                return
            remaining = (expires_at - datetime.now(UTC)).total_seconds()
            if remaining <= 0:
                logger.info("Connection %s closed: authentication expired", self.connection_id)
                self._stop(_Ending(allow_reconnect=True))
                return
            await anyio.sleep(remaining)
