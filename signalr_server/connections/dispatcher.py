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

from .asgi_types import Message, Receive, Scope, Send
from .connection import HttpConnection, SetTransportResult
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
from .websockets import WebSocketTransport

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

    __slots__ = ("_send", "started")

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        self.started = True
        await self._send(message)


class HttpConnectionDispatcher:
    """Serves one endpoint for a raw ``ConnectionHandler`` (MapConnectionHandler)."""

    def __init__(
        self,
        handler: ConnectionHandler,
        options: HttpConnectionOptions | None = None,
        *,
        runner: TaskRunner | None = None,
    ) -> None:
        self.handler = handler
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
                await self._websocket(scope, receive, send, request)
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
        if rest == "/negotiate":
            if method == "POST":
                await self._negotiate(send, request)
            else:
                await send_response(send, 405)
        elif rest == "":
            if method == "POST":
                await self._post(receive, send, request)
            elif method == "GET":
                await self._http_get(receive, send, request)
            elif method == "DELETE":
                await self._delete(send, request)
            else:
                await send_response(send, 405)
        else:
            await send_response(send, 404, b"Not Found")

    # -- negotiate -------------------------------------------------------------

    async def _negotiate(self, send: Send, request: RequestInfo) -> None:
        connection_id, token = new_id_and_token()
        outcome = negotiate(request, self.options, connection_id, token)
        if outcome.error is None:
            self.manager.create(
                request,
                connection_id=connection_id,
                token=token,
                negotiate_version=outcome.version,
                use_stateful_reconnect=outcome.use_stateful_reconnect,
            )
        await send_response(send, outcome.status, outcome.body, content_type=outcome.content_type)

    # -- lookups ---------------------------------------------------------------

    async def _existing_connection(
        self, send: Send, request: RequestInfo, headers: tuple[tuple[bytes, bytes], ...] = ()
    ) -> HttpConnection | None:
        token = request.query_value("id")
        if not token:
            await send_response(send, 400, b"Connection ID required", headers=headers)
            return None
        connection = self.manager.get(token)
        if connection is None:
            await send_response(send, 404, b"No Connection with that ID", headers=headers)
        return connection

    # -- transports --------------------------------------------------------------

    async def _websocket(
        self, scope: Scope, receive: Receive, send: Send, request: RequestInfo
    ) -> None:
        transport = HttpTransportType.WebSockets
        supported = transport in self.options.offered_transports
        token = request.query_value("id")
        if not token:
            if not supported:
                await reject_websocket(scope, send, 404, _not_supported(transport))
                return
            connection = self.manager.create(request)  # skipNegotiation (ID-4)
        else:
            found = self.manager.get(token)
            if found is None:
                await reject_websocket(scope, send, 404, b"No Connection with that ID")
                return
            connection = found
            if not supported:
                await reject_websocket(scope, send, 404, _not_supported(transport))
                return

        result = connection.try_set_transport(transport)
        if result is SetTransportResult.ALREADY_ACTIVE:
            await reject_websocket(scope, send, 409)
            return
        if result is SetTransportResult.CANNOT_CHANGE:
            await reject_websocket(scope, send, 400, b"Cannot change transports mid-connection")
            return

        connection.request = request
        try:
            await WebSocketTransport(connection, self.options).run(
                receive, send, lambda: connection.start_handler(self.handler, self.runner)
            )
        finally:
            self.manager.dispose(connection)

    async def _http_get(self, receive: Receive, send: Send, request: RequestInfo) -> None:
        """SSE when the client accepts an event stream (checked first, SSE-1),
        else a long poll (LP-1)."""
        if "text/event-stream" in request.headers.get("accept", "").lower():
            await self._server_sent_events(receive, send, request)
        else:
            await self._long_poll(receive, send, request)

    async def _server_sent_events(self, receive: Receive, send: Send, request: RequestInfo) -> None:
        transport = HttpTransportType.ServerSentEvents
        connection = await self._existing_connection(send, request)
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
        ServerSentEventsTransport.prepare(connection)
        try:
            await ServerSentEventsTransport(connection, self.options).run(
                receive, send, lambda: connection.start_handler(self.handler, self.runner)
            )
        finally:
            # The stream ending, for whatever reason, ends the connection (SSE-8).
            self.manager.dispose(connection)

    async def _long_poll(self, receive: Receive, send: Send, request: RequestInfo) -> None:
        transport = HttpTransportType.LongPolling
        connection = await self._existing_connection(send, request, NO_CACHE_HEADERS)
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
        await LongPollingTransport(connection, self.options, self.manager.dispose).run(
            request, receive, send, lambda: connection.start_handler(self.handler, self.runner)
        )

    async def _post(self, receive: Receive, send: Send, request: RequestInfo) -> None:
        connection = await self._existing_connection(send, request)
        if connection is None:
            return
        if connection.transport_type is HttpTransportType.WebSockets:
            await send_response(
                send, 405, b"POST requests are not allowed for WebSocket connections."
            )
            return
        await handle_send(connection, receive, send)

    async def _delete(self, send: Send, request: RequestInfo) -> None:
        connection = await self._existing_connection(send, request)
        if connection is None:
            return
        if connection.transport_type is not HttpTransportType.LongPolling:
            await send_response(
                send, 400, b"Cannot terminate this connection using the DELETE endpoint."
            )
            return
        self.manager.dispose(connection)
        await send_response(send, 202)
