"""Running hub methods: activation, invocation, server streams, and their error texts.

One ``HubDispatcher`` serves every connection of a hub endpoint; all
per-connection state (the caller context, concurrency slots, active
streams) lives in the connection handler's session and is passed in.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import anyio
import anyio.lowlevel

from ..connections.context import ConnectionClosed, RequestInfo
from ..protocol.messages import CompletionMessage, StreamItemMessage
from .authorization import AuthorizationContext, hub_rules, is_authorized, method_rules
from .clients import GroupManager, HubCallerClients
from .connection import HubConnection
from .context import HubCallerContext
from .conversion import to_wire
from .errors import BindingError, HubException, build_error_message
from .hub import Hub
from .lifetime import HubLifetimeManager
from .methods import HubMethod, method_table
from .options import HubOptions
from .services import ServiceRegistry, ServiceScope

_NEVER_AWAITABLE = frozenset({type(None), str, int, float, bool, bytes, list, dict, tuple})


def is_awaitable(value: Any) -> bool:
    """``inspect.isawaitable`` without its ABC check for the usual plain results:
    a hub method's return value is tested on every invocation."""
    return type(value) not in _NEVER_AWAITABLE and inspect.isawaitable(value)


__all__ = ["HubCaller", "HubDispatcher", "PreparedInvocation"]

logger = logging.getLogger("signalr_server.hubs.dispatcher")


class HubCaller:
    """The per-connection objects every hub instance of that connection receives."""

    __slots__ = ("clients", "connection", "context")

    def __init__(
        self,
        connection: HubConnection,
        lifetime_manager: HubLifetimeManager,
        *,
        parallel_invocations: int = 1,
    ) -> None:
        self.connection = connection
        self.context = HubCallerContext(connection)
        self.clients = HubCallerClients(
            lifetime_manager,
            connection.connection_id,
            parallel_invocations=parallel_invocations,
        )


class PreparedInvocation:
    """A method found and its arguments bound, ready to run."""

    __slots__ = ("arguments", "invocation_id", "method", "stream_ids", "target")

    def __init__(
        self,
        method: HubMethod,
        arguments: list[Any],
        target: str,
        invocation_id: str | None,
        stream_ids: Sequence[str] = (),
    ) -> None:
        self.method = method
        self.arguments = arguments
        self.target = target
        self.invocation_id = invocation_id
        self.stream_ids = stream_ids
        """Client upload stream ids, in the order of the method's stream parameters."""

    def attach_streams(self, streams: Sequence[Any]) -> None:
        """Put the upload streams at their parameter positions among the bound arguments."""
        for position, stream in zip(self.method.stream_parameters, streams, strict=True):
            self.arguments.insert(position, stream)


