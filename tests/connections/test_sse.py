"""The Server-Sent Events transport: the pure event formatter (SSE-4 vectors)
and the byte-exact stream over real servers (hypercorn asyncio/trio, uvicorn)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from signalr_server.connections import ConnectionStatus, HttpTransportType
from signalr_server.connections.server_sent_events import format_sse_event
from signalr_server.protocol.messages import TransferFormat

from .apps import eventually
from .conftest import LiveServer

SSE_ACCEPT = {"Accept": "text/event-stream"}
TIMEOUT = httpx.Timeout(5.0)


@pytest.mark.parametrize(
    ("payload", "event"),
    [
        (b"Hello", b"data: Hello\r\n\r\n"),
        (b"Hello\nWorld", b"data: Hello\r\ndata: World\r\n\r\n"),
        (b"Hello\r\nWorld", b"data: Hello\r\ndata: World\r\n\r\n"),
        (b"Hello\n", b"data: Hello\r\ndata: \r\n\r\n"),
        (b"", b"\r\n"),
        # A lone CR is data, not a line break; only CR before LF is dropped.
        (b"a\rb", b"data: a\rb\r\n\r\n"),
        (b'{"type":6}\x1e{"type":6}\x1e', b'data: {"type":6}\x1e{"type":6}\x1e\r\n\r\n'),
    ],
)
def test_event_format_vectors(payload: bytes, event: bytes) -> None:
    assert format_sse_event(payload) == event


class EventStream:
    """Reads an open SSE response incrementally, chunk by chunk as it arrives."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._chunks: Iterator[bytes] = response.iter_raw()
        self.buffer = b""
        self.ended = False

    def read_exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            try:
                self.buffer += next(self._chunks)
            except StopIteration:
                self.ended = True
                break
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def expect(self, expected: bytes) -> None:
        assert self.read_exactly(len(expected)) == expected

    def read_to_end(self) -> bytes:
        rest = self.buffer + b"".join(self._chunks)
        self.buffer = b""
        self.ended = True
        return rest


def post(server: LiveServer, token: str, body: bytes, base: str = "/echo") -> httpx.Response:
    return httpx.post(f"{server.base_url}{base}?id={token}", content=body, timeout=TIMEOUT)


def test_stream_is_byte_exact(live_server: LiveServer) -> None:
    token = live_server.negotiate_token()
    url = f"{live_server.base_url}/echo?id={token}"
    with httpx.stream("GET", url, headers=SSE_ACCEPT, timeout=TIMEOUT) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        assert response.headers["cache-control"] == "no-cache,no-store"
        assert response.headers["pragma"] == "no-cache"
        assert response.headers["content-encoding"] == "identity"
        assert response.headers["long-running"] == "true"
        assert "content-length" not in response.headers
        stream = EventStream(response)
        stream.expect(b":\r\n")

        sent = post(live_server, token, b'{"protocol":"json","version":1}\x1e')
        assert (sent.status_code, sent.text) == (200, "")
        assert sent.headers["content-type"] == "text/plain"
        stream.expect(b'data: {"protocol":"json","version":1}\x1e\r\n\r\n')

        post(live_server, token, b"one\ntwo\r\nthree")
        stream.expect(b"data: one\r\ndata: two\r\ndata: three\r\n\r\n")

        # Three chunks queued with no await in between travel as one event.
        post(live_server, token, b"burst")
        stream.expect(b"data: a\x1eb\x1ec\x1e\r\n\r\n")

        # The handler returning ends the response after its last event (SSE-8).
        post(live_server, token, b"bye")
        assert stream.read_to_end() == b"data: goodbye\r\n\r\n"
    assert eventually(lambda: live_server.manager("/echo").get(token) is None)
    assert post(live_server, token, b"late").status_code == 404


