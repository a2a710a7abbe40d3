"""The WebSocket transport over real servers (hypercorn asyncio/trio, uvicorn)."""

from __future__ import annotations

import base64
import os
import socket

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from signalr_server.connections import ConnectionManager

from .apps import QUICK_CLOSE, STALL_TIMEOUT, eventually
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
        if live_server.kind != "native":
            assert ws.recv(timeout=5) == "a\x1eb\x1ec\x1e"
            return
        # The native server takes each chunk at once (no queue to coalesce):
        # one frame per chunk, each whole (WS-5), all in one syscall.
        assert [ws.recv(timeout=5) for _ in range(3)] == ["a\x1e", "b\x1e", "c\x1e"]


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


def test_awaited_and_queued_sends_keep_their_order(live_server: LiveServer) -> None:
    # On asyncio an awaited send may go straight to the socket; it must never
    # overtake data that fan-out queued before it.
    with connect(f"{live_server.ws_url}/echo") as ws:
        ws.send("mixed")
        received = ""
        while len(received) < 8:
            received += str(ws.recv(timeout=5))
        assert received == "1\x1e2\x1e3\x1e4\x1e"


def test_handler_reads_the_socket_directly_only_on_asyncio(live_server: LiveServer) -> None:
    token = live_server.negotiate_token()
    with connect(f"{live_server.ws_url}/echo?id={token}") as ws:
        ws.send("x\x1e")
        assert ws.recv(timeout=5) == "x\x1e"
        direct = live_server.connection("/echo", token).direct_socket
        # trio: a cancelled send could leave half a frame, so the transport pumps.
        assert (direct is not None) == (live_server.kind != "hypercorn-trio")


def _raw_websocket(server: LiveServer, path: str) -> socket.socket:
    """A WebSocket client that does only what it is told: it never answers a close."""
    host, port = server.base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(4096)
    assert response.startswith(b"HTTP/1.1 101")
    return sock


def _send_text(sock: socket.socket, text: str) -> None:
    payload = text.encode()
    assert len(payload) < 126
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)


def test_abort_while_the_handler_waits_ends_it_though_the_client_never_closes(
    live_server: LiveServer,
) -> None:
    live_server.probe.clear()
    sock = _raw_websocket(live_server, "/quick-close")
    try:
        connection_id = live_server.probe.wait_for("started")
        _send_text(sock, "abort-soon")
        # Our close frame arrives (1011: aborted); the client never answers it.
        data = b""
        while b"\x88" not in data[:1] and len(data) < 2:
            data += sock.recv(64)
        assert data[0] == 0x88
        assert int.from_bytes(data[2:4], "big") == 1011
        # The close timeout (QUICK_CLOSE) ends the request, and with it the
        # handler that was waiting for input, long before disconnect_timeout.
        live_server.probe.wait_for("ended", connection_id, timeout=QUICK_CLOSE + 3)
    finally:
        sock.close()


def test_a_send_to_a_client_that_stopped_reading_times_out(live_server: LiveServer) -> None:
    live_server.probe.clear()
    sock = _raw_websocket(live_server, "/stall")
    try:
        connection_id = live_server.probe.wait_for("started")
        _send_text(sock, "stall")  # and never read again: the socket buffers fill
        # The sweep (once a second) finds the send stalled past the timeout and
        # ends the connection, handler included.
        live_server.probe.wait_for("ended", connection_id, timeout=STALL_TIMEOUT + 10)
        registry = live_server.manager("/stall")
        assert eventually(lambda: all(c.connection_id != connection_id for c in registry))
    finally:
        sock.close()
