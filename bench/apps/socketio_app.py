"""python-socketio's ``AsyncServer`` in ASGI mode: what a Python team would pick instead.

Events: ``echo`` (answered through the acknowledgement), ``broadcast``
(``emit`` to everyone but the sender), ``join`` (enter a room) and ``group``
(``emit`` to a room).
"""

from __future__ import annotations

from typing import Any

import socketio

sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins=[], logger=False)


@sio.on("echo")  # type: ignore[misc]
async def echo(sid: str, value: Any) -> Any:
    return value


@sio.on("broadcast")  # type: ignore[misc]
async def broadcast(sid: str, value: Any) -> None:
    await sio.emit("receive", value, skip_sid=sid)


@sio.on("join")  # type: ignore[misc]
async def join(sid: str, room: str) -> None:
    await sio.enter_room(sid, room)


@sio.on("group")  # type: ignore[misc]
async def group(sid: str, room: str, value: Any) -> None:
    await sio.emit("receive", value, room=room)


app = socketio.ASGIApp(sio)
