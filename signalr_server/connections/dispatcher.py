"""One connection endpoint as an ASGI app: negotiate plus the transport URL.

Paths: the dispatcher serves ``{base}/negotiate`` and ``{base}``. Called as an
ASGI app on its own, it takes ``{base}`` to be wherever it is mounted, i.e.
``scope["path"]`` minus ``scope["root_path"]`` must be ``""``, ``"/"`` or
``"/negotiate"``. A router that has already matched the base calls
``dispatch(scope, receive, send, rest)`` with the remainder instead.

CORS lives here rather than in a wrapping middleware because it is a
per-endpoint option (``HttpConnectionOptions.cors``) like the transports.
"""

from __future__ import annotations

import logging
from typing import Any

from .asgi_types import Message, Receive, Scope, Send
from .authentication import EndpointAuth
from .connection import ConnectionStatus, HttpConnection, SetTransportResult
from .context import ConnectionHandler, RequestInfo
from .cors import is_preflight, preflight_headers, response_headers, with_headers
from .ids import new_id_and_token
from .long_polling import NO_CACHE_HEADERS, LongPollingTransport
from .manager import ConnectionManager
from .negotiate import negotiate
from .options import HttpConnectionOptions, HttpTransportType
from .responses import reject_websocket, send_response
from .send_endpoint import handle_send
from .server_sent_events import ServerSentEventsTransport
from .tasks import TaskRunner
from .websockets import WRITE_NOWAIT_EXTENSION, WebSocketTransport

__all__ = ["HttpConnectionDispatcher", "relative_path"]

logger = logging.getLogger("signalr_server.connections")


def relative_path(scope: Scope) -> str:
    """The path below the mount point (ASGI: ``path`` includes ``root_path``)."""
    path: str = scope.get("path", "") or ""
    root: str = scope.get("root_path", "") or ""
    if root and path.startswith(root):
        return path[len(root) :]
    return path


def _not_supported(transport: HttpTransportType) -> bytes:
    return f"{transport.wire_name} transport not supported by this end point type".encode()


class _ResponseTracker:
    """Wraps ``send`` to know whether anything reached the client, so an
    unexpected failure can still become a 500 (ERR-4)."""

    __slots__ = ("inner", "started")

    def __init__(self, send: Send) -> None:
        self.inner = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        self.started = True
        await self.inner(message)


