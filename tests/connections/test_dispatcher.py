"""Every status code and text of the connection endpoint, in process (no server).

HTTP goes through httpx's ASGI transport; WebSocket rejections are driven with
hand-made ASGI events, with and without the ``websocket.http.response``
extension.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest

from signalr_server.app import SignalR
from signalr_server.connections import (
    ConnectionContext,
    HttpConnection,
    HttpConnectionDispatcher,
    HttpConnectionOptions,
    HttpTransportType,
)

pytestmark = pytest.mark.anyio


async def idle_handler(ctx: ConnectionContext) -> None:
    await ctx.receive()


@pytest.fixture
def app() -> SignalR:
    signalr = SignalR()
    signalr.map_connection("/hub", idle_handler)
    signalr.map_connection(
        "/lp-only",
        idle_handler,
        options=HttpConnectionOptions(transports=HttpTransportType.LongPolling),
    )
    return signalr


@pytest.fixture
async def client(app: SignalR) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield http
    for dispatcher in app.dispatchers:
        await dispatcher.manager.close_all()


def dispatcher(app: SignalR, base: str = "/hub") -> HttpConnectionDispatcher:
    return dict(app._endpoints)[base]


async def negotiated_token(client: httpx.AsyncClient, base: str = "/hub") -> str:
    response = await client.post(f"{base}/negotiate?negotiateVersion=1")
    return str(response.json()["connectionToken"])


async def connection_on(
    app: SignalR, client: httpx.AsyncClient, transport: HttpTransportType
) -> HttpConnection:
    """A fresh ``/hub`` connection, already bound to ``transport``."""
    token = await negotiated_token(client)
    connection = dispatcher(app).manager.get(token)
    assert connection is not None
    connection.try_set_transport(transport)
    return connection


async def drive_websocket(
    app: SignalR, path: str, query: str = "", *, extension: bool = True
) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []
    inbox: list[dict[str, Any]] = [{"type": "websocket.connect"}]

    async def receive() -> dict[str, Any]:
        if inbox:
            return inbox.pop(0)
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "path": path,
        "root_path": "",
        "query_string": query.encode(),
        "headers": [],
        "extensions": {"websocket.http.response": {}} if extension else {},
    }
    with anyio.fail_after(5):
        await app(scope, receive, send)  # type: ignore[arg-type]
    return sent


def http_answer(messages: list[dict[str, Any]]) -> tuple[int, bytes]:
    assert messages[0]["type"] == "websocket.http.response.start"
    assert (b"content-type", b"text/plain") in messages[0]["headers"]
    return messages[0]["status"], b"".join(m.get("body", b"") for m in messages[1:])


async def test_negotiate_is_post_only(client: httpx.AsyncClient) -> None:
    response = await client.post("/hub/negotiate", content=b"")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        response = await client.request(method, "/hub/negotiate")
        assert response.status_code == 405
        assert response.headers["content-type"] == "text/plain"


async def test_negotiate_registers_only_successful_connections(
    app: SignalR, client: httpx.AsyncClient
) -> None:
    await client.post("/hub/negotiate?negotiateVersion=abc")
    assert len(dispatcher(app).manager) == 0
    token = await negotiated_token(client)
    assert dispatcher(app).manager.get(token) is not None
    v0 = (await client.post("/Hub/Negotiate")).json()
    assert dispatcher(app).manager.get(v0["connectionId"]) is not None


async def test_other_methods_on_base_get_405(client: httpx.AsyncClient) -> None:
    for method in ("PUT", "PATCH", "OPTIONS"):
        response = await client.request(method, "/hub?id=x")
        assert response.status_code == 405
        assert response.headers["content-type"] == "text/plain"


@pytest.mark.parametrize(
    ("method", "headers"),
    [("POST", {}), ("DELETE", {}), ("GET", {}), ("GET", {"Accept": "text/event-stream"})],
)
async def test_missing_id_is_400(
    client: httpx.AsyncClient, method: str, headers: dict[str, str]
) -> None:
    for url in ("/hub", "/hub?id="):
        response = await client.request(method, url, headers=headers)
        assert response.status_code == 400
        assert response.text == "Connection ID required"
        assert response.headers["content-type"] == "text/plain"


@pytest.mark.parametrize("method", ["POST", "DELETE", "GET"])
async def test_unknown_id_is_404(client: httpx.AsyncClient, method: str) -> None:
    response = await client.request(method, "/hub?id=nope")
    assert response.status_code == 404
    assert response.text == "No Connection with that ID"


async def test_disabled_transport_requests_are_404(client: httpx.AsyncClient) -> None:
    token = await negotiated_token(client, "/lp-only")
    response = await client.get(f"/lp-only?id={token}", headers={"Accept": "text/event-stream"})
    assert response.status_code == 404
    assert response.text == "ServerSentEvents transport not supported by this end point type"
    assert response.headers["content-type"] == "text/plain"


async def test_post_and_delete_on_websocket_connection(
    app: SignalR, client: httpx.AsyncClient
) -> None:
    token = (await connection_on(app, client, HttpTransportType.WebSockets)).token
    response = await client.post(f"/hub?id={token}", content=b"{}\x1e")
    assert (response.status_code, response.text) == (
        405,
        "POST requests are not allowed for WebSocket connections.",
    )
    response = await client.delete(f"/hub?id={token}")
    assert (response.status_code, response.text) == (
        400,
        "Cannot terminate this connection using the DELETE endpoint.",
    )


async def test_post_feeds_inbound_bytes(app: SignalR, client: httpx.AsyncClient) -> None:
    token = await negotiated_token(client)
    response = await client.post(f"/hub?id={token}", content=b'{"protocol":"json"}\x1e')
    assert response.status_code == 200
    assert response.text == ""
    connection = dispatcher(app).manager.get(token)
    assert connection is not None
    assert await connection.receive() == b'{"protocol":"json"}\x1e'


async def test_websocket_unknown_id(app: SignalR) -> None:
    answer = http_answer(await drive_websocket(app, "/hub", "id=missing"))
    assert answer == (404, b"No Connection with that ID")


async def test_websocket_rejection_without_extension_closes(app: SignalR) -> None:
    sent = await drive_websocket(app, "/hub", "id=missing", extension=False)
    assert [message["type"] for message in sent] == ["websocket.close"]


async def test_websocket_transport_disabled(app: SignalR, client: httpx.AsyncClient) -> None:
    answer = http_answer(await drive_websocket(app, "/lp-only"))
    assert answer == (404, b"WebSockets transport not supported by this end point type")
    token = await negotiated_token(client, "/lp-only")
    answer = http_answer(await drive_websocket(app, "/lp-only", f"id={token}"))
    assert answer == (404, b"WebSockets transport not supported by this end point type")


async def test_websocket_on_active_connection_is_409(
    app: SignalR, client: httpx.AsyncClient
) -> None:
    token = (await connection_on(app, client, HttpTransportType.WebSockets)).token
    assert http_answer(await drive_websocket(app, "/hub", f"id={token}")) == (409, b"")


async def test_websocket_cannot_change_transport(app: SignalR, client: httpx.AsyncClient) -> None:
    connection = await connection_on(app, client, HttpTransportType.LongPolling)
    connection.mark_inactive()
    answer = http_answer(await drive_websocket(app, "/hub", f"id={connection.token}"))
    assert answer == (400, b"Cannot change transports mid-connection")


async def test_unexpected_failure_is_500(app: SignalR, client: httpx.AsyncClient) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("registry failure under test")

    dispatcher(app).manager.create = broken  # type: ignore[method-assign,assignment]
    response = await client.post("/hub/negotiate")
    assert response.status_code == 500
    answer = http_answer(await drive_websocket(app, "/hub"))
    assert answer[0] == 500


async def test_standalone_dispatcher_uses_root_path() -> None:
    endpoint = HttpConnectionDispatcher(idle_handler)
    transport = httpx.ASGITransport(app=endpoint, root_path="/mounted")
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.post("/mounted/negotiate?negotiateVersion=1")
        assert response.json()["negotiateVersion"] == 1
        assert (await http.get("/mounted/elsewhere")).status_code == 404
    await endpoint.manager.close_all()
