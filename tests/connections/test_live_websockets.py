"""The WebSocket transport over real servers (hypercorn asyncio/trio, uvicorn)."""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from signalr_server.connections import ConnectionManager

from .apps import eventually
from .conftest import LiveServer


def negotiate(server: LiveServer, path: str = "/echo") -> dict[str, object]:
    response = httpx.post(f"{server.base_url}{path}/negotiate?negotiateVersion=1")
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


def manager(server: LiveServer, base: str) -> ConnectionManager:
    return dict(server.app._endpoints)[base].manager


def test_negotiated_echo_uses_text_frames(live_server: LiveServer) -> None:
    body = negotiate(live_server)
    url = f"{live_server.ws_url}/echo?id={body['connectionToken']}"
    with connect(url) as ws:
        assert ws.response is not None
        assert ws.response.headers.get("sec-websocket-protocol") is None
        ws.send("héllo\x1e")
        assert ws.recv(timeout=5) == "héllo\x1e"
        # A binary frame feeds the same byte stream; the reply follows the
        # connection's transfer format, not the frame type.
        ws.send(b"raw\x1e")
        assert ws.recv(timeout=5) == "raw\x1e"


def test_binary_transfer_format_uses_binary_frames(live_server: LiveServer) -> None:
    with connect(f"{live_server.ws_url}/echo?format=binary") as ws:
        ws.send(b"\x03\x01\x02\x03")
        assert ws.recv(timeout=5) == b"\x03\x01\x02\x03"


def test_skip_negotiation_creates_a_connection(live_server: LiveServer) -> None:
    live_server.probe.clear()
    with connect(f"{live_server.ws_url}/ECHO") as ws:
        connection_id = live_server.probe.wait_for("started")
        assert manager(live_server, "/echo").get(connection_id) is not None
        ws.send("ping\x1e")
        assert ws.recv(timeout=5) == "ping\x1e"


def test_queued_chunks_are_coalesced_into_one_frame(live_server: LiveServer) -> None:
    with connect(f"{live_server.ws_url}/echo") as ws:
        ws.send("burst")
        assert ws.recv(timeout=5) == "a\x1eb\x1ec\x1e"


def test_unknown_id_is_rejected_with_404(live_server: LiveServer) -> None:
    with pytest.raises(InvalidStatus) as caught:
        connect(f"{live_server.ws_url}/echo?id=unknown").close()
    assert caught.value.response.status_code == 404
    assert caught.value.response.body == b"No Connection with that ID"


def test_second_socket_for_an_active_connection_gets_409(live_server: LiveServer) -> None:
    body = negotiate(live_server)
    url = f"{live_server.ws_url}/echo?id={body['connectionToken']}"
    with connect(url) as ws:
        ws.send("x\x1e")
        assert ws.recv(timeout=5) == "x\x1e"
        with pytest.raises(InvalidStatus) as caught:
            connect(url).close()
        assert caught.value.response.status_code == 409


def test_post_on_websocket_connection_gets_405(live_server: LiveServer) -> None:
    body = negotiate(live_server)
    with connect(f"{live_server.ws_url}/echo?id={body['connectionToken']}") as ws:
        ws.send("x\x1e")
        ws.recv(timeout=5)
        response = httpx.post(f"{live_server.base_url}/echo?id={body['connectionToken']}")
        assert response.status_code == 405
        assert response.text == "POST requests are not allowed for WebSocket connections."


def test_client_close_ends_handler_and_disposes(live_server: LiveServer) -> None:
    body = negotiate(live_server)
    connection_id = str(body["connectionId"])
    registry = manager(live_server, "/echo")
    with connect(f"{live_server.ws_url}/echo?id={body['connectionToken']}"):
        live_server.probe.wait_for("started", connection_id)
        assert registry.get(str(body["connectionToken"])) is not None
    live_server.probe.wait_for("closed", connection_id)
    assert eventually(lambda: registry.get(str(body["connectionToken"])) is None)
    # A disposed connection is gone for later requests too (ID-8).
    with pytest.raises(InvalidStatus) as caught:
        connect(f"{live_server.ws_url}/echo?id={body['connectionToken']}").close()
    assert caught.value.response.status_code == 404


def test_handler_return_flushes_then_closes_1000(live_server: LiveServer) -> None:
    with connect(f"{live_server.ws_url}/echo") as ws:
        ws.send("bye")
        assert ws.recv(timeout=5) == "goodbye"
        with pytest.raises(ConnectionClosed) as caught:
            ws.recv(timeout=5)
    assert caught.value.rcvd is not None
    assert caught.value.rcvd.code == 1000
    assert caught.value.rcvd.reason == ""


def test_handler_failure_closes_1011(live_server: LiveServer) -> None:
    with connect(f"{live_server.ws_url}/echo") as ws:
        ws.send("fail")
        with pytest.raises(ConnectionClosed) as caught:
            ws.recv(timeout=5)
    assert caught.value.rcvd is not None
    assert caught.value.rcvd.code == 1011


def test_slow_consumer_overflow_aborts_only_that_connection(live_server: LiveServer) -> None:
    live_server.probe.clear()
    with (
        connect(f"{live_server.ws_url}/small") as flooded,
        connect(f"{live_server.ws_url}/small") as bystander,
    ):
        flooded.send("flood")
        # The sender was never blocked by the overflowing connection.
        live_server.probe.wait_for("flood-returned")
        with pytest.raises(ConnectionClosed) as caught:
            while True:
                flooded.recv(timeout=5)
        assert caught.value.rcvd is not None
        assert caught.value.rcvd.code == 1011
        bystander.send("still here\x1e")
        assert bystander.recv(timeout=5) == "still here\x1e"


def test_negotiated_connection_expires_without_transport(live_server: LiveServer) -> None:
    body = negotiate(live_server, "/expiring")
    token = str(body["connectionToken"])
    registry = manager(live_server, "/expiring")
    assert registry.get(token) is not None
    assert eventually(lambda: registry.get(token) is None)
    with pytest.raises(InvalidStatus) as caught:
        connect(f"{live_server.ws_url}/expiring?id={token}").close()
    assert caught.value.response.status_code == 404
