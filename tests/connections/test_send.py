"""``POST {base}?id=`` (SEND-1..SEND-4), driven in process with hand-made ASGI
events so body chunking, broken bodies and concurrency are under test control."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import httpx
import pytest

from signalr_server.connections import (
    ConnectionContext,
    HttpConnection,
    HttpConnectionDispatcher,
    HttpTransportType,
)

pytestmark = pytest.mark.anyio

Receive = Callable[[], Awaitable[dict[str, Any]]]


async def idle_handler(ctx: ConnectionContext) -> None:
    await anyio.sleep_forever()


@pytest.fixture
async def endpoint() -> AsyncIterator[HttpConnectionDispatcher]:
    dispatcher = HttpConnectionDispatcher(idle_handler)
    yield dispatcher
    await dispatcher.manager.close_all()


async def negotiated(endpoint: HttpConnectionDispatcher) -> HttpConnection:
    transport = httpx.ASGITransport(app=endpoint)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/negotiate?negotiateVersion=1")
    connection = endpoint.manager.get(response.json()["connectionToken"])
    assert connection is not None
    return connection


def body_parts(*parts: bytes, broken: bool = False) -> Receive:
    """A request body delivered in ``parts``; ``broken`` ends it with a
    disconnect instead of the final chunk."""
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": part, "more_body": True} for part in parts
    ]
    if broken:
        messages.append({"type": "http.disconnect"})
    else:
        messages.append({"type": "http.request", "body": b"", "more_body": False})

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    return receive


class HeldBody:
    """A body of two chunks whose second one waits for ``release()``, so a
    test can act while the server is in the middle of reading the POST."""

    def __init__(self, first: bytes, second: bytes) -> None:
        self._parts: list[dict[str, Any]] = [
            {"type": "http.request", "body": first, "more_body": True},
            {"type": "http.request", "body": second, "more_body": False},
        ]
        self._released = anyio.Event()

    @property
    def first_read(self) -> bool:
        return len(self._parts) < 2

    async def wait_first_read(self) -> None:
        while not self.first_read:
            await anyio.sleep(0)

    def release(self) -> None:
        self._released.set()

    async def __call__(self) -> dict[str, Any]:
        if self.first_read:
            await self._released.wait()
        return self._parts.pop(0)


async def post(
    endpoint: HttpConnectionDispatcher, token: str, receive: Receive
) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "root_path": "",
        "query_string": f"id={token}".encode(),
        "headers": [(b"content-type", b"text/plain;charset=UTF-8")],
    }
    with anyio.fail_after(5):
        await endpoint(scope, receive, send)  # type: ignore[arg-type]
    start = sent[0]
    assert start["type"] == "http.response.start"
    body = b"".join(message.get("body", b"") for message in sent[1:])
    return start["status"], dict(start["headers"]), body


async def test_whole_body_reaches_the_input_before_200(
    endpoint: HttpConnectionDispatcher,
) -> None:
    connection = await negotiated(endpoint)
    status, headers, body = await post(
        endpoint, connection.token, body_parts(b'{"protocol":', b'"json","version":1}\x1e', b"")
    )
    assert (status, body) == (200, b"")
    assert headers[b"content-type"] == b"text/plain"
    assert headers[b"content-length"] == b"0"
    # Before any poll or SSE stream: the first POST may come first (SEND-1).
    assert connection.transport_type is HttpTransportType.NONE
    assert await connection.receive() == b'{"protocol":"json","version":1}\x1e'


async def test_message_split_across_posts_stays_one_stream(
    endpoint: HttpConnectionDispatcher,
) -> None:
    connection = await negotiated(endpoint)
    await post(endpoint, connection.token, body_parts(b"\x05\x01"))
    await post(endpoint, connection.token, body_parts(b"\x02\x03\x04"))
    assert await connection.receive() == b"\x05\x01\x02\x03\x04"


async def test_broken_body_is_400(endpoint: HttpConnectionDispatcher) -> None:
    connection = await negotiated(endpoint)
    status, headers, body = await post(
        endpoint, connection.token, body_parts(b"partial", broken=True)
    )
    assert (status, body) == (400, b"")
    assert headers[b"content-type"] == b"text/plain"


async def test_closing_connection_is_404(endpoint: HttpConnectionDispatcher) -> None:
    connection = await negotiated(endpoint)
    # The transport went away: nothing will read the input any more.
    connection.transport_lost()
    status, headers, body = await post(endpoint, connection.token, body_parts(b"data"))
    assert (status, body) == (404, b"")
    assert headers[b"content-type"] == b"text/plain"


async def test_connection_disposed_during_body_is_404(
    endpoint: HttpConnectionDispatcher,
) -> None:
    connection = await negotiated(endpoint)
    body = HeldBody(b"first", b"second")

    async with anyio.create_task_group() as tasks:
        results: list[tuple[int, dict[bytes, bytes], bytes]] = []

        async def run() -> None:
            results.append(await post(endpoint, connection.token, body))

        tasks.start_soon(run)
        await body.wait_first_read()
        endpoint.manager.dispose(connection)
        body.release()
    assert results[0][0] == 404


async def test_disposed_connection_is_not_found(endpoint: HttpConnectionDispatcher) -> None:
    connection = await negotiated(endpoint)
    endpoint.manager.dispose(connection)
    status, _, body = await post(endpoint, connection.token, body_parts(b"data"))
    assert (status, body) == (404, b"No Connection with that ID")


async def test_websocket_connection_is_405(endpoint: HttpConnectionDispatcher) -> None:
    connection = await negotiated(endpoint)
    connection.try_set_transport(HttpTransportType.WebSockets)
    status, _, body = await post(endpoint, connection.token, body_parts(b"data"))
    assert (status, body) == (405, b"POST requests are not allowed for WebSocket connections.")


async def test_missing_or_unknown_id(endpoint: HttpConnectionDispatcher) -> None:
    assert (await post(endpoint, "", body_parts(b"x")))[::2] == (400, b"Connection ID required")
    assert (await post(endpoint, "nope", body_parts(b"x")))[::2] == (
        404,
        b"No Connection with that ID",
    )


async def test_concurrent_posts_run_one_after_another(
    endpoint: HttpConnectionDispatcher,
) -> None:
    connection = await negotiated(endpoint)
    first_body = HeldBody(b"A1", b"A2")
    statuses: list[tuple[str, int]] = []

    async def run(name: str, receive: Receive) -> None:
        status, _, _ = await post(endpoint, connection.token, receive)
        statuses.append((name, status))

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(run, "first", first_body)
        await first_body.wait_first_read()
        tasks.start_soon(run, "second", body_parts(b"B1", b"B2"))
        # Let the second POST run as far as it can: it must wait, not 409.
        for _ in range(20):
            await anyio.sleep(0)
        assert statuses == []
        first_body.release()
    assert statuses == [("first", 200), ("second", 200)]
    assert await connection.receive() == b"A1A2B1B2"
