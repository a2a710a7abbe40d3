"""The app the Node streaming, client-result and stateful-reconnect tests drive.

Run with ``python -m signalr_server.app.cli run server.streaming_app:app --port N``
from ``interop/``.

Routes:

- ``/hubs/streaming``: ``StreamingHub`` on every transport, four parallel
  invocations per client (so hub methods may await client results),
  stateful reconnect allowed with a 10 s disconnect timeout.
- ``GET /clientresult/{connectionId}?method=Name``: asks that connection's
  ``Name`` handler for a result through the hub context (outside any hub)
  and answers ``{"result": ...}`` or ``{"error": "..."}``.
- ``GET /health``: 200 once the server is up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import anyio

from signalr_server.app import SignalR
from signalr_server.app.plain_http import send_json
from signalr_server.connections.asgi_types import Receive, Scope, Send
from signalr_server.connections.options import HttpConnectionOptions
from signalr_server.hubs import Hub, HubContext, HubException, HubOptions

recorded: defaultdict[str, list[int]] = defaultdict(list)
"""Numbers each connection sent with ``Record``, in arrival order."""


class StreamingHub(Hub):
    """Streams in both directions, client results, and traffic for reconnect tests."""

    def get_connection_id(self) -> str:
        return self.context.connection_id

    # -- server to client --------------------------------------------------

    async def counter(self, count: int, delay_ms: int = 0) -> AsyncIterator[int]:
        for index in range(count):
            yield index
            if delay_ms:
                await anyio.sleep(delay_ms / 1000)

    async def infinite(self) -> AsyncIterator[int]:
        """Streams until cancelled, then tells the caller ``StreamCanceled``."""
        index = 0
        try:
            while True:
                yield index
                index += 1
                await anyio.sleep(0.01)
        finally:
            with anyio.CancelScope(shield=True):
                await self.clients.caller.send("StreamCanceled")

    async def stream_then_throw(self, use_hub_exception: bool) -> AsyncIterator[int]:
        yield 1
        if use_hub_exception:
            raise HubException("a message for the client")
        raise ValueError("hidden detail")

    async def empty(self) -> AsyncIterator[int]:
        return
        yield 0

    # -- client to server --------------------------------------------------

    async def sum(self, numbers: AsyncIterator[int]) -> int:
        return sum([number async for number in numbers])

    async def concat(
        self, first: AsyncIterator[str], separator: str, second: AsyncIterator[str]
    ) -> str:
        """Two uploads around a plain argument.

        (The JS client drops the second of two *adjacent* stream arguments
        from ``streamIds``, so its tests keep an argument between them.)
        """
        head = "".join([item async for item in first])
        return head + separator + "".join([item async for item in second])

    async def upper(self, source: AsyncIterator[str]) -> AsyncIterator[str]:
        async for item in source:
            yield item.upper()

    async def upload_error(self, source: AsyncIterator[Any]) -> str:
        try:
            async for _ in source:
                pass
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return "completed"

    # -- client results ----------------------------------------------------

    async def ask_caller(self, method: str, argument: Any) -> Any:
        return await self.clients.caller.invoke(method, argument, timeout=10)

    # -- stateful reconnect traffic ------------------------------------------

    def record(self, number: int) -> None:
        recorded[self.context.connection_id].append(number)

    def get_recorded(self) -> list[int]:
        return recorded[self.context.connection_id]

    async def ticks(self, count: int, interval_ms: int) -> int:
        """Sends ``Tick(i)`` for i in 0..count-1 to the caller, then returns ``count``."""
        for index in range(count):
            await self.clients.caller.send("Tick", index)
            await anyio.sleep(interval_ms / 1000)
        return count


class Routes:
    """``/health`` and ``/clientresult/{connectionId}``."""

    def __init__(self) -> None:
        self.hub: HubContext | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # SignalR runs fine with a fallback that skips the lifespan
            return
        path: str = scope["path"]
        if path == "/health":
            await send_json(send, 200, {"status": "ok"})
            return
        if not path.startswith("/clientresult/") or self.hub is None:
            await send_json(send, 404, {"error": "Not Found"})
            return
        connection_id = path.removeprefix("/clientresult/")
        query = parse_qs(scope.get("query_string", b"").decode())
        method = query.get("method", ["GetResult"])[0]
        try:
            result = await self.hub.clients.client(connection_id).invoke(method, timeout=10)
        except (HubException, TimeoutError) as exc:
            await send_json(send, 200, {"error": str(exc) or type(exc).__name__})
            return
        await send_json(send, 200, {"result": result})


def create_app() -> SignalR:
    routes = Routes()
    signalr = SignalR(fallback=routes)
    signalr.map_hub(
        "/hubs/streaming",
        StreamingHub,
        options=HubOptions(maximum_parallel_invocations_per_client=4),
        connection_options=HttpConnectionOptions(
            allow_stateful_reconnects=True, disconnect_timeout=10.0
        ),
    )
    routes.hub = signalr.hub_context(StreamingHub)
    return signalr


app = create_app()
