"""The ``SignalR`` ASGI app: routing, fallback, lifespan, Starlette mounting."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from websockets.sync.client import connect

from signalr_server.app import SignalR
from signalr_server.connections import ConnectionContext
from tests.servers import run_server

from .apps import Probe, make_echo_handler


async def idle_handler(ctx: ConnectionContext) -> None:
    await ctx.receive()


def client_for(app: Any, root_path: str = "") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, root_path=root_path), base_url="http://test"
    )


async def run_lifespan(app: Any, during: Any = None) -> list[str]:
    """Drive the ASGI lifespan protocol; ``during`` runs between startup and shutdown."""
    to_app = [{"type": "lifespan.startup"}]
    replies: list[str] = []
    shutdown = anyio.Event()

    async def receive() -> dict[str, Any]:
        if to_app:
            return to_app.pop(0)
        await shutdown.wait()
        return {"type": "lifespan.shutdown"}

    async def send(message: dict[str, Any]) -> None:
        replies.append(message["type"])
        if message["type"] == "lifespan.startup.complete":
            if during is not None:
                await during()
            shutdown.set()
        elif message["type"] == "lifespan.startup.failed":
            shutdown.set()

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    with anyio.fail_after(10):
        await app(scope, receive, send)
    return replies


@pytest.mark.anyio
async def test_routing_is_case_insensitive_and_falls_back_to_404() -> None:
    app = SignalR()
    app.map_connection("/Chat/", idle_handler)
    async with client_for(app) as http:
        assert (await http.post("/chat/negotiate")).status_code == 200
        assert (await http.post("/CHAT/NEGOTIATE/")).status_code == 200
        missing = await http.get("/other")
        assert (missing.status_code, missing.text) == (404, "Not Found")
        assert missing.headers["content-type"] == "text/plain"
        assert (await http.get("/chat/deeper")).status_code == 404
    for dispatcher in app.dispatchers:
        await dispatcher.manager.close_all()


def test_mapping_a_path_twice_is_an_error() -> None:
    app = SignalR()
    app.map_connection("/a", idle_handler)
    with pytest.raises(ValueError, match="already mapped"):
        app.map_connection("/A/", idle_handler)


@pytest.mark.anyio
async def test_root_path_prefix_is_honoured_and_fallback_gets_the_rest() -> None:
    fallback = Starlette(routes=[Route("/hello", lambda request: PlainTextResponse("hi"))])
    app = SignalR(fallback=fallback)
    app.map_connection("/hub", idle_handler)
    async with client_for(app, root_path="/prefix") as http:
        response = await http.post("/prefix/hub/negotiate?negotiateVersion=1")
        assert response.json()["negotiateVersion"] == 1
        assert (await http.get("/prefix/hello")).text == "hi"
    for dispatcher in app.dispatchers:
        await dispatcher.manager.close_all()


@pytest.mark.anyio
async def test_lifespan_attaches_the_task_group_and_forwards_to_fallback() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def fallback_lifespan(_: Starlette) -> AsyncIterator[None]:
        events.append("fallback-startup")
        yield
        events.append("fallback-shutdown")

    app = SignalR(fallback=Starlette(lifespan=fallback_lifespan))
    app.map_connection("/hub", idle_handler)

    async def during() -> None:
        assert app._runner.attached
        events.append("serving")

    replies = await run_lifespan(app, during)
    assert replies == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert events == ["fallback-startup", "serving", "fallback-shutdown"]
    assert not app._runner.attached


@pytest.mark.anyio
async def test_fallback_startup_failure_fails_startup() -> None:
    @contextlib.asynccontextmanager
    async def failing(_: Starlette) -> AsyncIterator[None]:
        raise RuntimeError("database unreachable")
        yield

    app = SignalR(fallback=Starlette(lifespan=failing))
    assert await run_lifespan(app) == ["lifespan.startup.failed"]


@pytest.mark.anyio
async def test_fallback_without_lifespan_support_is_tolerated() -> None:
    async def http_only(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"

    app = SignalR(fallback=http_only)
    replies = await run_lifespan(app)
    assert replies == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


@pytest.mark.parametrize("with_lifespan", [True, False])
@pytest.mark.parametrize("server", ["uvicorn", "hypercorn-trio"])
def test_mounted_in_starlette(server: str, with_lifespan: bool) -> None:
    """With ``lifespan=`` handlers run in our task group; without it they fall
    back to the running loop and still work."""
    probe = Probe()
    signalr = SignalR()
    signalr.map_connection("/echo", make_echo_handler(probe))
    lifespan = signalr.lifespan if with_lifespan else None
    host = Starlette(routes=[Mount("/rt", app=signalr)], lifespan=lifespan)
    with run_server(host, server=server) as base_url:
        assert signalr._runner.attached is with_lifespan
        response = httpx.post(f"{base_url}/rt/echo/negotiate?negotiateVersion=1")
        token = response.json()["connectionToken"]
        ws_url = "ws" + base_url.removeprefix("http")
        with connect(f"{ws_url}/rt/echo?id={token}") as ws:
            ws.send("mounted\x1e")
            assert ws.recv(timeout=5) == "mounted\x1e"
        probe.wait_for("closed")
        assert httpx.get(f"{base_url}/rt/nothing").status_code == 404
    assert not signalr._runner.attached
