"""One hub conversation after its handshake: reading, dispatch, timers, goodbye.

Concurrency per connection (all inside one anyio task group, so every task
ends with the connection):

* the read loop parses messages and dispatches them in arrival order;
* each non-streaming invocation runs once one of
  ``maximum_parallel_invocations_per_client`` slots is free: a plain ``def``
  method (no ``@authorize``, no constructor services) right in the read loop,
  since it cannot wait; anything else in its own task. Like the
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
* the endpoint's heartbeat (one task for all connections, see ``heartbeat``)
  sends Ping when nothing was sent for ``keep_alive_interval`` (not on
  transports with inherent keep-alive) and closes the connection when the
  client, once it has pinged, sends nothing for ``client_timeout_interval``
  (PING-3).

When the conversation ends, in-flight invocations and streams are
cancelled, a Close goes out if the transport is still there, then
``on_disconnected`` runs and the lifetime manager forgets the connection.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from time import monotonic
from typing import TYPE_CHECKING, Any, cast

import anyio
import anyio.abc
import sniffio

from ..connections.context import ConnectionClosed, ConnectionContext
from ..protocol.base import HubProtocol, MessageReader, result_writer
from ..protocol.messages import (
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
from .connection import HubConnection
from .conversion import WIRE_READY, to_wire
from .dispatcher import HubCaller, PreparedInvocation, is_awaitable
from .errors import BindingError, ClientClosedError, ClientTimeoutError
from .message_buffer import MessageBuffer, StatefulReconnectTransport
from .streams import ClientStream, ClientStreamTracker

if TYPE_CHECKING:
    from .handler import HubConnectionHandler
    from .methods import HubMethod

__all__ = ["Session"]

logger = logging.getLogger("signalr_server.hubs.handler")

_CLEANUP_TIMEOUT = 30.0
"""Upper bound for Close + on_disconnected once the conversation is over."""
_CLOSE_SEND_TIMEOUT = 5.0
"""How long a final Close may wait for room in the outbound buffer."""
_ACK_INTERVAL = 1.0
"""Stateful reconnect: at most one Ack per this many seconds, as the reference (SR-7)."""
_AWAITABLE = object()
"""``_invoke_now``: the method handed back an awaitable, which has no wire form yet."""


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


class _Taken:
    """Marks, among the messages the read loop goes through, the place of the
    dispatch that ``_take_now`` started and left to it to await."""


_TAKEN = _Taken()


class Session:
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
        self.connection.set_abort_callback(self._abort)
        parallel = self.options.maximum_parallel_invocations_per_client
        self.caller = HubCaller(
            self.connection, handler.lifetime_manager, parallel_invocations=parallel
        )
        self.binary = protocol.transfer_format is TransferFormat.BINARY
        self._write_result = result_writer(protocol)
        self.inline_names = self.dispatcher.inline_names
        self.free_slots = parallel
        """Invocation slots left; only the read loop ever waits for one, so a
        counter and an event made on demand do what a semaphore would, without
        the semaphore's waiter queue on every idle connection."""
        self.slot_freed: anyio.Event | None = None
        self.streams: dict[str, anyio.CancelScope] = {}
        self.uploads = ClientStreamTracker(self.options.stream_buffer_capacity)
        self.buffer: MessageBuffer | None = None
        self.ack_wanted: anyio.Event | None = None
        """Stateful reconnect only: wakes the Ack task."""
        # Stateful reconnect needs both the negotiate opt-in and a version 2
        # handshake; otherwise it stays off for this connection (SR-3).
        if (
            version >= 2
            and isinstance(context, StatefulReconnectTransport)
            and context.use_stateful_reconnect
        ):
            self.buffer = MessageBuffer(self.options.stateful_reconnect_buffer_size)
            self.ack_wanted = anyio.Event()
            self.connection.message_buffer = self.buffer
            context.on_reconnected(self._on_reconnected)
        self.ending: _Ending | None = None
        self.last_received = monotonic()
        self.dispatching = False
        self.client_pinged = False
        self.sends_pings = not context.has_inherent_keep_alive
        self.task_group: anyio.abc.TaskGroup | None = None
        self.reader: MessageReader = protocol.reader(self.options.maximum_receive_message_size)
        self.parked = False
        """The read loop waits in ``receive``: ``_take_now`` may act for it."""
        self.taken: tuple[Awaitable[_Ending | None], list[HubMessage]] | Exception | None = None
        """What ``_take_now`` left for the read loop: the dispatch to await and
        the messages after it, or the error to close with."""

    @property
    def connection_id(self) -> str:
        return self.context.connection_id

    def _abort(self) -> None:
        self._stop(_ABORTED)

    def _stop(self, ending: _Ending) -> None:
        """End the conversation from a timer or ``abort()``; the first reason wins."""
        if self.ending is None:
            self.ending = ending
        if self.task_group is not None:
            self.task_group.cancel_scope.cancel()

    async def run(self, remainder: bytes) -> None:
        lifetime = self.handler.lifetime_manager
        heartbeat = self.handler.heartbeat
        await lifetime.on_connected(self.connection)
        hub_connected = False
        ending: _Ending | None = None
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
            # The conversation itself, in this frame rather than a helper's:
            # every idle connection holds its handler's chain of frames.
            heartbeat.add(self)
            try:
                # ``_stop`` cancels this group's scope: the read loop and every
                # invocation end together, with no extra cancel scope per connection.
                async with anyio.create_task_group() as task_group:
                    self.task_group = task_group
                    if self.buffer is not None:
                        task_group.start_soon(self._send_acks, self.buffer)
                    if self.options.close_on_authentication_expiration:
                        task_group.start_soon(self._watch_authentication_expiry)
                    if self.ending is None:  # abort() may have come from on_connected
                        ending = await self._read_loop(remainder)
                        if self.ending is None:
                            self.ending = ending
                    task_group.cancel_scope.cancel()
            finally:
                heartbeat.discard(self)
                self.uploads.complete_all()
            ending = self.ending
        finally:
            # ``ending`` stays None when we were cancelled from outside (the
            # transport went away): there is nobody left to send a Close to.
            with anyio.move_on_after(_CLEANUP_TIMEOUT, shield=True):
                try:
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

    # -- reading ---------------------------------------------------------------

    async def _read_loop(self, data: bytes) -> _Ending:
        reader = self.reader
        listening = self.buffer is None and self.context.listen(self._listener())
        try:
            while True:
                answered: Awaitable[_Ending | None] | None = None
                taken = self.taken
                if taken is None:
                    if not data:
                        messages: Sequence[HubMessage | _Taken] = ()
                    else:
                        self.last_received = monotonic()
                        try:
                            messages = reader.feed(data)
                        except Exception as exc:
                            return self._protocol_failure(exc)
                else:
                    # ``_take_now`` parsed ``data`` already and left us its
                    # pending dispatch (awaited first) and the messages after it.
                    self.taken = None
                    if isinstance(taken, Exception):
                        return self._protocol_failure(taken)
                    answered = taken[0]
                    messages = [_TAKEN, *taken[1]]
                for message in messages:
                    try:
                        if type(message) is InvocationMessage and self.buffer is None:
                            answered = self._invoke_now(message)
                            if answered is None:
                                continue  # called and answered, no await needed
                        elif message is not _TAKEN:
                            answered = self._dispatch(cast(HubMessage, message))
                    except Exception as exc:
                        return self._protocol_failure(exc)
                    assert answered is not None
                    self.dispatching = True
                    try:
                        ending = await answered
                    except ConnectionClosed:
                        ending = None  # a reply for a transport that is gone: receive says so
                    except Exception as exc:
                        return self._protocol_failure(exc)
                    finally:
                        self.dispatching = False
                        self.last_received = monotonic()
                    if ending is not None:
                        return ending
                self.parked = True
                try:
                    data = await self.context.receive()
                except ConnectionClosed:
                    return _TRANSPORT_ENDED
                finally:
                    self.parked = False
        finally:
            if listening:
                self.context.listen(None)
            leftover, self.taken = self.taken, None
            if isinstance(leftover, tuple):
                # Ended (an abort, a drop) before the read loop took it over.
                close = getattr(leftover[0], "close", None)
                if close is not None:
                    close()

    def _listener(self) -> Callable[[bytes], bool]:
        """``_take_now`` as the transport calls it: from a protocol callback,
        outside any task, yet with what hub methods see in the read loop.

        It runs in a copy of this task's context variables (so what
        ``on_connected`` set is visible), with sniffio told the library, so
        anyio and sniffio calls work in a plain method as they do in a task.
        Only the asyncio native server calls listeners.
        """
        library = sniffio.current_async_library()

        def name_the_library() -> None:
            sniffio.current_async_library_cvar.set(library)

        context = contextvars.copy_context()
        context.run(name_the_library)
        run, take_now = context.run, self._take_now

        def listener(data: bytes) -> bool:
            return run(take_now, data)

        return listener

    def _take_now(self, data: bytes) -> bool:
        """The transport's listener: inbound bytes while the read loop waits.

        Parses them and answers the usual invocations (``_invoke_now``) and
        pings right here, so an echo needs no wake-up of the read loop's task.
        At the first message that needs awaiting, it stops and returns False:
        the transport then hands ``data`` to the waiting ``receive`` after
        all, and the read loop, seeing ``taken``, carries on with what is left
        instead of parsing it again. Errors are left to the read loop the same
        way. Never raises.
        """
        if not self.parked or self.taken is not None or self.ending is not None:
            return False
        self.last_received = monotonic()
        answered: Awaitable[_Ending | None] | None
        try:
            messages = self.reader.feed(data)
            for index, message in enumerate(messages):
                if type(message) is InvocationMessage:
                    answered = self._invoke_now(message)
                    if answered is None:
                        continue
                elif type(message) is PingMessage:
                    self.client_pinged = True
                    continue
                else:
                    answered = self._dispatch(message)
                self.taken = (answered, messages[index + 1 :])
                return False
        except Exception as exc:
            self.taken = exc
            return False
        return True

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
                self._want_ack()
            elif isinstance(message, AckMessage):
                buffer.ack(message.sequence_id)
                return None
            elif isinstance(message, SequenceMessage):
                buffer.on_sequence(message.sequence_id)  # SequenceError closes (SR-12)
                return None
        # Exact type checks, cheaper than isinstance on this per-message path:
        # the message classes are final (slotted, frozen, never subclassed).
        if type(message) is InvocationMessage:
            await self._on_invocation(message)
        elif type(message) is StreamItemMessage:
            await self.uploads.put(message.invocation_id, message.item)
        elif type(message) is CompletionMessage:
            await self._on_completion(message)
        elif type(message) is StreamInvocationMessage:
            await self._on_stream_invocation(message)
        elif type(message) is PingMessage:
            self.client_pinged = True
        elif type(message) is CancelInvocationMessage:
            scope = self.streams.get(message.invocation_id)
            if scope is not None:
                scope.cancel()
        elif type(message) is CloseMessage:
            if buffer is not None and isinstance(self.context, StatefulReconnectTransport):
                self.context.on_reconnected(None)  # a goodbye, not a drop (SR-9)
            error = message.error
            return _Ending(error=None if error is None else ClientClosedError(error))
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

    def _invoke_now(self, message: InvocationMessage) -> Awaitable[None] | None:
        """Take the usual invocation from call to Completion without a coroutine.

        The usual one: a method that ``runs_inline``, a free slot, no upload
        streams, arguments that bind. It is called here and its Completion
        goes out through ``begin_send``; ``None`` means all of that is done.
        Else the coroutine that finishes the job, for the read loop to await:
        ``_on_invocation`` from the start (which also reports unknown methods
        and binding errors), the Completion of a failure, or a reply that must
        wait for room. Every echo takes this path, so it skips the prepared
        invocation, the ``CompletionMessage`` and six awaits of the general one.
        """
        method = self.inline_names.get(message.target)  # one dict hit, usually
        if method is None:
            method = self.dispatcher.inline_method(message.target)
        if method is None or message.stream_ids or self.free_slots <= 0:
            return self._on_invocation(message)
        arguments = message.arguments
        if len(arguments) in method.copied_counts:
            arguments = list(arguments)  # what ``bind`` would do, without the call
        else:
            try:
                arguments = method.bind(arguments, per_argument_errors=self.binary)
            except BindingError:
                return self._on_invocation(message)
        try:
            outcome = self.dispatcher.call_inline(self.caller, method.attribute, arguments)
            if type(outcome) in WIRE_READY:  # the usual result: nothing to check or convert
                wire_result = outcome
            elif is_awaitable(outcome):
                wire_result = _AWAITABLE
            else:
                wire_result = to_wire(outcome)
        except Exception as exc:
            return self._finish_generally(method, arguments, message, None, exc)
        if wire_result is _AWAITABLE:
            return self._finish_generally(method, arguments, message, outcome, None)
        invocation_id = message.invocation_id
        if not invocation_id:
            return None
        # A result the codec refuses (NaN in JSON) raises here, as in
        # ``HubConnection.write``: the read loop closes the connection.
        data = self._write_result(invocation_id, wire_result)
        # What ``HubConnection.write`` does without a stateful-reconnect
        # buffer (the read loop calls this only then), with no coroutine when
        # the transport writes without waiting.
        self.connection.last_sent = monotonic()
        return self.context.begin_send(data)

    def _finish_generally(
        self,
        method: HubMethod,
        arguments: list[Any],
        message: InvocationMessage,
        outcome: Any,
        error: Exception | None,
    ) -> Awaitable[None] | None:
        """A failure, or a ``def`` that handed back an awaitable: the general path."""
        assert self.task_group is not None
        prepared = PreparedInvocation(method, arguments, message.target, message.invocation_id)
        self.free_slots -= 1
        if error is None:
            self.task_group.start_soon(self._finish_inline, prepared, outcome, None)
            return None
        return self._finish_inline(prepared, None, error)

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
        while self.free_slots <= 0:
            if self.slot_freed is None:
                self.slot_freed = anyio.Event()
            await self.slot_freed.wait()
        self.free_slots -= 1  # no checkpoint when a slot is free (the usual case)
        if not self.dispatcher.runs_inline(prepared.method):
            self.task_group.start_soon(self._run_invocation, prepared, [], True)
            return
        # A plain method cannot wait, so it runs right here: no task, no hop.
        outcome: Any = None
        error: Exception | None = None
        try:
            outcome = self.dispatcher.call_inline(
                self.caller, prepared.method.attribute, prepared.arguments
            )
        except Exception as exc:
            error = exc
        if error is None and is_awaitable(outcome):
            # A ``def`` that hands back an awaitable may take any time: a task.
            self.task_group.start_soon(self._finish_inline, prepared, outcome, None)
            return
        try:
            await self.dispatcher.complete(self.caller, prepared, outcome, error)
        finally:
            self._release_slot()

    def _release_slot(self) -> None:
        self.free_slots += 1
        event = self.slot_freed
        if event is not None:
            self.slot_freed = None
            event.set()

    async def _finish_inline(
        self, prepared: PreparedInvocation, outcome: Any, error: Exception | None
    ) -> None:
        """Await what an inline call handed back (if anything), send its
        Completion, then give its slot back."""
        try:
            await self.dispatcher.finish_inline(self.caller, prepared, outcome, error)
        finally:
            self._release_slot()

    async def _run_invocation(
        self, prepared: PreparedInvocation, streams: list[ClientStream[Any]], holds_slot: bool
    ) -> None:
        try:
            await self.dispatcher.invoke(self.caller, prepared)
        finally:
            self.uploads.close(streams)
            if holds_slot:
                self._release_slot()

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
            self._want_ack()

    def _want_ack(self) -> None:
        if self.ack_wanted is not None:
            self.ack_wanted.set()

    async def _send_acks(self, buffer: MessageBuffer) -> None:
        while True:
            if self.ack_wanted is not None:
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

    def on_heartbeat(self, now: float) -> None:
        """Called by the endpoint's heartbeat: keep-alive and client timeout.

        A Ping goes out when nothing was sent for ``keep_alive_interval``
        (never on transports with inherent keep-alive). Once the client has
        pinged, silence for ``client_timeout_interval`` closes the connection
        (PING-3); the clock is paused while a message is being dispatched.
        """
        options = self.options
        if self.sends_pings and now - self.connection.last_sent >= options.keep_alive_interval:
            self.connection.send_ping()
        if (
            self.client_pinged
            and not self.dispatching
            and self.ending is None
            and now - self.last_received >= options.client_timeout_interval
        ):
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
