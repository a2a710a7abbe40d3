"""Wire order on a direct-mode WebSocket, driven step by step through fake
ASGI callables (the live suites cannot hold a send in flight on purpose)."""

from __future__ import annotations

import asyncio
from typing import Any

from signalr_server.connections import HttpConnectionOptions, RequestInfo
from signalr_server.connections.connection import HttpConnection
from signalr_server.connections.websockets import WebSocketTransport

REQUEST = RequestInfo.from_scope({"path": "/hub", "query_string": b""})


def test_data_the_writer_took_is_never_overtaken_by_a_direct_write() -> None:
    """The handler's direct write of A is in flight; fan-out queues B, which the
    request task takes and holds until A is sent. When A returns, the handler
    sends C at once, in the same step: C must go after B, not straight past it."""

    async def main() -> list[str]:
        connection = HttpConnection("id", "token", HttpConnectionOptions(), REQUEST)
        transport = WebSocketTransport(connection, HttpConnectionOptions())
        sent: list[str] = []
        release = asyncio.Event()
        accepted = asyncio.Event()
        never = asyncio.Event()

        async def receive() -> dict[str, Any]:
            await never.wait()
            return {"type": "websocket.disconnect", "code": 1000}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "websocket.send":
                if message["text"] == "A" and not release.is_set():
                    await release.wait()  # the handler's write stays in flight
                sent.append(message["text"])

        request = asyncio.ensure_future(transport.run(receive, send, accepted.set))
        await accepted.wait()
        assert connection.direct_socket is transport

        async def handler() -> None:
            await connection.send(b"A")
            await connection.send(b"C")  # no suspension between the two

        writing = asyncio.ensure_future(handler())
        await asyncio.sleep(0.01)  # A is in flight
        connection.send_nowait(b"B")
        await asyncio.sleep(0.01)  # the request task took B and waits its turn
        release.set()
        await writing
        await asyncio.sleep(0.01)
        request.cancel()
        await asyncio.gather(request, return_exceptions=True)
        return sent

    assert asyncio.run(main()) == ["A", "B", "C"]
