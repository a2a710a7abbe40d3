"""The app the Node interop suite drives with the official ``@microsoft/signalr`` client.

Run it with ``python -m signalr_server.app.cli run server.app:app --port N``
from ``interop/``; the suite restarts the same command on the same port for
the automatic-reconnect test, so the app keeps no state worth losing.

Routes (all hubs accept JSON and MessagePack):

- ``/hubs/test``: ``InteropHub``, reference defaults (detailed errors off).
- ``/hubs/detailed``: the same methods with detailed errors on.
- ``/hubs/keepalive``: 1 s keep-alive, for the idle-connection ping test.
- ``/hubs/small``: 1 KiB maximum receive size, for the oversize test.
- ``/hubs/presence``: announces ``Connected(id)``/``Disconnected(id)`` to the others.
- ``POST /push/all``, ``/push/group/{g}``, ``/push/user/{u}``, ``/push/client/{id}``
  with ``{"payload": ...}``: ``Pushed(payload)`` through ``InteropHub``'s hub context.
- ``GET /health``: 200 once the server is up (the suite polls it).

The user identifier of a connection is the ``user`` query parameter, so one
test can give several connections the same user.
"""

from __future__ import annotations

import json
from typing import Any

from signalr_server.app import SignalR
from signalr_server.app.plain_http import read_body, send_json
from signalr_server.connections.asgi_types import Receive, Scope, Send
from signalr_server.connections.context import ConnectionContext
from signalr_server.hubs import Hub, HubContext, HubException, HubOptions


class InteropHub(Hub):
    """Every server feature the suite checks, one small method each.

    Server-to-client calls use the target ``Message`` with a label naming the
    ``clients`` target that sent it, so a test can tell the sends apart.
    """

    def echo(self, value: Any) -> Any:
        return value

    def add(self, a: int, b: int) -> int:
        return a + b

    def get_connection_id(self) -> str:
        return self.context.connection_id

    def get_user_identifier(self) -> str | None:
        return self.context.user_identifier

    def throw_hub_exception(self, message: str) -> None:
        raise HubException(message)

    def throw_exception(self, message: str) -> None:
        raise ValueError(message)

    async def join_group(self, group: str) -> None:
        await self.groups.add(self.context.connection_id, group)

    async def leave_group(self, group: str) -> None:
        await self.groups.remove(self.context.connection_id, group)

    async def send_to_all(self, payload: Any) -> None:
        await self.clients.all.send("Message", "all", payload)

    async def send_to_others(self, payload: Any) -> None:
        await self.clients.others.send("Message", "others", payload)

    async def send_to_caller(self, payload: Any) -> None:
        await self.clients.caller.send("Message", "caller", payload)

    async def send_to_client(self, connection_id: str, payload: Any) -> None:
        await self.clients.client(connection_id).send("Message", "client", payload)

    async def send_to_clients(self, connection_ids: list[str], payload: Any) -> None:
        await self.clients.clients(connection_ids).send("Message", "clients", payload)

    async def send_to_all_except(self, connection_ids: list[str], payload: Any) -> None:
        await self.clients.all_except(connection_ids).send("Message", "all_except", payload)

    async def send_to_group(self, group: str, payload: Any) -> None:
        await self.clients.group(group).send("Message", "group", payload)

    async def send_to_groups(self, groups: list[str], payload: Any) -> None:
        await self.clients.groups(groups).send("Message", "groups", payload)

    async def send_to_group_except(
        self, group: str, connection_ids: list[str], payload: Any
    ) -> None:
        await self.clients.group_except(group, connection_ids).send(
            "Message", "group_except", payload
        )

    async def send_to_others_in_group(self, group: str, payload: Any) -> None:
        await self.clients.others_in_group(group).send("Message", "others_in_group", payload)

    async def send_to_user(self, user: str, payload: Any) -> None:
        await self.clients.user(user).send("Message", "user", payload)

    async def send_to_users(self, users: list[str], payload: Any) -> None:
        await self.clients.users(users).send("Message", "users", payload)


class DetailedErrorsHub(InteropHub):
    """Mapped with ``enable_detailed_errors=True``."""


class KeepAliveHub(InteropHub):
    """Mapped with a 1 s keep-alive interval."""


class SmallMessagesHub(InteropHub):
    """Mapped with a 1 KiB maximum receive message size."""


class PresenceHub(Hub):
    """Tells the other connections who arrived and who left."""

    async def on_connected(self) -> None:
        await self.clients.others.send("Connected", self.context.connection_id)

    async def on_disconnected(self, error: Exception | None) -> None:
        await self.clients.others.send("Disconnected", self.context.connection_id)


def user_from_query(connection: ConnectionContext) -> str | None:
    """The ``user`` query parameter of the request that opened the connection."""
    return connection.request.query_value("user") or None


class PushRoutes:
    """``/health`` and the ``/push/...`` routes that use the hub context from outside a hub."""

    def __init__(self) -> None:
        self.hub: HubContext | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # SignalR runs fine with a fallback that skips the lifespan
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if path == "/health" and method == "GET":
            await send_json(send, 200, {"status": "ok"})
            return
        if not path.startswith("/push/") or method != "POST" or self.hub is None:
            await send_json(send, 404, {"error": "Not Found"})
            return
        kind, _, name = path.removeprefix("/push/").partition("/")
        try:
            payload = json.loads(await read_body(receive))["payload"]
        except (ValueError, KeyError, TypeError):
            await send_json(send, 400, {"error": 'Expected {"payload": ...}.'})
            return
        clients = self.hub.clients
        if kind == "all" and not name:
            await clients.all.send("Pushed", "all", payload)
        elif kind == "group" and name:
            await clients.group(name).send("Pushed", "group", payload)
        elif kind == "user" and name:
            await clients.user(name).send("Pushed", "user", payload)
        elif kind == "client" and name:
            await clients.client(name).send("Pushed", "client", payload)
        else:
            await send_json(send, 404, {"error": "Not Found"})
            return
        await send_json(send, 202, {"status": "accepted"})


def create_app() -> SignalR:
    routes = PushRoutes()
    signalr = SignalR(fallback=routes)
    signalr.map_hub("/hubs/test", InteropHub, user_id_provider=user_from_query)
    signalr.map_hub(
        "/hubs/detailed", DetailedErrorsHub, options=HubOptions(enable_detailed_errors=True)
    )
    signalr.map_hub("/hubs/keepalive", KeepAliveHub, options=HubOptions(keep_alive_interval=1.0))
    signalr.map_hub(
        "/hubs/small", SmallMessagesHub, options=HubOptions(maximum_receive_message_size=1024)
    )
    signalr.map_hub("/hubs/presence", PresenceHub)
    routes.hub = signalr.hub_context(InteropHub)
    return signalr


app = create_app()
