"""Authentication at the endpoint, over a real server: negotiate and every
transport request get 401/403 with an empty body, and no protected code runs.

Uses the Node suite's auth app (``interop/server/auth_app.py``) so both suites
test the same configuration.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from interop.server import auth_app
from tests.app.hub_client import HubError, JsonHubClient
from tests.servers import run_server

from .tokens import hs256

SERVERS = ["hypercorn-asyncio", "uvicorn", "native"]


@pytest.fixture(scope="module", params=SERVERS)
def base_url(request: pytest.FixtureRequest) -> Iterator[str]:
    with run_server(auth_app.create_app(), server=request.param) as url:
        yield url


@pytest.fixture(autouse=True)
def _reset_counters() -> None:
    auth_app.counters.clear()


def token(sub: str = "alice", *roles: str, lifetime: float = 60, tenant: str | None = None) -> str:
    return auth_app.issue_token(sub, list(roles), tenant, lifetime)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def negotiate(base_url: str, hub: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(f"{base_url}{hub}/negotiate?negotiateVersion=1", headers=headers or {})


def connection_token(base_url: str, hub: str = "/hubs/secure", user: str = "alice") -> str:
    response = negotiate(base_url, hub, bearer(token(user)))
    assert response.status_code == 200
    return str(response.json()["connectionToken"])


BAD_TOKENS = {
    "missing": None,
    "wrong signature": hs256(),  # signed with the tests' key, not the server's
    "expired": "EXPIRED",
    "garbage": "not-a-jwt",
}


def _bad(kind: str) -> dict[str, str]:
    value = BAD_TOKENS[kind]
    if value == "EXPIRED":
        value = token(lifetime=-5)
    return {} if value is None else bearer(value)


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_negotiate_refused_with_empty_401(base_url: str, kind: str) -> None:
    response = negotiate(base_url, "/hubs/secure", _bad(kind))
    assert response.status_code == 401
    assert response.content == b""


def test_negotiate_accepts_header_or_query(base_url: str) -> None:
    assert negotiate(base_url, "/hubs/secure", bearer(token())).status_code == 200
    url = f"{base_url}/hubs/secure/negotiate?negotiateVersion=1&access_token={token()}"
    assert httpx.post(url).status_code == 200


def test_authenticated_but_forbidden_gets_403(base_url: str) -> None:
    response = negotiate(base_url, "/hubs/admin", bearer(token("bob", "Reader")))
    assert response.status_code == 403
    assert response.content == b""
    assert negotiate(base_url, "/hubs/admin", bearer(token("ann", "Admin"))).status_code == 200


def test_open_hub_negotiates_anonymously(base_url: str) -> None:
    assert negotiate(base_url, "/hubs/open").status_code == 200


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_every_transport_request_is_checked(base_url: str, kind: str) -> None:
    conn = connection_token(base_url)
    url = f"{base_url}/hubs/secure?id={conn}"
    headers = _bad(kind)
    handshake = b'{"protocol":"json","version":1}\x1e'
    responses = [
        httpx.get(url, headers=headers),  # long poll
        httpx.get(url, headers={**headers, "Accept": "text/event-stream"}),
        httpx.post(url, headers=headers, content=handshake),
        httpx.delete(url, headers=headers),
    ]
    assert [r.status_code for r in responses] == [401, 401, 401, 401]
    assert all(r.content == b"" for r in responses)
    # Unknown ids get 401 too: the caller learns nothing about which exist.
    assert httpx.get(f"{base_url}/hubs/secure?id=nope", headers=headers).status_code == 401
    assert auth_app.counters == {}


def test_websocket_upgrade_refused(base_url: str) -> None:
    ws_url = base_url.replace("http://", "ws://") + "/hubs/secure"
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(ws_url, open_timeout=5).close()
    # Servers with the websocket.http.response extension send our 401; others
    # can only close before accepting, which they answer with 403.
    assert refused.value.response.status_code in (401, 403)
    with pytest.raises(InvalidStatus):
        ws_connect(f"{ws_url}?access_token=garbage", open_timeout=5).close()
    assert auth_app.counters == {}


def test_connection_token_of_another_user_gets_403(base_url: str) -> None:
    conn = connection_token(base_url, user="alice")
    url = f"{base_url}/hubs/secure?id={conn}"
    response = httpx.get(url, headers=bearer(token("mallory")))
    assert response.status_code == 403
    ws_url = base_url.replace("http://", "ws://") + f"/hubs/secure?id={conn}"
    with pytest.raises(InvalidStatus):
        ws_connect(f"{ws_url}&access_token={token('mallory')}", open_timeout=5).close()
    assert auth_app.counters == {}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the JSON hub client uses the asyncio websockets API


@pytest.mark.anyio
async def test_methods_roles_policies_and_user_targeting(base_url: str) -> None:
    ws = base_url.replace("http://", "ws://")
    alice_tab1 = f"{ws}/hubs/secure?access_token={token('alice', tenant='t1')}"
    alice_tab2 = f"{ws}/hubs/secure?access_token={token('alice', 'Admin')}"
    bob = f"{ws}/hubs/secure?access_token={token('bob')}"
    async with (
        JsonHubClient.connect(alice_tab1) as first,
        JsonHubClient.connect(alice_tab2) as second,
        JsonHubClient.connect(bob) as other,
    ):
        assert (await first.invoke("WhoAmI"))["user"] == "alice"
        assert (await second.invoke("WhoAmI"))["roles"] == ["Admin"]
        assert await second.invoke("AdminOnly") == "admin secret"
        with pytest.raises(HubError, match=r"^Failed to invoke 'AdminOnly' because user is"):
            await first.invoke("AdminOnly")
        assert await first.invoke("TenantData", "t1") == "data of t1"
        with pytest.raises(HubError, match="unauthorized"):
            await first.invoke("TenantData", "t2")
        # The refused calls left the connection open.
        await other.invoke("NotifyUser", "alice", "hello")
        assert await first.next_invocation() == ("Notify", ["hello"])
        assert await second.next_invocation() == ("Notify", ["hello"])
    assert auth_app.counters["secure.admin_only"] == 1
    assert auth_app.counters["secure.tenant_data"] == 1
    assert auth_app.counters["secure.connected"] == 3
