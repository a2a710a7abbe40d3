"""The Long Polling transport over real servers (hypercorn asyncio/trio, uvicorn),
plus per-endpoint transport selection (negotiate lists and GET handling, ID-5).

Polls that must stay pending while the test acts run in a worker thread; the
test waits for the server to register them before going on.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import httpx
import pytest

from signalr_server.connections import ConnectionStatus, HttpConnection

from .apps import eventually
from .conftest import LiveServer

TIMEOUT = httpx.Timeout(10.0)
NO_CACHE = {
    "cache-control": "no-cache, no-store",
    "pragma": "no-cache",
    "expires": "Thu, 01 Jan 1970 00:00:00 GMT",
}


@pytest.fixture(scope="module")
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=4) as executor:
        yield executor


def poll(server: LiveServer, token: str, base: str = "/echo") -> httpx.Response:
    return httpx.get(f"{server.base_url}{base}?id={token}&_=1700000000000", timeout=TIMEOUT)


def post(server: LiveServer, token: str, body: bytes, base: str = "/echo") -> httpx.Response:
    return httpx.post(f"{server.base_url}{base}?id={token}", content=body, timeout=TIMEOUT)


def started(server: LiveServer, base: str = "/echo") -> tuple[str, HttpConnection]:
    """Negotiate and make the first poll; returns the token and the connection."""
    token = server.negotiate_token(base)
    first = poll(server, token, base)
    assert first.status_code == 200
    return token, server.connection(base, token)


def pending_poll(
    server: LiveServer, pool: ThreadPoolExecutor, token: str, base: str = "/echo"
) -> Future[httpx.Response]:
    connection = server.connection(base, token)
    previous = connection.current_poll
    future = pool.submit(poll, server, token, base)
    assert eventually(
        lambda: (
            connection.current_poll is not None
            and connection.current_poll is not previous
            and connection.status is ConnectionStatus.ACTIVE
        )
    )
    return future


def assert_no_cache(response: httpx.Response) -> None:
    for name, value in NO_CACHE.items():
        assert response.headers[name] == value


def test_first_poll_answers_at_once_and_starts_the_handler(live_server: LiveServer) -> None:
    live_server.probe.clear()
    token = live_server.negotiate_token()
    response = poll(live_server, token)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-length"] == "0"
    assert response.headers["long-running"] == "true"
    assert_no_cache(response)
    live_server.probe.wait_for("started")
    connection = live_server.connection("/echo", token)
    assert connection.transport_name == "LongPolling"
    assert connection.has_inherent_keep_alive is True
    # Between polls the connection is inactive (ID-8 applies); the server marks
    # it right after the response, so the test may see it a moment later.
    assert eventually(lambda: connection.status is ConnectionStatus.INACTIVE)
    assert httpx.delete(f"{live_server.base_url}/echo?id={token}").status_code == 202


def test_post_then_poll_echoes_all_buffered_bytes(live_server: LiveServer) -> None:
    token, _ = started(live_server)
    sent = post(live_server, token, b'{"protocol":"json","version":1}\x1e')
    assert (sent.status_code, sent.content) == (200, b"")
    assert sent.headers["content-type"] == "text/plain"
    response = poll(live_server, token)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.content == b'{"protocol":"json","version":1}\x1e'
    assert_no_cache(response)
    # Three chunks queued at once come back in one body.
    post(live_server, token, b"burst")
    assert poll(live_server, token).content == b"a\x1eb\x1ec\x1e"
    assert httpx.delete(f"{live_server.base_url}/echo?id={token}").status_code == 202


def test_binary_body_round_trip(live_server: LiveServer) -> None:
    token, _ = started(live_server)
    payload = bytes(range(256)) * 4
    assert post(live_server, token, payload).status_code == 200
    received = b""
    while len(received) < len(payload):
        response = poll(live_server, token)
        assert response.status_code == 200
        received += response.content
    assert received == payload
    assert httpx.delete(f"{live_server.base_url}/echo?id={token}").status_code == 202


def test_poll_timeout_answers_empty_200(live_server: LiveServer) -> None:
    token, connection = started(live_server, "/short-poll")
    response = poll(live_server, token, "/short-poll")
    assert (response.status_code, response.content) == (200, b"")
    assert response.headers["content-type"] == "text/plain"
    assert response.headers["content-length"] == "0"
    assert_no_cache(response)
    assert eventually(lambda: connection.status is ConnectionStatus.INACTIVE)
    # The connection lives on: the next poll still gets data.
    post(live_server, token, b"after timeout", "/short-poll")
    assert poll(live_server, token, "/short-poll").content == b"after timeout"


def test_newer_poll_supersedes_the_pending_one(
    live_server: LiveServer, pool: ThreadPoolExecutor
) -> None:
    token, _ = started(live_server)
    older = pending_poll(live_server, pool, token)
    newer = pending_poll(live_server, pool, token)
    superseded = older.result(timeout=10)
    assert (superseded.status_code, superseded.content) == (204, b"")
    assert_no_cache(superseded)
    post(live_server, token, b"for the newer poll")
    response = newer.result(timeout=10)
    assert (response.status_code, response.content) == (200, b"for the newer poll")
    assert httpx.delete(f"{live_server.base_url}/echo?id={token}").status_code == 202


def test_delete_ends_the_pending_poll(live_server: LiveServer, pool: ThreadPoolExecutor) -> None:
    live_server.probe.clear()
    token, connection = started(live_server)
    connection_id = live_server.probe.wait_for("started")
    pending = pending_poll(live_server, pool, token)
    response = httpx.delete(f"{live_server.base_url}/echo?id={token}", timeout=TIMEOUT)
    assert (response.status_code, response.content) == (202, b"")
    assert response.headers["content-type"] == "text/plain"
    ended = pending.result(timeout=10)
    assert (ended.status_code, ended.content) == (204, b"")
    live_server.probe.wait_for("closed", connection_id)
    assert connection.status is ConnectionStatus.DISPOSED
    after = poll(live_server, token)
    assert (after.status_code, after.text) == (404, "No Connection with that ID")
    assert_no_cache(after)
    again = httpx.delete(f"{live_server.base_url}/echo?id={token}")
    assert (again.status_code, again.text) == (404, "No Connection with that ID")


def test_handler_end_delivers_remaining_bytes_then_204(
    live_server: LiveServer, pool: ThreadPoolExecutor
) -> None:
    token, connection = started(live_server)
    pending = pending_poll(live_server, pool, token)
    post(live_server, token, b"bye")
    last = pending.result(timeout=10)
    assert (last.status_code, last.content) == (200, b"goodbye")
    assert eventually(lambda: connection.handler_finished)
    # Still registered until the client has been told to stop (LP-6).
    assert live_server.manager("/echo").get(token) is connection
    assert post(live_server, token, b"too late").status_code == 404
    stop = poll(live_server, token)
    assert (stop.status_code, stop.content) == (204, b"")
    assert live_server.manager("/echo").get(token) is None
    assert poll(live_server, token).status_code == 404


def test_handler_end_after_poll_returned_keeps_bytes_for_next_poll(
    live_server: LiveServer,
) -> None:
    token, connection = started(live_server)
    post(live_server, token, b"bye")
    assert eventually(lambda: connection.handler_finished)
    assert poll(live_server, token).content == b"goodbye"
    assert poll(live_server, token).status_code == 204
    assert live_server.manager("/echo").get(token) is None


def test_inactive_connection_expires_between_polls(live_server: LiveServer) -> None:
    live_server.probe.clear()
    token, connection = started(live_server, "/expiring")
    connection_id = live_server.probe.wait_for("started")
    live_server.probe.wait_for("closed", connection_id)
    assert connection.status is ConnectionStatus.DISPOSED
    response = poll(live_server, token, "/expiring")
    assert (response.status_code, response.text) == (404, "No Connection with that ID")


def test_client_abandoning_a_poll_leaves_the_connection_usable(
    live_server: LiveServer,
) -> None:
    token, connection = started(live_server)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{live_server.base_url}/echo?id={token}", timeout=httpx.Timeout(0.2))
    assert eventually(lambda: connection.status is ConnectionStatus.INACTIVE)
    post(live_server, token, b"still alive")
    assert poll(live_server, token).content == b"still alive"
    assert httpx.delete(f"{live_server.base_url}/echo?id={token}").status_code == 202


def test_delete_rules(live_server: LiveServer) -> None:
    url = f"{live_server.base_url}/echo"
    assert httpx.delete(url).text == "Connection ID required"
    # Not yet bound to Long Polling: DELETE cannot end it.
    token = live_server.negotiate_token()
    response = httpx.delete(f"{url}?id={token}")
    assert (response.status_code, response.text) == (
        400,
        "Cannot terminate this connection using the DELETE endpoint.",
    )


def test_negotiate_lists_only_enabled_transports(live_server: LiveServer) -> None:
    def transports(base: str) -> list[object]:
        body = httpx.post(f"{live_server.base_url}{base}/negotiate?negotiateVersion=1").json()
        listed: list[object] = body["availableTransports"]
        return listed

    assert transports("/echo") == [
        {"transport": "WebSockets", "transferFormats": ["Text", "Binary"]},
        {"transport": "ServerSentEvents", "transferFormats": ["Text"]},
        {"transport": "LongPolling", "transferFormats": ["Text", "Binary"]},
    ]
    assert transports("/ws-only") == [
        {"transport": "WebSockets", "transferFormats": ["Text", "Binary"]}
    ]
    assert transports("/sse-only") == [
        {"transport": "ServerSentEvents", "transferFormats": ["Text"]}
    ]


def test_disabled_transports_are_refused_on_get(live_server: LiveServer) -> None:
    token = live_server.negotiate_token("/ws-only")
    url = f"{live_server.base_url}/ws-only?id={token}"
    response = httpx.get(url)
    assert (response.status_code, response.text) == (
        404,
        "LongPolling transport not supported by this end point type",
    )
    assert response.headers["content-type"] == "text/plain"
    assert_no_cache(response)
    response = httpx.get(url, headers={"Accept": "text/event-stream"})
    assert (response.status_code, response.text) == (
        404,
        "ServerSentEvents transport not supported by this end point type",
    )
    token = live_server.negotiate_token("/sse-only")
    response = httpx.get(f"{live_server.base_url}/sse-only?id={token}")
    assert response.status_code == 404
    assert response.text == "LongPolling transport not supported by this end point type"
    # The refused requests bound nothing.
    assert live_server.connection("/sse-only", token).transport_name == ""
