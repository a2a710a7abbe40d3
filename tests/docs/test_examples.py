"""The examples in docs/ run as written, under a real server, with a real client."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from tests.app.hub_client import HubError, JsonHubClient
from tests.servers import run_server

pytestmark = pytest.mark.anyio


def ws_url(base_url: str, path: str) -> str:
    return base_url.replace("http://", "ws://", 1) + path


@pytest.fixture(params=["asyncio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    # The client side runs on asyncio (the websockets library); the server
    # backends are covered by the server parametrisation below.
    return str(request.param)


@pytest.mark.parametrize("server", ["hypercorn-asyncio", "hypercorn-trio", "uvicorn", "native"])
async def test_chat_quickstart(server: str) -> None:
    with run_server("docs.examples.chat:app", server=server) as base_url:
        url = ws_url(base_url, "/hubs/chat")
        async with JsonHubClient.connect(url) as alice, JsonHubClient.connect(url) as bob:
            assert await alice.invoke("Add", 2, 3) == 5
            await alice.invoke("JoinRoom", "lobby")
            await bob.invoke("join_room", "lobby")
            await bob.invoke("SendToRoom", "lobby", "hi")
            seen = []
            with anyio.fail_after(5):
                while len(seen) < 1:
                    target, args = await alice.next_invocation()
                    if target == "ReceiveMessage":
                        seen.append(args)
            assert seen[0][1] == "hi"


async def test_order_hub_services() -> None:
    from docs.examples import order_hub

    with run_server(order_hub.app, server="hypercorn-asyncio") as base_url:
        url = ws_url(base_url, "/hubs/orders?user=ada")
        async with JsonHubClient.connect(url) as client:
            order = await client.invoke("PlaceOrder", "tea", 2)
            assert order == {"orderId": 1, "product": "tea", "quantity": 2}
            assert await client.next_invocation() == ("OrderPlaced", [1, "ada"])
            assert await client.invoke("GetOrder", 1) == order
            assert await client.invoke("GetOrder", 99) is None
            with pytest.raises(HubError) as raised:
                await client.invoke("PlaceOrder", "tea", 0)
            assert str(raised.value) == (
                "An unexpected error occurred invoking 'PlaceOrder' on the server. "
                "HubException: Quantity must be positive."
            )


def test_protocol_page_example_runs() -> None:
    """The first Python block of docs/protocol.md is executable as written."""
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "protocol.md").read_text()
    block = text.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(block, "docs/protocol.md", "exec"), {})


async def test_starlette_mount_example() -> None:
    import httpx

    with run_server("docs.examples.starlette_mount:app", server="uvicorn") as base_url:
        url = ws_url(base_url, "/rt/chat")
        async with JsonHubClient.connect(url) as client:
            async with httpx.AsyncClient() as http:
                response = await http.post(f"{base_url}/api/broadcast", json={"text": "hello"})
            assert response.json() == {"sent": True}
            assert await client.next_invocation() == ("ReceiveMessage", ["server", "hello"])


async def test_native_server_example() -> None:
    from docs.examples.native_server import main
    from tests.servers import free_port

    port, stop = free_port(), asyncio.Event()
    async with anyio.create_task_group() as group:
        group.start_soon(main, port, stop)
        url = f"ws://127.0.0.1:{port}/hubs/chat"
        with anyio.fail_after(10):
            while True:
                try:
                    async with JsonHubClient.connect(url) as client:
                        assert await client.invoke("Add", 2, 3) == 5
                    break
                except OSError:
                    await anyio.sleep(0.05)
        stop.set()


@pytest.mark.parametrize("server", ["hypercorn-asyncio", "hypercorn-trio", "uvicorn", "native"])
async def test_raw_echo_example_answers_from_the_listener_only_on_native(server: str) -> None:
    import websockets

    from docs.examples import raw_echo

    before = raw_echo.answered_at_once
    with run_server("docs.examples.raw_echo:app", server=server) as base_url:
        async with websockets.connect(ws_url(base_url, "/echo")) as ws:
            for index in range(20):
                await ws.send(f"message {index}\x1e")
                with anyio.fail_after(5):
                    assert await ws.recv() == f"message {index}\x1e"
    answered = raw_echo.answered_at_once - before
    if server == "native":
        # Answered from the socket callback, all but perhaps the first, which
        # can arrive before the handler first waits in receive().
        assert answered >= 19
    else:
        assert answered == 0
