"""The ASGI application users mount: routing to endpoints, plus the lifespan
that owns every connection handler's task.

Handlers run in a task group opened by the lifespan rather than inside the
request that started them (see ``connections.tasks``); when the host never
runs our lifespan, they fall back to the running loop.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream

from ..auth.authenticator import Authenticator
from ..auth.user import User
from ..connections.asgi_types import ASGIApp, Message, Receive, Scope, Send
from ..connections.authentication import EndpointAuth
from ..connections.context import ConnectionHandler, RequestInfo
from ..connections.dispatcher import HttpConnectionDispatcher, relative_path
from ..connections.options import HttpConnectionOptions, HttpTransportType
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


def _with_transports(
    options: HttpConnectionOptions | None, transports: HttpTransportType | None
) -> HttpConnectionOptions | None:
    """``options`` with ``transports`` applied (the shorthand wins over the
    options' own flags, since it is the more specific of the two)."""
    if transports is None:
        return options
    if not isinstance(transports, HttpTransportType):
        raise TypeError(
            "transports must be HttpTransportType flags, "
            "e.g. HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling"
        )
    return dataclasses.replace(options or HttpConnectionOptions(), transports=transports)


async def _nobody(request: RequestInfo) -> User | None:
    """The authenticator of a protected hub nobody configured one for."""
    return None


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

    ``authenticator`` (e.g. ``JwtBearerAuthenticator``) identifies the user on
    negotiate and every transport request of every endpoint; ``map_hub`` and
    ``map_connection`` can give an endpoint its own. Hubs marked
    ``@authorize`` then refuse anonymous callers with 401 and callers their
    rule rejects with 403. See ``docs/authentication.md``.
    """

    def __init__(
        self, *, fallback: ASGIApp | None = None, authenticator: Authenticator | None = None
    ) -> None:
        self.fallback = fallback
        self.authenticator = authenticator
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
        transports: HttpTransportType | None = None,
        authenticator: Authenticator | None = None,
    ) -> None:
        """Serve a raw bytes handler at ``path`` (like MapConnectionHandler).

        ``transports`` is a shorthand for ``options.transports``. With an
        authenticator (this one or the app's), ``connection.user`` is the
        authenticated user or ``None``; nobody is refused.
        """
        chosen = authenticator or self.authenticator
        auth = None if chosen is None else EndpointAuth(chosen)
        self._map_endpoint(path, handler, _with_transports(options, transports), auth)

    def map_hub(
        self,
        path: str,
        hub_type: type[Hub],
        *,
        options: HubOptions | None = None,
        connection_options: HttpConnectionOptions | None = None,
        transports: HttpTransportType | None = None,
        services: ServiceRegistry | None = None,
        lifetime_manager: HubLifetimeManager | None = None,
        user_id_provider: UserIdProvider = default_user_identifier,
        authenticator: Authenticator | None = None,
    ) -> HubEndpoint:
        """Serve ``hub_type`` at ``path`` (like ``app.MapHub<THub>(path)``).

        ``options`` are the hub's (timeouts, limits, protocols, detailed errors);
        ``connection_options`` the transport's (which transports, buffers,
        disconnect timeout). ``transports`` is a shorthand for
        ``connection_options.transports``: negotiate then lists only those, and
        requests for the others get 404, e.g.
        ``transports=HttpTransportType.ServerSentEvents | HttpTransportType.LongPolling``.
        A hub class may be mapped once; its ``HubContext`` is then available
        from :meth:`hub_context`.

        ``authenticator`` overrides the app's for this hub. A hub marked
        ``@authorize`` with no authenticator at all refuses everyone (401):
        failing closed beats serving a protected hub anonymously.
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
        auth = self._hub_auth(endpoint, authenticator or self.authenticator)
        self._map_endpoint(
            path, endpoint.handler, _with_transports(connection_options, transports), auth
        )
        self._hubs[hub_type] = endpoint
        return endpoint

    def hub_context(self, hub_type: type[Hub]) -> HubContext:
        """Send to a hub's clients from outside the hub (routes, background tasks)."""
        try:
            return self._hubs[hub_type].context
        except KeyError:
            raise LookupError(f"{hub_type.__name__} is not mapped on this app") from None

    @staticmethod
    def _hub_auth(
        endpoint: HubEndpoint, authenticator: Authenticator | None
    ) -> EndpointAuth | None:
        if not endpoint.requires_authorization:
            return None if authenticator is None else EndpointAuth(authenticator)
        if authenticator is None:
            logger.warning(
                "%s requires authorization but no authenticator is configured: "
                "every request will get 401",
                endpoint.hub_type.__name__,
            )
            authenticator = _nobody
        return EndpointAuth(authenticator, endpoint.authorize_connection)

    def _map_endpoint(
        self,
        path: str,
        handler: ConnectionHandler,
        options: HttpConnectionOptions | None,
        auth: EndpointAuth | None = None,
    ) -> HttpConnectionDispatcher:
        """Register any ``ConnectionHandler`` (hub handlers included) at ``path``."""
        base = _normalize_base(path)
        if any(existing == base for existing, _ in self._endpoints):
            raise ValueError(f"An endpoint is already mapped at {path!r}")
        dispatcher = HttpConnectionDispatcher(handler, options, runner=self._runner, auth=auth)
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
                        await self._runner.aclose()
        finally:
            self._lifespan_active = False

    async def close_connections(self, timeout: float = 5.0) -> None:
        """End every connection now, as on server shutdown (bounded by ``timeout``).

        Transports close cleanly and ``on_disconnected`` runs, so clients with
        automatic reconnect come back to the next server instead of seeing a
        connection killed mid-frame when the ASGI server's grace period ends.
        ``signalr-server run`` calls this on SIGINT/SIGTERM.
        """
        with anyio.move_on_after(timeout, shield=True):
            for dispatcher in self.dispatchers:
                await dispatcher.manager.close_all()

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
