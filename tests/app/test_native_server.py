"""The native server over real sockets: HTTP/1.1, WebSocket, limits, lifespan, shutdown.

The SignalR behaviour on top of it is covered by the live tests, which run on
every server in ``tests.servers.SERVERS`` (native included), and by the Node
suite (``INTEROP_SERVER=native``). These tests speak raw bytes to check what
only a server decides.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from signalr_server.app.native import NativeLimits, serve_native
from signalr_server.app.native.frames import OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT
from signalr_server.app.native.protocol import NativeProtocol
from signalr_server.app.native.server import ServerState
from signalr_server.connections.websockets import WRITE_NOWAIT_EXTENSION
from tests.app.test_native_frames import client_frame

events: list[str] = []


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    kind = scope["type"]
    if kind == "lifespan":
        while True:
            message = await receive()
            events.append(message["type"])
            if message["type"] == "lifespan.startup":
                scope["state"]["greeting"] = "hi"
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if kind == "http":
        await _http(scope, receive, send, path)
    else:
        await _websocket(scope, receive, send, path)


async def _http(scope: dict[str, Any], receive: Any, send: Any, path: str) -> None:
    if path == "/boom":
        raise RuntimeError("boom")
    if path == "/unread":
        await asyncio.sleep(0.3)  # long enough for the body to pile up
    if path == "/ignore":  # answers without reading the body at all
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if path == "/state":
        body = scope["state"]["greeting"].encode()
    if path == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for chunk in (b"one ", b"two"):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _websocket(scope: dict[str, Any], receive: Any, send: Any, path: str) -> None:
    assert (await receive())["type"] == "websocket.connect"
    if path == "/deny":
        await send(
            {
                "type": "websocket.http.response.start",
                "status": 401,
                "headers": [(b"content-length", b"4")],
            }
        )
        await send({"type": "websocket.http.response.body", "body": b"nope"})
        return
    if path == "/refuse":
        await send({"type": "websocket.close"})
        return
    await send({"type": "websocket.accept", "headers": [(b"x-extra", b"1")]})
    if path == "/server-close":
        await send({"type": "websocket.close", "code": 4000, "reason": "done"})
    elif path == "/idle":
        await asyncio.sleep(3600)
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            events.append(f"disconnect {message['code']}")
            return
        await send(
            {k: v for k, v in message.items() if k in ("bytes", "text")}
            | {"type": "websocket.send"}
        )


class Running:
    def __init__(self, state: ServerState, stop: asyncio.Event) -> None:
        self.port: int = state.addresses[0][1]
        self.connections: set[NativeProtocol] = state.connections
        self.stop = stop


Scenario = Callable[[Running], Awaitable[None]]


def serve_and(scenario: Scenario, limits: NativeLimits | None = None, served: Any = None) -> None:
    """Run ``scenario`` against a native server (serving ``app`` unless
    ``served`` is given), then stop it."""

    loop_errors: list[dict[str, Any]] = []

    async def main() -> None:
        # Anything the server leaves to the loop's exception handler is a bug.
        asyncio.get_running_loop().set_exception_handler(lambda _, ctx: loop_errors.append(ctx))
        stop = asyncio.Event()
        running: list[Running] = []
        server = asyncio.ensure_future(
            serve_native(
                served or app,
                port=0,
                limits=limits,
                shutdown_trigger=stop.wait,
                on_listening=lambda state: running.append(Running(state, stop)),
            )
        )
        while not running:
            if server.done():
                server.result()
            await asyncio.sleep(0.01)
        try:
            await asyncio.wait_for(scenario(running[0]), 10)
        finally:
            stop.set()
            await asyncio.wait_for(server, 10)

    events.clear()
    asyncio.run(main())
    assert not loop_errors, loop_errors


async def open_(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def read_response(reader: asyncio.StreamReader) -> tuple[bytes, dict[bytes, bytes], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status, *lines = head[:-4].split(b"\r\n")
    headers = {k.lower(): v for k, _, v in (line.partition(b": ") for line in lines)}
    if b"content-length" in headers:
        body = await reader.readexactly(int(headers[b"content-length"]))
    elif headers.get(b"transfer-encoding") == b"chunked":
        body = b""
        while size := int((await reader.readuntil(b"\r\n"))[:-2], 16):
            body += (await reader.readexactly(size + 2))[:-2]
        await reader.readuntil(b"\r\n")
    else:
        body = b""
    return status, headers, body


def request(method: str, path: str, body: bytes = b"", headers: str = "") -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n{headers}\r\n"
    ).encode() + body


def upgrade(path: str, *, version: str = "13", key: str | None = None) -> bytes:
    key = key if key is not None else base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: {version}\r\n\r\n"
    ).encode()


async def websocket(
    port: int, path: str = "/ws"
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await open_(port)
    writer.write(upgrade(path))
    status, headers, _ = await read_response(reader)
    assert status == b"HTTP/1.1 101 Switching Protocols"
    assert headers[b"x-extra"] == b"1"
    return reader, writer


async def read_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    first, second = await reader.readexactly(2)
    assert not second & 0x80, "server frames are never masked"
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8), "big")
    return first & 0x0F, await reader.readexactly(length)


# -- HTTP ------------------------------------------------------------------------------


def test_keep_alive_and_pipelined_requests_are_answered_in_order() -> None:
    async def scenario(server: Running) -> None:
        port = server.port
        reader, writer = await open_(port)
        writer.write(request("POST", "/a", b"first"))
        assert (await read_response(reader))[2] == b"first"
        writer.write(request("POST", "/a", b"second") + request("POST", "/b", b"third"))
        assert (await read_response(reader))[2] == b"second"
        assert (await read_response(reader))[2] == b"third"
        writer.write(request("GET", "/stream"))
        status, headers, body = await read_response(reader)
        assert (status, headers[b"transfer-encoding"], body) == (
            b"HTTP/1.1 200 OK",
            b"chunked",
            b"one two",
        )
        writer.write(request("HEAD", "/x", headers="Connection: close\r\n"))
        head = await reader.read()
        assert head.startswith(b"HTTP/1.1 200 OK") and head.endswith(b"\r\n\r\n")

    serve_and(scenario)


def test_an_app_error_is_a_500_and_bad_requests_are_refused_without_the_app() -> None:
    async def scenario(server: Running) -> None:
        port = server.port
        reader, writer = await open_(port)
        writer.write(request("GET", "/boom"))
        status, _, body = await read_response(reader)
        assert (status, body) == (b"HTTP/1.1 500 Internal Server Error", b"Internal Server Error")
        assert await reader.read() == b""  # closed after it

        reader, writer = await open_(port)
        writer.write(b"NOT HTTP\r\n\r\n")
        status, _, body = await read_response(reader)
        assert status == b"HTTP/1.1 400 Bad Request" and body.startswith(b"Bad request")

        reader, writer = await open_(port)
        writer.write(b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n")
        status, _, _ = await read_response(reader)
        assert status.startswith(b"HTTP/1.1 431")

    serve_and(scenario)


def test_an_idle_keep_alive_connection_is_closed_after_the_timeout() -> None:
    async def scenario(server: Running) -> None:
        port = server.port
        reader, writer = await open_(port)
        writer.write(request("GET", "/"))
        await read_response(reader)
        assert await asyncio.wait_for(reader.read(), 2) == b""
        reader, writer = await open_(port)  # never sends a request at all
        assert await asyncio.wait_for(reader.read(), 2) == b""

    serve_and(scenario, NativeLimits(keep_alive_timeout=0.2))


def test_an_unread_request_body_stops_reading_at_the_buffer_limit() -> None:
    async def scenario(server: Running) -> None:
        port, connections = server.port, server.connections
        reader, writer = await open_(port)
        body = b"x" * 200_000
        writer.write(request("POST", "/unread", body))
        await asyncio.sleep(0.15)
        (connection,) = connections
        assert connection.reading_paused  # the app has not read yet
        assert (await read_response(reader))[2] == body  # and then gets all of it

    serve_and(scenario, NativeLimits(request_buffer=16 * 1024))


def test_expect_100_continue_and_a_body_left_unread_on_a_keep_alive_connection() -> None:
    async def scenario(server: Running) -> None:
        reader, writer = await open_(server.port)
        writer.write(
            b"POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(b"hello")
        assert (await read_response(reader))[2] == b"hello"
        # A body the app never reads is drained, and the connection serves on.
        writer.write(request("POST", "/ignore", b"x" * 300_000))
        assert (await read_response(reader))[0] == b"HTTP/1.1 204 No Content"
        writer.write(request("POST", "/a", b"after"))
        assert (await read_response(reader))[2] == b"after"

    serve_and(scenario, NativeLimits(request_buffer=16 * 1024))


def test_an_app_without_lifespan_is_served_and_a_failed_startup_stops_the_server() -> None:
    async def no_lifespan(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("no lifespan here")
        await app(scope, receive, send)

    async def failing(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "no database"})

    async def scenario(server: Running) -> None:
        reader, writer = await open_(server.port)
        writer.write(request("POST", "/a", b"served"))
        assert (await read_response(reader))[2] == b"served"

    serve_and(scenario, served=no_lifespan)
    with pytest.raises(RuntimeError, match="startup failed: no database"):
        serve_and(scenario, served=failing)


def test_connections_past_the_limit_are_refused_with_503() -> None:
    async def scenario(server: Running) -> None:
        _, first = await open_(server.port)
        _, _second = await open_(server.port)
        reader, _ = await open_(server.port)
        status, _, body = await read_response(reader)
        assert (status, body) == (b"HTTP/1.1 503 Service Unavailable", b"Too many connections.")
        assert await reader.read() == b""
        first.close()
        await asyncio.sleep(0.1)
        reader, writer = await open_(server.port)  # a slot is free again
        writer.write(request("POST", "/a", b"ok"))
        assert (await read_response(reader))[2] == b"ok"

    serve_and(scenario, NativeLimits(max_connections=2))


def test_garbage_from_some_clients_never_disturbs_the_others() -> None:
    """Random bytes on HTTP connections and on upgraded WebSockets, while a
    well-behaved client keeps echoing: every garbage connection is closed (or
    answered), the good one never notices, and nothing reaches the loop's
    exception handler (checked by serve_and)."""
    rng = random.Random(1234)

    async def garbage(port: int, upgraded: bool) -> None:
        reader, writer = await (websocket(port) if upgraded else open_(port))
        for _ in range(20):
            writer.write(rng.randbytes(rng.randint(1, 300)))
        with contextlib.suppress(ConnectionError, TimeoutError):
            await asyncio.wait_for(reader.read(), 3)
        writer.close()

    async def scenario(server: Running) -> None:
        reader, writer = await websocket(server.port)
        chaos = asyncio.gather(*(garbage(server.port, i % 2 == 0) for i in range(40)))
        for i in range(50):
            writer.write(client_frame(OP_TEXT, f"ping {i}".encode()))
            assert await read_frame(reader) == (OP_TEXT, f"ping {i}".encode())
            await asyncio.sleep(0.005)
        await chaos

    serve_and(scenario, NativeLimits(keep_alive_timeout=1))


# -- WebSocket ----------------------------------------------------------------------------


def test_websocket_echo_ping_and_a_close_started_by_the_client() -> None:
    async def scenario(server: Running) -> None:
        port = server.port
        reader, writer = await websocket(port)
        big = os.urandom(70_000)
        writer.write(client_frame(OP_PING, b"p"))
        assert await read_frame(reader) == (OP_PONG, b"p")  # answered by the server itself
        writer.write(client_frame(OP_TEXT, "hé".encode()) + client_frame(OP_BINARY, big))
        assert await read_frame(reader) == (OP_TEXT, "hé".encode())
        assert await read_frame(reader) == (OP_BINARY, big)
        writer.write(client_frame(OP_CLOSE, (4001).to_bytes(2, "big") + b"bye"))
        assert await read_frame(reader) == (OP_CLOSE, (4001).to_bytes(2, "big"))
        assert await reader.read() == b""  # the server closes TCP first
        await asyncio.sleep(0.05)
        assert events[-1] == "disconnect 4001"

    serve_and(scenario)


def test_a_close_started_by_the_app_waits_boundedly_for_the_client() -> None:
    async def scenario(server: Running) -> None:
        port = server.port
        reader, writer = await websocket(port, "/server-close")
        assert await read_frame(reader) == (OP_CLOSE, (4000).to_bytes(2, "big") + b"done")
        writer.write(client_frame(OP_CLOSE, (4000).to_bytes(2, "big")))
        assert await reader.read() == b""
        # A client that never answers is dropped after the close timeout.
        reader, writer = await websocket(port, "/server-close")
        await read_frame(reader)
        assert await asyncio.wait_for(reader.read(), 2) == b""

    serve_and(scenario, NativeLimits(websocket_close_timeout=0.3))


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        (client_frame(OP_TEXT, b"x", mask=False), 1002),
        (client_frame(OP_TEXT, b"\xc3"), 1007),
        (client_frame(OP_BINARY, b"x" * 2000), 1009),
        (client_frame(OP_CLOSE, b"\x03"), 1002),
    ],
    ids=["unmasked", "invalid-utf8", "too-big", "bad-close"],
)
def test_protocol_errors_close_with_their_code(frame: bytes, code: int) -> None:
    async def scenario(server: Running) -> None:
        port = server.port
        reader, writer = await websocket(port)
        writer.write(frame)
        opcode, payload = await read_frame(reader)
        assert (opcode, int.from_bytes(payload[:2], "big")) == (OP_CLOSE, code)
        assert await reader.read() == b""
        await asyncio.sleep(0.05)
        assert events[-1] == f"disconnect {code}"

    serve_and(scenario, NativeLimits(websocket_max_message=1024))


def test_upgrades_refused_by_the_server_or_the_app() -> None:
    async def scenario(server: Running) -> None:
        port = server.port
        for data, expected in [
            (upgrade("/ws", version="8"), b"HTTP/1.1 426 Upgrade Required"),
            (upgrade("/ws", key="short"), b"HTTP/1.1 400 Bad Request"),
            (upgrade("/deny"), b"HTTP/1.1 401 Unauthorized"),
            (upgrade("/refuse"), b"HTTP/1.1 403 Forbidden"),
        ]:
            reader, writer = await open_(port)
            writer.write(data)
            status, headers, body = await read_response(reader)
            assert status == expected
            if expected.endswith(b"Unauthorized"):
                assert body == b"nope"
            if b"426" in expected:
                assert headers[b"sec-websocket-version"] == b"13"
            assert await reader.read() == b""

    serve_and(scenario)


def test_messages_the_app_does_not_read_stop_reading_at_the_buffer_limit() -> None:
    async def scenario(server: Running) -> None:
        port, connections = server.port, server.connections
        _, writer = await websocket(port, "/idle")
        for _ in range(20):
            writer.write(client_frame(OP_BINARY, b"x" * 1000))
        await writer.drain()
        await asyncio.sleep(0.1)
        (connection,) = connections
        assert connection.reading_paused

    serve_and(scenario, NativeLimits(websocket_buffer=4096))


def test_lifespan_state_and_shutdown_closing_websockets_with_1012() -> None:
    async def scenario(server: Running) -> None:
        reader, writer = await open_(server.port)
        writer.write(request("GET", "/state"))
        assert (await read_response(reader))[2] == b"hi"
        ws_reader, _ = await websocket(server.port)
        server.stop.set()
        assert await read_frame(ws_reader) == (OP_CLOSE, (1012).to_bytes(2, "big"))

    serve_and(scenario)
    assert events[0] == "lifespan.startup"
    assert "disconnect 1012" in events
    assert events[-1] == "lifespan.shutdown"


def test_the_listen_extension_offers_messages_while_nothing_is_queued() -> None:
    async def listening_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            return
        extension = scope["extensions"][WRITE_NOWAIT_EXTENSION]
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept", "headers": [(b"x-extra", b"1")]})

        def listener(data: bytes) -> bool:
            if not data.startswith(b"take:"):
                return False
            return bool(extension["write"](b"took:" + data[5:], False))

        extension["listen"](listener)
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text") or message["bytes"].decode()
            if text == "stop":
                extension["listen"](None)
            await send({"type": "websocket.send", "text": "queued:" + text})

    async def scenario(server: Running) -> None:
        reader, writer = await websocket(server.port)
        writer.write(client_frame(OP_TEXT, "take:é".encode()))
        assert await read_frame(reader) == (OP_TEXT, "took:é".encode())
        writer.write(client_frame(OP_BINARY, b"take:2"))  # binary frames too
        assert await read_frame(reader) == (OP_TEXT, b"took:2")
        # Refused, so queued; what follows it queues behind it, in order.
        writer.write(client_frame(OP_TEXT, b"keep") + client_frame(OP_TEXT, b"take:3"))
        assert await read_frame(reader) == (OP_TEXT, b"queued:keep")
        assert await read_frame(reader) == (OP_TEXT, b"queued:take:3")
        writer.write(client_frame(OP_TEXT, b"take:4"))  # nothing queued: offered again
        assert await read_frame(reader) == (OP_TEXT, b"took:4")
        writer.write(client_frame(OP_TEXT, b"stop"))
        assert await read_frame(reader) == (OP_TEXT, b"queued:stop")
        writer.write(client_frame(OP_TEXT, b"take:5"))  # no listener any more
        assert await read_frame(reader) == (OP_TEXT, b"queued:take:5")
        writer.close()

    serve_and(scenario, served=listening_app)
