"""The demo app's hubs over real servers (hypercorn asyncio/trio, uvicorn, and the CLI)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from signalr_server.app.demo import create_demo_app
from tests.app.hub_client import JsonHubClient
from tests.servers import SERVERS, run_server

from .test_cli import cli_process, free_port, wait_until_serving


@pytest.fixture(scope="module", params=SERVERS)
def demo_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """``host:port`` of a fresh demo app under each supported server."""
    with run_server(create_demo_app(), server=request.param) as base_url:
        yield base_url.removeprefix("http://")


def test_cli_demo_command_serves_the_page() -> None:
    port = free_port()
    with cli_process("demo", "--port", str(port), "--log-level", "warning") as process:
        response = wait_until_serving(process, f"http://127.0.0.1:{port}/")
        assert response.status_code == 200
        assert "signalr-server demo chat" in response.text
        negotiate = httpx.post(f"http://127.0.0.1:{port}/hubs/chat/negotiate?negotiateVersion=1")
        assert negotiate.status_code == 200
        assert negotiate.json()["negotiateVersion"] == 1


@pytest.fixture
def anyio_backend() -> str:
    """The ``websockets`` client runs on asyncio only; the server runs apart."""
    return "asyncio"


@pytest.mark.anyio
async def test_chat_send_message_reaches_everyone(demo_server: str) -> None:
    url = f"ws://{demo_server}/hubs/chat"
    async with JsonHubClient.connect(url) as alice, JsonHubClient.connect(url) as bob:
        assert await alice.invoke("SendMessage", "alice", "hi all") is None
        assert await alice.next_invocation() == ("ReceiveMessage", ["alice", "hi all"])
        assert await bob.next_invocation() == ("ReceiveMessage", ["alice", "hi all"])


@pytest.mark.anyio
async def test_chat_rooms(demo_server: str) -> None:
    url = f"ws://{demo_server}/hubs/chat"
    async with (
        JsonHubClient.connect(url) as alice,
        JsonHubClient.connect(url) as bob,
        JsonHubClient.connect(url) as carol,
    ):
        await alice.invoke("JoinRoom", "lobby")
        # Anonymous users have no name: the hub sends null.
        assert await alice.next_invocation() == ("UserJoined", [None])
        await bob.invoke("JoinRoom", "lobby")
        assert await alice.next_invocation() == ("UserJoined", [None])
        assert await bob.next_invocation() == ("UserJoined", [None])

        await carol.invoke("SendToRoom", "lobby", "from outside")
        assert await alice.next_invocation() == ("ReceiveMessage", [None, "from outside"])
        assert await bob.next_invocation() == ("ReceiveMessage", [None, "from outside"])

        await bob.invoke("LeaveRoom", "lobby")
        assert await alice.next_invocation() == ("UserLeft", [None])
        await alice.invoke("SendToRoom", "lobby", "bob is gone")
        assert await alice.next_invocation() == ("ReceiveMessage", [None, "bob is gone"])

        # Nothing else reached bob or carol: their next calls are these.
        await alice.invoke("SendMessage", "alice", "marker")
        assert await bob.next_invocation() == ("ReceiveMessage", ["alice", "marker"])
        assert await carol.next_invocation() == ("ReceiveMessage", ["alice", "marker"])


@pytest.mark.anyio
async def test_chat_send_to_others_skips_the_sender(demo_server: str) -> None:
    url = f"ws://{demo_server}/hubs/chat"
    async with JsonHubClient.connect(url) as alice, JsonHubClient.connect(url) as bob:
        await alice.invoke("SendToOthers", "psst")
        assert await bob.next_invocation() == ("ReceiveMessage", [None, "psst"])
        await alice.invoke("SendMessage", "alice", "marker")
        assert await alice.next_invocation() == ("ReceiveMessage", ["alice", "marker"])


@pytest.mark.anyio
async def test_notifications_from_http_routes(demo_server: str) -> None:
    async with (
        JsonHubClient.connect(f"ws://{demo_server}/hubs/notifications") as listener,
        httpx.AsyncClient(base_url=f"http://{demo_server}") as http,
    ):
        response = await http.post("/api/notify/all", json={"message": {"text": "to all"}})
        assert response.status_code == 202
        assert await listener.next_invocation() == ("ReceiveNotification", [{"text": "to all"}])

        # An anonymous connection is in no user group and has no user id.
        for route in ("/api/notify/group/someone", "/api/notify/user/someone"):
            response = await http.post(route, json={"message": "not for you"})
            assert response.status_code == 202
        response = await http.post("/api/notify/all", json={"message": "marker"})
        assert await listener.next_invocation() == ("ReceiveNotification", ["marker"])
