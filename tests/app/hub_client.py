"""A minimal SignalR JSON client over WebSockets, for driving apps in tests.

It speaks the wire protocol directly (handshake, 0x1E framing, Invocation
and Completion) with the ``websockets`` library, so app tests can connect
real clients without Node. It uses skipNegotiation (a WebSocket upgrade
without ``id``), which the official clients also offer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect

RS = "\x1e"
TIMEOUT = 5.0


class HubError(Exception):
    """A Completion carried an error."""


class JsonHubClient:
    """One connection; server-to-client Invocations are kept in arrival order."""

    def __init__(self, websocket: ClientConnection) -> None:
        self._ws = websocket
        self._pending: list[dict[str, Any]] = []
        self._next_id = 0

    @classmethod
    @asynccontextmanager
    async def connect(cls, url: str) -> AsyncIterator[JsonHubClient]:
        """``url`` is ``ws://host:port/hub/path`` (optionally with a query)."""
        async with ws_connect(url, open_timeout=TIMEOUT) as websocket:
            await websocket.send(json.dumps({"protocol": "json", "version": 1}) + RS)
            client = cls(websocket)
            first = await client._read_frames()
            if first[0] != {}:
                raise AssertionError(f"handshake failed: {first[0]!r}")
            client._pending.extend(first[1:])
            yield client

    async def _read_frames(self) -> list[dict[str, Any]]:
        with anyio.fail_after(TIMEOUT):
            frame = await self._ws.recv()
        text = frame if isinstance(frame, str) else frame.decode()
        assert text.endswith(RS), f"incomplete frame {text!r}"
        return [json.loads(part) for part in text.split(RS)[:-1]]

    async def _next_message(self) -> dict[str, Any]:
        while not self._pending:
            self._pending.extend(
                m
                for m in await self._read_frames()
                if m.get("type") != 6  # skip pings
            )
        return self._pending.pop(0)

    async def send(self, target: str, *args: Any) -> None:
        """Non-blocking invocation: no Completion comes back."""
        message = {"type": 1, "target": target, "arguments": list(args)}
        await self._ws.send(json.dumps(message) + RS)

    async def invoke(self, target: str, *args: Any) -> Any:
        """Blocking invocation; server Invocations seen meanwhile stay queued."""
        invocation_id = str(self._next_id)
        self._next_id += 1
        message = {
            "type": 1,
            "invocationId": invocation_id,
            "target": target,
            "arguments": list(args),
        }
        await self._ws.send(json.dumps(message) + RS)
        held: list[dict[str, Any]] = []
        try:
            while True:
                incoming = await self._next_message()
                if incoming.get("type") == 3 and incoming.get("invocationId") == invocation_id:
                    if "error" in incoming:
                        raise HubError(incoming["error"])
                    return incoming.get("result")
                held.append(incoming)
        finally:
            self._pending[:0] = held

    async def next_invocation(self) -> tuple[str, list[Any]]:
        """The next server-to-client call as (target, arguments)."""
        while True:
            message = await self._next_message()
            if message.get("type") == 1:
                return message["target"], message["arguments"]
            if message.get("type") == 7:
                raise AssertionError(f"server closed the connection: {message!r}")
