"""hypercorn, as we run it, writes HTTP reason phrases the SignalR clients display."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from signalr_server import SignalR
from signalr_server.app.reason_phrases import reason_phrase
from tests.servers import run_server


def status_line(base_url: str, request: bytes) -> bytes:
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n", 1)[0]


@pytest.mark.parametrize("server", ["hypercorn-asyncio", "hypercorn-trio", "uvicorn"])
def test_error_statuses_carry_their_reason_phrase(server: str) -> None:
    app = SignalR()
    with run_server(app, server=server) as base_url:
        line = status_line(base_url, b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
    assert line == b"HTTP/1.1 404 Not Found"


def test_reason_phrase_table() -> None:
    assert reason_phrase(401) == b"Unauthorized"
    assert reason_phrase(204) == b"No Content"
    assert reason_phrase(599) == b""