def test_connection_features_for_the_handler(live_server: LiveServer) -> None:
    token = live_server.negotiate_token()
    url = f"{live_server.base_url}/echo?id={token}"
    with httpx.stream("GET", url, headers=SSE_ACCEPT, timeout=TIMEOUT) as response:
        stream = EventStream(response)  # kept: dropping it closes the response
        stream.expect(b":\r\n")
        connection = live_server.connection("/echo", token)
        # Text only: the hub layer refuses a binary protocol from this (SSE-6).
        assert connection.supported_formats == frozenset({TransferFormat.TEXT})
        assert connection.has_inherent_keep_alive is False
        assert connection.transport_name == "ServerSentEvents"
        assert connection.status is ConnectionStatus.ACTIVE


def test_second_stream_is_409_and_other_transports_are_400(live_server: LiveServer) -> None:
    token = live_server.negotiate_token()
    url = f"{live_server.base_url}/echo?id={token}"
    with httpx.stream("GET", url, headers=SSE_ACCEPT, timeout=TIMEOUT) as response:
        stream = EventStream(response)
        stream.expect(b":\r\n")
        second = httpx.get(url, headers=SSE_ACCEPT, timeout=TIMEOUT)
        assert (second.status_code, second.content) == (409, b"")
        poll = httpx.get(url, timeout=TIMEOUT)
        assert (poll.status_code, poll.text) == (400, "Cannot change transports mid-connection")
        delete = httpx.delete(url, timeout=TIMEOUT)
        assert (delete.status_code, delete.text) == (
            400,
            "Cannot terminate this connection using the DELETE endpoint.",
        )
        # The rejected requests left the stream working.
        post(live_server, token, b"still here")
        stream.expect(b"data: still here\r\n\r\n")


def test_client_drop_disposes_the_connection(live_server: LiveServer) -> None:
    live_server.probe.clear()
    token = live_server.negotiate_token()
    url = f"{live_server.base_url}/echo?id={token}"
    with httpx.stream("GET", url, headers=SSE_ACCEPT, timeout=TIMEOUT) as response:
        stream = EventStream(response)
        stream.expect(b":\r\n")
        connection_id = live_server.probe.wait_for("started")
        connection = live_server.connection("/echo", token)
    # Leaving the block closes the socket without reading the rest.
    live_server.probe.wait_for("closed", connection_id)
    assert eventually(lambda: connection.status is ConnectionStatus.DISPOSED)
    assert live_server.manager("/echo").get(token) is None
    response = httpx.get(url, headers=SSE_ACCEPT, timeout=TIMEOUT)
    assert (response.status_code, response.text) == (404, "No Connection with that ID")


def test_sse_on_long_polling_connection_is_400(live_server: LiveServer) -> None:
    token = live_server.negotiate_token()
    url = f"{live_server.base_url}/echo?id={token}"
    first_poll = httpx.get(url, timeout=TIMEOUT)
    assert first_poll.status_code == 200
    response = httpx.get(url, headers=SSE_ACCEPT, timeout=TIMEOUT)
    assert (response.status_code, response.text) == (400, "Cannot change transports mid-connection")
    assert live_server.connection("/echo", token).transport_type is HttpTransportType.LongPolling
    assert httpx.delete(url, timeout=TIMEOUT).status_code == 202


def test_sse_requires_an_existing_id(live_server: LiveServer) -> None:
    for query in ("", "?id="):
        response = httpx.get(f"{live_server.base_url}/echo{query}", headers=SSE_ACCEPT)
        assert (response.status_code, response.text) == (400, "Connection ID required")
    response = httpx.get(f"{live_server.base_url}/echo?id=unknown", headers=SSE_ACCEPT)
    assert (response.status_code, response.text) == (404, "No Connection with that ID")


def test_accept_among_other_types_selects_sse(live_server: LiveServer) -> None:
    token = live_server.negotiate_token("/sse-only")
    url = f"{live_server.base_url}/sse-only?id={token}"
    headers = {"Accept": "text/html, TEXT/EVENT-STREAM;q=0.9"}
    with httpx.stream("GET", url, headers=headers, timeout=TIMEOUT) as response:
        assert response.status_code == 200
        EventStream(response).expect(b":\r\n")
