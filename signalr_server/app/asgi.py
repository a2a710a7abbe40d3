"""The ASGI application users mount: routing to endpoints, plus the lifespan
that owns every connection handler's task.

Handlers run in a task group opened by the lifespan rather than inside the
request that started them (see ``connections.tasks``); when the host never
runs our lifespan, they fall back to the running loop.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from ..connections.asgi_types import ASGIApp, Message, Receive, Scope, Send
from ..connections.context import ConnectionHandler
from ..connections.dispatcher import HttpConnectionDispatcher, relative_path
from ..connections.options import HttpConnectionOptions
from ..connections.responses import reject_websocket, send_response
from ..connections.tasks import TaskRunner
from ..hubs.endpoint import HubEndpoint
from ..hubs.handler import UserIdProvider, default_user_identifier
from ..hubs.hub import Hub
from ..hubs.hub_context import HubContext
from ..hubs.lifetime import HubLifetimeManager
from ..hubs.options import HubOptions
from ..hubs.services import ServiceRegistry

__all__ = ["SignalR"]

logger = logging.getLogger("signalr_server.app")

_FALLBACK_SHUTDOWN_TIMEOUT = 10.0


def _normalize_base(path: str) -> str:
    """``/Chat/`` → ``/chat``; matching is case-insensitive like ASP.NET routing."""
    stripped = path.strip("/")
    return f"/{stripped}".lower() if stripped else ""


class SignalR:
    """An ASGI 3 app serving SignalR endpoints.

    Mount it directly, under a prefix (``root_path`` is honoured), or inside
    Starlette/FastAPI with ``lifespan=signalr.lifespan``. Paths that match no
    endpoint go to ``fallback`` (default: 404 ``Not Found``), which also
    receives the ASGI lifespan events when it handles them.
    """

    def __init__(self, *, fallback: ASGIApp | None = None) -> None:
        self.fallback = fallback
        self._runner = TaskRunner()
        self._endpoints: list[tuple[str, HttpConnectionDispatcher]] = []
        self._hubs: dict[type[Hub], HubEndpoint] = {}
        self._lifespan_active = False

    # -- mapping ---------------------------------------------------------------

    def map_connection(
        self,
        path: str,
        handler: ConnectionHandler,
        *,
        options: HttpConnectionOptions | None = None,
    ) -> None:
        """Serve a raw bytes handler at ``path`` (like MapConnectionHandler)."""
        self._map_endpoint(path, handler, options)

    def map_hub(
        self,
        path: str,
        hub_type: type[Hub],
        *,
        options: HubOptions | None = None,
        connection_options: HttpConnectionOptions | None = None,
        services: ServiceRegistry | None = None,
        lifetime_manager: HubLifetimeManager | None = None,
        user_id_provider: UserIdProvider = default_user_identifier,
    ) -> HubEndpoint:
        """Serve ``hub_type`` at ``path`` (like ``app.MapHub<THub>(path)``).

        ``options`` are the hub's (timeouts, limits, protocols, detailed errors);
        ``connection_options`` the transport's (which transports, buffers,
        disconnect timeout). A hub class may be mapped once; its ``HubContext``
        is then available from :meth:`hub_context`.
        """
        if hub_type in self._hubs:
            raise ValueError(f"{hub_type.__name__} is already mapped")
        endpoint = HubEndpoint(
            hub_type,
            options=options,
            lifetime_manager=lifetime_manager,
            services=services,
            user_id_provider=user_id_provider,
        )
        self._map_endpoint(path, endpoint.handler, connection_options)
        self._hubs[hub_type] = endpoint
        return endpoint

    def hub_context(self, hub_type: type[Hub]) -> HubContext:
        """Send to a hub's clients from outside the hub (routes, background tasks)."""
        try:
            return self._hubs[hub_type].context
        except KeyError:
            raise LookupError(f"{hub_type.__name__} is not mapped on this app") from None

    def _map_endpoint(
        self,
        path: str,
        handler: ConnectionHandler,
        options: HttpConnectionOptions | None,
    ) -> HttpConnectionDispatcher:
        """Register any ``ConnectionHandler`` (hub handlers included) at ``path``."""
        base = _normalize_base(path)
        if any(existing == base for existing, _ in self._endpoints):
            raise ValueError(f"An endpoint is already mapped at {path!r}")
        dispatcher = HttpConnectionDispatcher(handler, options, runner=self._runner)
        self._endpoints.append((base, dispatcher))
        # Longest base first, so /a/b wins over /a.
        self._endpoints.sort(key=lambda entry: len(entry[0]), reverse=True)
        return dispatcher

    @property
    def dispatchers(self) -> list[HttpConnectionDispatcher]:
        return [dispatcher for _, dispatcher in self._endpoints]

    def _match(self, path: str) -> tuple[HttpConnectionDispatcher, str] | None:
        lowered = path.lower()
        for base, dispatcher in self._endpoints:
            if lowered.startswith(base):
                rest = lowered[len(base) :]
                if rest.rstrip("/") in ("", "/negotiate"):
                    return dispatcher, rest
        return None

    # -- ASGI ------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._serve_lifespan(scope, receive, send)
            return
        if kind in ("http", "websocket"):
            matched = self._match(relative_path(scope))
            if matched is not None:
                dispatcher, rest = matched
                await dispatcher.dispatch(scope, receive, send, rest)
                return
        if self.fallback is not None:
            await self.fallback(scope, receive, send)
        elif kind == "http":
            await send_response(send, 404, b"Not Found")
        elif kind == "websocket":
            await receive()  # websocket.connect
            await reject_websocket(scope, send, 404, b"Not Found")

    # -- lifespan --------------------------------------------------------------

    @asynccontextmanager
    async def lifespan(self, app: object = None) -> AsyncIterator[None]:
        """Owns the connection tasks for the life of the app. Usable as
        Starlette's ``lifespan=`` (``app`` is the host app, unused)."""
        if self._lifespan_active:
            yield
            return
        self._lifespan_active = True
        try:
            async with anyio.create_task_group() as task_group:
                self._runner.attach(task_group)
                try:
                    yield
                finally:
                    self._runner.detach()
                    with anyio.CancelScope(shield=True):
                        for dispatcher in self.dispatchers:
                            await dispatcher.manager.close_all()
        finally:
            self._lifespan_active = False

    async def _serve_lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "lifespan.startup":
            return
        try:
            async with AsyncExitStack() as stack:
                try:
                    await stack.enter_async_context(self.lifespan())
                    if self.fallback is not None:
                        await stack.enter_async_context(_forwarded_lifespan(self.fallback, scope))
                except Exception as exc:
                    logger.exception("Startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
                while (await receive())["type"] != "lifespan.shutdown":
                    pass
        except Exception as exc:
            logger.exception("Shutdown failed")
            await send({"type": "lifespan.shutdown.failed", "message": str(exc)})
            return
        await send({"type": "lifespan.shutdown.complete"})


async def _next_message(stream: MemoryObjectReceiveStream[Message]) -> Message | None:
    try:
        return await stream.receive()
    except anyio.EndOfStream:
        return None


@asynccontextmanager
async def _forwarded_lifespan(app: ASGIApp, scope: Scope) -> AsyncIterator[None]:
    """Run the fallback app's lifespan alongside ours. An app that raises or
    returns without answering does not support lifespan (ASGI spec), which is
    fine; one that reports failure fails our startup too."""
    to_app, app_inbox = anyio.create_memory_object_stream[Message](2)
    app_outbox, from_app = anyio.create_memory_object_stream[Message](2)

    async def app_send(message: Message) -> None:
        await app_outbox.send(message)

    async def run_app() -> None:
        async with app_outbox:
            try:
                await app(scope, app_inbox.receive, app_send)
            except Exception:
                logger.debug("Fallback app does not support lifespan", exc_info=True)

    async with anyio.create_task_group() as task_group:
        task_group.start_soon(run_app)
        await to_app.send({"type": "lifespan.startup"})
        reply = await _next_message(from_app)
        if reply is not None and reply["type"] == "lifespan.startup.failed":
            task_group.cancel_scope.cancel()
            raise RuntimeError(reply.get("message", ""))
        try:
            yield
        finally:
            if reply is not None:
                # Bounded: a fallback that never answers must not hang shutdown.
                with anyio.move_on_after(_FALLBACK_SHUTDOWN_TIMEOUT, shield=True):
                    await to_app.send({"type": "lifespan.shutdown"})
                    reply = await _next_message(from_app)
            task_group.cancel_scope.cancel()
            if reply is not None and reply["type"] == "lifespan.shutdown.failed":
                raise RuntimeError(reply.get("message", ""))
