"""``pysignalr`` (PyPI, asyncio) as a peer of our server.

What ``pysignalr`` 1.3 can do, and what these tests drive: WebSockets only
(no SSE or Long Polling), JSON and MessagePack, invocations with results and
error Completions, server-to-client calls (``on``), server streams with
items, completion and errors, fire-and-forget uploads (``client_stream``),
client results (a value returned from an ``on`` handler), bearer tokens
through ``headers``, and stopping by cancelling ``run()``.

Client limitations noted here rather than worked around in the server:

- ``access_token_factory`` is first called *after* the first negotiate and
  WebSocket connect (in its handshake step), so against a server that
  requires a token the first connection gets 401 and ``run()`` raises
  ``AuthorizationError``. Passing ``Authorization`` in ``headers`` works.
- ``client_stream`` sends its Invocation without an invocation id, so an
  upload method's return value never reaches the client; the tests' hub
  reports the total with a separate ``Summed`` call.
- No stream cancellation API (``CancelInvocation`` is never sent) and no
  ``stop()``: cancelling the ``run()`` task is the only way to stop.
- It negotiates without ``negotiateVersion`` (version 0).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import ExitStack, asynccontextmanager, suppress
from typing import Any

import httpx
import pytest
from pysignalr.client import SignalRClient
from pysignalr.exceptions import AuthorizationError
from pysignalr.messages import CompletionMessage
from pysignalr.protocol.abstract import Protocol
from pysignalr.protocol.json import JSONProtocol
from pysignalr.protocol.messagepack import MessagepackProtocol

from tests.peers.apps import create_peer_app, issue_token
from tests.servers import SERVERS, run_server

pytestmark = pytest.mark.anyio

TIMEOUT = 5.0

PROTOCOLS: dict[str, Callable[[], Protocol]] = {
    "json": JSONProtocol,
    "messagepack": MessagepackProtocol,
}


@pytest.fixture
def anyio_backend() -> str:
    """``pysignalr`` is built on asyncio (aiohttp, websockets): no trio run."""
    return "asyncio"


@pytest.fixture(params=sorted(PROTOCOLS))
def protocol(request: pytest.FixtureRequest) -> Callable[[], Protocol]:
    return PROTOCOLS[str(request.param)]


class Peer:
    """One running ``SignalRClient`` plus the calls it received, awaitable by target."""

    def __init__(self, client: SignalRClient) -> None:
        self.client = client
        self.received: dict[str, asyncio.Queue[list[Any]]] = {}

    def listen(self, target: str) -> asyncio.Queue[list[Any]]:
        """Queue the argument lists of the server's ``target`` calls."""
        queue: asyncio.Queue[list[Any]] = asyncio.Queue()

        async def handler(arguments: Any) -> None:
            await queue.put(list(arguments))

        self.client.on(target, handler)
        self.received[target] = queue
        return queue

    async def next_call(self, target: str) -> list[Any]:
        return await asyncio.wait_for(self.received[target].get(), TIMEOUT)

    async def invoke(self, method: str, *arguments: Any) -> CompletionMessage:
        """Invoke and wait for the Completion (result or error)."""
        completion: asyncio.Future[CompletionMessage] = asyncio.get_running_loop().create_future()

        async def on_completion(message: Any) -> None:
            completion.set_result(message)

        await self.client.send(method, list(arguments), on_invocation=on_completion)
        return await asyncio.wait_for(completion, TIMEOUT)