class HttpConnectionDispatcher:
    """Serves one endpoint for a raw ``ConnectionHandler`` (MapConnectionHandler)."""

    def __init__(
        self,
        handler: ConnectionHandler,
        options: HttpConnectionOptions | None = None,
        *,
        runner: TaskRunner | None = None,
        auth: EndpointAuth | None = None,
    ) -> None:
        self.handler = handler
        self.auth = auth
        """Authentication hook run on negotiate and every transport request."""
        self.options = options if options is not None else HttpConnectionOptions()
        self.runner = runner if runner is not None else TaskRunner()
        self.manager = ConnectionManager(self.options, self.runner)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.dispatch(scope, receive, send, relative_path(scope))

    async def dispatch(self, scope: Scope, receive: Receive, send: Send, rest: str) -> None:
        """Serve a request whose path below ``{base}`` is ``rest``."""
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            return
        tracked = _ResponseTracker(send)
        try:
            await self._route(scope, receive, tracked, rest.rstrip("/").lower())
        except Exception:
            logger.exception("Unhandled error in connection endpoint %s", scope.get("path"))
            if not tracked.started:
                if kind == "http":
                    await send_response(send, 500)
                else:
                    await reject_websocket(scope, send, 500)

    async def _route(self, scope: Scope, receive: Receive, send: Send, rest: str) -> None:
        request = RequestInfo.from_scope(scope)
        if scope["type"] == "websocket":
            message = await receive()
            if message["type"] != "websocket.connect":
                return
            if rest == "":
                status, ws_user = await self._check_access(request)
                if status is not None:
                    await reject_websocket(scope, send, status)
                    return
                await self._websocket(scope, receive, send, request, ws_user)
            elif rest == "/negotiate":
                await reject_websocket(scope, send, 405)
            else:
                await reject_websocket(scope, send, 404, b"Not Found")
            return

        method = scope.get("method", "GET").upper()
        cors = self.options.cors
        if cors is not None:
            origin = request.headers.get("origin")
            if is_preflight(method, request.headers) and rest in ("", "/negotiate"):
                await send_response(
                    send, 204, content_type=None, headers=preflight_headers(cors, origin)
                )
                return
            send = with_headers(send, response_headers(cors, origin))
        user: Any = None
        if (rest == "/negotiate" and method == "POST") or (
            rest == "" and method in ("POST", "GET", "DELETE")
        ):
            status, user = await self._check_access(request)
            if status is not None:
                # Empty body: clients report only the status (AUTH-3, AUTH-4).
                await send_response(send, status, content_type=None)
                return
        if rest == "/negotiate":
            if method == "POST":
                await self._negotiate(send, request, user)
            else:
                await send_response(send, 405)
        elif rest == "":
            if method == "POST":
                await self._post(receive, send, request, user)
            elif method == "GET":
                await self._http_get(receive, send, request, user)
            elif method == "DELETE":
                await self._delete(send, request, user)
            else:
                await send_response(send, 405)
        else:
            await send_response(send, 404, b"Not Found")

    # -- authentication ----------------------------------------------------------

    async def _check_access(self, request: RequestInfo) -> tuple[int | None, Any]:
        """``(None, user)`` to go on, or the status to refuse with (401/403)."""
        if self.auth is None:
            return None, None
        return await self.auth.check(request)

    def _claim(self, connection: HttpConnection, user: Any) -> None:
        """Record who opened a new connection."""
        if self.auth is not None:
            connection.owner_identity = self.auth.identity(user)
            connection.user = user

    def _is_owner(self, connection: HttpConnection, user: Any) -> bool:
        if self.auth is None or self.auth.identity(user) == connection.owner_identity:
            return True
        logger.warning(
            "Refused a request on connection %s: it belongs to another user",
            connection.connection_id,
        )
        return False

    # -- negotiate -------------------------------------------------------------

    async def _negotiate(self, send: Send, request: RequestInfo, user: Any = None) -> None:
        connection_id, token = new_id_and_token()
        outcome = negotiate(request, self.options, connection_id, token)
        if outcome.error is None:
            connection = self.manager.create(
                request,
                connection_id=connection_id,
                token=token,
                negotiate_version=outcome.version,
                use_stateful_reconnect=outcome.use_stateful_reconnect,
            )
            self._claim(connection, user)
        await send_response(send, outcome.status, outcome.body, content_type=outcome.content_type)

    # -- lookups ---------------------------------------------------------------

    async def _existing_connection(
        self,
        send: Send,
        request: RequestInfo,
        headers: tuple[tuple[bytes, bytes], ...] = (),
        user: Any = None,
    ) -> HttpConnection | None:
        token = request.query_value("id")
        if not token:
            await send_response(send, 400, b"Connection ID required", headers=headers)
            return None
        connection = self.manager.get(token)
        if connection is None:
            await send_response(send, 404, b"No Connection with that ID", headers=headers)
        elif not self._is_owner(connection, user):
            await send_response(send, 403, content_type=None, headers=headers)
            return None
        return connection

    # -- transports --------------------------------------------------------------

    async def _websocket(
        self, scope: Scope, receive: Receive, send: Send, request: RequestInfo, user: Any = None
    ) -> None:
        transport = HttpTransportType.WebSockets
        supported = transport in self.options.offered_transports
        token = request.query_value("id")
        if not token:
            if not supported:
                await reject_websocket(scope, send, 404, _not_supported(transport))
                return
            connection = self.manager.create(request)  # skipNegotiation (ID-4)
            self._claim(connection, user)
        else:
            found = self.manager.get(token)
            if found is None:
                await reject_websocket(scope, send, 404, b"No Connection with that ID")
                return
            connection = found
            if not supported:
                await reject_websocket(scope, send, 404, _not_supported(transport))
                return
            if not self._is_owner(connection, user):
                await reject_websocket(scope, send, 403)
                return

        resuming = connection.handler_started and connection.can_resume
        if resuming and connection.status is ConnectionStatus.ACTIVE:
            # SR-10: the client is back before we noticed the old socket die.
            await connection.stop_transport()
            resuming = connection.can_resume
        result = connection.try_set_transport(transport)
        if result is SetTransportResult.ALREADY_ACTIVE:
            await reject_websocket(scope, send, 409)
            return
        if result is SetTransportResult.CANNOT_CHANGE:
            await reject_websocket(scope, send, 400, b"Cannot change transports mid-connection")
            return

        connection.request = request
        if self.auth is not None:
            connection.user = user
        offered = (scope.get("extensions") or {}).get(WRITE_NOWAIT_EXTENSION)
        websocket = WebSocketTransport(connection, self.options, offered)

        def on_accepted() -> None:
            if resuming:
                connection.attach_transport()  # resend before anything else (SR-11)
            else:
                connection.start_handler(self.handler, self.runner)

        if isinstance(send, _ResponseTracker):
            # The transport answers from here on (accept, or close after it),
            # so its sends skip the tracking wrapper: one call less per frame.
            send.started = True
            send = send.inner
        try:
            await websocket.run(receive, send, on_accepted)
        finally:
            # After an ungraceful drop under stateful reconnect the connection
            # waits (inactive) for the client; the manager expires it (SR-9).
            if not websocket.detached:
                self.manager.dispose(connection)

    async def _http_get(
        self, receive: Receive, send: Send, request: RequestInfo, user: Any = None
    ) -> None:
        """SSE when the client accepts an event stream (checked first, SSE-1),
        else a long poll (LP-1)."""
        if "text/event-stream" in request.headers.get("accept", "").lower():
            await self._server_sent_events(receive, send, request, user)
        else:
            await self._long_poll(receive, send, request, user)

    async def _server_sent_events(
        self, receive: Receive, send: Send, request: RequestInfo, user: Any = None
    ) -> None:
        transport = HttpTransportType.ServerSentEvents
        connection = await self._existing_connection(send, request, user=user)
        if connection is None:
            return
        if transport not in self.options.offered_transports:
            await send_response(send, 404, _not_supported(transport))
            return
        result = connection.try_set_transport(transport)
        if result is SetTransportResult.CANNOT_CHANGE:
            await send_response(send, 400, b"Cannot change transports mid-connection")
            return
        if result is SetTransportResult.ALREADY_ACTIVE:
            await send_response(send, 409)  # ID-7, SSE-9
            return
        connection.request = request
        if self.auth is not None:
            connection.user = user
        ServerSentEventsTransport.prepare(connection)
        try:
            await ServerSentEventsTransport(connection, self.options).run(
                receive, send, lambda: connection.start_handler(self.handler, self.runner)
            )
        finally:
            # The stream ending, for whatever reason, ends the connection (SSE-8).
            self.manager.dispose(connection)

    async def _long_poll(
        self, receive: Receive, send: Send, request: RequestInfo, user: Any = None
    ) -> None:
        transport = HttpTransportType.LongPolling
        connection = await self._existing_connection(send, request, NO_CACHE_HEADERS, user)
        if connection is None:
            return
        if transport not in self.options.offered_transports:
            await send_response(send, 404, _not_supported(transport), headers=NO_CACHE_HEADERS)
            return
        if connection.transport_type not in (HttpTransportType.NONE, transport):
            await send_response(
                send, 400, b"Cannot change transports mid-connection", headers=NO_CACHE_HEADERS
            )
            return
        if self.auth is not None:
            connection.user = user  # each poll carries the client's current token
        await LongPollingTransport(connection, self.options, self.manager.dispose).run(
            request, receive, send, lambda: connection.start_handler(self.handler, self.runner)
        )

    async def _post(
        self, receive: Receive, send: Send, request: RequestInfo, user: Any = None
    ) -> None:
        connection = await self._existing_connection(send, request, user=user)
        if connection is None:
            return
        if connection.transport_type is HttpTransportType.WebSockets:
            await send_response(
                send, 405, b"POST requests are not allowed for WebSocket connections."
            )
            return
        await handle_send(connection, receive, send)

    async def _delete(self, send: Send, request: RequestInfo, user: Any = None) -> None:
        connection = await self._existing_connection(send, request, user=user)
        if connection is None:
            return
        if connection.transport_type is not HttpTransportType.LongPolling:
            await send_response(
                send, 400, b"Cannot terminate this connection using the DELETE endpoint."
            )
            return
        self.manager.dispose(connection)
        await send_response(send, 202)
