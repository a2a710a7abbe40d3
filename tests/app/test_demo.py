"""The demo app's HTTP routes, driven in-process (no server, both anyio backends)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from signalr_server.app.demo import DemoRoutes, create_demo_app, display_name

BUNDLE = (
    Path(__file__).resolve().parents[2]
    / "interop/node_modules/@microsoft/signalr/dist/browser/signalr.min.js"
)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_demo_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://demo") as client:
        yield client


# --- display names -----------------------------------------------------------


class _NamedUser:
    name = "ada"


class _ClaimsUser:
    name = None
    claims = {"sub": "42", "preferred_username": "grace"}


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (None, None),
        (_NamedUser(), "ada"),
        (_ClaimsUser(), "grace"),
        ({"name": "linus"}, "linus"),
        ({"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name": "ken"}, "ken"),
        ({"sub": "only-an-id"}, None),
        (object(), None),
    ],
)
def test_display_name(user: Any, expected: str | None) -> None:
    assert display_name(user) == expected


# --- HTTP routes, in-process -------------------------------------------------


@pytest.mark.anyio
async def test_index_page_uses_the_browser_bundle(http: httpx.AsyncClient) -> None:
    response = await http.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert '<script src="/signalr.min.js"></script>' in page
    for method in ("SendMessage", "JoinRoom", "LeaveRoom", "SendToRoom", "SendToOthers"):
        assert f'"{method}"' in page
    # The page passes transport options after the URL (see docs/browser.md).
    assert 'withUrl("/hubs/chat"' in page


@pytest.mark.anyio
async def test_browser_bundle_is_the_official_one(http: httpx.AsyncClient) -> None:
    response = await http.get("/signalr.min.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert response.content == BUNDLE.read_bytes()


@pytest.mark.anyio
async def test_head_has_headers_but_no_body(http: httpx.AsyncClient) -> None:
    response = await http.head("/")
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) > 0


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("route", "answer"),
    [
        ("/api/notify/all", {"status": "accepted", "target": "all"}),
        ("/api/notify/group/room-1", {"status": "accepted", "target": "group", "group": "room-1"}),
        ("/api/notify/user/u%2042", {"status": "accepted", "target": "user", "user": "u 42"}),
    ],
)
async def test_notify_accepts_a_message(
    http: httpx.AsyncClient, route: str, answer: dict[str, str]
) -> None:
    response = await http.post(route, json={"message": "hello"})
    assert response.status_code == 202
    assert response.headers["content-type"] == "application/json"
    assert response.json() == answer


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("body", "error_start"),
    [
        (b"{not json", "Request body is not valid JSON: "),
        (b"", "Request body is not valid JSON: "),
        (b"\xff\xfe", "Request body is not valid UTF-8 JSON."),
        (b'["message"]', "Request body must be a JSON object."),
        (b'{"text": "hi"}', "Missing required property 'message'."),
    ],
)
async def test_notify_rejects_bad_bodies(
    http: httpx.AsyncClient, body: bytes, error_start: str
) -> None:
    response = await http.post("/api/notify/all", content=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith(error_start)
    assert error.endswith('Expected a JSON object like {"message": "..."}.')


@pytest.mark.anyio
async def test_notify_refuses_huge_bodies(http: httpx.AsyncClient) -> None:
    response = await http.post("/api/notify/all", content=b"x" * (64 * 1024 + 1))
    assert response.status_code == 413


@pytest.mark.anyio
async def test_wrong_methods_get_405_with_allow(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/notify/all")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    response = await http.post("/", content=b"")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


@pytest.mark.anyio
@pytest.mark.parametrize(
    "route",
    ["/nothing", "/api/notify/", "/api/notify/group", "/api/notify/all/x", "/api/notify/x/y"],
)
async def test_unknown_routes_get_404(http: httpx.AsyncClient, route: str) -> None:
    response = await http.post(route, json={"message": "m"})
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}


@pytest.mark.anyio
async def test_demo_lifespan_completes_though_its_routes_ignore_it() -> None:
    """``DemoRoutes`` leaves the lifespan alone; ``SignalR`` still completes it."""
    events = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return next(events)

    async def send(message: Any) -> None:
        sent.append(message["type"])

    await DemoRoutes()({"type": "lifespan"}, receive, send)
    assert sent == []

    events = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    await create_demo_app()({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
