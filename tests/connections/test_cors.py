"""Browser cross-origin access (CORS-1) over real servers, plus the pure header
functions. ``/cors`` allows one origin, ``/cors-any`` any origin, ``/echo``
has no CORS options (deny by default)."""

from __future__ import annotations

import httpx
import pytest

from signalr_server.connections import CorsOptions
from signalr_server.connections.cors import preflight_headers, response_headers

from .apps import ALLOWED_ORIGIN
from .conftest import LiveServer

OTHER_ORIGIN = "https://other.example"
PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "content-type,x-requested-with,x-signalr-user-agent",
}


def preflight(server: LiveServer, path: str, origin: str) -> httpx.Response:
    return httpx.options(f"{server.base_url}{path}", headers={"Origin": origin, **PREFLIGHT})


@pytest.mark.parametrize("path", ["/cors/negotiate", "/cors?id=abc"])
def test_preflight_from_allowed_origin(live_server: LiveServer, path: str) -> None:
    response = preflight(live_server, path, ALLOWED_ORIGIN)
    assert response.status_code == 204
    assert response.content == b""
    headers = response.headers
    assert headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert headers["access-control-allow-credentials"] == "true"
    assert headers["access-control-allow-methods"] == "GET, POST, DELETE"
    assert headers["access-control-allow-headers"] == (
        "authorization, content-type, x-requested-with, x-signalr-user-agent"
    )
    assert headers["vary"] == "Origin"


def test_preflight_from_unlisted_origin_gets_no_allow_headers(live_server: LiveServer) -> None:
    response = preflight(live_server, "/cors/negotiate", OTHER_ORIGIN)
    assert response.status_code == 204
    assert not [name for name in response.headers if name.startswith("access-control-")]


def test_actual_requests_echo_the_allowed_origin(live_server: LiveServer) -> None:
    origin = {"Origin": ALLOWED_ORIGIN}
    negotiated = httpx.post(
        f"{live_server.base_url}/cors/negotiate?negotiateVersion=1", headers=origin
    )
    assert negotiated.status_code == 200
    assert negotiated.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert negotiated.headers["access-control-allow-credentials"] == "true"
    assert negotiated.headers["vary"] == "Origin"
    url = f"{live_server.base_url}/cors?id={negotiated.json()['connectionToken']}"
    # Transport requests and their errors carry the headers too, or the
    # browser hides the status from the client.
    first_poll = httpx.get(url, headers=origin)
    assert first_poll.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    sent = httpx.post(url, content=b"hi", headers=origin)
    assert sent.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    missing = httpx.get(f"{live_server.base_url}/cors?id=nope", headers=origin)
    assert missing.status_code == 404
    assert missing.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert httpx.delete(url, headers=origin).status_code == 202


def test_unlisted_origin_gets_no_cors_headers(live_server: LiveServer) -> None:
    response = httpx.post(
        f"{live_server.base_url}/cors/negotiate?negotiateVersion=1",
        headers={"Origin": OTHER_ORIGIN},
    )
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


def test_any_origin_is_echoed_never_a_wildcard(live_server: LiveServer) -> None:
    response = preflight(live_server, "/cors-any/negotiate", OTHER_ORIGIN)
    assert response.headers["access-control-allow-origin"] == OTHER_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    negotiated = httpx.post(
        f"{live_server.base_url}/cors-any/negotiate", headers={"Origin": OTHER_ORIGIN}
    )
    assert negotiated.headers["access-control-allow-origin"] == OTHER_ORIGIN


def test_default_denies_cross_origin(live_server: LiveServer) -> None:
    response = preflight(live_server, "/echo/negotiate", ALLOWED_ORIGIN)
    assert response.status_code == 405
    assert "access-control-allow-origin" not in response.headers
    negotiated = httpx.post(
        f"{live_server.base_url}/echo/negotiate", headers={"Origin": ALLOWED_ORIGIN}
    )
    assert negotiated.status_code == 200
    assert "access-control-allow-origin" not in negotiated.headers


def test_options_without_preflight_headers_is_still_405(live_server: LiveServer) -> None:
    response = httpx.options(f"{live_server.base_url}/cors?id=abc")
    assert response.status_code == 405


def test_header_functions() -> None:
    options = CorsOptions(
        allowed_origins=["HTTPS://App.Example/"],
        allow_credentials=False,
        exposed_headers=["x-custom"],
        max_age=600,
    )
    # Origins compare without case or trailing slash; the request's is echoed.
    assert (b"access-control-allow-origin", b"https://app.example") in preflight_headers(
        options, "https://app.example"
    )
    preflight = dict(preflight_headers(options, "https://app.example"))
    assert preflight[b"access-control-max-age"] == b"600"
    assert b"access-control-allow-credentials" not in preflight
    actual = dict(response_headers(options, "https://app.example"))
    assert actual[b"access-control-expose-headers"] == b"x-custom"
    assert response_headers(options, None) == []
    assert response_headers(options, "https://evil.example") == [(b"vary", b"Origin")]
    assert not options.allows("null")
