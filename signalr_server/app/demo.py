"""The demo app: a chat hub, a notifications hub and the page that uses them.

It is the smallest app that shows every everyday feature working with the
unmodified browser client: broadcasts, groups, "everyone but me", pushes from
plain HTTP routes through a hub context, and per-user groups. The HTTP routes
are a hand-written ASGI app so the demo needs no web framework.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from typing import Any

from ..connections.asgi_types import Receive, Scope, Send
from ..hubs import Hub, HubContext
from .asgi import SignalR
from .plain_http import BodyTooLarge, read_body, send_json, send_response

__all__ = ["ChatHub", "DemoRoutes", "NotificationHub", "create_demo_app", "display_name"]

MAX_BODY_BYTES = 64 * 1024
"""Notification bodies are tiny; anything bigger is refused rather than buffered."""

_NO_CACHE = (b"cache-control", b"no-cache")
_CACHE_AN_HOUR = (b"cache-control", b"public, max-age=3600")

_NAME_CLAIMS = (
    "name",
    "unique_name",
    "preferred_username",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
)


def display_name(user: Any) -> str | None:
    """The user's name as the chat shows it, or ``None`` when anonymous.

    Authentication may hand hubs an object with a ``name`` attribute, a
    claims mapping, or an object holding ``claims``; the demo accepts each
    rather than depending on one shape.
    """
    if user is None:
        return None
    name = getattr(user, "name", None)
    if isinstance(name, str) and name:
        return name
    claims = user if isinstance(user, Mapping) else getattr(user, "claims", None)
    if isinstance(claims, Mapping):
        for key in _NAME_CLAIMS:
            value = claims.get(key)
            if isinstance(value, str) and value:
                return value
    return None


class ChatHub(Hub):
    """Chat with rooms; the same methods as the seed's ASP.NET Core ChatHub."""

    async def send_message(self, user: str, message: str) -> None:
        await self.clients.all.send("ReceiveMessage", user, message)

    async def join_room(self, room: str) -> None:
        await self.groups.add(self.context.connection_id, room)
        await self.clients.group(room).send("UserJoined", self._name())

    async def leave_room(self, room: str) -> None:
        await self.groups.remove(self.context.connection_id, room)
        await self.clients.group(room).send("UserLeft", self._name())

    async def send_to_room(self, room: str, message: str) -> None:
        await self.clients.group(room).send("ReceiveMessage", self._name(), message)

    async def send_to_others(self, message: str) -> None:
        await self.clients.others.send("ReceiveMessage", self._name(), message)

    def _name(self) -> str | None:
        return display_name(self.context.user)


class NotificationHub(Hub):
    """Receives pushes from the HTTP API; each user also gets a personal group."""

    async def on_connected(self) -> None:
        user_id = self.context.user_identifier
        if user_id:
            await self.groups.add(self.context.connection_id, user_group(user_id))


def user_group(user_id: str) -> str:
    """The group a user's connections join (the seed names it after the user id)."""
    return user_id


def _static_file(name: str) -> bytes:
    return (
        resources.files(__package__ or "signalr_server.app").joinpath("static", name).read_bytes()
    )


class DemoRoutes:
    """The demo's plain HTTP side: the page, the browser bundle and the notify API.

    ``notifications`` is bound after the hub is mapped, because the hub
    context only exists once ``SignalR.map_hub`` has run.
    """

    def __init__(self) -> None:
        self.notifications: HubContext | None = None
        self._index = _static_file("index.html")
        self._bundle = _static_file("signalr.min.js")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The lifespan needs nothing here: ``SignalR`` accepts a fallback that
        # ignores it.
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1000})
            return
        path: str = scope.get("path", "/")
        method: str = scope.get("method", "GET")

        if path in ("/", "/index.html"):
            await _static(send, method, self._index, b"text/html; charset=utf-8", _NO_CACHE)
            return
        if path == "/signalr.min.js":
            javascript = b"application/javascript; charset=utf-8"
            await _static(send, method, self._bundle, javascript, _CACHE_AN_HOUR)
            return
        if path.startswith("/api/notify/"):
            await self._notify(path.removeprefix("/api/notify/"), method, receive, send)
            return
        await _json(send, 404, {"error": "Not Found"})

    async def _notify(self, route: str, method: str, receive: Receive, send: Send) -> None:
        kind, _, name = route.partition("/")
        if kind == "all" and not name:
            target = "all"
        elif kind in ("group", "user") and name and "/" not in name:
            target = kind
        else:
            await _json(send, 404, {"error": "Not Found"})
            return
        if method != "POST":
            await _method_not_allowed(send, "POST")
            return

        try:
            body = await read_body(receive, limit=MAX_BODY_BYTES)
        except BodyTooLarge as exc:
            await _json(send, 413, {"error": str(exc)})
            return
        message, error = _parse_notification(body)
        if error is not None:
            await _json(send, 400, {"error": error})
            return
        if self.notifications is None:  # pragma: no cover - create_demo_app always binds it
            await _json(send, 503, {"error": "Notifications hub is not mapped."})
            return

        clients = self.notifications.clients
        if target == "all":
            await clients.all.send("ReceiveNotification", message)
            answer: dict[str, Any] = {"status": "accepted", "target": "all"}
        elif target == "group":
            await clients.group(name).send("ReceiveNotification", message)
            answer = {"status": "accepted", "target": "group", "group": name}
        else:
            await clients.user(name).send("ReceiveNotification", message)
            answer = {"status": "accepted", "target": "user", "user": name}
        await _json(send, 202, answer)


def _parse_notification(body: bytes) -> tuple[Any, str | None]:
    """Return (message, None) or (None, error text) for a notify request body."""
    expected = 'Expected a JSON object like {"message": "..."}.'
    try:
        payload = json.loads(body.decode("utf-8"))
    except json.JSONDecodeError as exc:
        return None, f"Request body is not valid JSON: {exc.msg} at position {exc.pos}. {expected}"
    except UnicodeDecodeError:
        return None, f"Request body is not valid UTF-8 JSON. {expected}"
    if not isinstance(payload, dict):
        return None, f"Request body must be a JSON object. {expected}"
    if "message" not in payload:
        return None, f"Missing required property 'message'. {expected}"
    return payload["message"], None


async def _static(
    send: Send, method: str, body: bytes, content_type: bytes, cache: tuple[bytes, bytes]
) -> None:
    """A file the page needs: GET or HEAD only, with its caching header."""
    if method not in ("GET", "HEAD"):
        await _method_not_allowed(send, "GET, HEAD")
        return
    await send_response(
        send, 200, body, content_type=content_type, headers=[cache], head=method == "HEAD"
    )


async def _json(send: Send, status: int, payload: Mapping[str, Any]) -> None:
    """API answers are never cached: each reports what just happened."""
    await send_json(send, status, payload, headers=[_NO_CACHE])


async def _method_not_allowed(send: Send, allow: str) -> None:
    await send_json(
        send,
        405,
        {"error": f"Method not allowed; use {allow}."},
        headers=[_NO_CACHE, (b"allow", allow.encode("ascii"))],
    )


def create_demo_app() -> SignalR:
    """The demo: ``/hubs/chat``, ``/hubs/notifications``, ``/api/notify/...`` and ``/``."""
    routes = DemoRoutes()
    app = SignalR(fallback=routes)
    app.map_hub("/hubs/chat", ChatHub)
    app.map_hub("/hubs/notifications", NotificationHub)
    routes.notifications = app.hub_context(NotificationHub)
    return app
