"""docs/examples/fastapi_auth.py runs as written: login, connect with the token, use the hub."""

from __future__ import annotations

import httpx
import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus

from tests.app.hub_client import HubError, JsonHubClient
from tests.servers import run_server

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the JSON hub client uses the asyncio websockets API


def login(base_url: str, username: str, password: str) -> httpx.Response:
    return httpx.post(f"{base_url}/login", json={"username": username, "password": password})


@pytest.mark.parametrize("server", ["hypercorn-asyncio", "uvicorn"])
async def test_fastapi_login_and_hub(server: str) -> None:
    with run_server("docs.examples.fastapi_auth:app", server=server) as base_url:
        assert login(base_url, "alice", "nope").status_code == 401
        alice = login(base_url, "alice", "wonderland").json()["access_token"]
        bob = login(base_url, "bob", "builder").json()["access_token"]
        negotiate = f"{base_url}/hubs/notifications/negotiate?negotiateVersion=1"
        assert httpx.post(negotiate).status_code == 401
        ok = httpx.post(negotiate, headers={"Authorization": f"Bearer {alice}"})
        assert ok.status_code == 200

        ws = base_url.replace("http://", "ws://") + "/hubs/notifications"
        with pytest.raises(InvalidStatus):
            async with ws_connect(ws):
                pass
        async with (
            JsonHubClient.connect(f"{ws}?access_token={alice}") as alice_tab1,
            JsonHubClient.connect(f"{ws}?access_token={alice}") as alice_tab2,
            JsonHubClient.connect(f"{ws}?access_token={bob}") as bob_conn,
        ):
            assert await alice_tab1.invoke("Whoami") == {"name": "alice", "roles": ["Admin"]}
            await bob_conn.invoke("Notify", "alice", "hi from bob")
            assert await alice_tab1.next_invocation() == ("Notification", ["hi from bob"])
            assert await alice_tab2.next_invocation() == ("Notification", ["hi from bob"])
            with pytest.raises(HubError, match="because user is unauthorized"):
                await bob_conn.invoke("Broadcast", "everyone!")
            await alice_tab1.invoke("Broadcast", "from admin")
            assert await bob_conn.next_invocation() == ("Notification", ["from admin"])
            sent = httpx.post(f"{base_url}/api/notify/bob", params={"text": "from the API"})
            assert sent.json() == {"sent": True}
            assert await bob_conn.next_invocation() == ("Notification", ["from the API"])
