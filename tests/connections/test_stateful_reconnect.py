"""Stateful reconnect at the transport level: the WebSocket swap (SR-9, SR-10).

A real server and a plain WebSocket client that speaks the hub protocol by
hand, so the test can drop the TCP socket without a close frame and come
back with the same connection token.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from signalr_server.app import SignalR
from signalr_server.connections import HttpConnectionOptions
from signalr_server.hubs import Hub
from tests.servers import run_server

RS = "\x1e"
disconnects: list[str] = []


class ResumeHub(Hub):
    def echo(self, value: Any) -> Any:
        return value

    def get_connection_id(self) -> str:
        return self.context.connection_id

    async def on_disconnected(self, error: Exception | None) -> None:
        disconnects.append(self.context.connection_id)


def create_app() -> SignalR:
    app = SignalR()
    app.map_hub(
        "/hub",
        ResumeHub,
        connection_options=HttpConnectionOptions(
            allow_stateful_reconnects=True, disconnect_timeout=1.0
        ),
    )
    return app


@pytest.fixture(scope="module", params=["hypercorn-asyncio", "hypercorn-trio", "uvicorn"])
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    with run_server(create_app(), server=request.param) as url:
        yield url


def negotiate(base_url: str, stateful: bool = True) -> tuple[str, str]:
    query = "negotiateVersion=1" + ("&useStatefulReconnect=true" if stateful else "")
    response = httpx.post(f"{base_url}/hub/negotiate?{query}")
    body = response.json()
    assert body.get("useStatefulReconnect", False) is stateful
    return str(body["connectionToken"]), str(body["connectionId"])


def ws_connect(base_url: str, token: str) -> ClientConnection:
    # Entered here and closed (or dropped) by each test itself, since the
    # tests keep connections past any with-block; entering is also what
    # websockets 17 asks of a connection not opened with ``legacy=True``.
    connection: ClientConnection = connect(
        base_url.replace("http://", "ws://") + f"/hub?id={token}"
    ).__enter__()
    return connection


def messages(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    """The next ``count`` hub messages, skipping Pings and Acks."""
    found: list[dict[str, Any]] = []
    while len(found) < count:
        frame = ws.recv(timeout=5)
        assert isinstance(frame, str)
        for part in frame.split(RS):
            if part:
                message = json.loads(part)
                if message.get("type") not in (6, 8):
                    found.append(message)
    return found


def handshake(ws: ClientConnection, version: int) -> None:
    ws.send(json.dumps({"protocol": "json", "version": version}) + RS)
    assert ws.recv(timeout=5) == "{}" + RS


def send(ws: ClientConnection, message: dict[str, Any]) -> None:
    ws.send(json.dumps(message) + RS)


def drop(ws: ClientConnection) -> None:
    """Lose the TCP connection: no close frame reaches the server."""
    ws.socket.shutdown(socket.SHUT_RDWR)
    ws.socket.close()


def reconnect_refused(base_url: str, token: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(base_url, token).close()
    return refused.value.response.status_code


def test_a_dropped_socket_is_resumed_with_replay(base_url: str) -> None:
    token, connection_id = negotiate(base_url)
    ws = ws_connect(base_url, token)
    handshake(ws, 2)
    send(ws, {"type": 1, "invocationId": "1", "target": "Echo", "arguments": ["a"]})
    assert messages(ws, 1) == [{"type": 3, "invocationId": "1", "result": "a"}]
    drop(ws)

    ws = ws_connect(base_url, token)  # same token, no negotiate, no handshake
    try:
        # Sequence first: the server's message 1 was never acknowledged, so it comes again.
        assert messages(ws, 2) == [
            {"type": 9, "sequenceId": 1},
            {"type": 3, "invocationId": "1", "result": "a"},
        ]
        send(ws, {"type": 9, "sequenceId": 2})  # we continue with our message 2
        send(ws, {"type": 8, "sequenceId": 1})
        send(ws, {"type": 1, "invocationId": "2", "target": "GetConnectionId", "arguments": []})
        assert messages(ws, 1) == [{"type": 3, "invocationId": "2", "result": connection_id}]
        assert connection_id not in disconnects
    finally:
        send(ws, {"type": 7})
        ws.close()


def test_graceful_close_ends_the_connection(base_url: str) -> None:
    token, _ = negotiate(base_url)
    ws = ws_connect(base_url, token)
    handshake(ws, 2)
    send(ws, {"type": 7})  # what the official clients send on stop()
    ws.close()
    time.sleep(0.3)
    assert reconnect_refused(base_url, token) == 404


@pytest.mark.parametrize(
    "offered_in_negotiate",
    [
        pytest.param(False, id="not-asked-for-in-negotiate"),
        pytest.param(True, id="asked-for-but-version-1-handshake"),
    ],
)
def test_a_drop_ends_the_connection_unless_both_steps_enabled_it(
    base_url: str, offered_in_negotiate: bool
) -> None:
    """Stateful reconnect needs both the negotiate request and a version 2 handshake."""
    token, _ = negotiate(base_url, stateful=offered_in_negotiate)
    ws = ws_connect(base_url, token)
    handshake(ws, 1)
    drop(ws)
    time.sleep(0.2)
    assert reconnect_refused(base_url, token) == 404


def test_the_connection_expires_after_the_disconnect_timeout(base_url: str) -> None:
    token, connection_id = negotiate(base_url)
    ws = ws_connect(base_url, token)
    handshake(ws, 2)
    drop(ws)
    deadline = time.monotonic() + 10
    while connection_id not in disconnects and time.monotonic() < deadline:
        time.sleep(0.05)
    assert connection_id in disconnects
    assert reconnect_refused(base_url, token) == 404
