"""``signalr-server testapp``: the reference functional-test app's routes and hubs.

HTTP routes are driven in-process (both anyio backends); hub methods over a
real server with a small synchronous JSON client, so the exact texts and
payload shapes the official clients' tests compare are checked here too.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import jwt
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from signalr_server.app import SignalR
from signalr_server.app.testapp import (
    JWT_ALGORITHM,
    JWT_CLOCK_SKEW,
    JWT_LIFETIME,
    create_test_app,
)
from signalr_server.app.testapp_hubs import SAMPLE_COMPLEX_OBJECT, TestHub
from signalr_server.connections.options import HttpConnectionOptions, HttpTransportType
from signalr_server.hubs import Hub
from tests.servers import run_server

from .test_cli import cli_process, free_port, wait_until_serving

RS = "\x1e"
KEY = b"k" * 32
ALL_TRANSPORTS = ["WebSockets", "ServerSentEvents", "LongPolling"]


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_test_app(signing_key=KEY))
    async with httpx.AsyncClient(transport=transport, base_url="http://testapp") as client:
        yield client


def _transports(negotiate: httpx.Response) -> list[str]:
    assert negotiate.status_code == 200, negotiate.text
    return [entry["transport"] for entry in negotiate.json()["availableTransports"]]


def _token(claims: dict[str, Any], key: bytes = KEY) -> str:
    return jwt.encode(claims, key, algorithm=JWT_ALGORITHM)


# --- per-hub transports (SignalR.map_hub / map_connection) ----------------------


class _PlainHub(Hub):
    def ping(self) -> str:
        return "pong"


async def _echo(connection: Any) -> None:
    await connection.send(await connection.receive())


@pytest.mark.anyio
async def test_map_hub_transports_limits_negotiate_and_keeps_other_options() -> None:
    app = SignalR()
    app.map_hub("/all", _PlainHub)
    endpoint_options = HttpConnectionOptions(disconnect_timeout=3.0)
    app.map_hub(
        "/polling",
        type("PollingHub", (_PlainHub,), {}),
        connection_options=endpoint_options,
        transports=HttpTransportType.LongPolling,
    )
    app.map_connection("/raw", _echo, transports=HttpTransportType.ServerSentEvents)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        assert _transports(await client.post("/all/negotiate?negotiateVersion=1")) == ALL_TRANSPORTS
        polling = await client.post("/polling/negotiate?negotiateVersion=1")
        assert _transports(polling) == ["LongPolling"]
        assert _transports(await client.post("/raw/negotiate")) == ["ServerSentEvents"]
        token = polling.json()["connectionToken"]
        refused = await client.get(f"/polling?id={token}", headers={"accept": "text/event-stream"})
        assert refused.status_code == 404
        assert refused.text == "ServerSentEvents transport not supported by this end point type"
    polling_dispatcher = next(
        d for d in app.dispatchers if d.options.transports.name == "LongPolling"
    )
    assert polling_dispatcher.options.disconnect_timeout == 3.0
    assert endpoint_options.transports == HttpTransportType(7)  # the caller's object is untouched


def test_map_hub_transports_must_be_flags() -> None:
    with pytest.raises(TypeError, match="HttpTransportType flags"):
        SignalR().map_hub("/x", _PlainHub, transports="LongPolling")  # type: ignore[arg-type]


# --- routes ------------------------------------------------------------------


@pytest.mark.anyio
async def test_testhub_offers_every_transport_and_nowebsockets_only_sse_and_lp(
    http: httpx.AsyncClient,
) -> None:
    assert _transports(await http.post("/testhub/negotiate?negotiateVersion=1")) == ALL_TRANSPORTS
    assert _transports(await http.post("/TestHub/negotiate?negotiateVersion=1")) == ALL_TRANSPORTS
    nows = await http.post("/testhub-nowebsockets/negotiate?negotiateVersion=1")
    assert _transports(nows) == ["ServerSentEvents", "LongPolling"]
    assert _transports(await http.post("/echo/negotiate?negotiateVersion=1")) == ALL_TRANSPORTS
    assert _transports(await http.post("/uncreatable/negotiate?negotiateVersion=1"))


@pytest.mark.anyio
async def test_every_negotiate_path_sets_the_test_cookies(http: httpx.AsyncClient) -> None:
    for path in ("/testhub/negotiate", "/not-a-hub/negotiate", "/bad-negotiate/negotiate"):
        response = await http.post(path)
        cookies = response.headers.get_list("set-cookie")
        assert cookies[:2] == ["testCookie=testValue; path=/", "testCookie2=testValue2; path=/"]
        assert cookies[2].startswith("expiredCookie=doesntmatter; expires=")
    # The client's jar keeps the live cookies and drops the expired one.
    assert http.cookies.get("testCookie") == "testValue"
    assert "expiredCookie" not in http.cookies
    assert (await http.get("/deployment")).headers.get_list("set-cookie") == []


@pytest.mark.anyio
async def test_negotiate_cookies_over_https_are_cross_site_capable() -> None:
    transport = httpx.ASGITransport(app=create_test_app())
    async with httpx.AsyncClient(transport=transport, base_url="https://testapp") as client:
        cookies = (await client.post("/testhub/negotiate")).headers.get_list("set-cookie")
    assert all(cookie.endswith("; secure; samesite=none; partitioned") for cookie in cookies)


@pytest.mark.anyio
async def test_cors_echoes_origin_method_and_headers(http: httpx.AsyncClient) -> None:
    preflight = await http.options(
        "/testhub/negotiate",
        headers={
            "origin": "http://localhost:9876",
            "access-control-request-method": "POST",
            "access-control-request-headers": "x-requested-with, x-signalr-user-agent",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:9876"
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert preflight.headers["access-control-allow-methods"] == "POST"
    assert (
        preflight.headers["access-control-allow-headers"]
        == "x-requested-with, x-signalr-user-agent"
    )
    actual = await http.post("/testhub/negotiate", headers={"origin": "https://other.example"})
    assert actual.headers["access-control-allow-origin"] == "https://other.example"
    assert "access-control-allow-origin" not in (await http.post("/testhub/negotiate")).headers


@pytest.mark.anyio
async def test_redirect_counts_up_and_points_at_testhub(http: httpx.AsyncClient) -> None:
    base = "http://127.0.0.1:5000"
    first = await http.post(f"/redirect/negotiate?numRedirects=0&baseUrl={base}")
    second = await http.post("/Redirect/negotiate", params={"baseUrl": "http://a b"})
    assert first.status_code == 200
    assert first.text == f'{{ "url": "{base}/testHub?numRedirects=1" }}'
    assert second.json() == {"url": "http://a b/testHub?numRedirects=2"}
    # Segment match only: /redirects is no redirect route.
    assert (await http.post("/redirects/negotiate")).status_code == 404


@pytest.mark.anyio
async def test_echoredirect_is_a_307_to_echo_keeping_the_query(http: httpx.AsyncClient) -> None:
    response = await http.post("/echoredirect/negotiate?negotiateVersion=1&x=%20")
    assert response.status_code == 307
    assert response.headers["location"] == "/echo/negotiate?negotiateVersion=1&x=%20"
    followed = await http.post("/echoredirect/negotiate?negotiateVersion=1", follow_redirects=True)
    assert followed.status_code == 200
    assert followed.json()["negotiateVersion"] == 1
    assert (await http.get("/EchoRedirect/x")).headers["location"] == "/echo/x"


@pytest.mark.anyio
async def test_bad_negotiate_is_a_400_with_a_body(http: httpx.AsyncClient) -> None:
    for path in ("/bad-negotiate/negotiate?negotiateVersion=1", "/bad-negotiate"):
        response = await http.post(path)
        assert response.status_code == 400
        assert response.text == "Some response from server"


@pytest.mark.anyio
async def test_generated_jwt_has_the_reference_shape(http: httpx.AsyncClient) -> None:
    before = int(time.time())
    response = await http.get("/generateJwtToken")
    assert response.status_code == 200
    token = response.text
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = jwt.decode(token, KEY, algorithms=["HS256"], options={"verify_aud": False})
    assert claims["nameid"] == "testuser"
    assert claims["iss"] == "SignalRTestServer"
    assert claims["aud"] == "SignalRTests"
    assert before + JWT_LIFETIME <= claims["exp"] <= int(time.time()) + JWT_LIFETIME
    assert (await http.post("/generateJwtToken")).status_code == 405


@pytest.mark.anyio
async def test_authorizedhub_checks_tokens_like_the_reference(http: httpx.AsyncClient) -> None:
    now = int(time.time())

    async def negotiate(token: str) -> int:
        response = await http.post(
            "/authorizedhub/negotiate", headers={"authorization": f"Bearer {token}"}
        )
        return response.status_code

    # Lifetime is checked with ASP.NET's default clock skew.
    assert await negotiate(_token({"nameid": "u", "exp": now - 10})) == 200
    assert await negotiate(_token({"nameid": "u", "exp": now - JWT_CLOCK_SKEW - 5})) == 401
    assert await negotiate(_token({"nameid": "u", "exp": now + 5}, b"x" * 32)) == 401
    # Issuer and audience are not validated.
    assert await negotiate(_token({"nameid": "u", "exp": now + 5, "aud": "x", "iss": "y"})) == 200
    # Authenticated but without a name identifier: not permitted.
    assert await negotiate(_token({"role": "u", "exp": now + 5})) in (401, 403)


@pytest.mark.anyio
async def test_authorizedhub_needs_a_valid_token(http: httpx.AsyncClient) -> None:
    refused = await http.post("/authorizedhub/negotiate?negotiateVersion=1")
    assert refused.status_code == 401
    assert refused.content == b""
    bad = await http.post("/authorizedhub/negotiate", headers={"authorization": "Bearer nonsense"})
    assert bad.status_code == 401
    token = (await http.get("/generateJwtToken")).text
    by_header = await http.post(
        "/AuthorizedHub/negotiate?negotiateVersion=1", headers={"authorization": f"bearer {token}"}
    )
    assert _transports(by_header) == ALL_TRANSPORTS
    by_query = await http.post(f"/authorizedhub/negotiate?access_token={token}")
    assert by_query.status_code == 200
    # A transport request is checked too, not only negotiate.
    poll = await http.get(f"/authorizedhub?id={by_header.json()['connectionToken']}")
    assert poll.status_code == 401


@pytest.mark.anyio
async def test_clientresult_reports_unknown_connections(http: httpx.AsyncClient) -> None:
    response = await http.get("/clientresult/nobody")
    assert response.status_code == 200
    assert response.text == "Connection 'nobody' does not exist."
    assert (await http.post("/clientresult/nobody")).status_code == 405
    assert (await http.get("/clientresult/a/b")).status_code == 404


@pytest.mark.anyio
async def test_deployment_describes_the_server(http: httpx.AsyncClient) -> None:
    response = await http.get("/deployment")
    assert response.status_code == 200
    assert response.json()["Server"] == "signalr-server"


# --- hubs over a real server --------------------------------------------------


class _Client:
    """Just enough of the JSON hub protocol over a synchronous WebSocket."""

    def __init__(self, websocket: ClientConnection) -> None:
        self.ws = websocket
        self.pending: list[dict[str, Any]] = []
        self.ids = iter(range(1_000_000))

    def handshake(self) -> None:
        self.ws.send(json.dumps({"protocol": "json", "version": 1}) + RS)
        first = self._read()
        assert first[0] == {}, first
        self.pending.extend(first[1:])

    def _read(self) -> list[dict[str, Any]]:
        frame = self.ws.recv(timeout=5)
        text = frame if isinstance(frame, str) else frame.decode()
        return [json.loads(part) for part in text.split(RS)[:-1]]

    def next(self) -> dict[str, Any]:
        while True:
            while not self.pending:
                self.pending.extend(self._read())
            message = self.pending.pop(0)
            if message["type"] != 6:
                return message

    def write(self, message: dict[str, Any]) -> None:
        self.ws.send(json.dumps(message) + RS)

    def invoke(self, target: str, *args: Any, kind: int = 1) -> dict[str, Any]:
        invocation_id = str(next(self.ids))
        self.write(
            {"type": kind, "invocationId": invocation_id, "target": target, "arguments": list(args)}
        )
        held: list[dict[str, Any]] = []
        try:
            while True:  # the first reply to this call; anything else stays queued
                message = self.next()
                if message.get("invocationId") == invocation_id:
                    return message
                held.append(message)
        finally:
            self.pending[:0] = held

    def result(self, target: str, *args: Any) -> Any:
        completion = self.invoke(target, *args)
        assert "error" not in completion, completion
        return completion.get("result")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with run_server(create_test_app(), server="hypercorn-asyncio") as base_url:
        yield base_url


@pytest.fixture
def client(server: str) -> Iterator[_Client]:
    headers = {"Cookie": "testCookie=testValue", "X-Header": "VALUE"}
    url = server.replace("http", "ws", 1) + "/testhub?numRedirects=7"
    with ws_connect(url, additional_headers=headers, open_timeout=5) as websocket:
        hub_client = _Client(websocket)
        hub_client.handshake()
        yield hub_client


def test_testhub_results_and_error_texts(client: _Client) -> None:
    assert client.result("Echo", "你好") == "你好"
    assert client.result("GetNumRedirects") == 7
    assert client.result("GetActiveTransportName") == "WebSockets"
    assert client.result("GetHeader", "x-header") == "VALUE"
    assert client.result("GetHeader", "X-Missing") is None
    assert client.result("GetCookie", "testCookie") == "testValue"
    assert client.result("GetCookie", "expiredCookie") is None
    assert client.result("GetContentTypeHeader") is None
    assert client.invoke("ThrowException", "An error occurred.")["error"] == (
        "An unexpected error occurred invoking 'ThrowException' on the server. "
        "InvalidOperationException: An error occurred."
    )


def test_testhub_payloads_are_pascal_case(client: _Client) -> None:
    assert client.result("SendComplexObject") == {
        "String": "hello world",
        "IntArray": [1, 2, 3],
        "ByteArray": base64.b64encode(SAMPLE_COMPLEX_OBJECT.ByteArray or b"").decode(),
        "Guid": "00010203-0405-0607-0706-050403020100",
        "DateTime": "2000-01-01T00:00:00Z",
    }
    sent = {
        "ByteArray": "aGVsbG8=",
        "DateTime": "2002-04-01T10:20:15Z",
        "Guid": "00010203-0405-0607-0706-050403020100",
        "IntArray": [1, 2, 3, 255],
        "String": "Hello, World!",
    }
    assert client.result("EchoComplexObject", sent) == sent
    assert client.result("InvokeWithString", "hi") is None
    assert client.next() == {"type": 1, "target": "Message", "arguments": ["hi"]}
    client.write(
        {"type": 1, "target": "SendCustomObject", "arguments": [{"Name": "n", "Value": 4}]}
    )
    assert client.next() == {
        "type": 1,
        "target": "CustomObject",
        "arguments": [{"Name": "n", "Value": 4}],
    }


def test_testhub_streams(client: _Client) -> None:
    items = [client.invoke("Stream", kind=4)]
    items.extend(client.next() for _ in range(3))
    assert [m.get("item") for m in items] == ["a", "b", "c", None]
    assert items[-1] == {"type": 3, "invocationId": items[0]["invocationId"]}
    assert client.invoke("EmptyStream", kind=4)["type"] == 3
    assert client.invoke("StreamThrowException", "boom", kind=4)["error"] == (
        "An unexpected error occurred invoking 'StreamThrowException' on the server. "
        "InvalidOperationException: boom"
    )
    client.write({"type": 4, "invocationId": "inf", "target": "InfiniteStream", "arguments": []})
    client.write({"type": 5, "invocationId": "inf"})
    seen = [client.next(), client.next()]
    assert {"type": 1, "target": "StreamCanceled", "arguments": []} in seen
    assert {"type": 3, "invocationId": "inf"} in seen


def test_caller_connection_id_is_the_public_id(server: str) -> None:
    negotiate = httpx.post(f"{server}/testhub/negotiate?negotiateVersion=1").json()
    url = f"{server.replace('http', 'ws', 1)}/testhub?id={negotiate['connectionToken']}"
    with ws_connect(url, open_timeout=5) as websocket:
        hub_client = _Client(websocket)
        hub_client.handshake()
        assert hub_client.result("GetCallerConnectionId") == negotiate["connectionId"]


def test_websockets_are_refused_where_the_hub_disallows_them(server: str) -> None:
    url = server.replace("http", "ws", 1) + "/testhub-nowebsockets"
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(url, open_timeout=5)
    assert refused.value.response.status_code == 404


def test_authorizedhub_websocket_needs_a_token(server: str) -> None:
    ws_url = server.replace("http", "ws", 1) + "/authorizedhub"
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(ws_url, open_timeout=5)
    assert refused.value.response.status_code == 401
    token = httpx.get(f"{server}/generateJwtToken").text
    with ws_connect(f"{ws_url}?access_token={token}", open_timeout=5) as websocket:
        hub_client = _Client(websocket)
        hub_client.handshake()
        assert hub_client.result("GetUserNameIdentifier") == "testuser"
        assert hub_client.result("GetUserClaim", "aud") == "SignalRTests"
        assert hub_client.result("GetUserClaim", "missing") == ""


def test_uncreatable_hub_closes_with_an_error(server: str) -> None:
    with ws_connect(server.replace("http", "ws", 1) + "/uncreatable", open_timeout=5) as ws:
        hub_client = _Client(ws)
        hub_client.handshake()
        close = hub_client.next()
    assert close["type"] == 7
    assert close["error"].startswith("Connection closed with an error. ServiceNotFoundError: ")
    assert close.get("allowReconnect", False) is False


def test_echo_connection_echoes_only_with_the_negotiate_cookie(server: str) -> None:
    url = server.replace("http", "ws", 1) + "/echo"
    with ws_connect(url, additional_headers={"Cookie": "testCookie=x"}, open_timeout=5) as ws:
        ws.send("message")
        assert ws.recv(timeout=5) == "message"
    with ws_connect(url, open_timeout=5) as ws, pytest.raises(ConnectionClosed):
        ws.recv(timeout=5)


def test_cli_testapp_command_serves_the_routes() -> None:
    port = free_port()
    with cli_process("testapp", "--port", str(port), "--log-level", "warning") as process:
        response = wait_until_serving(process, f"http://127.0.0.1:{port}/deployment")
        assert response.status_code == 200
        negotiate = httpx.post(f"http://127.0.0.1:{port}/testhub/negotiate?negotiateVersion=1")
        assert _transports(negotiate) == ALL_TRANSPORTS
        assert negotiate.cookies.get("testCookie") == "testValue"


def test_testhub_method_table_mirrors_the_reference() -> None:
    from signalr_server.hubs.methods import method_table

    names = {method.name for method in method_table(TestHub).methods}
    assert names == {
        "Echo",
        "GetCallerConnectionId",
        "GetNumRedirects",
        "ThrowException",
        "InvokeWithString",
        "SendCustomObject",
        "Stream",
        "InfiniteStream",
        "StreamingConcat",
        "EmptyStream",
        "StreamThrowException",
        "GetActiveTransportName",
        "EchoComplexObject",
        "SendComplexObject",
        "GetContentTypeHeader",
        "GetHeader",
        "GetCookie",
    }


@pytest.mark.anyio
async def test_docs_per_hub_transports_example() -> None:
    from docs.examples.per_hub_transports import app

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://docs") as client:
        every = await client.post("/testhub/negotiate?negotiateVersion=1")
        limited = await client.post("/testhub-nowebsockets/negotiate?negotiateVersion=1")
    assert _transports(every) == ALL_TRANSPORTS
    assert _transports(limited) == ["ServerSentEvents", "LongPolling"]