@asynccontextmanager
async def connected(
    url: str,
    protocol: Callable[[], Protocol] = JSONProtocol,
    *,
    listen: tuple[str, ...] = (),
    handlers: dict[str, Callable[[Any], Awaitable[Any]]] | None = None,
    **options: Any,
) -> AsyncIterator[Peer]:
    """Run a client until the block ends, then stop it the only way it has: cancel ``run()``.

    ``listen`` names targets whose calls are queued (see ``Peer.next_call``);
    ``handlers`` are registered as they are, so their return values answer
    client-result invocations.
    """
    client = SignalRClient(url, protocol=protocol(), retry_count=1, **options)
    peer = Peer(client)
    for target in listen:
        peer.listen(target)
    for target, handler in (handlers or {}).items():
        client.on(target, handler)
    opened = asyncio.Event()

    async def on_open() -> None:
        opened.set()

    async def on_error(message: CompletionMessage) -> None:
        """Error Completions also reach the invocation's own callback; nothing more to do."""

    client.on_open(on_open)
    client.on_error(on_error)
    runner = asyncio.create_task(client.run())
    try:
        done, _ = await asyncio.wait(
            {runner, asyncio.create_task(opened.wait())},
            timeout=TIMEOUT,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if runner in done:
            runner.result()  # re-raise why it could not connect
        assert opened.is_set(), "pysignalr did not connect in time"
        yield peer
    finally:
        runner.cancel()
        with suppress(asyncio.CancelledError):
            await runner


async def test_invoke_returns_results(base_url: str, protocol: Callable[[], Protocol]) -> None:
    async with connected(f"{base_url}/hubs/test?user=ada", protocol) as peer:
        assert (await peer.invoke("add", 2, 40)).result == 42
        payload = {"text": "héllo", "items": [1, 2.5, None, True], "nested": {"k": "v"}}
        assert (await peer.invoke("echo", payload)).result == payload
        assert (await peer.invoke("get_user_identifier")).result == "ada"
        connection_id = (await peer.invoke("get_connection_id")).result
        assert isinstance(connection_id, str) and connection_id


async def test_hub_exception_text_reaches_the_client(
    base_url: str, protocol: Callable[[], Protocol]
) -> None:
    async with connected(f"{base_url}/hubs/test", protocol) as peer:
        completion = await peer.invoke("throw_hub_exception", "custom message")
        assert completion.error == (
            "An unexpected error occurred invoking 'throw_hub_exception' on the server. "
            "HubException: custom message"
        )
        hidden = await peer.invoke("throw_exception", "secret detail")
        assert hidden.error == (
            "An unexpected error occurred invoking 'throw_exception' on the server."
        )
        # The connection survives both errors.
        assert (await peer.invoke("add", 1, 1)).result == 2


async def test_server_calls_client_handlers(
    base_url: str, protocol: Callable[[], Protocol]
) -> None:
    async with connected(f"{base_url}/hubs/test?user=grace", protocol, listen=("Message",)) as peer:
        await peer.invoke("send_to_caller", {"n": 1})
        assert await peer.next_call("Message") == ["caller", {"n": 1}]
        await peer.invoke("send_to_user", "grace", [1, 2, 3])
        assert await peer.next_call("Message") == ["user", [1, 2, 3]]


async def test_groups_and_push_from_outside_the_hub(base_url: str) -> None:
    targets = ("Message", "Pushed")
    async with (
        connected(f"{base_url}/hubs/test?user=member", listen=targets) as member,
        connected(f"{base_url}/hubs/test?user=outsider", listen=targets) as outsider,
    ):
        await member.invoke("join_group", "py-peers")
        await outsider.invoke("send_to_group", "py-peers", "to the group")
        assert await member.next_call("Message") == ["group", "to the group"]
        # Messages to one connection keep their order: had the outsider been
        # sent the group message, it would arrive before this one.
        await outsider.invoke("send_to_caller", "marker")
        assert await outsider.next_call("Message") == ["caller", "marker"]

        async with httpx.AsyncClient(base_url=base_url) as http:
            response = await http.post("/push/group/py-peers", json={"payload": "pushed"})
            assert response.status_code == 202
        assert await member.next_call("Pushed") == ["group", "pushed"]

        await member.invoke("leave_group", "py-peers")
        await outsider.invoke("send_to_group", "py-peers", "nobody hears this")
        await member.invoke("send_to_caller", "after leaving")
        assert await member.next_call("Message") == ["caller", "after leaving"]


async def test_server_stream(base_url: str, protocol: Callable[[], Protocol]) -> None:
    async with connected(f"{base_url}/hubs/streaming", protocol) as peer:
        items: list[Any] = []
        finished: asyncio.Future[CompletionMessage] = asyncio.get_running_loop().create_future()

        async def on_next(item: Any) -> None:
            items.append(item)

        async def on_complete(message: Any) -> None:
            finished.set_result(message)

        await peer.client.stream("counter", [5, 1], on_next=on_next, on_complete=on_complete)
        completion = await asyncio.wait_for(finished, TIMEOUT)
        assert completion.error is None
        assert items == [0, 1, 2, 3, 4]


async def test_server_stream_error(base_url: str, protocol: Callable[[], Protocol]) -> None:
    async with connected(f"{base_url}/hubs/streaming", protocol) as peer:
        items: list[Any] = []
        failed: asyncio.Future[CompletionMessage] = asyncio.get_running_loop().create_future()

        async def on_next(item: Any) -> None:
            items.append(item)

        async def on_error(message: CompletionMessage) -> None:
            failed.set_result(message)

        await peer.client.stream("stream_then_throw", [True], on_next=on_next, on_error=on_error)
        completion = await asyncio.wait_for(failed, TIMEOUT)
        assert items == [1]
        assert completion.error == (
            "An error occurred on the server while streaming results. "
            "HubException: a message for the client"
        )


async def test_upload_stream(base_url: str, protocol: Callable[[], Protocol]) -> None:
    async with connected(f"{base_url}/hubs/streaming", protocol, listen=("Summed",)) as peer:
        async with peer.client.client_stream("report_sum") as upload:
            for number in (1, 2, 3, 4):
                await upload.send(number)
        assert await peer.next_call("Summed") == [10]


async def test_client_results(base_url: str, protocol: Callable[[], Protocol]) -> None:
    async def double(arguments: Any) -> Any:
        return arguments[0] * 2

    async def refuse(arguments: Any) -> Any:
        raise RuntimeError(f"will not answer {arguments[0]}")

    handlers = {"Double": double, "Refuse": refuse}
    async with connected(f"{base_url}/hubs/streaming", protocol, handlers=handlers) as peer:
        assert (await peer.invoke("ask_caller", "Double", 21)).result == 42
        refused = await peer.invoke("ask_caller", "Refuse", "this")
        assert refused.error is not None
        assert "will not answer this" in refused.error


async def test_bearer_token_in_headers(base_url: str) -> None:
    token = issue_token("py-user", roles=["Admin"])
    async with connected(
        f"{base_url}/hubs/secure", headers={"Authorization": f"Bearer {token}"}
    ) as peer:
        who = (await peer.invoke("who_am_i")).result
        assert who == {"user": "py-user", "roles": ["Admin"], "transport": "WebSockets"}
        assert (await peer.invoke("admin_only")).result == "admin secret"


async def test_missing_token_is_refused(base_url: str) -> None:
    client = SignalRClient(f"{base_url}/hubs/secure", retry_count=1)
    with pytest.raises(AuthorizationError):
        await asyncio.wait_for(client.run(), TIMEOUT)


async def test_stop_disconnects_on_the_server(base_url: str) -> None:
    """Cancelling ``run()`` closes the WebSocket; the others hear ``Disconnected``."""

    presence = ("Connected", "Disconnected")
    async with connected(f"{base_url}/hubs/presence", listen=presence) as watcher:
        async with connected(f"{base_url}/hubs/presence"):
            [arrived] = await watcher.next_call("Connected")
        [left] = await watcher.next_call("Disconnected")
        assert left == arrived


@pytest.mark.parametrize("server", SERVERS)
async def test_round_trip_on_every_server(server: str) -> None:
    with ExitStack() as stack:
        url = stack.enter_context(run_server(create_peer_app(), server=server))
        async with connected(f"{url}/hubs/test") as peer:
            assert (await peer.invoke("echo", server)).result == server
        # Stop the server off the event loop, so the client's WebSocket can
        # finish closing meanwhile instead of the server waiting out its grace.
        await asyncio.to_thread(stack.close)
