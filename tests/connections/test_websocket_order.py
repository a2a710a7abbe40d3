"""Wire order on a direct-mode WebSocket, driven step by step through fake
ASGI callables (the live suites cannot hold a send in flight on purpose)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from signalr_server.connections import ConnectionClosed, HttpConnectionOptions, RequestInfo
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


def _writable_by_its_flags(transport: WebSocketTransport) -> bool:
    return not (
        transport._writing or transport._holding or transport._closing or transport._client_closed
    )


def test_writable_follows_every_send_hold_and_close() -> None:
    """``writable`` is an attribute kept in step with the four flags it stands
    for: check it at each step of a direct write, a held queued send, a
    direct write after them, and the close."""

    async def main() -> list[tuple[str, bool, bool]]:
        connection = HttpConnection("id", "token", HttpConnectionOptions(), REQUEST)
        transport = WebSocketTransport(connection, HttpConnectionOptions())
        seen: list[tuple[str, bool, bool]] = []
        release = asyncio.Event()
        accepted = asyncio.Event()
        inbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        def look(step: str) -> None:
            seen.append((step, transport.writable, _writable_by_its_flags(transport)))

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "websocket.send":
                look(f"sending {message['text']}")
                if message["text"] == "A":
                    await release.wait()

        request = asyncio.ensure_future(transport.run(inbound.get, send, accepted.set))
        await accepted.wait()
        look("accepted")
        writing = asyncio.ensure_future(connection.send(b"A"))
        await asyncio.sleep(0.01)
        look("A in flight")
        connection.send_nowait(b"B")
        await asyncio.sleep(0.01)
        look("B held")
        release.set()
        await writing
        await asyncio.sleep(0.01)
        look("both sent")
        await connection.send(b"C")
        look("C sent")
        inbound.put_nowait({"type": "websocket.disconnect", "code": 1000})
        with pytest.raises(ConnectionClosed):
            await connection.receive()  # the handler reads the socket itself
        look("client closed")
        request.cancel()
        await asyncio.gather(request, return_exceptions=True)
        return seen

    seen = asyncio.run(main())
    assert [(step, writable) for step, writable, _ in seen] == [
        ("accepted", True),
        ("sending A", False),
        ("A in flight", False),
        ("B held", False),
        ("sending B", False),
        ("both sent", True),
        ("sending C", False),
        ("C sent", True),
        ("client closed", False),
    ]
    assert all(writable == by_flags for _, writable, by_flags in seen)


async def _accepted(
    extension: dict[str, Any] | None,
) -> tuple[HttpConnection, asyncio.Queue[dict[str, Any]], asyncio.Future[None]]:
    """A direct-mode transport serving fake ASGI callables: the connection,
    the queue ``receive`` reads and the request's future."""
    connection = HttpConnection("id", "token", HttpConnectionOptions(), REQUEST)
    transport = WebSocketTransport(connection, HttpConnectionOptions(), extension)
    inbound: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    accepted = asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        pass

    request = asyncio.ensure_future(transport.run(inbound.get, send, accepted.set))
    await accepted.wait()
    return connection, inbound, request


def _extension(offered: list[Any]) -> dict[str, Any]:
    """A server's write_nowait extension that never writes and records what
    the transport hands its ``listen``."""
    return {"write": lambda data, binary: False, "buffered": lambda: 0, "listen": offered.append}


def test_a_listener_gets_payloads_only_while_the_handler_waits_to_read() -> None:
    """The server's ``listen`` reaches the handler's listener through the
    transport only while the handler is inside ``receive``; the transport
    unregisters it when the socket ends, and a server without ``listen``
    makes ``HttpConnection.listen`` report False."""

    async def main() -> None:
        offered: list[Any] = []
        connection, inbound, request = await _accepted(_extension(offered))
        taken: list[bytes] = []
        assert connection.listen(lambda data: taken.append(data) is None)
        server_side = offered[-1]
        assert not server_side(b"early")  # the handler is not reading yet
        reading = asyncio.ensure_future(connection.receive())
        await asyncio.sleep(0.01)
        assert server_side(b"now") and taken == [b"now"]
        assert not server_side(b"")  # empty payloads are left to receive
        inbound.put_nowait({"type": "websocket.receive", "bytes": b"queued"})
        assert await reading == b"queued"
        assert not server_side(b"late")  # not reading any more
        assert connection.listen(None) and offered[-1] is None
        assert connection.listen(print) and offered[-1] is not None
        request.cancel()  # the socket's request ends: the transport unregisters
        await asyncio.gather(request, return_exceptions=True)
        assert offered[-1] is None and not connection.listen(print)

    asyncio.run(main())


def test_no_listen_without_the_extension() -> None:
    async def main() -> None:
        connection, _, request = await _accepted(None)
        assert not connection.listen(print)
        request.cancel()
        await asyncio.gather(request, return_exceptions=True)

    asyncio.run(main())


def test_a_listener_that_raises_aborts_only_its_connection() -> None:
    async def main() -> None:
        offered: list[Any] = []
        connection, _, request = await _accepted(_extension(offered))

        def broken(data: bytes) -> bool:
            raise ValueError("bug in a raw handler")

        assert connection.listen(broken)
        reading = asyncio.ensure_future(connection.receive())
        await asyncio.sleep(0.01)
        assert offered[-1](b"data") is True  # taken (dropped): nothing raised to the server
        assert connection.aborted_reason == "The connection's listener failed."
        assert offered[-1](b"more") is False  # no listener any more
        request.cancel()
        reading.cancel()
        await asyncio.gather(request, reading, return_exceptions=True)

    asyncio.run(main())
