"""``plain_http``: body reading with a limit and JSON/bytes answers, on raw ASGI."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from signalr_server.app import SignalR
from signalr_server.app.plain_http import (
    DEFAULT_BODY_LIMIT,
    BodyTooLarge,
    read_body,
    send_json,
    send_response,
)

Receive = Callable[[], Awaitable[dict[str, Any]]]


def events(*messages: dict[str, Any]) -> Receive:
    """A ``receive`` that hands out ``messages`` in order."""
    pending = list(messages)

    async def receive() -> dict[str, Any]:
        return pending.pop(0)

    return receive


def chunk(body: bytes, more: bool = False) -> dict[str, Any]:
    return {"type": "http.request", "body": body, "more_body": more}


class Recorder:
    """A ``send`` that keeps what it was given."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def __call__(self, message: Any) -> None:
        self.messages.append(dict(message))

    @property
    def status(self) -> int:
        return int(self.messages[0]["status"])

    @property
    def headers(self) -> dict[bytes, bytes]:
        return dict(self.messages[0]["headers"])

    @property
    def body(self) -> bytes:
        return bytes(self.messages[1]["body"])


# --- read_body -----------------------------------------------------------------


@pytest.mark.anyio
async def test_read_body_joins_chunks() -> None:
    receive = events(chunk(b"he", more=True), chunk(b"", more=True), chunk(b"llo"))
    assert await read_body(receive) == b"hello"


@pytest.mark.anyio
async def test_read_body_of_an_empty_request() -> None:
    assert await read_body(events({"type": "http.request"})) == b""


@pytest.mark.anyio
async def test_read_body_accepts_exactly_the_limit() -> None:
    receive = events(chunk(b"x" * 3, more=True), chunk(b"x" * 2))
    assert await read_body(receive, limit=5) == b"xxxxx"


@pytest.mark.anyio
async def test_read_body_stops_once_past_the_limit() -> None:
    receive = events(chunk(b"x" * 4, more=True), chunk(b"x" * 4, more=True))
    with pytest.raises(BodyTooLarge) as caught:
        await read_body(receive, limit=5)
    assert caught.value.limit == 5
    assert str(caught.value) == "Request body is larger than 5 bytes."
    assert isinstance(caught.value, ValueError)


@pytest.mark.anyio
async def test_read_body_default_limit() -> None:
    assert DEFAULT_BODY_LIMIT == 64 * 1024
    fits = events(chunk(b"x" * DEFAULT_BODY_LIMIT))
    assert len(await read_body(fits)) == DEFAULT_BODY_LIMIT
    with pytest.raises(BodyTooLarge):
        await read_body(events(chunk(b"x" * (DEFAULT_BODY_LIMIT + 1))))


@pytest.mark.anyio
async def test_read_body_returns_what_arrived_before_a_disconnect() -> None:
    receive = events(chunk(b"part", more=True), {"type": "http.disconnect"})
    assert await read_body(receive) == b"part"


@pytest.mark.anyio
async def test_read_body_refuses_a_negative_limit() -> None:
    with pytest.raises(ValueError, match="limit must be zero or more"):
        await read_body(events(chunk(b"")), limit=-1)


# --- answers -------------------------------------------------------------------


@pytest.mark.anyio
async def test_send_json_is_compact_utf8_with_length_and_extra_headers() -> None:
    send = Recorder()
    await send_json(send, 201, {"name": "é", "n": [1, 2]}, headers=[(b"x-extra", b"1")])
    assert send.status == 201
    assert send.body == b'{"name":"\\u00e9","n":[1,2]}'
    assert json.loads(send.body) == {"name": "é", "n": [1, 2]}
    assert send.headers[b"content-type"] == b"application/json"
    assert send.headers[b"content-length"] == str(len(send.body)).encode()
    assert send.headers[b"x-extra"] == b"1"


@pytest.mark.anyio
async def test_send_json_refuses_what_json_cannot_hold_before_sending() -> None:
    send = Recorder()
    with pytest.raises(TypeError):
        await send_json(send, 200, {"when": object()})
    assert send.messages == []


@pytest.mark.anyio
async def test_head_answer_keeps_the_length_but_drops_the_body() -> None:
    send = Recorder()
    await send_response(send, 200, b"<html/>", content_type=b"text/html", head=True)
    assert send.headers[b"content-length"] == b"7"
    assert send.body == b""


@pytest.mark.anyio
async def test_no_content_answer_has_no_length() -> None:
    send = Recorder()
    await send_response(send, 204)
    assert send.status == 204
    assert b"content-length" not in send.headers
    assert send.body == b""


# --- as a SignalR fallback -----------------------------------------------------


async def echo_length(scope: dict[str, Any], receive: Receive, send: Any) -> None:
    """The module docstring's example: a fallback that ignores the lifespan."""
    if scope["type"] != "http":
        return
    try:
        body = await read_body(receive, limit=8)
    except BodyTooLarge as exc:
        await send_json(send, 413, {"error": str(exc)})
        return
    await send_json(send, 200, {"received": len(body)})


@pytest.mark.anyio
async def test_fallback_routes_through_signalr() -> None:
    transport = httpx.ASGITransport(app=SignalR(fallback=echo_length))
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        small = await client.post("/anything", content=b"1234")
        large = await client.post("/anything", content=b"123456789")
    assert (small.status_code, small.json()) == (200, {"received": 4})
    assert (large.status_code, large.json()) == (
        413,
        {"error": "Request body is larger than 8 bytes."},
    )


@pytest.mark.anyio
async def test_fallback_that_ignores_the_lifespan_does_not_stop_signalr_starting() -> None:
    sent: list[str] = []

    async def send(message: Any) -> None:
        sent.append(message["type"])

    receive = events({"type": "lifespan.startup"}, {"type": "lifespan.shutdown"})
    await SignalR(fallback=echo_length)({"type": "lifespan"}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
