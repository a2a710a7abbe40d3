"""The ceiling: the least an ASGI app can do to echo and fan out WebSocket messages.

It speaks no protocol beyond a one-byte command prefix, so whatever it costs
is the ASGI server's own cost; our figures divided by these are our overhead
on the same server and worker class.

Commands (text frames): ``E<payload>`` echo back; ``B<payload>`` send
``<payload>`` to every other connection; ``J<group>`` join a group;
``G<group>|<payload>`` send ``<payload>`` to the group's members.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_connections: dict[int, Send] = {}
_groups: dict[str, dict[int, Send]] = {}


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"Not Found"})
        return
    await _websocket(receive, send)


async def _websocket(receive: Receive, send: Send) -> None:
    key = id(send)
    joined: list[str] = []
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    _connections[key] = send
    try:
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return
            text: str = message.get("text") or message.get("bytes", b"").decode()
            command = text[:1]
            if command == "E":
                await send({"type": "websocket.send", "text": text[1:]})
            elif command == "B":
                event = {"type": "websocket.send", "text": text[1:]}
                for other_key, other in list(_connections.items()):
                    if other_key != key:
                        await other(event)
            elif command == "J":
                _groups.setdefault(text[1:], {})[key] = send
                joined.append(text[1:])
            elif command == "G":
                group, _, payload = text[1:].partition("|")
                event = {"type": "websocket.send", "text": payload}
                for member in list(_groups.get(group, {}).values()):
                    await member(event)
    except Exception:  # the peer vanished mid-send: end this connection quietly
        return
    finally:
        _connections.pop(key, None)
        for group in joined:
            _groups.get(group, {}).pop(key, None)