class HubDispatcher:
    """Finds, binds and runs hub methods for one hub class."""

    def __init__(
        self,
        hub_type: type[Hub],
        options: HubOptions,
        lifetime_manager: HubLifetimeManager,
        services: ServiceRegistry,
    ) -> None:
        self.hub_type = hub_type
        self.methods = method_table(hub_type)
        self.options = options
        self.lifetime_manager = lifetime_manager
        self.services = services
        self.hub_rules = hub_rules(hub_type)
        self.method_rules = {
            method.attribute: method_rules(getattr(hub_type, method.attribute))
            for method in self.methods.methods
        }
        self.groups = GroupManager(lifetime_manager)
        # Also surfaces signature errors at start-up.
        self._needs_services = bool(services.constructor_dependencies(hub_type))
        self._inline = frozenset(
            method.attribute
            for method in self.methods.methods
            if not method.is_streaming
            and not inspect.iscoroutinefunction(getattr(hub_type, method.attribute))
            and not self.method_rules[method.attribute]
        )
        self.inline_names: dict[str, HubMethod] = {}
        """The methods that ``runs_inline``, by each name the method table
        knows, lowercased as there and also as declared (what clients send),
        so the usual lookup needs no ``lower()``. Read it, never change it;
        ``inline_method`` also matches other casings."""
        if not self._needs_services:
            for key, method in self.methods.names():
                if method.attribute in self._inline:
                    self.inline_names[key] = method
                    for declared in (method.name, method.attribute):
                        if declared.lower() == key:
                            self.inline_names[declared] = method

    def runs_inline(self, method: HubMethod) -> bool:
        """Whether the read loop may call ``method`` itself (``call_inline``).

        True for a plain ``def`` method with no ``@authorize`` rules on a hub
        whose constructor takes no services: nothing in it can wait, so a task
        of its own would only add a hop. A ``def`` that returns an awaitable
        is still handed to a task by the caller (see ``finish_inline``).
        """
        return not self._needs_services and method.attribute in self._inline

    def inline_method(self, target: str) -> HubMethod | None:
        """The method ``target`` names when it ``runs_inline``; else ``None``
        (unknown names included: ``prepare`` reports those)."""
        method = self.inline_names.get(target)
        if method is None:
            # Names match case-insensitively, as in the method table.
            method = self.inline_names.get(target.lower())
        return method

    # -- errors ----------------------------------------------------------------

    def error_text(self, message: str, exc: BaseException | None) -> str:
        return build_error_message(message, exc, self.options.enable_detailed_errors)

    def prepare(
        self,
        target: str,
        arguments: Sequence[Any],
        stream_ids: Sequence[str] | None,
        invocation_id: str | None,
        *,
        streaming: bool,
        binary: bool,
    ) -> PreparedInvocation | str:
        """Look the method up and bind the arguments; a ``str`` result is the error text.

        Checks run in the reference's order: unknown method and binding
        failures (INV-4, INV-5), then call kind (INV-9), then upload stream
        count (INV-10).
        """
        method = self.methods.lookup(target)
        if method is None:
            logger.warning("Unknown hub method '%s'", target)
            return self.error_text(
                f"Failed to invoke '{target}' due to an error on the server.",
                HubException("Method does not exist."),
            )
        try:
            bound = method.bind(arguments, per_argument_errors=binary)
        except BindingError as exc:
            logger.warning("Invalid arguments for hub method '%s': %s", target, exc)
            return self.error_text(
                f"Failed to invoke '{target}' due to an error on the server.", exc
            )
        if method.is_streaming and not streaming:
            return (
                f"The client attempted to invoke the streaming '{target}' method with a "
                "non-streaming invocation."
            )
        if streaming and not method.is_streaming:
            return (
                f"The client attempted to invoke the non-streaming '{target}' method with a "
                "streaming invocation."
            )
        sent, expected = len(stream_ids or ()), len(method.stream_parameters)
        if sent != expected:
            return self.error_text(
                f"An unexpected error occurred invoking '{target}' on the server.",
                HubException(f"Client sent {sent} stream(s), Hub method expects {expected}."),
            )
        return PreparedInvocation(method, bound, target, invocation_id, stream_ids or ())

    # -- activation ------------------------------------------------------------

    async def _activate(self, scope: ServiceScope, caller: HubCaller) -> Hub:
        hub = await scope.create(self.hub_type)
        hub.context = caller.context
        hub.clients = caller.clients
        hub.groups = self.groups
        return hub

    async def _close_scope(self, scope: ServiceScope) -> None:
        # Cleanup code of generator services must run even when the
        # invocation was cancelled because the connection went away.
        with anyio.CancelScope(shield=True):
            await scope.aclose()

    async def on_connected(self, caller: HubCaller) -> None:
        """Run ``Hub.on_connected``; exceptions propagate to the handler (INV-15)."""
        scope = self.services.scope(caller.context)
        caller.clients.in_connect = True
        try:
            hub = await self._activate(scope, caller)
            await hub.on_connected()
        finally:
            caller.clients.in_connect = False
            await self._close_scope(scope)

    async def on_disconnected(self, caller: HubCaller, error: Exception | None) -> None:
        """Run ``Hub.on_disconnected``; exceptions are logged, never raised."""
        scope = self.services.scope(caller.context)
        try:
            hub = await self._activate(scope, caller)
            await hub.on_disconnected(error)
        except Exception:
            logger.warning(
                "on_disconnected failed for connection %s",
                caller.connection.connection_id,
                exc_info=True,
            )
        finally:
            await self._close_scope(scope)

    # -- invocation ------------------------------------------------------------

    # -- authorization ---------------------------------------------------------

    async def authorize_connection(self, user: Any, request: RequestInfo) -> bool:
        """Whether ``user`` may connect to this hub (its class-level ``@authorize``)."""
        if not self.hub_rules:
            return True
        context = AuthorizationContext(self.hub_type, request)
        return await is_authorized(user, self.hub_rules, context)

    async def _authorized(self, caller: HubCaller, call: PreparedInvocation) -> bool:
        """Check the method's ``@authorize`` rules; on refusal tell the client (INV-8)."""
        rules = self.method_rules.get(call.method.attribute, ())
        if not rules:
            return True
        context = AuthorizationContext(
            self.hub_type,
            caller.context.request,
            caller.context,
            call.target,
            tuple(call.arguments),
        )
        if await is_authorized(caller.context.user, rules, context):
            return True
        logger.warning("Hub method '%s' refused: user is unauthorized", call.target)
        await self.send_error(
            caller.connection,
            call.invocation_id,
            f"Failed to invoke '{call.target}' because user is unauthorized",
        )
        return False

    async def invoke(self, caller: HubCaller, call: PreparedInvocation) -> None:
        """Run a non-streaming method and send its Completion if the call was blocking."""
        if not await self._authorized(caller, call):
            return
        scope = self.services.scope(caller.context)
        result: Any = None
        error: Exception | None = None
        try:
            try:
                hub = await self._activate(scope, caller)
                result = getattr(hub, call.method.attribute)(*call.arguments)
                if inspect.isawaitable(result):
                    result = await result
            finally:
                await self._close_scope(scope)
        except Exception as exc:
            error = exc
        await self.complete(caller, call, result, error)

    def call_inline(self, caller: HubCaller, attribute: str, arguments: list[Any]) -> Any:
        """Start a ``runs_inline`` method synchronously: a hub without a service
        scope, then the call. Returns what the method returned; raises what it raised."""
        hub = self.hub_type()
        hub.context = caller.context
        hub.clients = caller.clients
        hub.groups = self.groups
        return getattr(hub, attribute)(*arguments)

    async def finish_inline(
        self, caller: HubCaller, call: PreparedInvocation, outcome: Any, error: Exception | None
    ) -> None:
        """Await what a ``call_inline`` method handed back, then send the Completion."""
        if error is None and is_awaitable(outcome):
            try:
                outcome = await outcome
            except Exception as exc:
                error = exc
        await self.complete(caller, call, outcome, error)

    async def complete(
        self, caller: HubCaller, call: PreparedInvocation, outcome: Any, error: Exception | None
    ) -> None:
        """Send the Completion for a finished call (nothing for a non-blocking one)."""
        completion: CompletionMessage | None
        if error is None:
            try:
                wire_result = to_wire(outcome)
            except Exception as exc:
                error = exc
        if error is not None:
            completion = self._failed(caller, call, error)
        elif call.invocation_id:
            # The constructor, not ``with_result``: this runs for every call.
            completion = CompletionMessage(call.invocation_id, None, wire_result, True)
        else:
            return
        if completion is not None:
            await self._write(caller.connection, completion)

    def _failed(
        self, caller: HubCaller, call: PreparedInvocation, exc: Exception
    ) -> CompletionMessage | None:
        logger.warning(
            "Hub method '%s' failed on connection %s: %s: %s",
            call.target,
            caller.connection.connection_id,
            type(exc).__name__,
            exc,
            exc_info=not isinstance(exc, HubException),
        )
        if not call.invocation_id:
            return None
        return CompletionMessage.with_error(
            call.invocation_id,
            self.error_text(
                f"An unexpected error occurred invoking '{call.target}' on the server.", exc
            ),
        )

    async def stream(
        self, caller: HubCaller, call: PreparedInvocation, cancel_scope: anyio.CancelScope
    ) -> None:
        """Run a streaming method: StreamItems, then one Completion (STR-1, STR-2, STR-4).

        ``cancel_scope`` is cancelled by a CancelInvocation; the stream then
        ends with a Completion without error, as the reference does. The
        method may be an async generator or return (or resolve to) any async
        iterator.

        How cancellation reaches the method: the items are pulled by ``async
        for`` in this task, inside ``cancel_scope``. Cancelling the scope makes
        the await the generator is suspended in (a sleep, a queue read) raise
        the event loop's cancellation exception *inside the generator's frame*
        (``CancelledError`` on asyncio, ``trio.Cancelled`` on trio), so its
        ``try/finally`` and ``async with`` blocks run; if it was suspended at
        a ``yield`` instead, ``aclose()`` below throws ``GeneratorExit`` there.
        """
        assert call.invocation_id is not None
        invocation_id = call.invocation_id
        if not await self._authorized(caller, call):
            return
        connection = caller.connection
        error: str | None = None
        scope = self.services.scope(caller.context)
        with cancel_scope:
            try:
                try:
                    hub = await self._activate(scope, caller)
                    generator = await self._stream_source(hub, call)
                except Exception as exc:
                    error = self.error_text(
                        f"An unexpected error occurred invoking '{call.target}' on the server.",
                        exc,
                    )
                else:
                    try:
                        async for item in generator:
                            await connection.write(StreamItemMessage(invocation_id, to_wire(item)))
                            # A generator that never awaits must not starve the read
                            # loop, or a CancelInvocation could never be seen.
                            await anyio.lowlevel.checkpoint()
                    except ConnectionClosed:
                        return
                    except Exception as exc:
                        logger.warning(
                            "Streaming hub method '%s' failed on connection %s: %s",
                            call.target,
                            connection.connection_id,
                            type(exc).__name__,
                        )
                        error = self.error_text(
                            "An error occurred on the server while streaming results.", exc
                        )
                    finally:
                        close = getattr(generator, "aclose", None)
                        if close is not None:
                            with anyio.CancelScope(shield=True):
                                await close()
            finally:
                await self._close_scope(scope)
        if error is None:
            await self._write(connection, CompletionMessage.empty(invocation_id))
        else:
            await self._write(connection, CompletionMessage.with_error(invocation_id, error))

    @staticmethod
    async def _stream_source(hub: Hub, call: PreparedInvocation) -> AsyncIterator[Any]:
        """Call a streaming method and get the async iterator its items come from."""
        source = getattr(hub, call.method.attribute)(*call.arguments)
        if not hasattr(source, "__aiter__") and inspect.isawaitable(source):
            source = await source
        if not hasattr(source, "__aiter__"):
            raise TypeError(
                f"The value returned by the streaming method '{call.target}' is not an "
                "async iterator."
            )
        iterator: AsyncIterator[Any] = source.__aiter__()
        return iterator

    async def send_error(
        self, connection: HubConnection, invocation_id: str | None, text: str
    ) -> None:
        """Send an error Completion, or nothing for a non-blocking call (INV-2)."""
        if invocation_id:
            await self._write(connection, CompletionMessage.with_error(invocation_id, text))

    @staticmethod
    async def _write(connection: HubConnection, message: CompletionMessage) -> None:
        try:
            await connection.write(message)
        except ConnectionClosed:
            logger.debug("Connection %s closed before a Completion", connection.connection_id)
